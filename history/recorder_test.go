package history

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// sessions is a provider of Linux_LogonSession instances a test changes;
// it notifies every change.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*cim.Instance
	watch []func()
}

func (p *sessions) Name() string      { return "test" }
func (p *sessions) Classes() []string { return []string{"Linux_LogonSession"} }
func (p *sessions) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (p *sessions) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*cim.Instance
	for _, in := range p.m {
		out = append(out, in.Clone())
	}
	return out, nil
}

func (p *sessions) Watch(ctx context.Context, changed func()) error {
	p.mu.Lock()
	p.watch = append(p.watch, changed)
	p.mu.Unlock()
	<-ctx.Done()
	return nil
}

func (p *sessions) put(in *cim.Instance) {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]*cim.Instance{}
	}
	if in == nil {
		p.m = map[string]*cim.Instance{}
	} else {
		p.m[in.String("LogonId")] = in
	}
	fns := append([]func(){}, p.watch...)
	p.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

func (p *sessions) del(id string) {
	p.mu.Lock()
	delete(p.m, id)
	fns := append([]func(){}, p.watch...)
	p.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

func live(id, user, tty string, start time.Time, status string) *cim.Instance {
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", id).Set("UserName", user).Set("Status", status).
		Set("LogonType", uint32(10)).Set("StartTime", cim.NewDateTime(start)).Set("RemoteHost", "127.0.0.1").
		Set("LeaderProcessId", uint32(4242))
	if tty != "" {
		in.Set("TTY", tty)
	}
	return in
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRecorder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "h.db")
	wtmp := filepath.Join(dir, "wtmp")

	// Before: a recorder saw alice on pts/0 and bob on pts/1, then died.
	s, err := Open(ctx, dbPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, x := range []Session{
		{Class: "Linux_LogonSession", LogonID: "10", Path: `linux_logonsession.logonid="10"`, User: "alice", TTY: "pts/0", Start: at(1), Status: "OK"},
		{Class: "Linux_LogonSession", LogonID: "11", Path: `linux_logonsession.logonid="11"`, User: "bob", TTY: "pts/1", Start: at(2), Status: "OK"},
		{Class: "Linux_LogonSession", LogonID: "12", Path: `linux_logonsession.logonid="12"`, User: "carol", Start: at(3), Status: "OK"},
	} {
		if _, err := s.Begin(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	s.Heartbeat(ctx, at(20))
	// Meanwhile wtmp saw alice log out at 30 and dave come and go.
	recs := []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 1), login(2, "bob", "pts/1", "", 2),
		logout(30, "pts/0", 1), login(31, "dave", "pts/2", "", 3), logout(32, "pts/2", 3)}
	if err := utmp.WriteFile(wtmp, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}

	p := &sessions{}
	p.put(live("11", "bob", "pts/1", at(2), "OK")) // bob is still there
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "H"}, p)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	rec := &Recorder{Store: s, OM: om, Wtmp: wtmp, Classes: []string{"Win32_LogonSession"}, Within: time.Minute,
		Ready: func() { close(ready) }, Logf: t.Logf}
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("recorder not ready")
	}
	row := func(user string) Session {
		got, err := s.Sessions(ctx, Filter{User: user})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %+v %v", user, got, err)
		}
		return got[0]
	}
	// The recorder died before alice's logout, which wtmp holds: the merge
	// closes her row as wtmp says, a logout at that second (as last shows).
	if a := row("alice"); a.How != EndLogout || !a.End.Equal(at(30)) {
		t.Errorf("alice: %+v", a)
	}
	if c := row("carol"); c.How != EndGone || !c.End.Equal(at(20)) {
		t.Errorf("carol (no tty, ended at the heartbeat): %+v", c)
	}
	if d := row("dave"); d.How != EndLogout || !d.End.Equal(at(32)) || d.Source != SourceWtmp {
		t.Errorf("dave: %+v", d)
	}
	if b := row("bob"); !b.Open() {
		t.Errorf("bob: %+v", b)
	}

	// Live: erin logs in, turns ghost, goes away; bob logs out. The
	// rescan is a minute away, so the changes must come through Watch:
	// wait until the recorder's subscription has started watching.
	waitFor(t, "the recorder to watch", func() bool { p.mu.Lock(); defer p.mu.Unlock(); return len(p.watch) > 0 })
	p.put(live("13", "erin", "pts/3", time.Now(), "OK"))
	waitFor(t, "erin", func() bool { got, _ := s.Sessions(ctx, Filter{User: "erin"}); return len(got) == 1 })
	p.put(live("13", "erin", "pts/3", time.Now(), "Lost Comm"))
	waitFor(t, "erin's ghost", func() bool { return row("erin").Status == "Lost Comm" })
	p.del("13")
	p.del("11")
	waitFor(t, "erin gone", func() bool { return !row("erin").Open() && !row("bob").Open() })
	if e := row("erin"); e.How != EndGhost {
		t.Errorf("erin: %+v", e)
	}
	if b := row("bob"); b.How != EndLogout {
		t.Errorf("bob: %+v", b)
	}
	ch, _ := s.StatusChanges(ctx, row("erin").ID)
	if len(ch) != 1 || ch[0].To != "Lost Comm" {
		t.Errorf("erin's status changes: %+v", ch)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
