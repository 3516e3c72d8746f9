package cimom

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/ahead"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// testProvider is a provider.Provider over fixed instances. It records the
// hints it is given and hands out copies, as a real source builds fresh
// instances on every call.
type testProvider struct {
	name    string
	data    map[string][]*cim.Instance // class → instances
	err     error
	sources []provider.Source

	mu    sync.Mutex
	hints []provider.Hint
	calls map[string]int
}

func (p *testProvider) Name() string { return p.name }

func (p *testProvider) Classes() []string {
	var out []string
	for c := range p.data {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (p *testProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (p *testProvider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	p.mu.Lock()
	p.hints = append(p.hints, hint)
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[class]++
	p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	var out []*cim.Instance
	for _, in := range p.data[class] {
		out = append(out, in.Clone())
	}
	return out, nil
}

func (p *testProvider) Sources() []provider.Source { return p.sources }

func (p *testProvider) lastHints() []provider.Hint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.Hint(nil), p.hints...)
}

const host = "TESTHOST"

func ref(t testing.TB, s string) cim.ObjectPath {
	t.Helper()
	p, err := cim.ParseObjectPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func session(id, user string) *cim.Instance {
	in := cim.NewInstance("Linux_LogonSession").
		Set("LogonId", id).
		Set("UserName", user).
		Set("Caption", user+"'s session").
		Set("Status", "OK").
		Set("LogonType", uint32(10)).
		Set("StartTime", cim.NewDateTime(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))).
		Set("IdleTime", cim.NewInterval(time.Minute))
	in.Owner = user
	return in
}

func account(name string) *cim.Instance {
	in := cim.NewInstance("Win32_UserAccount").Set("Domain", host).Set("Name", name).Set("FullName", strings.ToUpper(name))
	in.Owner = name
	return in
}

func process(handle, user string) *cim.Instance {
	in := cim.NewInstance("Win32_Process").Set("Handle", handle).Set("Name", "sh")
	in.Owner = user
	return in
}

// world is the fixture: three sessions (alice's 42, bob's 43, root's 44
// with no owner), two accounts, alice's six processes in session 42 and
// bob's one in 43, and the associations between them. The references
// name the sessions as Win32_LogonSession, as WMI's do.
type world struct {
	sessions, accounts, processes, assocs *testProvider
	om                                    *ObjectManager
}

func newWorld(t testing.TB, opts ...func(*world)) *world {
	t.Helper()
	w := &world{
		sessions: &testProvider{name: "sessions", data: map[string][]*cim.Instance{
			"Linux_LogonSession": {session("42", "alice"), session("43", "bob"), session("44", "")},
		}, sources: []provider.Source{{Name: "utmp", Where: "testdata/utmp", Found: 3}}},
		accounts: &testProvider{name: "accounts", data: map[string][]*cim.Instance{
			"Win32_UserAccount": {account("alice"), account("bob")},
		}},
		processes: &testProvider{name: "processes", data: map[string][]*cim.Instance{}},
		assocs:    &testProvider{name: "assocs", data: map[string][]*cim.Instance{}},
	}
	var procs, sp []*cim.Instance
	for i := 100; i < 106; i++ {
		h := fmt.Sprint(i)
		procs = append(procs, process(h, "alice"))
		a := cim.NewInstance("Win32_SessionProcess").
			Set("Antecedent", ref(t, `\\TESTHOST\root\cimv2:Win32_LogonSession.LogonId="42"`)).
			Set("Dependent", ref(t, `\\TESTHOST\root\cimv2:Win32_Process.Handle="`+h+`"`))
		a.Owner = "alice"
		sp = append(sp, a)
	}
	procs = append(procs, process("200", "bob"))
	b := cim.NewInstance("Win32_SessionProcess").
		Set("Antecedent", ref(t, `Win32_LogonSession.LogonId="43"`)).
		Set("Dependent", ref(t, `Win32_Process.Handle="200"`))
	b.Owner = "bob"
	// A process that ended after the association was read.
	gone := cim.NewInstance("Win32_SessionProcess").
		Set("Antecedent", ref(t, `Win32_LogonSession.LogonId="43"`)).
		Set("Dependent", ref(t, `Win32_Process.Handle="999"`))
	sp = append(sp, b, gone)
	w.processes.data["Win32_Process"] = procs
	var lu []*cim.Instance
	for _, u := range []struct{ user, id string }{{"alice", "42"}, {"bob", "43"}} {
		a := cim.NewInstance("Win32_LoggedOnUser").
			Set("Antecedent", ref(t, `\\TESTHOST\root\cimv2:Win32_UserAccount.Domain="TESTHOST",Name="`+u.user+`"`)).
			Set("Dependent", ref(t, `\\TESTHOST\root\cimv2:Win32_LogonSession.LogonId="`+u.id+`"`))
		a.Owner = u.user
		lu = append(lu, a)
	}
	w.assocs.data["Win32_SessionProcess"] = sp
	w.assocs.data["Win32_LoggedOnUser"] = lu
	for _, o := range opts {
		o(w)
	}
	om, err := New(schema.MustDefault(), Options{Host: host}, w.sessions, w.accounts, w.processes, w.assocs)
	if err != nil {
		t.Fatal(err)
	}
	w.om = om
	return w
}

func paths(insts []*cim.Instance) []string {
	var out []string
	for _, in := range insts {
		out = append(out, in.Path.Relative().String())
	}
	sort.Strings(out)
	return out
}

func TestNew(t *testing.T) {
	reg := schema.MustDefault()
	cases := []struct {
		name string
		ps   []provider.Provider
		code cim.Status
	}{
		{"abstract class", []provider.Provider{&testProvider{name: "a", data: map[string][]*cim.Instance{"Win32_Session": nil}}}, cim.ErrInvalidClass},
		{"unknown class", []provider.Provider{&testProvider{name: "a", data: map[string][]*cim.Instance{"Win32_Nope": nil}}}, cim.ErrInvalidClass},
		{"two providers for a class", []provider.Provider{
			&testProvider{name: "a", data: map[string][]*cim.Instance{"Win32_Process": nil}},
			&testProvider{name: "b", data: map[string][]*cim.Instance{"win32_process": nil}}}, cim.ErrAlreadyExists},
	}
	for _, tc := range cases {
		_, err := New(reg, Options{}, tc.ps...)
		if cim.CodeOf(err) != tc.code {
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.code)
		}
	}
	om, err := New(reg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if om.Host() == "" || om.Namespace() != "root/cimv2" || om.Schema() != reg || len(om.Providers()) != 0 {
		t.Errorf("defaults: host %q namespace %q", om.Host(), om.Namespace())
	}
}

func TestEnumerateDeepAndShallow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cases := []struct {
		class   string
		shallow bool
		want    int
	}{
		{"Win32_Session", false, 3},
		{"Win32_Session", true, 0}, // abstract: no instances of its own
		{"Win32_LogonSession", false, 3},
		{"Win32_LogonSession", true, 0}, // no provider serves the class itself
		{"Linux_LogonSession", true, 3},
		{"linux_logonsession", false, 3},
		{"Win32_ServerSession", false, 0}, // no provider
		{"Win32_Account", false, 2},
		{"CIM_LogicalElement", false, 3 + 2 + 7},
		{"CIM_ManagedSystemElement", false, 3 + 2 + 7},
		{"CIM_Dependency", false, 8 + 2},
		{"Win32_SessionResource", false, 8},
	}
	for _, tc := range cases {
		got, err := w.om.EnumerateInstances(ctx, tc.class, EnumOptions{Shallow: tc.shallow})
		if err != nil {
			t.Errorf("EnumerateInstances(%s): %v", tc.class, err)
			continue
		}
		if len(got) != tc.want {
			t.Errorf("EnumerateInstances(%s, shallow %v) = %d instances %v, want %d", tc.class, tc.shallow, len(got), paths(got), tc.want)
		}
	}
	got, _ := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{})
	for _, in := range got {
		if in.ClassName != "Linux_LogonSession" {
			t.Errorf("a Win32_Session of class %s", in.ClassName)
		}
		want := `\\TESTHOST\root\cimv2:Linux_LogonSession.LogonId="` + in.String("LogonId") + `"`
		if in.Path.String() != want {
			t.Errorf("Path = %s, want %s", in.Path, want)
		}
	}
	if _, err := w.om.EnumerateInstances(ctx, "Win32_Nope", EnumOptions{}); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("unknown class: %v", err)
	}
	// Hint.Keys narrows the result whatever the provider does with it.
	got, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{Hint: provider.Hint{Keys: map[string]any{"logonid": "43"}}})
	if err != nil || len(got) != 1 || got[0].String("LogonId") != "43" {
		t.Errorf("enumerate with a key hint = %v, %v", paths(got), err)
	}
	// Instances are paths with sorted keys.
	accts, _ := w.om.EnumerateInstances(ctx, "Win32_Account", EnumOptions{})
	if want := []string{`Win32_UserAccount.Domain="TESTHOST",Name="alice"`, `Win32_UserAccount.Domain="TESTHOST",Name="bob"`}; !reflect.DeepEqual(paths(accts), want) {
		t.Errorf("accounts = %v", paths(accts))
	}
}

