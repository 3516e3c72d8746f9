package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/internal/testenv"
)

// helperEnv, when set in the environment, makes the test binary a
// collector process ("NATSURL DBURL"), for the tests that kill one.
const helperEnv = "CIMSESS_TEST_COLLECTOR"

// pg is the one PostgreSQL cluster of this package's tests.
var pg *testenv.TestPostgres

func TestMain(m *testing.M) {
	if v := os.Getenv(helperEnv); v != "" {
		os.Exit(runHelper(v))
	}
	os.Exit(testenv.RunWithPostgres(m, "collector", &pg))
}

// runHelper is a collector process: it collects until killed.
func runHelper(arg string) int {
	natsURL, dbURL, _ := strings.Cut(arg, " ")
	ctx := context.Background()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	js, _ := jetstream.New(nc)
	store, err := fleethistory.Open(ctx, dbURL, fleethistory.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c := &Collector{JS: js, Sink: PostgresSink{Store: store}, Batch: 100, AckWait: 2 * time.Second,
		OnBatch: func([]fleethistory.Change) { fmt.Println("batch") }}
	if err := c.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func newDB(tb testing.TB) string { return pg.NewDB(tb) }

// startNATS starts an embedded NATS server with JetStream and the
// fleet's stream, as a hub makes it.
func startNATS(tb testing.TB) (string, jetstream.JetStream) {
	tb.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: tb.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: wire.Stream, Subjects: []string{wire.EventSubjects},
		Storage: jetstream.FileStorage, MaxMsgSize: wire.MaxEventBytes}); err != nil {
		tb.Fatal(err)
	}
	return ns.ClientURL(), js
}

// script is the events of sessions on hosts: each session a creation, a
// Status change and a deletion (every seventh a ghost).
type script struct {
	events   []wire.Event
	sessions int
	changes  int // Status changes the history should hold
}

var base = time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)

func makeScript(tb testing.TB, hosts, perHost int) script {
	tb.Helper()
	var sc script
	for h := 0; h < hosts; h++ {
		host := fmt.Sprintf("Host-%03d.example.com", h)
		tok := wire.HostToken(host)
		var seq uint64
		ev := func(kind string, t time.Time, in, prev *cim.Instance) wire.Event {
			seq++
			w, err := wire.EncodeInstance(in)
			if err != nil {
				tb.Fatal(err)
			}
			e := wire.Event{ID: wire.EventID(tok, "agent1", seq), Host: host, Seq: seq, Kind: kind, Time: t,
				Class: in.ClassName, Path: fmt.Sprintf(`linux_logonsession.logonid="%s"`, in.String("LogonId")), Instance: w}
			if prev != nil {
				p, err := wire.EncodeInstance(prev)
				if err != nil {
					tb.Fatal(err)
				}
				e.Previous = &p
			}
			return e
		}
		for i := 0; i < perHost; i++ {
			start := base.Add(time.Duration(i*3+h) * time.Second)
			in := session(fmt.Sprint(1000+i), fmt.Sprintf("user%d", i%5), start, "OK")
			sc.events = append(sc.events, ev(wire.KindCreation, start, in, nil))
			busy := in.Clone().Set("Status", "Degraded")
			sc.events = append(sc.events, ev(wire.KindModification, start.Add(time.Second), busy, in))
			end := busy
			if i%7 == 0 {
				end = busy.Clone().Set("Status", "Lost Comm")
			}
			sc.events = append(sc.events, ev(wire.KindDeletion, start.Add(2*time.Second), end, nil))
			sc.sessions++
			sc.changes += 2 // "" -> OK at creation, OK -> Degraded
		}
	}
	return sc
}

func session(id, user string, start time.Time, status string) *cim.Instance {
	in := cim.NewInstance("Linux_LogonSession")
	in.Set("LogonId", id).Set("UserName", user).Set("UserId", uint32(1000)).Set("TTY", "pts/"+id).
		Set("RemoteHost", "192.0.2.7").Set("RemoteAddress", "192.0.2.7").Set("LogonType", uint32(10)).
		Set("LeaderProcessId", uint32(4242)).Set("StartTime", cim.NewDateTime(start)).Set("Status", status)
	return in
}

