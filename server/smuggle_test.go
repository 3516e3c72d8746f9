package server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestContentLengthAndTransferEncoding: a request with both headers is
// answered and its connection closed (RFC 9112 §6.3), over HTTP and
// HTTPS; a plain chunked request keeps its connection.
func TestContentLengthAndTransferEncoding(t *testing.T) {
	ts := startServer(t, serverOpts{tls: true})
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(eiBody), eiBody)
	head := "POST /cimom HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + basic("root", rootPass) +
		"\r\nCIMOperation: MethodCall\r\nCIMMethod: EnumerateInstances\r\nCIMObject: root/cimv2\r\n"
	for _, tc := range []struct {
		name   string
		extra  string
		closed bool
	}{
		{"both", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", true},
		{"chunked only", "Transfer-Encoding: chunked\r\n", false},
	} {
		for _, secure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s tls=%v", tc.name, secure), func(t *testing.T) {
				var c net.Conn
				var err error
				if secure {
					c, err = tls.Dial("tcp", ts.tlsAddr, &tls.Config{InsecureSkipVerify: true})
				} else {
					c, err = net.Dial("tcp", ts.addr)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				io.WriteString(c, head+tc.extra+"\r\n"+chunked)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("HTTP %d", resp.StatusCode)
				}
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				_, err = br.ReadByte()
				closed := err != nil && !strings.Contains(err.Error(), "timeout")
				if closed != tc.closed || resp.Close != tc.closed {
					t.Errorf("closed %v (Connection: close %v), want %v", closed, resp.Close, tc.closed)
				}
			})
		}
	}
}

// FuzzHeaderScan: any bytes, in any split, scan without a panic, and a
// block with both headers is always found.
func FuzzHeaderScan(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), 7)
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), 3)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var c headerConn
		if split >= 0 && split < len(b) {
			c.scan(b[:split])
			c.scan(b[split:])
		} else {
			c.scan(b)
		}
		var d headerConn
		d.scan(append(append([]byte("\n"), b...), "\ncontent-length: 1\ntransfer-encoding: x\n"...))
		if !d.ambiguous.Load() {
			t.Errorf("missed both headers after %q", b)
		}
	})
}
