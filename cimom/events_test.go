package cimom

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// liveProvider serves Linux_LogonSession instances that a test changes
// while a subscription runs; with notify set it implements
// provider.Notifier and tells of every change at once.
type liveProvider struct {
	mu      sync.Mutex
	insts   map[string]*cim.Instance
	watch   []func()
	scans   int
	failing bool
}

func (p *liveProvider) Name() string      { return "live" }
func (p *liveProvider) Classes() []string { return []string{"Linux_LogonSession"} }
func (p *liveProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

func (p *liveProvider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scans++
	if p.failing {
		return nil, cim.Errorf(cim.ErrFailed, "source unreadable")
	}
	keys := make([]string, 0, len(p.insts))
	for k := range p.insts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*cim.Instance, 0, len(keys))
	for _, k := range keys {
		out = append(out, p.insts[k].Clone())
	}
	return out, nil
}

func (p *liveProvider) set(in *cim.Instance) {
	p.mu.Lock()
	if p.insts == nil {
		p.insts = map[string]*cim.Instance{}
	}
	p.insts[in.String("LogonId")] = in
	fns := append([]func(){}, p.watch...)
	p.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

func (p *liveProvider) remove(id string) {
	p.mu.Lock()
	delete(p.insts, id)
	fns := append([]func(){}, p.watch...)
	p.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// waitWatch waits until a subscription has started watching.
func (p *liveProvider) waitWatch(t testing.TB) {
	t.Helper()
	for i := 0; i < 200; i++ {
		p.mu.Lock()
		n := len(p.watch)
		p.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the subscription never called Watch")
}

// notifyingProvider adds provider.Notifier to liveProvider.
type notifyingProvider struct{ *liveProvider }

func (p notifyingProvider) Watch(ctx context.Context, changed func()) error {
	p.mu.Lock()
	p.watch = append(p.watch, changed)
	p.mu.Unlock()
	<-ctx.Done()
	return nil
}

func newEventOM(t testing.TB, p provider.Provider) *ObjectManager {
	t.Helper()
	om, err := New(schema.MustDefault(), Options{Host: host}, p)
	if err != nil {
		t.Fatal(err)
	}
	return om
}

func next(t *testing.T, ch <-chan Event, within time.Duration) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return Event{}
}

func none(t *testing.T, ch <-chan Event, wait time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %s %s", ev.Class, ev.Target.Path)
	case <-time.After(wait):
	}
}

func TestSubscribeNotified(t *testing.T) {
	lp := &liveProvider{}
	lp.set(session("1", "alice"))
	om := newEventOM(t, notifyingProvider{lp})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var baseline []*cim.Instance
	// WITHIN 60: only notifications can make these events come in time.
	ch, err := om.Subscribe(ctx, "SELECT * FROM __InstanceOperationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LogonSession'",
		SubscribeOptions{OnBaseline: func(in []*cim.Instance) { baseline = in }})
	if err != nil {
		t.Fatal(err)
	}
	if len(baseline) != 1 {
		t.Fatalf("baseline %d instances", len(baseline))
	}
	lp.waitWatch(t)

	start := time.Now()
	lp.set(session("2", "bob"))
	ev := next(t, ch, time.Second)
	if ev.Class != InstanceCreationEvent || ev.Target.String("LogonId") != "2" || ev.Previous != nil {
		t.Fatalf("got %+v", ev)
	}
	t.Logf("creation seen after %v", time.Since(start))
	if ev.TimeCreated() < 133000000000000000 {
		t.Fatalf("TIME_CREATED %d", ev.TimeCreated())
	}

	// IdleTime alone is no modification.
	idle := session("2", "bob").Set("IdleTime", cim.NewInterval(time.Hour))
	lp.set(idle)
	none(t, ch, 50*time.Millisecond)

	ghost := session("2", "bob").Set("Status", "Lost Comm")
	lp.set(ghost)
	ev = next(t, ch, time.Second)
	if ev.Class != InstanceModificationEvent || ev.Target.String("Status") != "Lost Comm" || ev.Previous.String("Status") != "OK" {
		t.Fatalf("got %+v", ev)
	}

	lp.remove("2")
	ev = next(t, ch, time.Second)
	if ev.Class != InstanceDeletionEvent || ev.Target.String("LogonId") != "2" {
		t.Fatalf("got %+v", ev)
	}
	cancel()
	for range ch {
	}
}

func TestSubscribePolls(t *testing.T) {
	lp := &liveProvider{}
	om := newEventOM(t, lp) // no Notifier: only polling
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := om.Subscribe(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN 0.05 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = 'carol'", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lp.set(session("5", "dave"))
	lp.set(session("6", "carol"))
	ev := next(t, ch, time.Second)
	if ev.Target.String("UserName") != "carol" {
		t.Fatalf("got %s", ev.Target.String("UserName"))
	}
	lp.remove("6")
	none(t, ch, 150*time.Millisecond) // deletions are not asked for
}

func TestSubscribeConditions(t *testing.T) {
	lp := &liveProvider{}
	lp.set(session("1", "alice"))
	om := newEventOM(t, notifyingProvider{lp})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := om.Subscribe(ctx, "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status = 'Lost Comm' AND PreviousInstance.Status = 'OK'", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lp.waitWatch(t)
	lp.set(session("1", "alice").Set("Caption", "renamed"))
	lp.set(session("7", "eve"))
	none(t, ch, 50*time.Millisecond)
	lp.set(session("1", "alice").Set("Status", "Lost Comm"))
	ev := next(t, ch, time.Second)
	if ev.Class != InstanceModificationEvent || ev.Target.String("LogonId") != "1" || ev.Previous.String("Caption") != "renamed" {
		t.Fatalf("got %s %s prev %q", ev.Class, ev.Target.Path, ev.Previous.String("Caption"))
	}
}

func TestSubscribeErrors(t *testing.T) {
	lp := &liveProvider{}
	om := newEventOM(t, lp)
	ctx := context.Background()
	for _, tc := range []struct {
		q    string
		code cim.Status
	}{
		{"SELECT * FROM Win32_LogonSession", cim.ErrInvalidQuery},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'NoSuchClass'", cim.ErrInvalidClass},
		{"SELECT * FROM __InstanceCreationEvent WHERE", cim.ErrInvalidQuery},
	} {
		if _, err := om.Subscribe(ctx, tc.q, SubscribeOptions{}); cim.CodeOf(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.q, err, tc.code)
		}
	}
	lp.failing = true
	if _, err := om.Subscribe(ctx, "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", SubscribeOptions{}); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("failing source: %v", err)
	}
	// A scan that fails later is reported and the subscription goes on.
	lp.failing = false
	errs := make(chan error, 10)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := om.Subscribe(sctx, "SELECT * FROM __InstanceCreationEvent WITHIN 0.03 WHERE TargetInstance ISA 'Win32_LogonSession'",
		SubscribeOptions{OnError: func(err error) {
			select {
			case errs <- err:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	lp.mu.Lock()
	lp.failing = true
	lp.mu.Unlock()
	select {
	case <-errs:
	case <-time.After(time.Second):
		t.Fatal("scan error not reported")
	}
	lp.mu.Lock()
	lp.failing = false
	lp.mu.Unlock()
	lp.set(session("9", "zed"))
	next(t, ch, time.Second)
}

func TestDiffOrderAndVolatile(t *testing.T) {
	a, b := session("1", "a"), session("2", "b")
	a.Path = cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "1"}}}
	b.Path = cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "2"}}}
	a2 := a.Clone().Set("IdleTime", cim.NewInterval(time.Hour))
	a3 := a.Clone().Set("UserName", "x")
	now := time.Now()
	cases := []struct {
		name       string
		prev, cur  []*cim.Instance
		wantEvents []string
	}{
		{"nothing", []*cim.Instance{a}, []*cim.Instance{a}, nil},
		{"volatile", []*cim.Instance{a}, []*cim.Instance{a2}, nil},
		{"create", []*cim.Instance{a}, []*cim.Instance{a, b}, []string{InstanceCreationEvent}},
		{"delete+modify", []*cim.Instance{a, b}, []*cim.Instance{a3}, []string{InstanceDeletionEvent, InstanceModificationEvent}},
		{"property-removed", []*cim.Instance{a}, []*cim.Instance{withoutCaption(a)}, []string{InstanceModificationEvent}},
	}
	for _, tc := range cases {
		evs := diff(snapshot(tc.prev), snapshot(tc.cur), now)
		var got []string
		for _, e := range evs {
			got = append(got, e.Class)
		}
		if len(got) != len(tc.wantEvents) {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.wantEvents)
			continue
		}
		for i := range got {
			if got[i] != tc.wantEvents[i] {
				t.Errorf("%s: got %v want %v", tc.name, got, tc.wantEvents)
			}
		}
	}
}

