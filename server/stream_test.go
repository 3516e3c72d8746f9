package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// rawEnumerate sends an EnumerateInstances of Linux_LogonSession on a
// new connection, with the given protocol and TE header, and returns the
// connection with the response's header read.
func rawEnumerate(t testing.TB, addr, proto, te string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body := request("EnumerateInstances", pClass("ClassName", "Linux_LogonSession"))
	hdr := "POST /cimom " + proto + "\r\nHost: localhost\r\nContent-Type: application/xml; charset=\"utf-8\"\r\n" +
		"CIMOperation: MethodCall\r\nCIMMethod: EnumerateInstances\r\nCIMObject: root%2Fcimv2\r\n"
	if te != "" {
		hdr += "TE: " + te + "\r\n"
	}
	if _, err := fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n%s", hdr, len(body), body); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(conn, 4<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, br, resp
}

// failingProvider serves the test sessions and fails after failAfter
// batches, as a provider whose source breaks in the middle does.
type failingProvider struct {
	*sessionProvider
	failAfter int
}

func (p *failingProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	n := 0
	err := p.sessionProvider.Enumerate(ctx, class, hint, func(b []*cim.Instance) error {
		if n == p.failAfter {
			return errDiskGone
		}
		n++
		return emit(b)
	})
	if err == errDiskGone && p.failAfter >= 0 {
		return cim.Errorf(cim.ErrFailed, "the disk went away")
	}
	return err
}

var errDiskGone = fmt.Errorf("disk gone")

// startFailingServer serves n sessions that fail after failAfter batches
// (never with a negative failAfter).
func startFailingServer(t *testing.T, n, failAfter int, cfg func(*Config)) string {
	t.Helper()
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost},
		&failingProvider{sessionProvider: newSessionProvider(n), failAfter: failAfter})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{ObjectManager: om, NoAuth: true}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// TestStreamFramings enumerates 5,000 sessions (7 MB of CIM-XML) with
// each framing a client can take, and with a provider that fails before
// its first batch (an early error) or after ten (a late one, once 2,560
// instances are out): an early error is always an ERROR element; a late
// one is the trailers' CIMStatusCode for a client that asked for them, a
// connection cut before the last chunk for an HTTP/1.1 client that did
// not (never a short body that looks whole), and an ERROR element for an
// HTTP/1.0 client, whose answer is held whole.
func TestStreamFramings(t *testing.T) {
	const n = 5000
	addrs := map[int]string{}
	for _, fail := range []int{-1, 0, 10} {
		addrs[fail] = startFailingServer(t, n, fail, nil)
	}
	for _, tc := range []struct {
		proto, te string
		fail      int
		chunked   bool   // the response is chunked
		broken    bool   // reading the body fails
		code      string // the ERROR element's CODE ("" none, "0": valid, no error)
		trailer   string // the CIMStatusCode trailer ("" none)
	}{
		{"HTTP/1.1", "trailers", -1, true, false, "0", "0"},
		{"HTTP/1.1", "", -1, true, false, "0", ""},
		{"HTTP/1.0", "", -1, false, false, "0", ""},
		{"HTTP/1.1", "trailers", 0, true, false, "1", "1"},
		{"HTTP/1.1", "", 0, false, false, "1", ""},
		{"HTTP/1.0", "", 0, false, false, "1", ""},
		{"HTTP/1.1", "trailers", 10, true, false, "", "1"},
		{"HTTP/1.1", "", 10, true, true, "", ""},
		{"HTTP/1.0", "", 10, false, false, "1", ""},
	} {
		t.Run(fmt.Sprintf("%s-te=%s-fail=%d", tc.proto, tc.te, tc.fail), func(t *testing.T) {
			conn, _, resp := rawEnumerate(t, addrs[tc.fail], tc.proto, tc.te)
			defer conn.Close()
			body, err := io.ReadAll(resp.Body)
			if (err != nil) != tc.broken {
				t.Fatalf("reading %d bytes of the body: %v", len(body), err)
			}
			if got := len(resp.TransferEncoding) > 0; got != tc.chunked {
				t.Errorf("chunked %v (Content-Length %d)", got, resp.ContentLength)
			}
			if !tc.chunked && resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d, body %d", resp.ContentLength, len(body))
			}
			if got := resp.Trailer.Get("CIMStatusCode"); got != tc.trailer {
				t.Errorf("trailer CIMStatusCode %q, want %q", got, tc.trailer)
			}
			if tc.trailer == "1" && !strings.Contains(resp.Trailer.Get("CIMStatusCodeDescription"), "the disk went away") {
				t.Errorf("trailer CIMStatusCodeDescription %q", resp.Trailer.Get("CIMStatusCodeDescription"))
			}
			switch tc.code {
			case "":
				if bytes.HasSuffix(bytes.TrimSpace(body), []byte("</CIM>")) {
					t.Errorf("a late error's body (%d bytes) looks whole", len(body))
				}
			case "0":
				mustValid(t, body)
				if got := bytes.Count(body, []byte("<VALUE.NAMEDINSTANCE>")); got != n {
					t.Errorf("%d instances", got)
				}
			default:
				mustValid(t, body)
				if !bytes.Contains(body, []byte(`<ERROR CODE="`+tc.code+`"`)) || !bytes.Contains(body, []byte("the disk went away")) ||
					bytes.Contains(body, []byte("<IRETURNVALUE>")) {
					t.Errorf("no ERROR %s alone in %.500s", tc.code, body)
				}
			}
		})
	}
}