func publish(tb testing.TB, js jetstream.JetStream, events []wire.Event) {
	tb.Helper()
	if err := publishE(js, events); err != nil {
		tb.Fatal(err)
	}
}

func publishE(js jetstream.JetStream, events []wire.Event) error {
	for i, e := range events {
		// A thousand in flight at most: more stalls the publisher when the
		// machine is loaded.
		if i%1000 == 0 && i > 0 {
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(30 * time.Second):
				return fmt.Errorf("publishing timed out")
			}
		}
		data, err := jsonOf(e)
		if err != nil {
			return err
		}
		m := nats.NewMsg(e.Subject())
		m.Data = data
		m.Header.Set(wire.MsgIDHeader, e.ID)
		if _, err := js.PublishMsgAsync(m); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("publishing timed out")
	}
}

// counts are what the database holds.
type counts struct{ sessions, open, changes, applied, ghosts int }

func count(tb testing.TB, url string) counts {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	var c counts
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE end_at IS NULL),
		(SELECT count(*) FROM status_changes), (SELECT count(*) FROM applied_events),
		(SELECT count(*) FROM sessions WHERE how = 'ghost')`).Scan(&c.sessions, &c.open, &c.changes, &c.applied, &c.ghosts); err != nil {
		tb.Fatal(err)
	}
	return c
}

// waitApplied waits until the database holds n applied messages.
func waitApplied(tb testing.TB, url string, n int, timeout time.Duration) counts {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := count(tb, url)
		if c.applied >= n || time.Now().After(deadline) {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func streamMsgs(tb testing.TB, js jetstream.JetStream) int {
	tb.Helper()
	s, err := js.Stream(context.Background(), wire.Stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return int(info.State.Msgs)
}

func checkAgainstStream(tb testing.TB, js jetstream.JetStream, url string, sc script, got counts) {
	tb.Helper()
	ghosts := 0
	for _, e := range sc.events {
		if e.Kind == wire.KindDeletion && strings.Contains(string(mustJSON(e.Instance)), "Lost Comm") {
			ghosts++
		}
	}
	want := counts{sessions: sc.sessions, changes: sc.changes, applied: streamMsgs(tb, js), ghosts: ghosts}
	if want.applied != len(sc.events) {
		tb.Fatalf("stream holds %d messages, %d published", want.applied, len(sc.events))
	}
	if got != want {
		tb.Fatalf("database holds %+v, want %+v (against the stream)", got, want)
	}
}

func TestTwoCollectorsShareTheStream(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 20, 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var cols []*Collector
	logs := &testenv.SyncBuffer{}
	for i := 0; i < 2; i++ {
		// Each asks for gaps as it goes, counting those of a second.
		store, err := fleethistory.Open(ctx, url, fleethistory.Options{GapWait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		nc, err := nats.Connect(natsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js2, _ := jetstream.New(nc)
		c := &Collector{JS: js2, Sink: PostgresSink{Store: store}, Batch: 50, GapEvery: 100 * time.Millisecond,
			Logf: func(f string, a ...any) { t.Logf(f, a...); fmt.Fprintf(logs, f+"\n", a...) }}
		cols = append(cols, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	publish(t, js, sc.events)
	got := waitApplied(t, url, len(sc.events), time.Minute)
	cancel()
	wg.Wait()
	checkAgainstStream(t, js, url, sc, got)
	for i, c := range cols {
		if c.Stats().Batches.Load() == 0 {
			t.Errorf("collector %d wrote no batch: the work was not shared", i)
		}
	}
	// Each wrote the numbers of its own batches into the same rows: once
	// all is written, no number is missing, even counting every hole at
	// once (a gap wait of a nanosecond), and none was told.
	if strings.Contains(logs.String(), "never came") {
		t.Errorf("a gap told:\n%s", logs.String())
	}
	noGaps(t, url, "once all is written")
	// Rows are right: a ghost, with its host in lower case.
	store, _ := fleethistory.Open(context.Background(), url, fleethistory.Options{})
	defer store.Close()
	rows, err := store.SessionList(context.Background(), fleethistory.Filter{Host: "host-000.example.com", User: "user0"})
	if err != nil || len(rows) == 0 {
		t.Fatalf("rows %v %v", rows, err)
	}
	r := rows[0]
	if r.How != history.EndGhost || r.Status != "Lost Comm" || r.RemoteAddress != "192.0.2.7" || *r.UID != 1000 || r.TTY != "pts/1000" ||
		r.End.Sub(r.Start) != 2*time.Second || r.PID != 4242 {
		t.Fatalf("row %+v", r)
	}
}

func TestRedeliveredEventsChangeNothing(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 3, 10)
	publish(t, js, sc.events)
	run := func() {
		ctx, cancel := context.WithCancel(context.Background())
		store, err := fleethistory.Open(ctx, url, fleethistory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		nc, _ := nats.Connect(natsURL)
		defer nc.Close()
		js2, _ := jetstream.New(nc)
		c := &Collector{JS: js2, Sink: PostgresSink{Store: store}, Batch: 7}
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		waitApplied(t, url, len(sc.events), 30*time.Second)
		cancel()
		<-done
		nc.Flush()
	}
	run()
	// Delete the consumer: a new one delivers the whole stream again.
	if err := js.DeleteConsumer(context.Background(), wire.Stream, wire.CollectConsumer); err != nil {
		t.Fatal(err)
	}
	run()
	checkAgainstStream(t, js, url, sc, count(t, url))
}

// runCollector runs c (its JetStream, PostgreSQL sink and log filled in
// here, its other fields as the caller set them) against the database at
// url and the NATS server at natsURL, and returns its log and what stops
// it and waits for it.
func runCollector(t *testing.T, url, natsURL string, c *Collector) (*testenv.SyncBuffer, func()) {
	t.Helper()
	return runCollectorWith(t, url, natsURL, c, func(s PostgresSink) Sink { return s })
}

// runCollectorWith is runCollector writing through wrap's sink.
func runCollectorWith(t *testing.T, url, natsURL string, c *Collector, wrap func(PostgresSink) Sink) (*testenv.SyncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := fleethistory.Open(ctx, url, fleethistory.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	nc, _ := nats.Connect(natsURL)
	c.JS, _ = jetstream.New(nc)
	c.Sink = wrap(PostgresSink{Store: store})
	logs := &testenv.SyncBuffer{}
	c.Logf = func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	return logs, func() {
		cancel()
		<-done
		nc.Close()
		store.Close()
	}
}

// TestConsumerDeletedWhileRunning: a running collector whose durable
// consumer is deleted makes it again and goes on, rather than fetching
// from nothing for good.
func TestConsumerDeletedWhileRunning(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 2, 10)
	half := len(sc.events) / 2
	publish(t, js, sc.events[:half])
	logs, stop := runCollector(t, url, natsURL, &Collector{Batch: 4, MaxWait: 200 * time.Millisecond})
	if got := waitApplied(t, url, half, 30*time.Second); got.applied < half {
		stop()
		t.Fatalf("applied %d of the first %d", got.applied, half)
	}
	if err := js.DeleteConsumer(context.Background(), wire.Stream, wire.CollectConsumer); err != nil {
		stop()
		t.Fatal(err)
	}
	publish(t, js, sc.events[half:])
	got := waitApplied(t, url, len(sc.events), 30*time.Second)
	stop()
	if got.applied != len(sc.events) || !strings.Contains(logs.String(), "made again") {
		t.Fatalf("applied %d of %d; log:\n%s", got.applied, len(sc.events), logs.String())
	}
	checkAgainstStream(t, js, url, sc, got)
}

func TestBadMessagesAreRefused(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	ctx := context.Background()
	for _, body := range []string{"not json", `{"id":"x"}`, `{"id":"a.b.1","host":"h","seq":1,"kind":"creation","time":"2026-01-01T00:00:00Z","class":"Linux_LogonSession","path":"p","instance":{"class":"Linux_LogonSession","properties":{"LogonId":5}}}`} {
		if _, err := js.Publish(ctx, "cimsess.ev.h.Linux_LogonSession", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sc := makeScript(t, 1, 2)
	// A host's event that speaks for another host, on its own subject
	// (which is all the hub lets it publish on).
	forged := sc.events[0]
	forged.ID, forged.Host = "db-7.forged.1", "db-7"
	data, err := jsonOf(forged)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, sc.events[0].Subject(), data); err != nil {
		t.Fatal(err)
	}
	publish(t, js, sc.events)
	c := &Collector{}
	logs, stop := runCollector(t, url, natsURL, c)
	got := waitApplied(t, url, len(sc.events), 30*time.Second)
	stop()
	if got.applied != len(sc.events) || c.Stats().Bad.Load() != 4 || strings.Count(logs.String(), "refusing message") != 4 ||
		!strings.Contains(logs.String(), `event "db-7.forged.1" of host "db-7" came on "cimsess.ev.`) {
		t.Fatalf("applied %d, bad %d; log:\n%s", got.applied, c.Stats().Bad.Load(), logs.String())
	}
}

