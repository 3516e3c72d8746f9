package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"

	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
)

// TestEventsWaitWhileTheOutboxFails: an event the outbox cannot take (its
// disk full or failing; here, its files closed) is not lost: it and those
// after it wait in memory, in order, and are queued once the outbox takes
// them again; meanwhile the snapshot is not saved, so that a restart
// would find their changes again.
func TestEventsWaitWhileTheOutboxFails(t *testing.T) {
	dir := t.TempDir()
	boxDir := filepath.Join(dir, "outbox")
	broken, err := outbox.Open(boxDir, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	broken.Close() // every append fails now
	var logs []string
	a := &Agent{cfg: Config{StateDir: dir, Log: func(s string) { logs = append(logs, s) }}, box: broken, current: nil}
	a.pub = &Publisher{Host: "h1", Agent: "0123456789abcdef", Box: broken}
	for _, path := range []string{"A", "B", "C"} {
		a.pending = append(a.pending, &wire.Event{Kind: wire.KindCreation, Class: "Linux_LogonSession", Path: path,
			Instance: wire.Instance{Class: "Linux_LogonSession", Path: path}})
		a.flushPending()
	}
	if len(a.pending) != 3 || !a.failing || len(logs) != 1 || !strings.Contains(logs[0], "wait in memory") {
		t.Fatalf("%d pending, failing %v, logs %q", len(a.pending), a.failing, logs)
	}
	a.dirty = true
	a.saveSnapshot()
	if _, err := os.Stat(filepath.Join(dir, snapshotName)); !os.IsNotExist(err) {
		t.Fatalf("a snapshot was saved while events wait: %v", err)
	}

	fixed, err := outbox.Open(boxDir, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	a.box, a.pub.Box = fixed, fixed
	a.flushPending()
	if len(a.pending) != 0 || a.failing || !strings.Contains(logs[len(logs)-1], "works again") {
		t.Fatalf("%d pending, failing %v, logs %q", len(a.pending), a.failing, logs)
	}
	recs, _ := fixed.Peek(10)
	var got []string
	for _, r := range recs {
		_, _, body, _ := splitRecord(r.Data)
		ev, err := wire.ParseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Path)
	}
	if strings.Join(got, "") != "ABC" || recs[0].Seq != 1 || recs[2].Seq != 3 {
		t.Errorf("queued %v (seq %d…), want A, B, C numbered from 1", got, recs[0].Seq)
	}
}

// TestSnapshotSavedWithinABurst: a burst of events is taken a bounded
// number at a time between saves of the snapshot, so that a crash repeats
// few changes, where a burst of 3,000 logins used to be saved only at its
// end.
func TestSnapshotSavedWithinABurst(t *testing.T) {
	dir := t.TempDir()
	box, err := outbox.Open(filepath.Join(dir, "outbox"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	a := &Agent{cfg: Config{StateDir: dir}, box: box, current: map[string]*cim.Instance{}}
	a.pub = &Publisher{Host: "h1", Agent: "0123456789abcdef", Box: box}
	event := func(i int) cimom.Event {
		in := cim.NewInstance("Linux_LogonSession").Set("LogonId", strconv.Itoa(i))
		in.Path = cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: strconv.Itoa(i)}}}
		return cimom.Event{Class: "__InstanceCreationEvent", Target: in, Time: time.Now()}
	}
	merged := make(chan cimom.Event, 300)
	for i := 1; i < 300; i++ {
		merged <- event(i)
	}
	if n := a.takeBurst(event(0), merged); n != snapshotEvery || box.Len() != snapshotEvery {
		t.Errorf("took %d events (%d queued) before a save, want %d", n, box.Len(), snapshotEvery)
	}
}

// TestUnqueueableEventDoesNotHoldUpTheRest: an event the outbox refuses
// for what it is (here, bigger than a record may be) is lost and said,
// not kept at the front of the queue where it held up every later one.
func TestUnqueueableEventDoesNotHoldUpTheRest(t *testing.T) {
	dir := t.TempDir()
	box, err := outbox.Open(filepath.Join(dir, "outbox"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	var logs []string
	a := &Agent{cfg: Config{StateDir: dir, Log: func(s string) { logs = append(logs, s) }}, box: box}
	a.pub = &Publisher{Host: "h1", Agent: "0123456789abcdef", Box: box}
	huge := &wire.Event{Kind: wire.KindCreation, Class: "Linux_LogonSession", Path: "huge",
		Instance: wire.Instance{Class: "Linux_LogonSession", Path: strings.Repeat("x", 3<<20)}}
	small := &wire.Event{Kind: wire.KindCreation, Class: "Linux_LogonSession", Path: "small",
		Instance: wire.Instance{Class: "Linux_LogonSession", Path: "small"}}
	a.pending = []*wire.Event{huge, small}
	a.flushPending()
	if len(a.pending) != 0 || box.Len() != 1 || len(logs) != 1 || !strings.Contains(logs[0], "LOST") {
		t.Errorf("%d pending, %d queued, log %q", len(a.pending), box.Len(), logs)
	}
}
