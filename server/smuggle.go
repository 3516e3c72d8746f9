package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// A request with both Content-Length and Transfer-Encoding is how request
// smuggling starts (RFC 9112 §6.3): net/http serves it by the
// Transfer-Encoding and drops the Content-Length before a handler sees it,
// but the connection must not be reused after the response. headerConn
// watches the bytes a connection reads (after TLS) for a header block
// holding both, and Logged then answers with "Connection: close".

// headerListener wraps what ln accepts in headerConns.
type headerListener struct{ net.Listener }

// Accept returns the next connection, watched.
func (l headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headerConn{Conn: c}, nil
}

// headerConn scans what is read from it line by line: between two empty
// lines (a header block, or a body's lines, which can only cause a
// needless close), a Content-Length and a Transfer-Encoding line set
// ambiguous for good. Its Close is a lingering close (see linger.go).
type headerConn struct {
	net.Conn
	ambiguous atomic.Bool
	closeOnce sync.Once
	closeErr  error

	line    [len("transfer-encoding:")]byte
	n       int  // bytes of the current line kept in line
	lineLen int  // length of the current line
	cl, te  bool // seen in the current block
}

// Read reads and scans.
func (c *headerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.ambiguous.Load() {
		c.scan(p[:n])
	}
	return n, err
}

func (c *headerConn) scan(b []byte) {
	for _, ch := range b {
		switch ch {
		case '\r':
			continue
		case '\n':
			if c.lineLen == 0 {
				c.cl, c.te = false, false
			} else {
				s := string(c.line[:c.n])
				switch {
				case hasFoldPrefix(s, "content-length:"):
					c.cl = true
				case hasFoldPrefix(s, "transfer-encoding:"):
					c.te = true
				}
				if c.cl && c.te {
					c.ambiguous.Store(true)
					return
				}
			}
			c.n, c.lineLen = 0, 0
			continue
		}
		if c.n < len(c.line) {
			c.line[c.n] = ch
			c.n++
		}
		c.lineLen++
	}
}

func hasFoldPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != prefix[i] {
			return false
		}
	}
	return true
}

type connKey struct{}

// withConn is the http.Server's ConnContext: it keeps the connection for
// ambiguousRequest.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ambiguousRequest reports whether the request's connection has read a
// header block with both Content-Length and Transfer-Encoding.
func ambiguousRequest(r *http.Request) bool {
	hc, ok := r.Context().Value(connKey{}).(*headerConn)
	return ok && hc.ambiguous.Load()
}