func withoutCaption(in *cim.Instance) *cim.Instance {
	c := in.Clone()
	c.Delete("Caption")
	return c
}

// BenchmarkEventLatency measures the time from a change in a provider to
// its event, through notifications and through polling (WITHIN 0.05).
func BenchmarkEventLatency(b *testing.B) {
	for _, mode := range []string{"notify", "poll"} {
		b.Run(mode, func(b *testing.B) {
			lp := &liveProvider{}
			var p provider.Provider = lp
			if mode == "notify" {
				p = notifyingProvider{lp}
			}
			om := newEventOM(b, p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch, err := om.Subscribe(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN 0.05 WHERE TargetInstance ISA 'Win32_LogonSession'", SubscribeOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if mode == "notify" {
				lp.waitWatch(b)
			}
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				lp.set(session("b"+time.Now().Format("150405.000000000"), "u"))
				<-ch
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/event")
		})
	}
}

// TestWithinClamped: a WITHIN too small to be a rescan interval is raised
// to MinWithin with a warning, whatever its size (even one that rounds to
// no duration at all).
func TestWithinClamped(t *testing.T) {
	om := newEventOM(t, &liveProvider{})
	for _, tc := range []struct {
		within string
		warn   bool
	}{{"0.0000001", true}, {"1e-12", true}, {"0.01", true}, {"0.5", false}} {
		ctx, cancel := context.WithCancel(context.Background())
		var warnings []string
		_, err := om.Subscribe(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN "+tc.within+" WHERE TargetInstance ISA 'Win32_LogonSession'",
			SubscribeOptions{NoNotify: true, OnWarning: func(w string) { warnings = append(warnings, w) }})
		cancel()
		if err != nil {
			t.Fatalf("WITHIN %s: %v", tc.within, err)
		}
		if got := len(warnings) > 0 && strings.Contains(warnings[0], "WITHIN"); got != tc.warn {
			t.Errorf("WITHIN %s: warnings %q", tc.within, warnings)
		}
	}
}
