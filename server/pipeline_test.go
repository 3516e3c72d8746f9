package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cimom"
)

// TestHandleSecondProtocol mounts a second protocol handler with Handle
// and checks that it sits behind the same pipeline as CIM-XML: the same
// authentication, the viewer in its context, the body read, one log record
// and the metrics under its protocol label.
func TestHandleSecondProtocol(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := cimom.ViewerFrom(r.Context())
		body, err := Body(r)
		if err != nil {
			Fault(w, r, http.StatusBadRequest, err.Error(), nil)
			return
		}
		ri := Info(r.Context())
		ri.Operation, ri.OperationLabel, ri.Status = "Echo", "Echo", "ok"
		fmt.Fprintf(w, "%s %v %d", v.User, v.Restricted, len(body))
	})
	ts := startServer(t, serverOpts{cfg: func(c *Config) {}, mount: func(s *Server) { s.Handle("/echo", "echo", echo) }})
	do := func(user, pass string) (int, string) {
		req, _ := http.NewRequest("POST", ts.url+"/echo", strings.NewReader("hello"))
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: HTTP %d", code)
	}
	if code, _ := do("alice", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: HTTP %d", code)
	}
	if code, body := do("alice", alicePass); code != 200 || body != "alice true 5" {
		t.Errorf("alice: HTTP %d %q", code, body)
	}
	if code, body := do("root", rootPass); code != 200 || body != "root false 5" {
		t.Errorf("root: HTTP %d %q", code, body)
	}
	// CIM-XML is still served beside it.
	if resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil); resp.StatusCode != 200 {
		t.Errorf("CIM-XML: HTTP %d: %s", resp.StatusCode, body)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, `msg="echo request" protocol=echo`) || !strings.Contains(logs, "user=alice operation=Echo") {
		t.Errorf("log lacks the echo requests:\n%s", logs)
	}
	rec := &bytes.Buffer{}
	ts.metrics.Handler().ServeHTTP(&recorder{h: http.Header{}, b: rec}, httptestRequest())
	for _, want := range []string{
		`cimsess_requests_total{operation="Echo",protocol="echo",status="ok"} 2`,
		`cimsess_requests_total{operation="none",protocol="echo",status="http_401"} 2`,
		`cimsess_requests_total{operation="EnumerateInstances",protocol="cimxml",status="CIM_ERR_OK"} 1`,
	} {
		if !strings.Contains(rec.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
