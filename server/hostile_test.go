package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// billionLaughs is the classic entity expansion attack.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="&lol9;"/></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>`

// externalEntity tries to read a local file through an external entity.
const externalEntity = `<?xml version="1.0"?><!DOCTYPE CIM [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><CIM CIMVERSION="2.0" DTDVERSION="2.0">&xxe;</CIM>`

func deepNesting(n int) string {
	return `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0">` + strings.Repeat("<A>", n) + strings.Repeat("</A>", n) + `</CIM>`
}

// TestHostileBodies sends bodies meant to hurt a parser; each is refused
// with its error, and the server answers a good request afterwards.
func TestHostileBodies(t *testing.T) {
	ts := startServer(t, serverOpts{})
	manyAttrs := `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE`
	for i := 0; i < 1000; i++ {
		manyAttrs += fmt.Sprintf(` a%d="x"`, i)
	}
	manyAttrs += `/></CIM>`
	manyElems := `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH>` +
		strings.Repeat(`<NAMESPACE NAME="x" A="" B=""/>`, 130_000) + `</LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>`
	cases := []struct {
		name     string
		body     []byte
		status   int
		cimError string
	}{
		{"billion laughs", []byte(billionLaughs), 400, "request-not-valid"},
		{"external entity", []byte(externalEntity), 400, "request-not-valid"},
		{"10000 deep", []byte(deepNesting(10_000)), 400, "request-not-valid"},
		{"65 deep", []byte(deepNesting(64)), 400, "request-not-valid"},
		{"invalid UTF-8", []byte(strings.Replace(eiBody, "Win32_LogonSession", "Win32_\xff\xfeSession", 1)), 400, "request-not-well-formed"},
		{"NUL byte", []byte(strings.Replace(eiBody, "Win32_LogonSession", "Win32_\x00Session", 1)), 400, "request-not-well-formed"},
		{"1000 attributes", []byte(manyAttrs), 400, "request-not-valid"},
		{"130000 elements of 3 attributes (520000 items)", []byte(manyElems), 400, "request-not-valid"},
		{"empty", nil, 400, "request-not-well-formed"},
		{"two roots", []byte(`<CIM CIMVERSION="2.0" DTDVERSION="2.0"/><CIM/>`), 400, "request-not-well-formed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", string(tc.body), nil)
			if resp.StatusCode != tc.status || resp.Header.Get("CIMError") != tc.cimError {
				t.Errorf("HTTP %d CIMError %q, want %d %q: %s", resp.StatusCode, resp.Header.Get("CIMError"), tc.status, tc.cimError, body)
			}
			if d := time.Since(start); d > 2*slowdown*time.Second {
				t.Errorf("took %v", d)
			}
			checkAlive(t, ts)
		})
	}
}

// checkAlive makes sure the server still answers a good request.
func checkAlive(t *testing.T, ts *testServer) {
	t.Helper()
	resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("VALUE.NAMEDINSTANCE")) {
		t.Fatalf("server no longer answers: HTTP %d: %s", resp.StatusCode, body)
	}
}

// endless is an io.Reader of n bytes of '<' that never holds them all in memory.
type endless struct{ left int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > e.left {
		n = e.left
	}
	for i := range p[:n] {
		p[i] = '<'
	}
	e.left -= n
	return int(n), nil
}

// TestHugeBody streams 100 MiB, with a Content-Length and chunked: the
// server refuses it without reading it all into memory.
func TestHugeBody(t *testing.T) {
	ts := startServer(t, serverOpts{})
	const size = 100 << 20
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			req, _ := http.NewRequest("POST", ts.url+Path, &endless{left: size})
			if !chunked {
				req.ContentLength = size
			}
			req.SetBasicAuth("root", rootPass)
			req.Header.Set("CIMOperation", "MethodCall")
			req.Header.Set("CIMMethod", "EnumerateInstances")
			req.Header.Set("CIMObject", "root/cimv2")
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("HTTP %d, want 413", resp.StatusCode)
				}
			} // else: the server closed the connection while we were still sending, also a refusal.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			runtime.ReadMemStats(&after)
			// The client side streams too, so all the test process allocated
			// is the server's bounded buffer and the usual garbage.
			if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 32<<20 {
				t.Errorf("allocated %d MiB for a 100 MiB request", grew>>20)
			}
			checkAlive(t, ts)
		})
	}
}

