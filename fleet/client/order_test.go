package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleet/wire"
)

func ev(agent string, seq uint64) *Event {
	e := &Event{}
	e.ID, e.Seq, e.Host = wire.EventID("h1", agent, seq), seq, "h1"
	return e
}

// seqs writes events as "agent:seq" ("agent:seq!" when Late).
func seqs(evs []*Event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", e.ID[len("h1."):strings.LastIndexByte(e.ID, '.')], e.Seq)
		if e.Late {
			b.WriteByte('!')
		}
	}
	return b.String()
}

func TestOrder(t *testing.T) {
	const hold = 5 * time.Second
	t0 := time.Unix(1_800_000_000, 0)
	type step struct {
		at   time.Duration // after t0
		add  *Event        // nil: only the holds that ended by at
		want string        // what is handed on, and "gap N-M" for a gap given up
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{0, ev("a", 7), "a:7"}, {1, ev("a", 8), "a:8"}, {2, ev("a", 9), "a:9"}}},
		{"a later one first", []step{
			{0, ev("a", 1), "a:1"},
			{1, ev("a", 3), ""},
			{2, ev("a", 4), ""},
			{3, ev("a", 2), "a:2 a:3 a:4"},
			{hold * 2, nil, ""},
		}},
		{"a gap that never fills", []step{
			{0, ev("a", 1), "a:1"},
			{time.Second, ev("a", 3), ""},
			{hold, nil, ""},
			{time.Second + hold, nil, "gap 2-2 a:3"},
			{hold * 2, ev("a", 2), "a:2!"},
			{hold * 2, ev("a", 4), "a:4"},
		}},
		{"a second gap waits a hold of its own", []step{
			{0, ev("a", 1), "a:1"},
			{0, ev("a", 3), ""},
			{time.Second, ev("a", 5), ""},
			{hold, nil, "gap 2-2 a:3"},
			{2 * hold, nil, "gap 4-4 a:5"},
		}},
		{"agents apart", []step{
			{0, ev("a", 1), "a:1"},
			{0, ev("b", 1), "b:1"},
			{0, ev("b", 3), ""},
			{0, ev("a", 2), "a:2"},
			{0, ev("b", 2), "b:2 b:3"},
		}},
		{"a held number twice", []step{
			{0, ev("a", 1), "a:1"},
			{0, ev("a", 3), ""},
			{0, ev("a", 3), ""},
			{0, ev("a", 2), "a:2 a:3"},
		}},
		{"a new agent starts again", []step{
			{0, ev("a", 40), "a:40"},
			{0, ev("a2", 1), "a2:1"},
			{0, ev("a2", 2), "a2:2"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := newOrder(hold)
			for i, s := range c.steps {
				now := t0.Add(s.at)
				var out []*Event
				if s.add != nil {
					out = o.add(s.add, now, out)
				}
				out = o.due(now, out)
				got := seqs(out)
				for _, g := range o.gaps {
					got = strings.TrimSpace(fmt.Sprintf("gap %d-%d %s", g.From, g.To, got))
				}
				o.gaps = o.gaps[:0]
				if got != s.want {
					t.Fatalf("step %d: handed on %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func TestOrderWait(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	o := newOrder(5 * time.Second)
	if _, ok := o.wait(t0); ok {
		t.Fatal("nothing held, yet a wait")
	}
	o.add(ev("a", 1), t0, nil)
	o.add(ev("a", 3), t0, nil)
	o.add(ev("b", 1), t0, nil)
	o.add(ev("b", 3), t0.Add(2*time.Second), nil)
	if d, ok := o.wait(t0.Add(time.Second)); !ok || d != 4*time.Second {
		t.Fatalf("wait %v %v, want 4s", d, ok)
	}
	if d, _ := o.wait(t0.Add(9 * time.Second)); d != 0 {
		t.Fatalf("a hold long over: wait %v, want 0", d)
	}
	if out := o.due(t0.Add(9*time.Second), nil); seqs(out) != "a:3 b:3" && seqs(out) != "b:3 a:3" {
		t.Fatalf("due: %q", seqs(out))
	}
	if d, ok := o.wait(t0.Add(9 * time.Second)); ok || len(o.holding) != 0 {
		t.Fatalf("all handed on, yet a wait of %v and %d agents holding", d, len(o.holding))
	}
}

// TestOrderBounded: a gap with more than orderMaxHeld events after it is
// given up at once, so memory does not grow with it.
func TestOrderBounded(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	o := newOrder(time.Hour)
	o.add(ev("a", 1), t0, nil)
	var out []*Event
	for seq := uint64(3); seq <= orderMaxHeld+3; seq++ {
		out = o.add(ev("a", seq), t0, out)
	}
	if len(out) != orderMaxHeld+1 || out[0].Seq != 3 || out[len(out)-1].Seq != orderMaxHeld+3 {
		t.Fatalf("handed on %d events, want the %d after the gap in order", len(out), orderMaxHeld+1)
	}
	if len(o.gaps) != 1 || o.gaps[0] != (Gap{Host: "h1", From: 2, To: 2}) {
		t.Fatalf("gaps %+v, want 2 of h1", o.gaps)
	}
	if n := len(o.agents[agentOf(ev("a", 1).ID)].held); n != 0 || len(o.holding) != 0 {
		t.Fatalf("%d still held, %d agents holding", n, len(o.holding))
	}
}

// TestSequencer hands events on from the reading goroutine and, when a
// hold ends, from its own; the first error of pass cancels the watch,
// is kept, and nothing is passed after it.
func TestSequencer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan uint64, 8)
	stop := errors.New("enough")
	var gaps []Gap
	s := newSequencer(50*time.Millisecond, cancel, func(ev *Event) error {
		got <- ev.Seq
		if ev.Seq == 3 {
			return stop
		}
		return nil
	}, func(g Gap) { gaps = append(gaps, g) })
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	if err := s.add(ev("a", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.add(ev("a", 3)); err != nil { // held: 2 is missing
		t.Fatal(err)
	}
	for _, want := range []uint64{1, 3} { // 3 from run, once its hold ended
		select {
		case seq := <-got:
			if seq != want {
				t.Fatalf("passed %d, want %d", seq, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d never passed", want)
		}
	}
	<-done // pass's error cancelled the watch
	if err := s.failed(); err != stop {
		t.Fatalf("failed: %v", err)
	}
	if len(gaps) != 1 || gaps[0] != (Gap{Host: "h1", From: 2, To: 2}) {
		t.Fatalf("gaps told: %+v, want 2 of h1", gaps)
	}
	if err := s.add(ev("a", 4)); err != stop {
		t.Fatalf("add after the error: %v", err)
	}
	select {
	case seq := <-got:
		t.Fatalf("%d passed after the error", seq)
	default:
	}
}
