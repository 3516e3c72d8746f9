package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestWrappersAlone uses each wrapper of the pipeline on its own around a
// plain handler, as a program composing its own chain would: each does
// its one job (and answers through Fault) without the others.
func TestWrappersAlone(t *testing.T) {
	users, err := OpenUsers(writeTestUsers(t))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := New(Config{ObjectManager: newObjectManager(t, 1, false), Users: users, MaxConcurrent: 1, MaxRequestBytes: 8,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(h http.Handler, body, user, pass string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := Body(r)
		v := cimom.ViewerFrom(r.Context())
		Info(r.Context()).Operation = "Probe"
		fmt.Fprintf(w, "%s|%s|%v", b, v.User, v.Restricted)
	})

	// BufferBody: the body once, bounded.
	if rec := serve(s.BufferBody(ok), "hello", "", ""); rec.Code != 200 || rec.Body.String() != "hello||false" {
		t.Errorf("BufferBody: HTTP %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(s.BufferBody(ok), "123456789", "", ""); rec.Code != http.StatusRequestEntityTooLarge || rec.Header().Get("Connection") != "close" {
		t.Errorf("BufferBody over the bound: HTTP %d, Connection %q", rec.Code, rec.Header().Get("Connection"))
	}
	// Authenticated: a challenge without credentials, the viewer with them.
	if rec := serve(s.Authenticated(ok), "", "", ""); rec.Code != http.StatusUnauthorized || rec.Header().Get("Www-Authenticate") == "" {
		t.Errorf("Authenticated without credentials: HTTP %d, challenge %q", rec.Code, rec.Header().Get("Www-Authenticate"))
	}
	if rec := serve(s.Authenticated(ok), "hi", "alice", alicePass); rec.Code != 200 || rec.Body.String() != "hi|alice|true" {
		t.Errorf("Authenticated as alice: HTTP %d %q", rec.Code, rec.Body.String())
	}
	// Limited: one slot, taken by a request that waits; the next is 503.
	hold, held := make(chan struct{}), make(chan struct{})
	waiting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { close(held); <-hold })
	limited := s.Limited(waiting)
	done := make(chan struct{})
	go func() { defer close(done); serve(limited, "", "", "") }()
	<-held
	if rec := serve(s.Limited(ok), "", "", ""); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("Limited with its slot taken: HTTP %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(hold)
	<-done
	if rec := serve(s.Limited(ok), "", "", ""); rec.Code != 200 {
		t.Errorf("Limited with its slot free again: HTTP %d", rec.Code)
	}
	// Logged: one record with what the handler put in its RequestInfo.
	logs.Reset()
	serve(s.Logged("probe", ok), "", "", "")
	if l := logs.String(); !strings.Contains(l, `msg="probe request" protocol=probe`) || !strings.Contains(l, "operation=Probe") {
		t.Errorf("Logged wrote %q", l)
	}
	// Logged: a handler's panic (a bug) is a 500 and an error record with
	// its stack, and the server goes on.
	logs.Reset()
	buggy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Info(r.Context()).Operation = "Buggy"
		var rows []string
		_, _ = io.WriteString(w, rows[len(r.Method)]) // out of range: a bug
	})
	if rec := serve(s.Logged("probe", buggy), "", "", ""); rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "a bug, logged") {
		t.Errorf("a panic: HTTP %d %q", rec.Code, rec.Body.String())
	}
	if l := logs.String(); !strings.Contains(l, `level=ERROR msg="probe request failed on a bug"`) || !strings.Contains(l, "operation=Buggy") ||
		!strings.Contains(l, "http_status=500") || !strings.Contains(l, "index out of range [4] with length 0") || !strings.Contains(l, "server.TestWrappersAlone") {
		t.Errorf("Logged wrote for a panic: %q", l)
	}
}
