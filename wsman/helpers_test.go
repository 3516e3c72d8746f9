package wsman

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

const testHost = "wshost"

// fixture is a small real provider: Linux logon sessions, their accounts
// and the Win32_LoggedOnUser links between them.
type fixture struct{ sessions, accounts, links []*cim.Instance }

func (f *fixture) Name() string { return "wsman-fixture" }
func (f *fixture) Classes() []string {
	return []string{"Linux_LogonSession", "Win32_UserAccount", "Win32_LoggedOnUser"}
}

func (f *fixture) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := f.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (f *fixture) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	src := map[string][]*cim.Instance{"linux_logonsession": f.sessions, "win32_useraccount": f.accounts,
		"win32_loggedonuser": f.links}[strings.ToLower(class)]
	out := make([]*cim.Instance, len(src))
	for i, in := range src {
		out[i] = in.Clone()
	}
	return out, nil
}

var fixtureStart, _ = cim.ParseDateTime("20260115093000.123456+060")

// newFixture returns n sessions alternating between alice and bob; the
// first has a terminal and a remote host, the second a string to escape.
func newFixture(n int) *fixture {
	f := &fixture{}
	for _, u := range []string{"alice", "bob"} {
		a := cim.NewInstance("Win32_UserAccount").Set("Domain", testHost).Set("Name", u).Set("Status", "OK")
		a.Owner = u
		f.accounts = append(f.accounts, a)
	}
	for i := range n {
		u := []string{"alice", "bob"}[i%2]
		id := fmt.Sprint(100 + i)
		s := cim.NewInstance("Linux_LogonSession").Set("LogonId", id).Set("Name", u+"@"+id).Set("Status", "OK").
			Set("StartTime", fixtureStart).Set("LogonType", uint32(2)).Set("UserName", u).Set("UserId", uint32(1000+i%2)).
			Set("IdleTime", cim.NewInterval(90*time.Second+500*time.Millisecond))
		if i == 0 {
			s.Set("LogonType", uint32(10)).Set("TTY", "pts/0").Set("RemoteHost", "client.example")
		}
		if i == 1 {
			s.Set("Caption", `a <b> & "c"`)
		}
		s.Owner = u
		f.sessions = append(f.sessions, s)
		acct := cim.ObjectPath{Host: testHost, Namespace: schema.Namespace, ClassName: "Win32_UserAccount",
			Keys: []cim.KeyBinding{{Name: "Domain", Value: testHost}, {Name: "Name", Value: u}}}
		sess := cim.ObjectPath{Host: testHost, Namespace: schema.Namespace, ClassName: "Linux_LogonSession",
			Keys: []cim.KeyBinding{{Name: "LogonId", Value: id}}}
		l := cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acct).Set("Dependent", sess)
		l.Owner = u
		f.links = append(f.links, l)
	}
	return f
}

// newTestHandler returns a handler over n fixture sessions.
func newTestHandler(t testing.TB, n int, cfg Config) *Handler {
	t.Helper()
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, newFixture(n))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ObjectManager = om
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// post sends body to h as viewer and returns the status and the decoded
// response envelope.
func post(t testing.TB, h http.Handler, viewer cimom.Viewer, body []byte) (int, *Node) {
	t.Helper()
	code, data := postRaw(h, viewer, body)
	n, err := Parse(data, Limits{MaxBytes: 64 << 20, MaxElements: 1 << 20})
	if err != nil {
		t.Fatalf("response is not XML (%v): %s", err, data)
	}
	return code, n
}

// postRaw sends body to h as viewer and returns the status and body.
func postRaw(h http.Handler, viewer cimom.Viewer, body []byte) (int, []byte) {
	r := httptest.NewRequest(http.MethodPost, "/wsman", bytes.NewReader(body))
	r.Header.Set("Content-Type", ContentType)
	r = r.WithContext(cimom.WithViewer(r.Context(), viewer))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// body returns the first element of the envelope's body.
func body(n *Node) *Node {
	b := n.Child(NSSOAP, "Body")
	if b == nil || len(b.Children) == 0 {
		return nil
	}
	return b.Children[0]
}

// subcode returns a fault's subcode value ("" when not a fault).
func subcode(n *Node) string {
	f := body(n)
	if !f.Is(NSSOAP, "Fault") {
		return ""
	}
	return f.Child(NSSOAP, "Code").Child(NSSOAP, "Subcode").Child(NSSOAP, "Value").T()
}

var admin = cimom.Viewer{}

const wmiCIMv2 = PrefixWMI + "root/cimv2/"

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func sleep() { time.Sleep(10 * time.Millisecond) }