// startHelper starts a collector process.
func startHelper(t *testing.T, natsURL, dbURL string) (*exec.Cmd, *testenv.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+natsURL+" "+dbURL)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

// TestFaults kills a collector process with SIGKILL in the middle of its
// batches and restarts PostgreSQL while two collectors write under load;
// at the end the database holds every event exactly once, counted
// against the stream.
func TestFaults(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 50, 40) // 6,000 events
	// Make the schema before the helpers race to.
	if s, err := fleethistory.Open(context.Background(), url, fleethistory.Options{}); err != nil {
		t.Fatal(err)
	} else {
		s.Close()
	}
	half := len(sc.events) / 2
	publish(t, js, sc.events[:half])
	victim, vout := startHelper(t, natsURL, url)
	// Kill it once it has committed a few batches: mid-stream, and with
	// fetched batches of its own not yet acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(vout.String(), "batch") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	mid := count(t, url)
	if mid.applied == 0 || mid.applied >= half {
		t.Logf("killed after %d of %d messages (output %q)", mid.applied, half, vout.String())
	}
	// Two collectors share the rest while PostgreSQL restarts under load.
	startHelper(t, natsURL, url)
	startHelper(t, natsURL, url)
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishE(js, sc.events[half:]) }()
	deadline = time.Now().Add(30 * time.Second)
	for count(t, url).applied < half+500 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-pubErr; err != nil {
		t.Fatal(err)
	}
	got := waitApplied(t, url, len(sc.events), 2*time.Minute)
	checkAgainstStream(t, js, url, sc, got)
	t.Logf("killed a collector after %d messages; restarted PostgreSQL at %d+; all %d applied once", mid.applied, half+500, got.applied)
}

