package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/testenv"
)

// connectionEvent is an event of a class the history does not record
// (a share connection, which agents publish by default), numbered seq of
// the host's agent1.
func connectionEvent(tb testing.TB, host string, seq uint64) wire.Event {
	tb.Helper()
	in := cim.NewInstance("Win32_ServerConnection")
	in.Set("ComputerName", "192.0.2.7").Set("ShareName", "data").Set("UserName", "alice")
	w, err := wire.EncodeInstance(in)
	if err != nil {
		tb.Fatal(err)
	}
	return wire.Event{ID: wire.EventID(wire.HostToken(host), "agent1", seq), Host: host, Seq: seq, Kind: wire.KindCreation,
		Time: base, Class: in.ClassName, Path: `Win32_ServerConnection.ComputerName="192.0.2.7",ShareName="data",UserName="alice"`, Instance: w}
}

// startGapCollector runs a collector that asks for gaps every 100 ms from
// a store whose gap wait is wait; it returns the collector, its log and
// what stops it.
func startGapCollector(t *testing.T, url, natsURL string, wait time.Duration) (*Collector, *testenv.SyncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := fleethistory.Open(ctx, url, fleethistory.Options{GapWait: wait})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	logs := &testenv.SyncBuffer{}
	c := &Collector{JS: js, Sink: PostgresSink{Store: store}, Batch: 5, GapEvery: 100 * time.Millisecond,
		Logf: func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }}
	done := make(chan struct{})
	go func() {
		if err := c.Run(ctx); err != nil {
			t.Error(err)
		}
		close(done)
	}()
	return c, logs, func() {
		cancel()
		<-done
		nc.Close()
		store.Close()
	}
}