func TestGetInstance(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	found := []struct{ path, want string }{
		{`Win32_LogonSession.LogonId="42"`, `Linux_LogonSession.LogonId="42"`},
		{`Linux_LogonSession.LogonId="42"`, `Linux_LogonSession.LogonId="42"`},
		{`win32_logonsession.logonid="43"`, `Linux_LogonSession.LogonId="43"`},
		{`\\TESTHOST\root\cimv2:Win32_LogonSession.LogonId="42"`, `Linux_LogonSession.LogonId="42"`},
		{`//TESTHOST/root/cimv2:Win32_LogonSession.LogonId="42"`, `Linux_LogonSession.LogonId="42"`},
		{`root\cimv2:Win32_LogonSession.LogonId="44"`, `Linux_LogonSession.LogonId="44"`},
		{`ROOT/CIMV2:Win32_LogonSession.LogonId="44"`, `Linux_LogonSession.LogonId="44"`},
		{`Win32_UserAccount.Name="alice",Domain="TESTHOST"`, `Win32_UserAccount.Domain="TESTHOST",Name="alice"`},
		{`Win32_Account.Domain="TESTHOST",Name="bob"`, `Win32_UserAccount.Domain="TESTHOST",Name="bob"`},
		{`Win32_Process.Handle="200"`, `Win32_Process.Handle="200"`},
		{`Win32_Process.Handle=200`, `Win32_Process.Handle="200"`}, // an unquoted number for a string key
		{`CIM_Process.Handle="101"`, `Win32_Process.Handle="101"`},
		{`Win32_LoggedOnUser.Antecedent="\\\\TESTHOST\\root\\cimv2:Win32_UserAccount.Domain=\"TESTHOST\",Name=\"alice\"",Dependent="Win32_LogonSession.LogonId=\"42\""`,
			`Win32_LoggedOnUser.Antecedent="\\\\TESTHOST\\root\\cimv2:Win32_UserAccount.Domain=\"TESTHOST\",Name=\"alice\"",Dependent="\\\\TESTHOST\\root\\cimv2:Win32_LogonSession.LogonId=\"42\""`},
		// The references of an association's path in every form a path
		// takes: a subclass or superclass of the class referred to, the
		// shorthand Class=value, an unquoted number for a string key.
		{`Win32_SessionProcess.Antecedent="Linux_LogonSession.LogonId=\"43\"",Dependent="Win32_Process.Handle=\"200\""`,
			`Win32_SessionProcess.Antecedent="Win32_LogonSession.LogonId=\"43\"",Dependent="Win32_Process.Handle=\"200\""`},
		{`Win32_SessionProcess.Antecedent="Win32_LogonSession=43",Dependent="Win32_Process=200"`,
			`Win32_SessionProcess.Antecedent="Win32_LogonSession.LogonId=\"43\"",Dependent="Win32_Process.Handle=\"200\""`},
		{`Win32_SessionProcess.Antecedent="win32_logonsession.logonid=43",Dependent="CIM_Process.Handle=200"`,
			`Win32_SessionProcess.Antecedent="Win32_LogonSession.LogonId=\"43\"",Dependent="Win32_Process.Handle=\"200\""`},
		{`Win32_LoggedOnUser.Antecedent="Win32_Account.Name=\"bob\",Domain=\"testhost\"",Dependent="Linux_LogonSession=\"43\""`,
			`Win32_LoggedOnUser.Antecedent="\\\\TESTHOST\\root\\cimv2:Win32_UserAccount.Domain=\"TESTHOST\",Name=\"bob\"",Dependent="\\\\TESTHOST\\root\\cimv2:Win32_LogonSession.LogonId=\"43\""`},
	}
	for _, tc := range found {
		in, err := w.om.GetInstance(ctx, ref(t, tc.path))
		if err != nil {
			t.Errorf("GetInstance(%s): %v", tc.path, err)
			continue
		}
		if got := in.Path.Relative().String(); got != tc.want {
			t.Errorf("GetInstance(%s) = %s, want %s", tc.path, got, tc.want)
		}
	}
	failing := []struct {
		path string
		code cim.Status
	}{
		{`Win32_LogonSession.LogonId="99"`, cim.ErrNotFound},
		{`Win32_LogonSession.LogonId="042"`, cim.ErrNotFound},
		{`Win32_UserAccount.Domain="OTHER",Name="alice"`, cim.ErrNotFound},
		{`Win32_ServerSession.ComputerName="c",UserName="u"`, cim.ErrNotFound}, // no provider
		{`Win32_LogonSession.Id="42"`, cim.ErrInvalidParameter},
		{`Win32_LogonSession.LogonId="42",Caption="x"`, cim.ErrInvalidParameter},
		{`Win32_UserAccount.Name="alice"`, cim.ErrInvalidParameter},
		{`Win32_LogonSession`, cim.ErrInvalidParameter},
		// A reference to an object of another lineage, and one whose
		// path its own class refuses.
		{`Win32_SessionProcess.Antecedent="Win32_UserAccount.Name=\"bob\",Domain=\"TESTHOST\"",Dependent="Win32_Process=200"`, cim.ErrNotFound},
		{`Win32_SessionProcess.Antecedent="Win32_LogonSession.Nope=43",Dependent="Win32_Process=200"`, cim.ErrInvalidParameter},
		{`Win32_LogonSession=@`, cim.ErrInvalidParameter},
		{`Win32_Session.LogonId="42"`, cim.ErrInvalidParameter}, // Win32_Session has no keys
		{`root/default:Win32_LogonSession.LogonId="42"`, cim.ErrInvalidNamespace},
		{`\\TESTHOST\root:Win32_LogonSession.LogonId="42"`, cim.ErrInvalidNamespace},
		{`Win32_Nope.LogonId="42"`, cim.ErrInvalidClass},
		{`Win32_LoggedOnUser.Antecedent="Win32_UserAccount.Domain=\"TESTHOST\",Name=\"bob\"",Dependent="Win32_LogonSession.LogonId=\"42\""`, cim.ErrNotFound},
	}
	for _, tc := range failing {
		in, err := w.om.GetInstance(ctx, ref(t, tc.path))
		if cim.CodeOf(err) != tc.code {
			t.Errorf("GetInstance(%s) = %v, %v; want %v", tc.path, in, err, tc.code)
		}
	}
	// A key given twice, which only a path built in code can hold.
	dup := cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "42"}, {Name: "logonid", Value: "43"}}}
	if _, err := w.om.GetInstance(ctx, dup); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("GetInstance with a key twice: %v", err)
	}
}

