package server

import (
	"io"
	"net"
	"time"
)

// Lingering close. When net/http refuses a request before reading it
// (a missing Host, a malformed request line) it writes its answer and
// closes; a request body still arriving then meets a closed socket, the
// kernel answers it with a reset, and the reset can take the answer from
// the client's receive buffer before the client reads it. Close therefore
// shuts down only the sending side, lets what the peer still sends drain
// for a bounded time and size, and closes then, off the caller's
// goroutine, as Apache's and nginx's lingering close do.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

// Close ends the connection with a lingering close when the connection
// can shut down its sending side alone, and closes it at once otherwise.
func (c *headerConn) Close() error {
	c.closeOnce.Do(func() {
		hc, ok := c.Conn.(interface{ CloseWrite() error })
		if !ok || hc.CloseWrite() != nil {
			c.closeErr = c.Conn.Close()
			return
		}
		if c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
			c.closeErr = c.Conn.Close()
			return
		}
		go func() {
			_, _ = io.CopyN(io.Discard, c.Conn, lingerBytes)
			_ = c.Conn.Close()
		}()
	})
	return c.closeErr
}

// abort closes conn at once, without a lingering close: the connection
// limiter frees a place that way.
func abort(conn net.Conn) {
	if hc, ok := conn.(*headerConn); ok {
		hc.closeOnce.Do(func() {})
		conn = hc.Conn
	}
	_ = conn.Close()
}