func waitLog(t *testing.T, logs *testenv.SyncBuffer, text string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(logs.String(), text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged %d times in %s; log:\n%s", text, n, timeout, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGapIsLoggedOnce: a host's events 4 to 6 never came (a full outbox
// lost them); its event 2 is of a class not recorded, which is no gap.
// The collector says so once, after the gap wait, and again only when
// the gap grows.
func TestGapIsLoggedOnce(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 1, 4) // 12 events
	host := sc.events[0].Host
	var events []wire.Event
	for _, e := range sc.events[:10] {
		switch {
		case e.Seq == 2:
			events = append(events, connectionEvent(t, host, 2))
		case e.Seq < 4 || e.Seq > 6:
			events = append(events, e)
		}
	}
	publish(t, js, events)
	const wait = time.Second
	c, logs, stop := startGapCollector(t, url, natsURL, wait)
	defer stop()
	agent := wire.HostToken(host) + ".agent1"
	first := fmt.Sprintf("host %s: 3 events of agent %s never came (numbers 4 to 6: lost before they reached the stream", strings.ToLower(host), agent)
	waitLog(t, logs, first, 1, 30*time.Second)
	time.Sleep(10 * c.GapEvery) // ten more checks
	if n := strings.Count(logs.String(), "never came"); n != 1 {
		t.Fatalf("told %d times, want once; log:\n%s", n, logs.String())
	}
	if got := c.Stats().Missing.Load(); got != 3 {
		t.Fatalf("Stats().Missing = %d, want 3", got)
	}
	// Number 11 lost too: the gap grows, and is told again.
	publish(t, js, sc.events[11:])
	waitLog(t, logs, "4 events of agent "+agent+" never came (numbers 4 to 6, 11: lost", 1, 30*time.Second)
	time.Sleep(10 * c.GapEvery)
	if n := strings.Count(logs.String(), "never came"); n != 2 {
		t.Fatalf("told %d times, want twice; log:\n%s", n, logs.String())
	}
}

func TestGapMessage(t *testing.T) {
	g := fleethistory.Gap{Host: "web-2", Agent: "web-2.x1", Missing: 1, Runs: []fleethistory.SeqRun{{From: 5, To: 5}}}
	if got, want := GapMessage(g), "host web-2: 1 event of agent web-2.x1 never came (number 5: lost before it reached the stream, by a full outbox on the host (see its log), or dropped by the stream's limits before a collector read them)"; got != want {
		t.Fatalf("GapMessage = %q\nwant %q", got, want)
	}
	g.Missing, g.Runs = 12, []fleethistory.SeqRun{{From: 1, To: 2}, {From: 4, To: 4}, {From: 6, To: 7}, {From: 9, To: 9}, {From: 11, To: 12}, {From: 14, To: 17}}
	if got := GapMessage(g); !strings.Contains(got, "12 events of agent web-2.x1 never came (numbers 1 to 2, 4, 6 to 7, 9 and 2 more runs: lost before they") {
		t.Fatalf("GapMessage = %q", got)
	}
}

// TestEventIDIsItsHosts: an event whose id names another host's agent,
// or an agent id of other characters, is refused: one host could
// otherwise make gaps in another's accounting (996 "never came" from one
// forged number), hide one, or forge a log line through the agent id.
func TestEventIDIsItsHosts(t *testing.T) {
	c := &Collector{}
	a := makeScript(t, 2, 1).events
	other := a[3] // Host-001's first event
	for _, tc := range []struct {
		id   string
		want string
	}{
		{wire.EventID(wire.HostToken(a[0].Host), "agent1", other.Seq), "is not <host token>.<agent id>.<seq> of its host"},
		{wire.EventID(wire.HostToken(other.Host), "agent1", other.Seq+1), "is not <host token>.<agent id>.<seq> of its host"},
		{wire.EventID(wire.HostToken(other.Host), "agent1\ncimsess: collect: stopped\x1b[31m", other.Seq), "is not up to 64 letters"},
		{wire.EventID(wire.HostToken(other.Host), "", other.Seq), "is not <host token>.<agent id>.<seq>"},
	} {
		e := other
		e.ID = tc.id
		data, err := jsonOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Change(e.Subject(), data, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("id %q: %v, want %q", tc.id, err, tc.want)
		}
	}
	data, _ := jsonOf(other)
	if _, ok, err := c.Change(other.Subject(), data, other.ID); err != nil || !ok {
		t.Errorf("its own id: %v %v", ok, err)
	}
}

// TestRefusedEventIsNoLoss: an event the collector itself refuses (a
// 2,000-byte user name) came: its number is counted, and no gap is told
// for it, where it was logged as refused and then as never come.
func TestRefusedEventIsNoLoss(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	ev := makeScript(t, 1, 2).events // six events
	long := session("1001", strings.Repeat("u", 2000), base, "OK")
	w, err := wire.EncodeInstance(long)
	if err != nil {
		t.Fatal(err)
	}
	ev[3].Instance = w
	publish(t, js, ev)
	c, logs, stop := startGapCollector(t, url, natsURL, 200*time.Millisecond)
	defer stop()
	waitLog(t, logs, "refusing message", 1, 20*time.Second)
	for deadline := time.Now().Add(20 * time.Second); c.Stats().Applied.Load()+c.Stats().Duplicate.Load() < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("the other five events were not written; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // past the gap wait, several checks
	if strings.Contains(logs.String(), "never came") {
		t.Fatalf("a refused event was told as lost:\n%s", logs.String())
	}
}

// TestGapMessageEscapes: what the log says of a gap escapes what came
// from the wire.
func TestGapMessageEscapes(t *testing.T) {
	m := GapMessage(fleethistory.Gap{Host: "h\x1b[31m", Agent: "a\ncimsess: collect: stopped", Missing: 1, Runs: []fleethistory.SeqRun{{From: 2, To: 2}}})
	if strings.ContainsAny(m, "\n\x1b") {
		t.Fatalf("%q", m)
	}
}

// TestGapMessageForgotten: the numbers of the oldest holes a row no
// longer lists are told as a count.
func TestGapMessageForgotten(t *testing.T) {
	m := GapMessage(fleethistory.Gap{Host: "h", Agent: "h.a1", Missing: 101, Forgotten: 100, Runs: []fleethistory.SeqRun{{From: 300, To: 300}}})
	if !strings.Contains(m, "101 events of agent h.a1 never came (numbers 300, and 100 before:") {
		t.Fatalf("%q", m)
	}
}