// TestGetInstancePassesKeys checks that the provider is asked only for the
// key, with lower-case names and values of the key's type.
func TestGetInstancePassesKeys(t *testing.T) {
	w := newWorld(t)
	if _, err := w.om.GetInstance(context.Background(), ref(t, `Win32_UserAccount.Name="alice",Domain="TESTHOST"`)); err != nil {
		t.Fatal(err)
	}
	hints := w.accounts.lastHints()
	if len(hints) != 1 || !reflect.DeepEqual(hints[0].Keys, map[string]any{"name": "alice", "domain": "TESTHOST"}) {
		t.Errorf("hints = %#v", hints)
	}
}

func TestValidationCatchesBadProviders(t *testing.T) {
	ctx := context.Background()
	bad := []struct {
		name string
		mod  func(*world)
	}{
		{"Status not in its ValueMap", func(w *world) { w.sessions.data["Linux_LogonSession"][0].Set("Status", "Broken") }},
		{"Caption too long", func(w *world) { w.sessions.data["Linux_LogonSession"][1].Set("Caption", strings.Repeat("x", 65)) }},
		{"LogonType 1", func(w *world) { w.sessions.data["Linux_LogonSession"][1].Set("LogonType", uint32(1)) }},
		{"a point in time for IdleTime", func(w *world) {
			w.sessions.data["Linux_LogonSession"][0].Set("IdleTime", cim.NewDateTime(time.Now()))
		}},
		{"wrong type", func(w *world) { w.sessions.data["Linux_LogonSession"][0].Set("UserId", 1000) }},
		{"no key", func(w *world) { w.sessions.data["Linux_LogonSession"][0].Delete("LogonId") }},
		{"unknown property", func(w *world) { w.sessions.data["Linux_LogonSession"][0].Set("Shell", "/bin/sh") }},
	}
	for _, tc := range bad {
		w := newWorld(t, tc.mod)
		_, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{})
		if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(err.Error(), "sessions") {
			t.Errorf("%s: EnumerateInstances = %v, want CIM_ERR_FAILED naming the provider", tc.name, err)
		}
		if _, err := w.om.GetInstance(ctx, ref(t, `Win32_LogonSession.LogonId="43"`)); err == nil && tc.name != "no key" {
			// The bad instance spoils the enumeration GetInstance does.
			t.Errorf("%s: GetInstance succeeded", tc.name)
		}
		// SkipValidation lets it through (apart from a missing key, which
		// leaves the instance without a path).
		om, err := New(schema.MustDefault(), Options{Host: host, SkipValidation: true}, w.sessions)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{}); err != nil && tc.name != "no key" {
			t.Errorf("%s with SkipValidation: %v", tc.name, err)
		}
	}
	// A provider that returns an instance of another class.
	w := newWorld(t, func(w *world) { w.sessions.data["Linux_LogonSession"][0].ClassName = "Win32_LogonSession" })
	if _, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{}); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("an instance of the wrong class: %v", err)
	}
	// Class names in another case are fixed up.
	w = newWorld(t, func(w *world) { w.sessions.data["Linux_LogonSession"][0].ClassName = "LINUX_LOGONSESSION" })
	got, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{})
	if err != nil || got[0].ClassName != "Linux_LogonSession" {
		t.Errorf("class name case: %v", err)
	}
}

