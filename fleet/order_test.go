package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/internal/fleettest"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
)

// TestWatchPutsEachHostsEventsInOrder stores one host's events in the
// stream out of the order of their numbers, as a publish sent again after
// a leader change can be, and a gap that never fills: the watch hands
// them on in order, gives the gap up after its hold, and marks the event
// that comes after its place was given up Late.
func TestWatchPutsEachHostsEventsInOrder(t *testing.T) {
	t.Parallel()
	const host = "h1.example.com"
	c, publishAs := hubAndAgent(t, host, "order")
	publish := func(seq uint64) { publishAs(seq, wire.KindCreation, fmt.Sprint(seq)) }

	const hold = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan client.Event, 16)
	gaps := make(chan client.Gap, 4)
	watching := make(chan error, 1)
	go func() {
		watching <- c.Watch(ctx, "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_Session'",
			client.WatchOptions{Since: time.Now().Add(-time.Minute), Hold: hold, Gap: func(g client.Gap) { gaps <- g }},
			func(ev client.Event) error {
				got <- ev
				return nil
			})
	}()
	next := func() string {
		t.Helper()
		select {
		case ev := <-got:
			s := fmt.Sprint(ev.Seq)
			if ev.Late {
				s += " late"
			}
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		case err := <-watching:
			t.Fatalf("the watch ended: %v", err)
		}
		return ""
	}
	var seen []string
	for _, seq := range []uint64{1, 3, 4, 2} {
		publish(seq)
	}
	for range 4 {
		seen = append(seen, next())
	}
	publish(6) // 5 is missing: 6 waits the hold
	heldFrom := time.Now()
	seen = append(seen, next())
	if waited := time.Since(heldFrom); waited < hold*9/10 {
		t.Errorf("6 came %v after it was published, before the hold of %v ended", waited, hold)
	}
	publish(5)
	publish(7)
	seen = append(seen, next(), next())
	if s := strings.Join(seen, ","); s != "1,2,3,4,6,5 late,7" {
		t.Fatalf("handed on %s, want 1,2,3,4,6,5 late,7", s)
	}
	select {
	case g := <-gaps:
		if g != (client.Gap{Host: host, From: 5, To: 5}) || len(gaps) != 0 {
			t.Fatalf("gap %+v (and %d more), want 5 of %s", g, len(gaps), host)
		}
	default:
		t.Fatal("the gap at 5 was not told")
	}
	cancel()
	if err := <-watching; err != nil {
		t.Fatal(err)
	}
}

// TestWatchDropsRepeats stores what an agent that crashed before saving
// its snapshot sends: the creation of a session again, under a new
// number. The watch hands on each change once, as the collector keeps one
// row of it, and a later real change still comes.
func TestWatchDropsRepeats(t *testing.T) {
	t.Parallel()
	c, publish := hubAndAgent(t, "r1.example.com", "crash")
	publish(1, wire.KindCreation, "7")
	publish(2, wire.KindCreation, "8")
	publish(3, wire.KindCreation, "7") // the crash's repeat
	publish(4, wire.KindDeletion, "7")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var seen []string
	err := c.Watch(ctx, "SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_Session'",
		client.WatchOptions{Since: time.Now().Add(-time.Minute)},
		func(ev client.Event) error {
			seen = append(seen, fmt.Sprintf("%d %s", ev.Seq, ev.Kind))
			if ev.Seq == 4 {
				cancel()
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(seen, ", "); s != "1 creation, 2 creation, 4 deletion" {
		t.Fatalf("handed on %s, want 1 creation, 2 creation, 4 deletion", s)
	}
}

// hubAndAgent starts a hub and returns a client of it and what publishes
// as agent's events of host, straight to the stream: the event numbered
// seq, of kind, of the session LogonId id.
func hubAndAgent(t *testing.T, host, agent string) (*client.Client, func(seq uint64, kind, id string)) {
	t.Helper()
	h := fleettest.StartHub(t, "", 0)
	c := newClient(t, h.Dir(), h.ClientURL(), "tester", h.Reload)
	nc := fleettest.Connect(t, fleettest.Creds(t, h.Dir(), natsconn.RoleAgent, host, h.Reload), h.ClientURL(), false)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tok := wire.HostToken(host)
	return c, func(seq uint64, kind, id string) {
		t.Helper()
		in := cim.NewInstance("Linux_LogonSession")
		in.Set("LogonId", id).Set("UserName", "alice").Set("TTY", "pts/"+id).Set("Status", "OK")
		w, err := wire.EncodeInstance(in)
		if err != nil {
			t.Fatal(err)
		}
		e := wire.Event{ID: wire.EventID(tok, agent, seq), Host: host, Seq: seq, Kind: kind, Time: time.Now(),
			Class: in.ClassName, Path: fmt.Sprintf(`linux_logonsession.logonid="%s"`, id), Instance: w}
		data, _ := json.Marshal(e)
		m := nats.NewMsg(e.Subject())
		m.Data = data
		m.Header.Set(wire.MsgIDHeader, e.ID)
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}