// TestBufferedBound: an answer to an HTTP/1.0 client, which cannot take
// chunks, is held whole only up to MaxBufferedResponseBytes; beyond, the
// call fails saying so, and an HTTP/1.1 client gets the same answer
// streamed.
func TestBufferedBound(t *testing.T) {
	addr := startFailingServer(t, 2000, -1, func(c *Config) { c.MaxBufferedResponseBytes = 1 << 20 })
	conn, _, resp := rawEnumerate(t, addr, "HTTP/1.0", "")
	defer conn.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	mustValid(t, body)
	if !bytes.Contains(body, []byte(`<ERROR CODE="1"`)) || !bytes.Contains(body, []byte("HTTP/1.0")) || len(body) > 4096 {
		t.Errorf("HTTP/1.0 over the bound: %.500s", body)
	}
	conn2, _, resp2 := rawEnumerate(t, addr, "HTTP/1.1", "")
	defer conn2.Close()
	body, err = io.ReadAll(resp2.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(body, []byte("<VALUE.NAMEDINSTANCE>")); got != 2000 || len(body) < 1<<20 {
		t.Errorf("HTTP/1.1: %d instances in %d bytes", got, len(body))
	}
}

// TestClientSeesLateError: cimsess's own CIM-XML client (--remote) asks
// for trailers and fails with the trailer's status when the answer broke
// after it began, instead of taking the instances that came as the whole.
func TestClientSeesLateError(t *testing.T) {
	for _, tc := range []struct {
		fail int
		want string
	}{{-1, ""}, {0, "the disk went away"}, {10, "the answer failed after it began: provider test-sessions, class Linux_LogonSession: the disk went away"}} {
		addr := startFailingServer(t, 5000, tc.fail, nil)
		c := &cimxml.Client{URL: "http://" + addr + Path}
		got := 0
		err := c.EnumerateClass(context.Background(), "Linux_LogonSession", func(b []*cim.Instance) error { got += len(b); return nil })
		switch {
		case tc.want == "" && (err != nil || got != 5000):
			t.Errorf("no failure: %d instances, %v", got, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || got != 0):
			t.Errorf("fail after %d batches: %d instances, %v", tc.fail, got, err)
		case tc.fail == 0 && strings.Contains(err.Error(), "after it began"):
			// The trailers carry an early error's status too; the body,
			// whole, is its ERROR: nothing failed after it began.
			t.Errorf("an error before the answer began: %v", err)
		}
	}
}
