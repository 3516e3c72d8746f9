package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

const testHost = "testhost"

// sessionProvider is a small real provider: a fixed set of Linux logon
// sessions, the accounts they belong to and the Win32_LoggedOnUser
// associations between them.
type sessionProvider struct {
	sessions []*cim.Instance
	accounts []*cim.Instance
	links    []*cim.Instance
}

func (p *sessionProvider) Name() string { return "test-sessions" }
func (p *sessionProvider) Classes() []string {
	return []string{"Linux_LogonSession", "Win32_UserAccount", "Win32_LoggedOnUser"}
}

func (p *sessionProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (p *sessionProvider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	var src []*cim.Instance
	switch strings.ToLower(class) {
	case "linux_logonsession":
		src = p.sessions
	case "win32_useraccount":
		src = p.accounts
	case "win32_loggedonuser":
		src = p.links
	}
	out := make([]*cim.Instance, len(src))
	for i, in := range src {
		out[i] = in.Clone()
	}
	return out, nil
}

var testStart = mustTime("20260115093000.000000+060")

func mustTime(s string) cim.DateTime {
	d, err := cim.ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return d
}

// newSessionProvider returns n sessions; the first three are fixed
// (alice remote on pts/0, bob on tty1, alice without a terminal), the rest
// alternate between alice and bob.
func newSessionProvider(n int) *sessionProvider {
	p := &sessionProvider{}
	users := []string{"alice", "bob"}
	for i, u := range users {
		acct := cim.NewInstance("Win32_UserAccount").
			Set("Domain", testHost).Set("Name", u).Set("Caption", testHost+`\`+u).Set("Status", "OK").
			Set("FullName", fmt.Sprintf("Test User %d", i+1))
		acct.Owner = u
		p.accounts = append(p.accounts, acct)
	}
	for i := 0; i < n; i++ {
		user := users[i%2]
		if i == 2 {
			user = "alice"
		}
		id := fmt.Sprint(1001 + i)
		s := cim.NewInstance("Linux_LogonSession").
			Set("LogonId", id).Set("Caption", "Session "+id+" of "+user).Set("Name", id).
			Set("Status", "OK").Set("StartTime", testStart).Set("AuthenticationPackage", "PAM").
			Set("LogonType", uint32(2)).Set("UserName", user).Set("UserId", uint32(1000+i%2)).
			Set("LeaderProcessId", uint32(4000+i)).Set("AuditSessionId", uint32(1001+i)).
			Set("IdleTime", cim.NewInterval(90*time.Second))
		switch i {
		case 0:
			s.Set("LogonType", uint32(10)).Set("TTY", "pts/0").Set("RemoteHost", "client.example").
				Set("RemoteAddress", "192.0.2.7").Set("Service", "sshd").Set("State", "active").Set("SessionClass", "user")
		case 1:
			s.Set("TTY", "tty1").Set("Seat", "seat0").Set("Service", "login").Set("State", "online")
		case 2:
			s.Set("LogonType", uint32(3)).Set("Status", "Lost Comm").Set("Caption", `quotes " & <angle> 'apos'`)
		}
		s.Owner = user
		p.sessions = append(p.sessions, s)
		acctPath := cim.ObjectPath{Host: testHost, Namespace: schema.Namespace, ClassName: "Win32_UserAccount",
			Keys: []cim.KeyBinding{{Name: "Domain", Value: testHost}, {Name: "Name", Value: user}}}
		sessPath := cim.ObjectPath{Host: testHost, Namespace: schema.Namespace, ClassName: "Linux_LogonSession",
			Keys: []cim.KeyBinding{{Name: "LogonId", Value: id}}}
		link := cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctPath).Set("Dependent", sessPath)
		link.Owner = user
		p.links = append(p.links, link)
	}
	return p
}

// testServer is a server on a real loopback listener.
type testServer struct {
	srv     *Server
	url     string // http://127.0.0.1:PORT
	addr    string
	tlsURL  string
	tlsAddr string
	caPEM   []byte
	users   string
	logs    *testenv.SyncBuffer
	metrics *Metrics
}

type serverOpts struct {
	sessions       int
	skipValidation bool
	noAuth         bool
	tls            bool
	cfg            func(*Config)
	mount          func(*Server) // mounts more handlers before Serve
}

const (
	alicePass = "alice-secret"
	bobPass   = "bob-secret"
	rootPass  = "root-secret"
)

