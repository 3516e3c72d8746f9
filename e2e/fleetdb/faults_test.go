//go:build linux

package fleetdb

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/internal/testenv"
)

// stream is a played fleet's events: per session a creation, a Status
// change and a deletion, every seventh a ghost.
type stream struct {
	msgs                      []*nats.Msg
	sessions, changes, ghosts int
}

func makeStream(t *testing.T, hosts, perHost int) stream {
	t.Helper()
	var s stream
	base := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	for h := 0; h < hosts; h++ {
		host := fmt.Sprintf("fault-%03d.example.com", h)
		tok := wire.HostToken(host)
		var seq uint64
		add := func(kind string, at time.Time, in, prev *cim.Instance) {
			seq++
			w, err := wire.EncodeInstance(in)
			if err != nil {
				t.Fatal(err)
			}
			e := wire.Event{ID: wire.EventID(tok, "faults", seq), Host: host, Seq: seq, Kind: kind, Time: at, Class: in.ClassName,
				Path: fmt.Sprintf(`linux_logonsession.logonid="%s"`, in.String("LogonId")), Instance: w}
			if prev != nil {
				p, _ := wire.EncodeInstance(prev)
				e.Previous = &p
			}
			data, _ := json.Marshal(e)
			m := nats.NewMsg(e.Subject())
			m.Data = data
			m.Header.Set(wire.MsgIDHeader, e.ID)
			s.msgs = append(s.msgs, m)
		}
		for i := 0; i < perHost; i++ {
			start := base.Add(time.Duration(i*3+h) * time.Second)
			in := logon(fmt.Sprint(1000+i), fmt.Sprintf("user%d", i%5), "192.0.2.7", start)
			add(wire.KindCreation, start, in, nil)
			busy := in.Clone().Set("Status", "Degraded")
			add(wire.KindModification, start.Add(time.Second), busy, in)
			end := busy
			if i%7 == 0 {
				end = busy.Clone().Set("Status", "Lost Comm")
				s.ghosts++
			}
			add(wire.KindDeletion, start.Add(2*time.Second), end, nil)
			s.sessions++
			s.changes += 2 // "" -> OK at the creation, OK -> Degraded
		}
	}
	return s
}

func publishAll(js jetstream.JetStream, msgs []*nats.Msg) error {
	for _, m := range msgs {
		if _, err := js.PublishMsgAsync(m); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("publishing timed out")
	}
}

// dbCounts is what the fleet history holds.
type dbCounts struct{ sessions, open, changes, applied, ghosts int }

func countDB(t *testing.T, url string) dbCounts {
	t.Helper()
	ctx := context.Background()
	var c dbCounts
	for attempt := 0; ; attempt++ {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE end_at IS NULL),
				(SELECT count(*) FROM status_changes), (SELECT count(*) FROM applied_events),
				(SELECT count(*) FROM sessions WHERE how = 'ghost')`).Scan(&c.sessions, &c.open, &c.changes, &c.applied, &c.ghosts)
			conn.Close(ctx)
		}
		if err == nil {
			return c
		}
		if attempt > 100 { // PostgreSQL restarting: a few seconds at most
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// caughtInTransaction reports whether a collector's connection is inside
// a transaction now (a batch written but not committed) after some
// events were committed, asked on conn (one connection for the whole
// watch, so that a look takes one round trip).
func caughtInTransaction(conn *pgx.Conn) bool {
	var caught bool
	if err := conn.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM applied_events) AND EXISTS (SELECT 1 FROM pg_stat_activity
		WHERE application_name = 'cimsess' AND datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid())`).Scan(&caught); err != nil {
		return false
	}
	return caught
}

// collectProc starts a `cimsessd collect` process (no timeline).
func collectProc(t *testing.T, natsURL, db string) (*exec.Cmd, *testenv.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(cimsessdBin, "collect", "--nats", natsURL, "--db", db, "--batch", "200", "--ack-wait", "3s")
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("collect (pid %d):\n%s", cmd.Process.Pid, out.String())
		}
	})
	return cmd, out
}

// TestFaultsRealCollectors runs `cimsess collect` processes against a real
// PostgreSQL and JetStream: one is killed with SIGKILL while its batch's
// transaction is open, then two share the rest while PostgreSQL is
// restarted under load. The database must hold every event of the stream
// exactly once: counted against the stream (messages, sessions, Status
// changes, ghosts).
func TestFaultsRealCollectors(t *testing.T) {
	db := newDB(t)
	natsURL, js := startNATS(t)
	st := makeStream(t, 40, 50) // 2,000 sessions, 6,000 events
	half := len(st.msgs) / 2

	// 1. kill -9 a collector mid-batch: its transaction open. The first
	// half is published as it runs, so that it is at work, batch after
	// batch, while it is watched (all at once, a fast collector may be
	// done before a look finds it inside a transaction).
	victim, vout := collectProc(t, natsURL, db)
	watch, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	firstErr := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < half && err == nil; i += 100 {
			err = publishAll(js, st.msgs[i:min(i+100, half)])
			time.Sleep(5 * time.Millisecond)
		}
		firstErr <- err
	}()
	killed := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !killed {
		killed = caughtInTransaction(watch)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	watch.Close(context.Background())
	if err := <-firstErr; err != nil {
		t.Fatal(err)
	}
	mid := countDB(t, db)
	t.Logf("killed collect (pid %d) with SIGKILL after %d of %d events committed; its transaction was open: %v",
		victim.Process.Pid, mid.applied, half, killed)
	if !killed || strings.Contains(vout.String(), "stopped:") {
		t.Errorf("the collector was not caught inside a transaction (or stopped by itself):\n%s", vout.String())
	}

	// 2. Two collectors at once, PostgreSQL restarted under load.
	_, out1 := collectProc(t, natsURL, db)
	_, out2 := collectProc(t, natsURL, db)
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishAll(js, st.msgs[half:]) }()
	deadline = time.Now().Add(60 * time.Second)
	for countDB(t, db).applied < half+300 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	restartedAt := countDB(t, db).applied
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-pubErr; err != nil {
		t.Fatal(err)
	}
	var got dbCounts
	waitFor(t, 2*time.Minute, "every event applied", func() bool {
		got = countDB(t, db)
		return got.applied >= len(st.msgs)
	})
	time.Sleep(time.Second) // anything more would be a duplicate: let it show
	got = countDB(t, db)

	s, err := js.Stream(context.Background(), wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := dbCounts{sessions: st.sessions, changes: st.changes, applied: int(info.State.Msgs), ghosts: st.ghosts}
	if want.applied != len(st.msgs) {
		t.Fatalf("the stream holds %d messages, %d published", want.applied, len(st.msgs))
	}
	if got != want {
		t.Fatalf("the database holds %+v, the stream %+v", got, want)
	}
	retried := strings.Contains(out1.String(), "retrying") || strings.Contains(out2.String(), "retrying")
	t.Logf("PostgreSQL restarted at %d events committed (a collector retried its batch: %v); all %d events once: %d sessions, %d Status changes, %d ghosts",
		restartedAt, retried, got.applied, got.sessions, got.changes, got.ghosts)
}
