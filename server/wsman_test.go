package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

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