func writeTestUsers(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	for _, u := range []struct {
		name, pass string
		admin      bool
	}{{"root", rootPass, true}, {"alice", alicePass, false}, {"bob", bobPass, false}} {
		if err := access.AddUser(path, u.name, []byte(u.pass), u.admin, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func newObjectManager(t testing.TB, sessions int, skipValidation bool) *cimom.ObjectManager {
	t.Helper()
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost, SkipValidation: skipValidation}, newSessionProvider(sessions))
	if err != nil {
		t.Fatal(err)
	}
	return om
}

func startServer(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	if o.sessions == 0 {
		o.sessions = 3
	}
	ts := &testServer{logs: &testenv.SyncBuffer{}}
	om := newObjectManager(t, o.sessions, o.skipValidation)
	ts.metrics = NewMetrics(om)
	cfg := Config{ObjectManager: om, NoAuth: o.noAuth, Metrics: ts.metrics,
		Logger: slog.New(slog.NewTextHandler(ts.logs, nil))}
	if !o.noAuth {
		ts.users = writeTestUsers(t)
		u, err := OpenUsers(ts.users)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Users = u
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	if o.mount != nil {
		o.mount(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.url = "http://" + ts.addr
	var secure net.Listener
	var tlsConf *tls.Config
	if o.tls {
		cert, pemBytes, err := SelfSigned("127.0.0.1", "localhost")
		if err != nil {
			t.Fatal(err)
		}
		ts.caPEM = pemBytes
		tlsConf = TLSConfig(cert)
		if secure, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		ts.tlsAddr = secure.Addr().String()
		ts.tlsURL = "https://" + ts.tlsAddr
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, secure, tlsConf) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return")
		}
	})
	return ts
}

// request builds a CIM-XML request for an intrinsic method of root/cimv2
// with the given IPARAMVALUE elements.
func request(method string, params ...string) string {
	return `<?xml version="1.0" encoding="utf-8" ?>
<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="` + method + `"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>` +
		strings.Join(params, "") + `</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>`
}

func pClass(name, class string) string {
	return `<IPARAMVALUE NAME="` + name + `"><CLASSNAME NAME="` + class + `"/></IPARAMVALUE>`
}

func pBool(name string, v bool) string {
	return fmt.Sprintf(`<IPARAMVALUE NAME="%s"><VALUE>%v</VALUE></IPARAMVALUE>`, name, strings.ToUpper(fmt.Sprint(v)))
}

func pString(name, v string) string {
	return `<IPARAMVALUE NAME="` + name + `"><VALUE>` + cimxml.Escape(v) + `</VALUE></IPARAMVALUE>`
}

func pList(name string, vs ...string) string {
	var b strings.Builder
	b.WriteString(`<IPARAMVALUE NAME="` + name + `"><VALUE.ARRAY>`)
	for _, v := range vs {
		b.WriteString("<VALUE>" + v + "</VALUE>")
	}
	b.WriteString("</VALUE.ARRAY></IPARAMVALUE>")
	return b.String()
}

func pInstance(name, class string, keys ...string) string {
	var b strings.Builder
	b.WriteString(`<IPARAMVALUE NAME="` + name + `"><INSTANCENAME CLASSNAME="` + class + `">`)
	for i := 0; i+1 < len(keys); i += 2 {
		b.WriteString(`<KEYBINDING NAME="` + keys[i] + `"><KEYVALUE VALUETYPE="string">` + keys[i+1] + `</KEYVALUE></KEYBINDING>`)
	}
	b.WriteString("</INSTANCENAME></IPARAMVALUE>")
	return b.String()
}

// post sends a CIM-XML request as wbemcli does and returns the response and its body.
func post(t testing.TB, client *http.Client, url, user, pass, method, body string, extra map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/cimom", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.Header.Set("CIMProtocolVersion", "1.0")
	req.Header.Set("CIMOperation", "MethodCall")
	req.Header.Set("CIMMethod", method)
	req.Header.Set("CIMObject", "root%2Fcimv2")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for k, v := range extra {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// mustValid fails the test unless the body is a valid DSP0201 document.
func mustValid(t testing.TB, body []byte) {
	t.Helper()
	if err := cimxml.Validate(body); err != nil {
		t.Fatalf("response is not valid CIM-XML: %v\n%s", err, body)
	}
}
