package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

var eiBody = request("EnumerateInstances", pClass("ClassName", "Win32_LogonSession"))

// TestProtocolFaults covers the requests that are not CIM operations the
// server can run: each gets its HTTP status and CIMError header.
func TestProtocolFaults(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cases := []struct {
		name      string
		body      string
		method    string
		extra     map[string]string
		status    int
		cimError  string
		user      string
		wwwAuthen bool
	}{
		{name: "no credentials", body: eiBody, status: 401, user: "-", wwwAuthen: true},
		{name: "wrong password", body: eiBody, status: 401, user: "root:nope", wwwAuthen: true},
		{name: "unknown user", body: eiBody, status: 401, user: "mallory:x", wwwAuthen: true},
		{name: "not MethodCall", body: eiBody, extra: map[string]string{"CIMOperation": "MethodResponse"}, status: 400, cimError: "unsupported-operation"},
		{name: "no CIMOperation", body: eiBody, extra: map[string]string{"CIMOperation": ""}, status: 400, cimError: "unsupported-operation"},
		{name: "protocol version 2", body: eiBody, extra: map[string]string{"CIMProtocolVersion": "2.0"}, status: 501, cimError: "unsupported-protocol-version"},
		{name: "CIMMethod mismatch", body: eiBody, extra: map[string]string{"CIMMethod": "GetInstance"}, status: 400, cimError: "header-mismatch"},
		{name: "no CIMMethod", body: eiBody, extra: map[string]string{"CIMMethod": ""}, status: 400, cimError: "header-mismatch"},
		{name: "CIMObject mismatch", body: eiBody, extra: map[string]string{"CIMObject": "root%2Finterop"}, status: 400, cimError: "header-mismatch"},
		{name: "wrong content type", body: eiBody, extra: map[string]string{"Content-Type": "application/json"}, status: 415},
		{name: "not well-formed", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE>`, status: 400, cimError: "request-not-well-formed"},
		{name: "mismatched tags", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE></CIM></MESSAGE>`, status: 400, cimError: "request-not-well-formed"},
		{name: "not CIM", body: `<html/>`, status: 400, cimError: "request-not-valid"},
		{name: "message version", body: strings.Replace(eiBody, `PROTOCOLVERSION="1.0"`, `PROTOCOLVERSION="3.0"`, 1), status: 501, cimError: "unsupported-protocol-version"},
		{name: "cim version", body: strings.Replace(eiBody, `CIMVERSION="2.0"`, `CIMVERSION="3.0"`, 1), status: 501, cimError: "unsupported-cim-version"},
		{name: "dtd version", body: strings.Replace(eiBody, `DTDVERSION="2.0"`, `DTDVERSION="1.0"`, 1), status: 501, cimError: "unsupported-dtd-version"},
		{name: "no namespace", body: strings.Replace(eiBody, `<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>`, "", 1), status: 400, cimError: "request-not-valid"},
		{name: "entity", body: strings.Replace(eiBody, "Win32_LogonSession", "&ent;", 1), status: 400, cimError: "request-not-well-formed"},
		{name: "other encoding", body: strings.Replace(eiBody, `encoding="utf-8"`, `encoding="ISO-8859-1"`, 1), status: 400, cimError: "request-not-well-formed"},
		{name: "GET", method: "GET", status: 405},
		{name: "unknown method", method: "FROB", status: 405},
		{name: "dtd version malformed", body: strings.Replace(eiBody, `DTDVERSION="2.0"`, `DTDVERSION="2.x"`, 1), status: 501, cimError: "unsupported-dtd-version"},
		{name: "message version malformed", body: strings.Replace(eiBody, `PROTOCOLVERSION="1.0"`, `PROTOCOLVERSION="1.0.0.0"`, 1), status: 501, cimError: "unsupported-protocol-version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			req, _ := http.NewRequest(method, ts.url+Path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
			req.Header.Set("CIMOperation", "MethodCall")
			req.Header.Set("CIMMethod", "EnumerateInstances")
			req.Header.Set("CIMObject", "root/cimv2")
			for k, v := range tc.extra {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			switch tc.user {
			case "":
				req.SetBasicAuth("root", rootPass)
			case "-":
			default:
				u, p, _ := strings.Cut(tc.user, ":")
				req.SetBasicAuth(u, p)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("CIMError"); got != tc.cimError {
				t.Errorf("CIMError %q, want %q", got, tc.cimError)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST, M-POST" {
				t.Errorf("405 without Allow: %v", resp.Header)
			}
			if got := resp.Header.Get("WWW-Authenticate"); tc.wwwAuthen && got != `Basic realm="cimsess"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
	// The log says who asked for what and how it ended.
	if logs := ts.logs.String(); !strings.Contains(logs, "cim_status=http_401") || !strings.Contains(logs, "user=mallory") {
		t.Errorf("log lacks the refused requests:\n%s", logs)
	}
}

// TestMPost sends the request as M-POST with the Man header's numbered
// prefix, as DSP0200 §7 lets clients do.
func TestMPost(t *testing.T) {
	ts := startServer(t, serverOpts{})
	req, _ := http.NewRequest("M-POST", ts.url+Path, strings.NewReader(eiBody))
	req.SetBasicAuth("root", rootPass)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Man", "http://www.dmtf.org/cim/mapping.http/v1.0 ; ns=73")
	req.Header.Set("73-CIMOperation", "MethodCall")
	req.Header.Set("73-CIMMethod", "EnumerateInstances")
	req.Header.Set("73-CIMObject", "root%2Fcimv2")
	req.Header.Set("73-CIMProtocolVersion", "1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("73-CIMOperation"); got != "MethodResponse" {
		t.Errorf("73-CIMOperation %q; headers %v", got, resp.Header)
	}
	if _, ok := resp.Header["Ext"]; !ok {
		t.Errorf("no Ext header")
	}
	mustValid(t, body)

	// OpenPegasus's form: the URI with '/' before http, no spaces.
	req, _ = http.NewRequest("M-POST", ts.url+Path, strings.NewReader(eiBody))
	req.SetBasicAuth("root", rootPass)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Man", "http://www.dmtf.org/cim/mapping/http/v1.0;ns=7")
	req.Header.Set("7-CIMOperation", "MethodCall")
	req.Header.Set("7-CIMMethod", "EnumerateInstances")
	req.Header.Set("7-CIMObject", "root/cimv2")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("7-CIMOperation") != "MethodResponse" {
		t.Fatalf("OpenPegasus's M-POST: HTTP %d %v: %s", resp.StatusCode, resp.Header, body)
	}

	// Without the Man header the extension is unknown: 510.
	req, _ = http.NewRequest("M-POST", ts.url+Path, strings.NewReader(eiBody))
	req.SetBasicAuth("root", rootPass)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotExtended {
		t.Errorf("M-POST without Man: HTTP %d", resp.StatusCode)
	}
}

// TestTrailers checks both response framings on one keep-alive
// connection: Content-Length by default, chunked with CIMStatusCode
// trailers when the client sends TE: trailers.
func TestTrailers(t *testing.T) {
	ts := startServer(t, serverOpts{})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	send := func(te string, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+ts.addr+Path, strings.NewReader(body))
		req.SetBasicAuth("root", rootPass)
		req.Header.Set("CIMOperation", "MethodCall")
		req.Header.Set("CIMMethod", "GetInstance")
		req.Header.Set("CIMObject", "root/cimv2")
		if te != "" {
			req.Header.Set("TE", te)
		}
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	found := request("GetInstance", pInstance("InstanceName", "Win32_LogonSession", "LogonId", "1001"))
	missing := request("GetInstance", pInstance("InstanceName", "Win32_LogonSession", "LogonId", "42"))

	resp := send("", found)
	body, _ := io.ReadAll(resp.Body)
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("plain response: Content-Length %d, body %d, Transfer-Encoding %v", resp.ContentLength, len(body), resp.TransferEncoding)
	}
	for _, tc := range []struct {
		body, code string
		desc       bool
	}{{found, "0", false}, {missing, "6", true}} {
		resp = send("trailers", tc.body)
		body, _ = io.ReadAll(resp.Body)
		if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
			t.Errorf("TE: trailers response is not chunked: %v", resp.TransferEncoding)
		}
		if got := resp.Trailer.Get("CIMStatusCode"); got != tc.code {
			t.Errorf("trailer CIMStatusCode %q, want %s", got, tc.code)
		}
		if got := resp.Trailer.Get("CIMStatusCodeDescription"); (got != "") != tc.desc {
			t.Errorf("trailer CIMStatusCodeDescription %q", got)
		}
		mustValid(t, body)
	}
}

// TestMultiRequest sends a MULTIREQ with two calls.
func TestMultiRequest(t *testing.T) {
	ts := startServer(t, serverOpts{})
	one := func(method, params string) string {
		return `<SIMPLEREQ><IMETHODCALL NAME="` + method + `"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>` + params + `</IMETHODCALL></SIMPLEREQ>`
	}
	body := `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="7" PROTOCOLVERSION="1.0"><MULTIREQ>` +
		one("EnumerateInstanceNames", pClass("ClassName", "Win32_LogonSession")) +
		one("GetClass", pClass("ClassName", "Nope")) + `</MULTIREQ></MESSAGE></CIM>`
	resp, got := post(t, nil, ts.url, "root", rootPass, "", body, map[string]string{"CIMMethod": "", "CIMObject": "", "CIMBatch": "CIMBatch"})
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, got)
	}
	mustValid(t, got)
	for _, want := range []string{"<MULTIRSP>", `<IMETHODRESPONSE NAME="EnumerateInstanceNames">`, `<IMETHODRESPONSE NAME="GetClass"><ERROR CODE="6"`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("lacks %s:\n%s", want, got)
		}
	}
}

// TestExtrinsicMethod: the classes have no methods.
func TestExtrinsicMethod(t *testing.T) {
	ts := startServer(t, serverOpts{})
	body := `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="7" PROTOCOLVERSION="1.0"><SIMPLEREQ><METHODCALL NAME="Terminate"><LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME="Win32_Process"><KEYBINDING NAME="Handle"><KEYVALUE VALUETYPE="string">1</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH><PARAMVALUE NAME="Reason"><VALUE>0</VALUE></PARAMVALUE></METHODCALL></SIMPLEREQ></MESSAGE></CIM>`
	resp, got := post(t, nil, ts.url, "root", rootPass, "Terminate", body, map[string]string{"CIMObject": `root/cimv2:Win32_Process.Handle="1"`})
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, got)
	}
	mustValid(t, got)
	if !bytes.Contains(got, []byte(`<METHODRESPONSE NAME="Terminate"><ERROR CODE="6"`)) { // no such process here
		t.Errorf("unexpected answer:\n%s", got)
	}
}

// TestConcurrencyLimit fills the semaphore and checks that one more
// request is refused at once with 503, and served again once there is room.
func TestConcurrencyLimit(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxConcurrent = 2 }})
	ts.srv.sem <- struct{}{}
	ts.srv.sem <- struct{}{}
	resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("full server: HTTP %d %v: %s", resp.StatusCode, resp.Header, body)
	}
	<-ts.srv.sem
	<-ts.srv.sem
	resp, body = post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil)
	if resp.StatusCode != 200 {
		t.Errorf("after: HTTP %d: %s", resp.StatusCode, body)
	}
}

// TestMetrics scrapes the metrics after a few requests.
func TestMetrics(t *testing.T) {
	ts := startServer(t, serverOpts{})
	post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil)
	post(t, nil, ts.url, "root", "bad", "EnumerateInstances", eiBody, nil)
	rec := &bytes.Buffer{}
	w := &recorder{h: http.Header{}, b: rec}
	ts.metrics.Handler().ServeHTTP(w, httptestRequest())
	out := rec.String()
	for _, want := range []string{
		`cimsess_sessions{class="Linux_LogonSession",logon_type="10",status="OK"} 1`,
		`cimsess_sessions{class="Linux_LogonSession",logon_type="3",status="Lost Comm"} 1`,
		`cimsess_sessions_scrape_success{class="Win32_Session"} 1`,
		`cimsess_requests_total{operation="EnumerateInstances",protocol="cimxml",status="CIM_ERR_OK"} 1`,
		`cimsess_requests_total{operation="none",protocol="cimxml",status="http_401"} 1`,
		`cimsess_request_duration_seconds_count{operation="EnumerateInstances",protocol="cimxml"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

type recorder struct {
	h    http.Header
	b    *bytes.Buffer
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(p []byte) (int, error) { return r.b.Write(p) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func httptestRequest() *http.Request {
	r, _ := http.NewRequest("GET", "/metrics", nil)
	return r
}

// TestKeepAlive sends several requests on one connection.
func TestKeepAlive(t *testing.T) {
	ts := startServer(t, serverOpts{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	reused := 0
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("POST", ts.url+Path, strings.NewReader(eiBody))
		req.SetBasicAuth("root", rootPass)
		req.Header.Set("CIMOperation", "MethodCall")
		req.Header.Set("CIMMethod", "EnumerateInstances")
		req.Header.Set("CIMObject", "root/cimv2")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			}}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
	if reused != 4 {
		t.Errorf("%d of 4 requests reused the connection", reused)
	}
}

// TestMultiRequestBounded: a MULTIREQ of 64 enumerations does not make
// the server hold 64 answers: once its response reaches
// MaxMultiResponseBytes the remaining calls answer CIM_ERR_FAILED unrun.
func TestMultiRequestBounded(t *testing.T) {
	ts := startServer(t, serverOpts{sessions: 200, cfg: func(c *Config) { c.MaxMultiResponseBytes = 256 << 10 }})
	call := `<SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>` +
		pClass("ClassName", "Win32_LogonSession") + `</IMETHODCALL></SIMPLEREQ>`
	body := `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="7" PROTOCOLVERSION="1.0"><MULTIREQ>` +
		strings.Repeat(call, 64) + `</MULTIREQ></MESSAGE></CIM>`
	for _, te := range []string{"", "trailers"} {
		resp, got := post(t, nil, ts.url, "root", rootPass, "", body, map[string]string{"CIMMethod": "", "CIMObject": "", "CIMBatch": "CIMBatch", "TE": te})
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %.300s", resp.StatusCode, got)
		}
		mustValid(t, got)
		ran := bytes.Count(got, []byte("<IRETURNVALUE>"))
		unrun := bytes.Count(got, []byte("not run: the MULTIREQ"))
		if ran == 0 || ran+unrun != 64 || len(got) > 512<<10 {
			t.Errorf("TE %q: %d calls ran, %d not, %d bytes", te, ran, unrun, len(got))
		}
	}
}