// TestSlowClient sends a request a byte a second: the read timeouts close
// the connection, and other clients are served meanwhile.
func TestSlowClient(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) {
		c.ReadHeaderTimeout = 1 * time.Second
		c.ReadTimeout = 1500 * time.Millisecond
	}})
	full := "POST /cimom HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cm9vdDpyb290LXNlY3JldA==\r\nCIMOperation: MethodCall\r\n" +
		"CIMMethod: EnumerateInstances\r\nCIMObject: root/cimv2\r\nContent-Length: " + fmt.Sprint(len(eiBody)) + "\r\n\r\n" + eiBody
	headerEnd := strings.Index(full, "\r\n\r\n") + 4
	for _, tc := range []struct {
		name  string
		quick int // bytes sent at once before the trickle
	}{{"headers", 0}, {"body", headerEnd}} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, full[:tc.quick]); err != nil {
				t.Fatal(err)
			}
			closed := make(chan time.Duration, 1)
			start := time.Now()
			go func() {
				buf := make([]byte, 4096)
				for {
					conn.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := conn.Read(buf); err != nil {
						closed <- time.Since(start)
						return
					}
				}
			}()
			ticker := time.NewTicker(time.Second)
			defer ticker.Stop()
			i := tc.quick
			for {
				select {
				case d := <-closed:
					if d > 4*time.Second {
						t.Errorf("closed after %v", d)
					}
					checkAlive(t, ts)
					return
				case <-ticker.C:
					if i < len(full) {
						_, _ = conn.Write([]byte{full[i]})
						i++
					}
					// Meanwhile others are served.
					checkAlive(t, ts)
					if time.Since(start) > 6*time.Second {
						t.Fatalf("slow client still connected after %v", time.Since(start))
					}
				}
			}
		})
	}
}

// TestEchoesClipped: what a client sends comes back in errors and goes to
// the log clipped: a 45,000-character user name, a 1 MB class name.
func TestEchoesClipped(t *testing.T) {
	ts := startServer(t, serverOpts{})
	long := strings.Repeat("u", 45000)
	if resp, _ := post(t, nil, ts.url, long, "x", "EnumerateInstances", eiBody, nil); resp.StatusCode != 401 {
		t.Errorf("long user name: HTTP %d", resp.StatusCode)
	}
	class := "C" + strings.Repeat("x", 1<<20)
	resp, body := post(t, nil, ts.url, "root", rootPass, "GetClass", request("GetClass", pClass("ClassName", class)), nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<ERROR")) || len(body) > 4096 {
		t.Errorf("1 MB class name: HTTP %d, %d bytes: %.300s", resp.StatusCode, len(body), body)
	}
	resp, body = post(t, nil, ts.url, "root", rootPass, "ExecQuery", request("ExecQuery", pString("QueryLanguage", "WQL"),
		pString("Query", "SELECT * FROM "+class)), nil)
	if resp.StatusCode != 200 || len(body) > 4096 {
		t.Errorf("1 MB class name in a query: HTTP %d, %d bytes: %.300s", resp.StatusCode, len(body), body)
	}
	for _, line := range strings.Split(ts.logs.String(), "\n") {
		if len(line) > 4096 {
			t.Errorf("a %d-byte log line: %.200s", len(line), line)
		}
	}
}

// TestRefusedBeforeRead sends a request that net/http refuses from its
// header alone (HTTP/1.1 without Host) followed by a 256 KiB body: the
// lingering close lets the client read the 400 instead of losing it to a
// connection reset, every time.
func TestRefusedBeforeRead(t *testing.T) {
	ts := startServer(t, serverOpts{noAuth: true})
	body := bytes.Repeat([]byte("x"), 256<<10)
	for i := 0; i < 20; i++ {
		conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nContent-Length: %d\r\n\r\n", Path, len(body))
			_, _ = conn.Write(body)
		}()
		buf, err := io.ReadAll(conn)
		conn.Close()
		if err != nil {
			t.Fatalf("try %d: %v after %q", i, err, buf)
		}
		if !bytes.HasPrefix(buf, []byte("HTTP/1.1 400 ")) {
			t.Fatalf("try %d: answered %q, want HTTP/1.1 400", i, buf)
		}
	}
	checkAlive(t, ts)
}

// TestNoAuthOnlyLoopbackNames: a server without authentication answers
// only requests that name it localhost or a loopback address (or name
// nothing, as HTTP/1.0 may), so that a web page whose name an attacker
// re-bound to 127.0.0.1 (DNS rebinding) cannot read sessions as its own.
func TestNoAuthOnlyLoopbackNames(t *testing.T) {
	ts := startServer(t, serverOpts{noAuth: true})
	body := request("EnumerateInstanceNames", pClass("ClassName", "Win32_LogonSession"))
	for host, want := range map[string]int{
		ts.addr: http.StatusOK, "localhost": http.StatusOK, "[::1]:5988": http.StatusOK,
		"rebind.attacker.example:5988": http.StatusForbidden, "127.0.0.1.nip.io:5988": http.StatusForbidden,
	} {
		req, err := http.NewRequest("POST", ts.url+Path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
		req.Header.Set("CIMOperation", "MethodCall")
		req.Header.Set("CIMMethod", "EnumerateInstanceNames")
		req.Header.Set("CIMObject", "root%2Fcimv2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: HTTP %d, want %d", host, resp.StatusCode, want)
		}
	}
}
