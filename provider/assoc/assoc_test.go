package assoc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/schema"
)

// sessionList serves fixed Linux_LogonSession instances: the logon
// sessions are another package's (provider/linux); these stand in for its
// output so that the joins can be tested on fixture trees.
type sessionList struct {
	insts []*cim.Instance
	calls atomic.Int32
	keyed atomic.Int32
}

func (s *sessionList) Name() string      { return "sessions" }
func (s *sessionList) Classes() []string { return []string{"Linux_LogonSession"} }
func (s *sessionList) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := s.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (s *sessionList) list(_ context.Context, _ string, h provider.Hint) ([]*cim.Instance, error) {
	s.calls.Add(1)
	if h.Keys != nil {
		s.keyed.Add(1)
	}
	var out []*cim.Instance
	for _, in := range s.insts {
		if id, ok := h.Keys["logonid"]; ok && in.String("LogonId") != id {
			continue
		}
		out = append(out, in.Clone())
	}
	return out, nil
}

func session(id string, audit any, user string, uid uint32) *cim.Instance {
	in := cim.NewInstance("Linux_LogonSession")
	in.Owner = user
	in.Set("LogonId", id).Set("UserName", user).Set("UserId", uid).Set("AuditSessionId", audit)
	return in
}

// counting wraps the process provider and counts full enumerations.
type counting struct {
	*process.Provider
	full atomic.Int32
}

func (c *counting) Enumerate(ctx context.Context, class string, h provider.Hint, emit provider.Emit) error {
	if h.Keys == nil {
		c.full.Add(1)
	}
	return c.Provider.Enumerate(ctx, class, h, emit)
}

type fixtureProc struct {
	pid, ppid, uid int
	comm           string
	sessionid      uint32
}

func writeProcfs(t testing.TB, procs []fixtureProc) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "stat"), []byte("btime 1760000000\n"), 0o644))
	for _, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(p.pid))
		must(os.MkdirAll(dir, 0o755))
		stat := strconv.Itoa(p.pid) + " (" + p.comm + ") S " + strconv.Itoa(p.ppid) + " 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 100 1000 10"
		must(os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
		must(os.WriteFile(filepath.Join(dir, "status"), []byte("Uid:\t"+strconv.Itoa(p.uid)+"\t"+strconv.Itoa(p.uid)+"\t0\t0\n"), 0o644))
		must(os.WriteFile(filepath.Join(dir, "cmdline"), []byte(p.comm+"\x00"), 0o644))
		must(os.WriteFile(filepath.Join(dir, "sessionid"), []byte(strconv.FormatUint(uint64(p.sessionid), 10)), 0o644))
	}
	return root
}

type world struct {
	om       *cimom.ObjectManager
	sessions *sessionList
	procs    *counting
	accts    *accounts.Provider
}

func newWorld(t testing.TB, procs []fixtureProc, sessions ...*cim.Instance) *world {
	t.Helper()
	etc := filepath.Join(t.TempDir(), "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nbob:x:1001:1001:Bob:/home/bob:/bin/bash\n"
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	accts := accounts.New(accounts.Options{Root: filepath.Dir(etc), Domain: "H1", Host: "h1"})
	db, err := accts.DB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pp := &counting{Provider: process.New(process.Options{Proc: writeProcfs(t, procs), Host: "h1", OSName: "Linux", UserName: db.UserName})}
	sl := &sessionList{insts: sessions}
	ap := New(Options{
		Sessions: func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			return provider.Collect(ctx, sl, "Linux_LogonSession", h)
		},
		Accounts:  accts,
		Processes: pp.Provider,
		Host:      "h1",
	})
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, sl, pp, accts, ap)
	if err != nil {
		t.Fatal(err)
	}
	return &world{om: om, sessions: sl, procs: pp, accts: accts}
}

var procs = []fixtureProc{
	{pid: 1, comm: "init", sessionid: process.UnsetSessionID},
	{pid: 100, ppid: 1, uid: 1000, comm: "bash", sessionid: 5},
	{pid: 101, ppid: 100, uid: 1000, comm: "sleep", sessionid: 5},
	{pid: 200, ppid: 1, uid: 1001, comm: "bash", sessionid: 6},
	{pid: 300, ppid: 1, uid: 1000, comm: "cron-job", sessionid: 9}, // a session the sessions source does not list
}