// TestStreamInstances checks the streaming path: batches are bounded and
// checked with their paths set, an error of emit stops the provider
// within one batch and comes back unchanged, and a cancelled context
// stops it too.
func TestStreamInstances(t *testing.T) {
	ctx := context.Background()
	const n = 3*provider.MaxBatch + 7
	insts := make([]*cim.Instance, n)
	for i := range insts {
		insts[i] = session(strconv.Itoa(i), "alice")
	}
	p := &testProvider{name: "many", data: map[string][]*cim.Instance{"Linux_LogonSession": insts}}
	om, err := New(schema.MustDefault(), Options{Host: host}, p)
	if err != nil {
		t.Fatal(err)
	}
	total, batches := 0, 0
	err = om.StreamInstances(ctx, "Win32_LogonSession", EnumOptions{}, func(b []*cim.Instance) error {
		if len(b) == 0 || len(b) > provider.MaxBatch {
			t.Fatalf("batch of %d", len(b))
		}
		for _, in := range b {
			if k, _ := in.Path.Key("LogonId"); k != strconv.Itoa(total) {
				t.Fatalf("instance %d has path %s", total, in.Path)
			}
			total++
		}
		batches++
		return nil
	})
	if err != nil || total != n || batches != 4 {
		t.Fatalf("%d instances in %d batches, %v", total, batches, err)
	}
	stop := errors.New("reader gone")
	batches = 0
	err = om.StreamInstances(ctx, "Win32_LogonSession", EnumOptions{}, func(b []*cim.Instance) error {
		batches++
		return stop
	})
	if err != stop || batches != 1 {
		t.Errorf("emit's error: %v after %d batches, want it unchanged after 1", err, batches)
	}
	cctx, cancel := context.WithCancel(ctx)
	batches = 0
	err = om.StreamInstances(cctx, "Win32_LogonSession", EnumOptions{}, func(b []*cim.Instance) error {
		batches++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || batches != 1 {
		t.Errorf("cancelled: %v after %d batches", err, batches)
	}
	// A bad instance in a later batch fails the stream after the good ones.
	insts[n-2].Set("Status", "Broken")
	total = 0
	err = om.StreamInstances(ctx, "Win32_LogonSession", EnumOptions{}, func(b []*cim.Instance) error { total += len(b); return nil })
	if cim.CodeOf(err) != cim.ErrFailed || total != 3*provider.MaxBatch {
		t.Errorf("bad last batch: %v after %d instances", err, total)
	}
}

func TestProviderErrors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, func(w *world) { w.sessions.err = errors.New("utmp: bad record") })
	_, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{})
	if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(err.Error(), "utmp: bad record") {
		t.Errorf("plain provider error: %v", err)
	}
	var ce *cim.Error
	if !errors.As(err, &ce) {
		t.Errorf("%v is not a *cim.Error", err)
	}
	w = newWorld(t, func(w *world) { w.sessions.err = cim.Errorf(cim.ErrAccessDenied, "no right to read") })
	if _, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{}); cim.CodeOf(err) != cim.ErrAccessDenied ||
		err.Error() != "CIM_ERR_ACCESS_DENIED: provider sessions, class Linux_LogonSession: no right to read" {
		t.Errorf("a provider's *cim.Error keeps its code and gets the context: %v", err)
	}
	// The cause of an OS reader's error survives the mapping and the context.
	w = newWorld(t, func(w *world) { w.sessions.err = cim.Map(fmt.Errorf("utmp: %w", fs.ErrNotExist)) })
	if _, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{}); !errors.Is(err, fs.ErrNotExist) || cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("errors.Is(fs.ErrNotExist) through the object manager: %v", err)
	}
	// An error in one class's provider does not touch another class.
	if got, err := w.om.EnumerateInstances(ctx, "Win32_Process", EnumOptions{}); err != nil || len(got) != 7 {
		t.Errorf("Win32_Process = %d, %v", len(got), err)
	}
}