func TestSQLiteSink(t *testing.T) {
	natsURL, js := startNATS(t)
	ctx := context.Background()
	store, err := history.Open(ctx, filepath.Join(t.TempDir(), "h.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sc := makeScript(t, 2, 3)
	publish(t, js, sc.events)
	publish(t, js, sc.events[:4]) // known ids again (the stream drops them)
	// An event of a class not recorded, which writes nothing.
	publish(t, js, []wire.Event{connectionEvent(t, sc.events[0].Host, uint64(len(sc.events)+1))})
	nc, _ := nats.Connect(natsURL)
	defer nc.Close()
	js2, _ := jetstream.New(nc)
	var skipSeen atomic.Bool
	c := &Collector{JS: js2, Sink: SQLiteSink{Store: store}, Batch: 4, OnBatch: func(cs []fleethistory.Change) {
		for _, ch := range cs {
			skipSeen.Store(skipSeen.Load() || ch.Kind == fleethistory.Skip)
		}
	}}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(cctx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for c.Stats().Applied.Load() < int64(len(sc.events)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if skipSeen.Load() {
		t.Error("OnBatch was given a Skip change, which records nothing")
	}
	// Apply everything again, as a redelivery would: nothing changes.
	var changes []fleethistory.Change
	for _, e := range sc.events {
		data, _ := jsonOf(e)
		ch, ok, err := c.Change(e.Subject(), data, e.ID)
		if err != nil || !ok {
			t.Fatal(err)
		}
		changes = append(changes, ch)
	}
	if _, err := (SQLiteSink{Store: store}).Apply(ctx, changes); err != nil {
		t.Fatal(err)
	}
	rows, err := store.Sessions(ctx, history.Filter{})
	if err != nil || len(rows) != sc.sessions {
		t.Fatalf("%d rows (want %d): %v", len(rows), sc.sessions, err)
	}
	for _, r := range rows {
		if r.Open() || !strings.HasPrefix(r.Path, "//host-00") || r.Status == "" {
			t.Fatalf("row %+v", r)
		}
	}
	if rows[0].How != history.EndGhost {
		t.Fatalf("first session ended %q, want ghost", rows[0].How)
	}
}

func jsonOf(e wire.Event) ([]byte, error) { return json.Marshal(e) }

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// BenchmarkCollect measures the whole ingest path: events already in the
// JetStream stream, fetched by one collector through the durable consumer,
// written to PostgreSQL a batch (1,000) a transaction, acknowledged after
// the commit. It reports events/s from the collector's start until the
// database holds them all.
//
//	go test -run '^$' -bench BenchmarkCollect -benchtime 1x ./fleethistory/collector/
func BenchmarkCollect(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		url := newDB(b)
		natsURL, js := startNATS(b)
		sc := makeScript(b, 100, 200) // 60,000 events
		publish(b, js, sc.events)
		store, err := fleethistory.Open(context.Background(), url, fleethistory.Options{})
		if err != nil {
			b.Fatal(err)
		}
		nc, err := nats.Connect(natsURL)
		if err != nil {
			b.Fatal(err)
		}
		js2, _ := jetstream.New(nc)
		c := &Collector{JS: js2, Sink: PostgresSink{Store: store}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		stopProfile := startProfile(b)
		pg0, _ := pg.CPUTime()
		self0 := testenv.ProcessCPU()
		b.StartTimer()
		start := time.Now()
		go func() { c.Run(ctx); close(done) }()
		for c.Stats().Applied.Load() < int64(len(sc.events)) {
			time.Sleep(5 * time.Millisecond)
		}
		el := time.Since(start)
		b.StopTimer()
		self := testenv.ProcessCPU() - self0
		pg1, _ := pg.CPUTime()
		stopProfile()
		cancel()
		<-done
		nc.Close()
		store.Close()
		n := float64(len(sc.events))
		b.ReportMetric(n/el.Seconds(), "events/s")
		b.ReportMetric(float64(self.Microseconds())/n, "proc-cpu-µs/event")
		b.ReportMetric(float64((pg1-pg0).Microseconds())/n, "pg-cpu-µs/event")
		b.StartTimer()
	}
}

// startProfile writes a CPU profile of the timed part of a benchmark to
// $CIMSESS_BENCH_CPUPROFILE when it is set; the function it returns stops
// it.
func startProfile(b *testing.B) func() {
	path := os.Getenv("CIMSESS_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// noGaps fails the test if the database at url counts a number missing,
// even counting every hole at once (a gap wait of a nanosecond).
func noGaps(t *testing.T, url, when string) {
	t.Helper()
	all, err := fleethistory.Open(context.Background(), url, fleethistory.Options{GapWait: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	time.Sleep(time.Millisecond)
	if gaps, err := all.Gaps(context.Background(), ""); err != nil || len(gaps) != 0 {
		t.Fatalf("gaps %s: %+v, %v", when, gaps, err)
	}
}