func paths(insts []*cim.Instance) []string {
	var out []string
	for _, in := range insts {
		out = append(out, in.Path.Relative().String())
	}
	return out
}

func mustPath(t testing.TB, s string) cim.ObjectPath {
	p, err := cim.ParseObjectPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAssociators(t *testing.T) {
	w := newWorld(t, procs,
		session("5", uint32(5), "alice", 1000),
		session("6", uint32(6), "bob", 1001),
		session("u:tty1", nil, "alice", 1000),  // no audit session id: no processes
		session("7", uint32(7), "ghost", 4242), // a user passwd does not know
	)
	ctx := context.Background()
	tests := []struct {
		name string
		from string
		opts cimom.AssocOptions
		want []string
	}{
		{"session's processes", `Win32_LogonSession.LogonId="5"`, cimom.AssocOptions{ResultClass: "Win32_Process"},
			[]string{`Win32_Process.Handle="100"`, `Win32_Process.Handle="101"`}},
		{"session's account", `Linux_LogonSession.LogonId="5"`, cimom.AssocOptions{AssocClass: "Win32_LoggedOnUser"},
			[]string{`Win32_UserAccount.Domain="H1",Name="alice"`}},
		{"everything of a session", `Win32_LogonSession.LogonId="6"`, cimom.AssocOptions{},
			[]string{`Win32_UserAccount.Domain="H1",Name="bob"`, `Win32_Process.Handle="200"`}},
		{"a process's session", `Win32_Process.Handle="101"`, cimom.AssocOptions{},
			[]string{`Linux_LogonSession.LogonId="5"`}},
		{"a process outside any listed session", `Win32_Process.Handle="300"`, cimom.AssocOptions{}, nil},
		{"a process without a session", `Win32_Process.Handle="1"`, cimom.AssocOptions{}, nil},
		{"an account's sessions", `Win32_UserAccount.Domain="H1",Name="alice"`, cimom.AssocOptions{},
			[]string{`Linux_LogonSession.LogonId="5"`, `Linux_LogonSession.LogonId="u:tty1"`}},
		{"a session without audit id", `Win32_LogonSession.LogonId="u:tty1"`, cimom.AssocOptions{ResultClass: "Win32_Process"}, nil},
		{"a ghost user's session", `Win32_LogonSession.LogonId="7"`, cimom.AssocOptions{AssocClass: "Win32_LoggedOnUser"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := w.om.Associators(ctx, mustPath(t, tc.from), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if g, want := strings.Join(paths(got), " "), strings.Join(tc.want, " "); g != want {
				t.Errorf("got  %s\nwant %s", g, want)
			}
		})
	}
}

func TestReferencesResolve(t *testing.T) {
	w := newWorld(t, procs, session("5", uint32(5), "alice", 1000), session("6", uint32(6), "bob", 1001))
	ctx := context.Background()
	for _, cls := range []string{LoggedOnUserClass, SessionProcessClass} {
		all, err := w.om.EnumerateInstances(ctx, cls, cimom.EnumOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) == 0 {
			t.Fatalf("no %s", cls)
		}
		for _, in := range all {
			for _, role := range []string{"Antecedent", "Dependent"} {
				ref := in.Value(role).(cim.ObjectPath)
				target, err := w.om.GetInstance(ctx, ref)
				if err != nil {
					t.Errorf("%s %s %s: %v", cls, role, ref, err)
					continue
				}
				if in.Owner == "" || (role == "Dependent" && cls == SessionProcessClass && target.Owner != in.Owner) {
					t.Errorf("%s owner %q, its process's %q", in.Path, in.Owner, target.Owner)
				}
			}
		}
	}
	refs, err := w.om.References(ctx, mustPath(t, `Win32_LogonSession.LogonId="5"`), cimom.AssocOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 3 {
		t.Errorf("references %v", paths(refs))
	}
	// A restricted viewer sees the associations of their own sessions only.
	vctx := cimom.WithViewer(ctx, cimom.Viewer{User: "bob", Restricted: true})
	mine, err := w.om.EnumerateInstances(vctx, "CIM_Dependency", cimom.EnumOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 {
		t.Errorf("bob sees %v", paths(mine))
	}
}

// TestRefersToDoesLittle checks that the associators of one session ask
// the sessions source for that session only and build no process
// instances beyond the few that the object manager fetches by key.
func TestRefersToDoesLittle(t *testing.T) {
	w := newWorld(t, procs, session("5", uint32(5), "alice", 1000), session("6", uint32(6), "bob", 1001))
	ctx := context.Background()
	if _, err := w.om.Associators(ctx, mustPath(t, `Win32_LogonSession.LogonId="5"`), cimom.AssocOptions{ResultClass: "Win32_Process"}); err != nil {
		t.Fatal(err)
	}
	if n := w.procs.full.Load(); n != 0 {
		t.Errorf("Win32_Process was enumerated in full %d times", n)
	}
	if calls, keyed := w.sessions.calls.Load(), w.sessions.keyed.Load(); calls != keyed {
		t.Errorf("sessions were listed in full %d of %d times", calls-keyed, calls)
	}
}

func TestWrongClassAndMissingSources(t *testing.T) {
	p := New(Options{})
	if _, err := provider.Collect(context.Background(), p, LoggedOnUserClass, provider.Hint{}); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("err = %v", err)
	}
}

// TestSessionsCache checks that one traversal, which asks for both
// association classes, reads the sessions once, and that the cache ends.
func TestSessionsCache(t *testing.T) {
	w := newWorld(t, procs, session("5", uint32(5), "alice", 1000))
	now := time.Unix(1000, 0)
	var calls int
	ap := New(Options{
		Sessions: func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			calls++
			return provider.Collect(ctx, w.sessions, "", h)
		},
		Accounts: w.accts, Processes: w.procs.Provider, Host: "h1",
		Now: func() time.Time { return now },
	})
	ctx := context.Background()
	ref := mustPath(t, `Linux_LogonSession.LogonId="5"`)
	for _, cls := range []string{LoggedOnUserClass, SessionProcessClass} {
		insts, err := provider.Collect(ctx, ap, cls, provider.Hint{RefersTo: &ref})
		if err != nil || len(insts) == 0 {
			t.Fatalf("%s: %v %v", cls, insts, err)
		}
	}
	if calls != 1 {
		t.Errorf("sessions read %d times in one traversal, want 1", calls)
	}
	now = now.Add(time.Second)
	if _, err := provider.Collect(ctx, ap, SessionProcessClass, provider.Hint{RefersTo: &ref}); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("sessions read %d times after the cache ended, want 2", calls)
	}
}

// TestSessionProcessOwner: a user's session holds root's privileged sshd
// (same audit session id, uid 0). The user sees their session's own
// processes and links, never root's pid; an administrator sees all.
func TestSessionProcessOwner(t *testing.T) {
	withPriv := append([]fixtureProc{{pid: 99, ppid: 1, uid: 0, comm: "sshd", sessionid: 5}}, procs...)
	w := newWorld(t, withPriv, session("5", uint32(5), "alice", 1000))
	alice := cimom.WithViewer(context.Background(), cimom.Viewer{User: "alice", Restricted: true})
	from := mustPath(t, `Win32_LogonSession.LogonId="5"`)
	refs, err := w.om.References(alice, from, cimom.AssocOptions{ResultClass: SessionProcessClass})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range refs {
		if d, _ := in.Value("Dependent").(cim.ObjectPath); strings.Contains(d.String(), `"99"`) {
			t.Errorf("alice sees the link to root's process: %v", d)
		}
	}
	if len(refs) != 2 {
		t.Errorf("alice sees %d links, want her 2: %v", len(refs), paths(refs))
	}
	got, err := w.om.Associators(alice, from, cimom.AssocOptions{ResultClass: "Win32_Process"})
	if err != nil {
		t.Fatal(err)
	}
	if g := strings.Join(paths(got), " "); g != `Win32_Process.Handle="100" Win32_Process.Handle="101"` {
		t.Errorf("alice's associators: %s", g)
	}
	all, err := w.om.References(context.Background(), from, cimom.AssocOptions{ResultClass: SessionProcessClass})
	if err != nil || len(all) != 3 {
		t.Errorf("an administrator sees %d links (%v), want 3", len(all), err)
	}
}