func TestViewer(t *testing.T) {
	w := newWorld(t)
	bg := context.Background()
	if v := ViewerFrom(bg); v.Restricted {
		t.Error("no viewer is restricted")
	}
	cases := []struct {
		v    Viewer
		want []string
	}{
		{Viewer{}, []string{"42", "43", "44"}},
		{Viewer{User: "alice"}, []string{"42", "43", "44"}}, // not restricted: an administrator
		{Viewer{User: "alice", Restricted: true}, []string{"42"}},
		{Viewer{User: "ALICE", Restricted: true}, nil}, // exactly: Linux names are case-sensitive
		{Viewer{User: "bob", Restricted: true}, []string{"43"}},
		{Viewer{User: "carol", Restricted: true}, nil},
		{Viewer{Restricted: true}, nil}, // not even the unowned session 44
	}
	for _, tc := range cases {
		ctx := WithViewer(bg, tc.v)
		if ViewerFrom(ctx) != tc.v {
			t.Errorf("ViewerFrom(WithViewer(%v))", tc.v)
		}
		got, err := w.om.EnumerateInstances(ctx, "Win32_Session", EnumOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.String("LogonId"))
		}
		if !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("viewer %+v sees %v, want %v", tc.v, ids, tc.want)
		}
	}
	alice := WithViewer(bg, Viewer{User: "alice", Restricted: true})
	if _, err := w.om.GetInstance(alice, ref(t, `Win32_LogonSession.LogonId="43"`)); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("alice gets bob's session: %v", err)
	}
	if _, err := w.om.GetInstance(alice, ref(t, `Win32_LogonSession.LogonId="42"`)); err != nil {
		t.Errorf("alice does not get her session: %v", err)
	}
	got, err := w.om.Associators(alice, ref(t, `Win32_LogonSession.LogonId="42"`), AssocOptions{})
	if err != nil || len(got) != 7 {
		t.Errorf("alice's associators = %v, %v", paths(got), err)
	}
	if _, err := w.om.Associators(alice, ref(t, `Win32_LogonSession.LogonId="43"`), AssocOptions{}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("alice's associators of bob's session: %v", err)
	}
	// Alice sees bob's account only if she owns it: the association to it is hers, the account is not.
	bobsAcct := WithViewer(bg, Viewer{User: "bob", Restricted: true})
	got, _ = w.om.Associators(bobsAcct, ref(t, `Win32_UserAccount.Domain="TESTHOST",Name="bob"`), AssocOptions{})
	if want := []string{`Linux_LogonSession.LogonId="43"`}; !reflect.DeepEqual(paths(got), want) {
		t.Errorf("bob's associators of his account = %v", paths(got))
	}
}

