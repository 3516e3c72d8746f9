package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// row is a session as a listing gives it: its start and every field.
type row struct {
	start int64
	line  string
}

// rows is what a listing gives.
func rows(t *testing.T, each func(func(Session) error) error) []row {
	t.Helper()
	var out []row
	if err := each(func(s Session) error {
		lt := "-"
		if s.LogonType != nil {
			lt = fmt.Sprint(*s.LogonType)
		}
		out = append(out, row{us(s.Start), fmt.Sprintf("%d %q %q %q %q %q %q %s %d %d %d %q %q %q", s.ID, s.Class, s.LogonID, s.Path,
			s.User, s.TTY, s.RemoteHost, lt, s.PID, us(s.Start), us(s.End), s.How, s.Status, s.Source)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// before is the rows that start before t, one line each.
func before(rs []row, t int64) string {
	var b strings.Builder
	for _, r := range rs {
		if r.start < t {
			b.WriteString(r.line + "\n")
		}
	}
	return b.String()
}

// TestEachSettledListsWhatTheMergeLeaves checks Settled's promise after
// every batch of a merge, while the merge waits: the sessions that start
// before its time are those, with their fields and order, that the
// history holds after the merge; and that a listing beside the merge
// (EachSettled, as the CLI runs them) gives exactly what EachSession
// gives after it. The shapes are those that could catch it out: wtmp
// whose clock goes back, a session open from the file's start to its
// end, a merge that takes up what an earlier one left open, and rows seen
// live that wtmp closes.
func TestEachSettledListsWhatTheMergeLeaves(t *testing.T) {
	busy := busyWtmp(1500)
	clockBack := append(append(busyWtmp(700), login(-300, "eve", "pts/7", "old", 77), logout(-200, "pts/7", 77)),
		login(-100, "eve", "pts/8", "old", 78))
	for _, r := range busyWtmp(600) {
		r.Time = r.Time.Add(-250 * time.Minute)
		clockBack = append(clockBack, r)
	}
	// Logins and logouts only: no boot stays pending (a boot is until
	// the next shutdown) to hold the time back.
	var lines []utmp.Record
	for _, r := range busy {
		if r.Type == utmp.UserProcess || r.Type == utmp.DeadProcess {
			lines = append(lines, r)
		}
	}
	// Boots with no shutdown: each crashes the sessions open, and the
	// boots stay open to the end (as last shows them, "still running").
	var crashes []utmp.Record
	for _, r := range busy {
		if r.Type != utmp.RunLevel {
			crashes = append(crashes, r)
		}
	}
	// A login on a line no other uses, open until the file's end.
	longOpen := append(append([]utmp.Record{login(-1, "root", "tty1", "", 1)}, lines...), logout(100000, "tty1", 1))
	live := func(t *testing.T, s *Store) {
		// Sessions a recorder saw, still open: wtmp logins match them (same
		// terminal, user and pid, starts within the window) and close them.
		// A row that starts a second before its login is settled only
		// once the merge is past the login's time less the window.
		for i, r := range lines[:600] {
			if r.Type != utmp.UserProcess || i%2 != 0 {
				continue
			}
			if _, err := s.Begin(context.Background(), Session{Class: "Linux_LogonSession", LogonID: fmt.Sprint(i), Path: fmt.Sprintf("x.logonid=%q", fmt.Sprint(i)),
				User: r.User, TTY: r.Line, PID: int64(r.PID), Start: r.Time.Add(-time.Second), Status: "OK"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One session after another, each seen live from a second before its
	// login, and a batch for each: nothing is open at a batch's end, and
	// the next login closes a row that starts before it.
	var oneByOne []utmp.Record
	for i := range 150 {
		oneByOne = append(oneByOne, login(10*i, "ann", "pts/1", "", int32(100+i)), logout(10*i+5, "pts/1", int32(100+i)))
	}
	seenFirst := func(t *testing.T, s *Store) {
		for i, r := range oneByOne {
			if r.Type == utmp.UserProcess {
				if _, err := s.Begin(context.Background(), Session{Class: "Linux_LogonSession", LogonID: fmt.Sprint(i), Path: fmt.Sprintf("x.logonid=%q", fmt.Sprint(i)),
					User: r.User, TTY: r.Line, PID: int64(r.PID), Start: r.Time.Add(-time.Second), Status: "OK"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name  string
		first []utmp.Record            // merged first, then the rest appended
		recs  []utmp.Record            // the file the merge under test reads
		setup func(*testing.T, *Store) // rows there before any merge
		batch int                      // records a batch; 37 when 0
	}{
		{"busy", nil, busy, nil, 0},
		{"no boots", nil, lines, nil, 0},
		{"crashes only", nil, crashes, nil, 0},
		{"clock goes back", nil, clockBack, nil, 0},
		{"open all through", nil, longOpen, nil, 0},
		{"resumed", busy[:700], busy, nil, 0},
		{"rows seen live", nil, lines, live, 0},
		{"seen live first", nil, oneByOne, seenFirst, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			batch := cmp.Or(tc.batch, 37)
			// start opens a new history as the case begins, with its file.
			start := func() (*Store, string) {
				dir := t.TempDir()
				s, err := Open(ctx, filepath.Join(dir, "history.db"), Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				if tc.setup != nil {
					tc.setup(t, s)
				}
				path := filepath.Join(dir, "wtmp")
				if tc.first == nil {
					writeWtmp(t, path, tc.recs)
					return s, path
				}
				writeWtmp(t, path, tc.first)
				if _, err := s.MergeFile(ctx, path, MergeOptions{Batch: 50}); err != nil {
					t.Fatal(err)
				}
				appendWtmp(t, path, tc.recs[len(tc.first):]...)
				return s, path
			}
			all := func(s *Store) func(func(Session) error) error {
				return func(fn func(Session) error) error { return s.EachSession(ctx, Filter{}, fn) }
			}

			// The promise at every batch, the merge waiting.
			s, path := start()
			settled := NewSettled()
			type snapshot struct {
				at   int64
				rows string
			}
			var snaps []snapshot
			if _, err := s.MergeFile(ctx, path, MergeOptions{Batch: batch, Settled: settled, Progress: func(int, int) {
				at, _, _ := settled.wait(ctx, math.MinInt64)
				snaps = append(snaps, snapshot{at, before(rows(t, all(s)), at)})
			}}); err != nil {
				t.Fatal(err)
			}
			final := rows(t, all(s))
			if len(final) < 100 {
				t.Fatalf("only %d sessions", len(final))
			}
			moved := 0
			for i, sn := range snaps {
				if want := before(final, sn.at); sn.rows != want {
					t.Fatalf("batch %d: before %d the history held\n%s\nand holds after the merge\n%s", i, sn.at, sn.rows, want)
				}
				if i > 0 && sn.at > snaps[i-1].at {
					moved++
				}
			}
			// It moves on as the merge does, unless a session open from
			// the start holds it there; a clock that goes back holds it at
			// the earliest time still to come.
			switch tc.name {
			case "open all through":
				if moved > 1 { // at the last batch, which ends it
					t.Errorf("the time moved on past a session still open, at %d of %d batches", moved, len(snaps))
				}
			case "clock goes back":
				if moved == 0 {
					t.Errorf("the time never moved on")
				}
			default:
				if moved < len(snaps)/2 {
					t.Errorf("the time moved on at only %d of %d batches", moved, len(snaps))
				}
			}

			// A listing beside the merge.
			s, path = start()
			settled = NewSettled()
			go func() {
				_, err := s.MergeFile(ctx, path, MergeOptions{Batch: batch, Settled: settled})
				settled.Finish(err)
			}()
			got := before(rows(t, func(fn func(Session) error) error { return s.EachSettled(ctx, Filter{}, settled, fn) }), math.MaxInt64)
			if want := before(final, math.MaxInt64); got != want {
				t.Errorf("beside the merge:\n%s\nafter it:\n%s", got, want)
			}
		})
	}
}

// TestEachSettledListsBeforeTheMergeEnds checks that the listing does not
// wait for the merge's end: the merge, stopped after its first batch
// until a session is listed, goes on.
func TestEachSettledListsBeforeTheMergeEnds(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, busyWtmp(2000))
	settled := NewSettled()
	var listed atomic.Int64
	first := make(chan struct{})
	go func() {
		_, err := s.MergeFile(ctx, path, MergeOptions{Batch: 100, Settled: settled, Progress: func(done, total int) {
			if done == 100 {
				select {
				case <-first:
				case <-time.After(10 * time.Second):
					t.Error("nothing was listed before the merge went on")
				}
			}
		}})
		settled.Finish(err)
	}()
	err := s.EachSettled(ctx, Filter{}, settled, func(Session) error {
		if listed.Add(1) == 1 {
			close(first)
		}
		return nil
	})
	if err != nil || listed.Load() < 500 {
		t.Fatalf("listed %d: %v", listed.Load(), err)
	}
}

// TestEachSettledEndsWithTheMergesError checks that a failed merge ends
// the listing with its error, and a cancelled context a listing that
// waits.
func TestEachSettledEndsWithTheMergesError(t *testing.T) {
	s := openTemp(t)
	settled := NewSettled()
	boom := errors.New("boom")
	go settled.Finish(boom)
	if err := s.EachSettled(context.Background(), Filter{}, settled, func(Session) error { return nil }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the merge's error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.EachSettled(ctx, Filter{}, NewSettled(), func(Session) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
}

// TestScanTimes checks the earliest start still to come at each block,
// and where the last record that may end the boots is.
func TestScanTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := []utmp.Record{login(10, "a", "pts/1", "", 1), login(5, "a", "pts/2", "", 2), shutdown(30), boot(31),
		login(40, "a", "pts/4", "", 4), {Type: utmp.DeadProcess, Line: "pts/4"}, login(50, "a", "pts/5", "", 5), login(45, "a", "pts/6", "", 6)}
	writeWtmp(t, path, recs)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := int64(utmp.Native.Size)
	rt, err := scanTimes(f, size, size*int64(len(recs)), utmp.Native, 2) // blocks from record 1: {1,2} {3,4} {5,6} {7}
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		record int
		want   int64
	}{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, us(at(45))}, {8, math.MaxInt64}} {
		if got := rt.earliest(int64(c.record) * size); got != c.want {
			t.Errorf("earliest from record %d: %d, want %d", c.record, got, c.want)
		}
	}
	if rt.shutdowns != 3*size {
		t.Errorf("the last shutdown ends at byte %d, want %d", rt.shutdowns, 3*size)
	}
	for _, c := range []struct {
		r    utmp.Record
		ends bool
	}{
		{shutdown(1), true}, {runlevel(1, '0'), true}, {runlevel(1, '6'), true}, {runlevel(1, '5'), false},
		{boot(1), false}, {login(1, "a", "pts/1", "", 1), false}, {logout(1, "pts/1", 1), false},
		{utmp.Record{Type: utmp.RunLevel, PID: '0', Line: "x", User: "y"}, true}, // not one: harmless
	} {
		b := utmp.Encode(c.r, utmp.Native)
		if got := mayEndBoots(utmp.Native.Head(b)); got != c.ends {
			t.Errorf("%+v: mayEndBoots %v", c.r, got)
		}
		if endsBoots(c.r) && !c.ends {
			t.Errorf("%+v: a shutdown not seen as one", c.r)
		}
	}
}

// endsBoots reports whether the pairing ends the boots at r.
func endsBoots(r utmp.Record) bool {
	ended := false
	pr := pairing{
		login: func(utmp.Record) (*pend, error) { return nil, nil },
		boot:  func(utmp.Record) (*pend, error) { return nil, nil },
		end:   func(*pend, time.Time, End) error { ended = true; return nil },
	}
	pr.boots = []*pend{{}}
	pr.add(r)
	return ended
}

// FuzzMayEndBoots checks that every record that ends the boots, as the
// pairing takes it, is one mayEndBoots sees from its head.
func FuzzMayEndBoots(f *testing.F) {
	for _, r := range []utmp.Record{shutdown(1), runlevel(1, '0'), runlevel(1, '5'), boot(1), login(1, "a", "pts/1", "", 1)} {
		f.Add(utmp.Encode(r, utmp.Native))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l := utmp.Native
		if len(b) < l.Size {
			return
		}
		r, _ := utmp.Decode(b, l)
		if endsBoots(r) && !mayEndBoots(l.Head(b)) {
			t.Fatalf("%+v ends the boots; its head %+v does not say it may", r, l.Head(b))
		}
	})
}

// TestKeptRowsAreTheDatabases checks the listing beside a merge into an
// empty history, which takes the rows the merge hands it instead of
// reading them back: with every filter, with a bound small enough that
// the rows spill to the database part of the way, and with another
// writer's row coming in the middle of the merge, it lists exactly what
// EachSession lists after the merge; and it does take rows when it may.
func TestKeptRowsAreTheDatabases(t *testing.T) {
	ctx := context.Background()
	recs := busyWtmp(3000)
	mid := recs[1500].Time
	filters := []struct {
		name string
		f    Filter
	}{
		{"all", Filter{}},
		{"since", Filter{Since: mid}},
		{"until", Filter{Until: mid}},
		{"since and until", Filter{Since: mid.Add(-3 * time.Hour), Until: mid}},
		{"user", Filter{User: "user3"}},
		{"class", Filter{Classes: []string{"LINUX_logonsession"}}},
		{"other class", Filter{Classes: []string{"Win32_ServerSession"}}},
		{"open", Filter{OpenOnly: true}},
	}
	for _, tc := range []struct {
		name   string
		limit  int
		writer bool // another writer adds a row after the first batch
		spill  bool // the listing spills once it took rows
	}{
		{"kept", maxKept, false, false},
		{"over the bound", 100, false, false},
		{"spilled midway", maxKept, false, true},
		{"another writer", maxKept, true, false},
	} {
		for _, fc := range filters {
			t.Run(tc.name+"/"+fc.name, func(t *testing.T) {
				s, path := historyWith(t, recs)
				settled := NewSettled()
				settled.limit = tc.limit
				wrote := false
				go func() {
					_, err := s.MergeFile(ctx, path, MergeOptions{Batch: 200, Settled: settled, Progress: func(done, total int) {
						if tc.spill && !wrote && done >= 1000 {
							wrote = true
							for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
								settled.mu.Lock()
								taken := settled.taken
								settled.mu.Unlock()
								if taken > 0 {
									break
								}
							}
							settled.spill()
						}
						if tc.writer && !wrote {
							wrote = true
							if _, err := s.Begin(ctx, Session{Class: "Linux_LogonSession", LogonID: "x", Path: `x.logonid="x"`,
								User: "user3", TTY: "pts/99", PID: 9, Start: mid, Status: "OK"}); err != nil {
								t.Error(err)
							}
						}
					}})
					settled.Finish(err)
				}()
				got := before(rows(t, func(fn func(Session) error) error { return s.EachSettled(ctx, fc.f, settled, fn) }), math.MaxInt64)
				want := before(rows(t, func(fn func(Session) error) error { return s.EachSession(ctx, fc.f, fn) }), math.MaxInt64)
				if got != want {
					t.Fatalf("beside the merge:\n%s\nafter it:\n%s", got, want)
				}
				if (tc.name == "kept" || tc.spill) && settled.taken == 0 {
					t.Errorf("took no rows from the merge")
				}
				if tc.name != "kept" && settled.keeping {
					t.Errorf("still kept the rows")
				}
				if fc.name == "all" && strings.Count(want, "\n") < 1000 {
					t.Errorf("only %d rows", strings.Count(want, "\n"))
				}
			})
		}
	}
	// A history with rows in it: nothing is taken.
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, recs[:100])
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	writeWtmp(t, path+"2", recs)
	settled := NewSettled()
	go func() {
		_, err := s.MergeFile(ctx, path+"2", MergeOptions{Batch: 200, Settled: settled})
		settled.Finish(err)
	}()
	if err := s.EachSettled(ctx, Filter{}, settled, func(Session) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if settled.taken != 0 {
		t.Errorf("took %d rows from a merge into a history with rows", settled.taken)
	}
}
