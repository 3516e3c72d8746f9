package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/wsman"
)

// TestWSManMounted serves WS-Management beside CIM-XML, over HTTP and
// HTTPS, behind the same authentication, visibility and log.
func TestWSManMounted(t *testing.T) {
	var ws *wsman.Handler
	ts := startServer(t, serverOpts{tls: true, mount: func(s *Server) {
		var err error
		if ws, err = wsman.New(wsman.Config{ObjectManager: s.om, ProductVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.Close)
		s.MountWSMan(ws)
	}})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ts.caPEM)
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx := context.Background()

	post := func(body []byte, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, ts.url+WSManPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", wsman.ContentType)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	identify := wsman.Message{Body: "<wsmid:Identify/>"}.Envelope()
	if r := post(identify, nil); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("identify without credentials or WSMANIDENTIFY: %d", r.StatusCode)
	}
	if r := post(identify, map[string]string{"WSMANIDENTIFY": "unauthenticated"}); r.StatusCode != http.StatusOK {
		t.Errorf("anonymous identify: %d", r.StatusCode)
	}
	enum := wsman.Message{Action: wsman.ActionEnumerate, ResourceURI: wsman.PrefixWMI + "root/cimv2/Win32_LogonSession",
		Body: wsman.EnumerateBody(10, "", "", "")}.Envelope()
	if r := post(enum, map[string]string{"WSMANIDENTIFY": "unauthenticated"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous enumerate: %d", r.StatusCode)
	}

	count := func(c *wsman.Client) (int, error) {
		n := 0
		err := c.EnumerateClass(ctx, "Win32_LogonSession", func(p []*cim.Instance) error { n += len(p); return nil })
		return n, err
	}
	for _, c := range []struct {
		url, user, pass string
		hc              *http.Client
		want            int
	}{
		{ts.url, "root", rootPass, nil, 3},
		{ts.tlsURL, "root", rootPass, httpsClient, 3},
		{ts.tlsURL, "alice", alicePass, httpsClient, 2},
		{ts.url, "bob", bobPass, nil, 1},
	} {
		cl := &wsman.Client{URL: c.url + WSManPath, User: c.user, Password: c.pass, HTTP: c.hc, Schema: schema.MustDefault(), PageSize: 1}
		if n, err := count(cl); err != nil || n != c.want {
			t.Errorf("%s as %s: %d sessions (want %d), %v", c.url, c.user, n, c.want, err)
		}
	}
	cl := &wsman.Client{URL: ts.url + WSManPath, User: "alice", Password: "wrong"}
	if _, err := count(cl); cim.CodeOf(err) != cim.ErrAccessDenied {
		t.Errorf("wrong password: %v", err)
	}
	logs := ts.logs.String()
	for _, want := range []string{"protocol=wsman", "operation=http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", "class=Win32_LogonSession", "cim_status=OK"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if st := ws.Stats(); st.Contexts != 0 {
		t.Errorf("contexts left: %+v", st)
	}
}

// TestWSManHostile sends what an attacker might to /wsman through the
// whole server: an entity bomb, deep nesting, a body over the limit, bad
// UTF-8 and UTF-16, a client that sends its body slowly. Each gets a clear
// answer and the server keeps serving.
func TestWSManHostile(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxRequestBytes = 256 << 10; c.ReadTimeout = 2 * time.Second }, mount: func(s *Server) {
		ws, err := wsman.New(wsman.Config{ObjectManager: s.om})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ws.Close)
		s.MountWSMan(ws)
	}})
	post := func(body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, ts.url+WSManPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", wsman.ContentType)
		req.SetBasicAuth("root", rootPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	soap := func(inner string) []byte {
		return []byte(`<s:Envelope xmlns:s="` + wsman.NSSOAP + `"><s:Body>` + inner + `</s:Body></s:Envelope>`)
	}
	for name, c := range map[string]struct {
		body []byte
		want int
	}{
		"entity bomb": {[]byte(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`), 500},
		"deep":        {soap(strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000)), 500},
		"huge":        {soap(strings.Repeat("x", 300<<10)), http.StatusRequestEntityTooLarge},
		"bad utf-8":   {soap("\xc3\x28"), 500},
		"bad utf-16":  {[]byte{0xFF, 0xFE, 0x3C, 0x00, 0x00, 0xDC}, 500},
	} {
		if got := post(c.body); got != c.want {
			t.Errorf("%s: HTTP %d, want %d", name, got, c.want)
		}
	}
	// A client that sends half a body and stops: the read timeout ends it
	// without holding a slot, and others are served meanwhile.
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cm9vdDpyb290LXNlY3JldA==\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n<s:Envelope", WSManPath, wsman.ContentType)
	identify := wsman.Message{Body: "<wsmid:Identify/>"}.Envelope()
	if got := post(identify); got != http.StatusOK {
		t.Errorf("identify while a client stalls: %d", got)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, io.EOF) {
		t.Logf("stalled client: %v", err)
	}
	if got := post(identify); got != http.StatusOK {
		t.Errorf("identify after: %d", got)
	}
}