func TestCheckNamespace(t *testing.T) {
	w := newWorld(t)
	for _, ns := range []string{"", "root/cimv2", `root\cimv2`, "ROOT/CIMV2", "/root/cimv2/", `\root\cimv2`} {
		if err := w.om.CheckNamespace(ns); err != nil {
			t.Errorf("CheckNamespace(%q): %v", ns, err)
		}
	}
	for _, ns := range []string{"root", "root/default", "interop", "root/cimv2/sub", "root//cimv2"} {
		if err := w.om.CheckNamespace(ns); cim.CodeOf(err) != cim.ErrInvalidNamespace {
			t.Errorf("CheckNamespace(%q) = %v", ns, err)
		}
	}
}

func TestSources(t *testing.T) {
	w := newWorld(t)
	if got := w.om.Sources(); len(got) != 0 {
		t.Errorf("Sources before any enumeration = %v", got)
	}
	if _, err := w.om.EnumerateInstances(context.Background(), "CIM_ManagedSystemElement", EnumOptions{}); err != nil {
		t.Fatal(err)
	}
	got := w.om.Sources()
	var utmp int
	for _, s := range got {
		if s.Name == "utmp" && s.Found == 3 {
			utmp++
		}
	}
	if utmp != 1 {
		t.Errorf("Sources() = %v", got)
	}
}

// TestConcurrent runs operations side by side, for the race detector.
func TestConcurrent(t *testing.T) {
	w := newWorld(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if _, err := w.om.EnumerateInstances(ctx, "CIM_ManagedSystemElement", EnumOptions{}); err != nil {
				t.Error(err)
			}
			if _, err := w.om.Associators(ctx, ref(t, `Win32_LogonSession.LogonId="42"`), AssocOptions{}); err != nil {
				t.Error(err)
			}
			_ = w.om.Sources()
		}()
	}
	wg.Wait()
}

// TestManyInstancesChecked covers instances checked over several
// batches: order, paths and the viewer hold, and of two bad
// instances the first is the one reported.
func TestManyInstancesChecked(t *testing.T) {
	ctx := context.Background()
	const n = 3*provider.MaxBatch + 7
	insts := make([]*cim.Instance, n)
	for i := range insts {
		user := "alice"
		if i%3 == 0 {
			user = "bob"
		}
		insts[i] = session(strconv.Itoa(i), user)
	}
	p := &testProvider{name: "many", data: map[string][]*cim.Instance{"Linux_LogonSession": insts}}
	om, err := New(schema.MustDefault(), Options{Host: host}, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := om.EnumerateInstances(ctx, "Win32_LogonSession", EnumOptions{})
	if err != nil || len(got) != n {
		t.Fatalf("EnumerateInstances: %d instances, %v", len(got), err)
	}
	for i, in := range got {
		if k, _ := in.Path.Key("LogonId"); k != strconv.Itoa(i) {
			t.Fatalf("instance %d has path %s", i, in.Path)
		}
	}
	alice, err := om.EnumerateInstances(WithViewer(ctx, Viewer{Restricted: true, User: "alice"}), "Win32_LogonSession", EnumOptions{})
	if err != nil || len(alice) != n-(n+2)/3 {
		t.Fatalf("alice sees %d instances, %v", len(alice), err)
	}
	insts[n-2].Set("Status", "Broken")
	insts[provider.MaxBatch+1].Set("LogonType", uint32(1))
	_, err = om.EnumerateInstances(ctx, "Win32_LogonSession", EnumOptions{})
	if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(err.Error(), "LogonType") {
		t.Errorf("two bad instances: %v, want the first's (LogonType)", err)
	}
}

// panicking is a provider with a bug: it panics after its first batch.
type panicking struct{ testProvider }

func (p *panicking) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	if err := emit([]*cim.Instance{session("42", "alice")}); err != nil {
		return err
	}
	var rows []string
	return errors.New(rows[len(class)]) // out of range: a bug
}

// panickingAhead is a provider with a bug on a goroutine of its own: its
// producer (internal/ahead, as the Linux provider's utmp chunks) panics.
type panickingAhead struct{ testProvider }

func (p *panickingAhead) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	chunks := ahead.Start(1, func(f *ahead.Filler[*cim.Instance]) error {
		*f.Add() = session("42", "alice")
		var more []*cim.Instance
		*f.Add() = more[len(class)] // out of range: a bug
		return nil
	})
	defer chunks.Close()
	for {
		c, err := chunks.Next()
		if err != nil {
			return err
		}
		if err := emit(c); err != nil {
			return err
		}
	}
}

// TestProviderPanicOnItsGoroutine: a panic on a provider's own goroutine
// is its request's CIM_ERR_FAILED too, naming where it happened, and the
// program goes on.
func TestProviderPanicOnItsGoroutine(t *testing.T) {
	p := &panickingAhead{testProvider{name: "buggy", data: map[string][]*cim.Instance{"Linux_LogonSession": nil}}}
	om, err := New(schema.MustDefault(), Options{Host: host}, p)
	if err != nil {
		t.Fatal(err)
	}
	err = om.StreamInstances(context.Background(), "Win32_LogonSession", EnumOptions{}, func([]*cim.Instance) error { return nil })
	if cim.CodeOf(err) != cim.ErrFailed ||
		!strings.Contains(err.Error(), "provider buggy failed on a bug while enumerating Linux_LogonSession: runtime error: index out of range [18] with length 0 (in github.com/cimsess/cimsess/cimom.(*panickingAhead).Enumerate.func1 line ") {
		t.Errorf("%v", err)
	}
}

// TestProviderPanic: a provider's panic is its request's CIM_ERR_FAILED,
// naming the provider, class and place, after what it gave before, and
// the program goes on; a panic on the caller's side of emit goes on up.
func TestProviderPanic(t *testing.T) {
	p := &panicking{testProvider{name: "buggy", data: map[string][]*cim.Instance{"Linux_LogonSession": nil}}}
	om, err := New(schema.MustDefault(), Options{Host: host}, p)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	err = om.StreamInstances(context.Background(), "Win32_LogonSession", EnumOptions{}, func(b []*cim.Instance) error { got += len(b); return nil })
	if cim.CodeOf(err) != cim.ErrFailed || got != 1 ||
		!strings.Contains(err.Error(), "provider buggy failed on a bug while enumerating Linux_LogonSession: runtime error: index out of range [18] with length 0 (in github.com/cimsess/cimsess/cimom.(*panicking).Enumerate line ") {
		t.Errorf("after %d instances: %v", got, err)
	}
	if _, err := om.GetInstance(context.Background(), ref(t, `Win32_LogonSession.LogonId="42"`)); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("GetInstance: %v", err)
	}
	defer func() {
		if r := recover(); r != "the caller's bug" {
			t.Errorf("the caller's panic came back as %v", r)
		}
	}()
	_ = om.StreamInstances(context.Background(), "Win32_LogonSession", EnumOptions{}, func([]*cim.Instance) error { panic("the caller's bug") })
	t.Error("the caller's panic was swallowed")
}
