package history

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestKeptRowsSeeAnotherWritersUpdates checks that another writer that
// changes the merge's rows between its batches without adding one (a
// recorder that takes over an open wtmp row, as Begin does) ends the
// keeping: the listing beside the merge lists the rows as the database
// holds them.
func TestKeptRowsSeeAnotherWritersUpdates(t *testing.T) {
	ctx := context.Background()
	// alice on tty1 is open from the file's start to its end: the time
	// stays there, and every row is taken at the end.
	recs := []utmp.Record{login(0, "alice", "tty1", "", 10)}
	for i := range 100 {
		recs = append(recs, login(1+2*i, "bob", fmt.Sprintf("pts/%d", i%3), "10.0.0.1", int32(100+i)), logout(2+2*i, fmt.Sprintf("pts/%d", i%3), int32(100+i)))
	}
	recs = append(recs, logout(500, "tty1", 10))
	s, path := historyWith(t, recs)
	settled := NewSettled()
	took := false
	go func() {
		_, err := s.MergeFile(ctx, path, MergeOptions{Batch: 20, Settled: settled, Progress: func(done, total int) {
			if !took {
				took = true
				// A recorder sees alice's session live and takes its row over.
				if _, err := s.Begin(ctx, Session{Class: "Linux_LogonSession", LogonID: "7", Path: `x.logonid="7"`,
					User: "alice", TTY: "tty1", PID: 10, Start: at(0), Status: "OK"}); err != nil {
					t.Error(err)
				}
			}
		}})
		settled.Finish(err)
	}()
	got := before(rows(t, func(fn func(Session) error) error { return s.EachSettled(ctx, Filter{}, settled, fn) }), math.MaxInt64)
	want := before(rows(t, func(fn func(Session) error) error { return s.EachSession(ctx, Filter{}, fn) }), math.MaxInt64)
	if got != want {
		t.Fatalf("taken %d\nbeside the merge:\n%s\nafter it:\n%s", settled.taken, got[:min(len(got), 400)], want[:min(len(want), 400)])
	}
}

// TestTwoListingsOneSettled checks that two listings beside one merge
// each list every session: the second reads the database.
func TestTwoListingsOneSettled(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, busyWtmp(3000))
	settled := NewSettled()
	go func() {
		_, err := s.MergeFile(ctx, path, MergeOptions{Batch: 100, Settled: settled})
		settled.Finish(err)
	}()
	var n [2]int
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.EachSettled(ctx, Filter{}, settled, func(Session) error { n[i]++; return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all, _ := s.Sessions(ctx, Filter{})
	if n[0] != len(all) || n[1] != len(all) {
		t.Fatalf("listed %d and %d of %d sessions", n[0], n[1], len(all))
	}
}

// randWtmp makes a wtmp of n records with every shape the pairing knows:
// boots, shutdowns, run levels, logins with no line, no time or an X
// display, users that are not UTF-8, and a clock that goes back.
func randWtmp(rnd *rand.Rand, n int) []utmp.Record {
	odd := rnd.Intn(3) == 0
	var recs []utmp.Record
	minute := 0
	users := []string{"alice", "bob", "Élodie", "root", "x\xffy"}
	hosts := []string{"", ":0", "10.0.0.1", "host.example", ":1.0"}
	for len(recs) < n {
		minute += rnd.Intn(5)
		if odd && rnd.Intn(50) == 0 {
			minute -= rnd.Intn(100) // the clock goes back
		}
		line := fmt.Sprintf("pts/%d", rnd.Intn(5))
		switch k := rnd.Intn(100); {
		case k < 3:
			recs = append(recs, shutdown(minute))
		case k < 6:
			recs = append(recs, boot(minute))
		case k < 8:
			recs = append(recs, runlevel(minute, "0356"[rnd.Intn(4)]))
		case k < 10:
			r := login(minute, users[rnd.Intn(len(users))], "", hosts[rnd.Intn(len(hosts))], int32(rnd.Intn(1000)))
			r.Line = ""
			recs = append(recs, r)
		case k < 11 && odd:
			r := login(0, users[rnd.Intn(len(users))], line, hosts[rnd.Intn(len(hosts))], int32(rnd.Intn(1000)))
			r.Time = time.Time{}
			recs = append(recs, r)
		case k < 12 && odd:
			r := logout(0, line, 0)
			r.Time = time.Time{}
			recs = append(recs, r)
		case k < 55:
			recs = append(recs, login(minute, users[rnd.Intn(len(users))], line, hosts[rnd.Intn(len(hosts))], int32(rnd.Intn(1000))))
		default:
			recs = append(recs, logout(minute, line, 0))
		}
	}
	return recs
}

// TestKeptRowsRandom compares the listing beside a merge into an empty
// history with the database after it, for random files, batches, bounds
// and filters, and a listing that is slow or not.
func TestKeptRowsRandom(t *testing.T) {
	ctx := context.Background()
	filters := []Filter{{}, {Since: at(200)}, {Until: at(200)}, {User: "Élodie"}, {Classes: []string{"LINUX_logonsession"}},
		{Classes: []string{""}}, {OpenOnly: true}, {Since: time.Unix(0, 0)}}
	for seed := int64(1); seed <= 40; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		recs := randWtmp(rnd, 200+rnd.Intn(400))
		batch := 1 + rnd.Intn(40)
		limit := []int{3, 40, 200, maxKept, maxKept}[rnd.Intn(5)]
		f := filters[rnd.Intn(len(filters))]
		slow := rnd.Intn(2) == 0
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s, path := historyWith(t, recs)
			settled := NewSettled()
			settled.limit = limit
			go func() {
				_, err := s.MergeFile(ctx, path, MergeOptions{Batch: batch, Settled: settled})
				settled.Finish(err)
			}()
			got := before(rows(t, func(fn func(Session) error) error {
				return s.EachSettled(ctx, f, settled, func(x Session) error {
					if slow {
						time.Sleep(20 * time.Microsecond)
					}
					return fn(x)
				})
			}), math.MaxInt64)
			want := before(rows(t, func(fn func(Session) error) error { return s.EachSession(ctx, f, fn) }), math.MaxInt64)
			if got != want {
				t.Fatalf("batch %d limit %d filter %+v taken %d\nbeside the merge:\n%s\nafter it:\n%s", batch, limit, f, settled.taken, got, want)
			}
		})
	}
}

// TestKeptRowsOfAFailedMerge checks that a merge stopped midway ends the
// listing beside it with an error, after rows that begin what the
// database lists.
func TestKeptRowsOfAFailedMerge(t *testing.T) {
	for _, stopAt := range []int{200, 1000, 2800} {
		ctx := context.Background()
		s := openTemp(t)
		path := filepath.Join(t.TempDir(), "wtmp")
		writeWtmp(t, path, busyWtmp(3000))
		settled := NewSettled()
		mctx, cancel := context.WithCancel(ctx)
		go func() {
			_, err := s.MergeFile(mctx, path, MergeOptions{Batch: 100, Settled: settled, Progress: func(done, total int) {
				if done >= stopAt {
					cancel()
				}
			}})
			settled.Finish(err)
		}()
		var got []row
		err := s.EachSettled(ctx, Filter{}, settled, func(x Session) error {
			got = append(got, rows(t, func(fn func(Session) error) error { return fn(x) })...)
			return nil
		})
		if err == nil {
			t.Fatalf("no error")
		}
		g := before(got, math.MaxInt64)
		want := before(rows(t, func(fn func(Session) error) error { return s.EachSession(ctx, Filter{}, fn) }), math.MaxInt64)
		if !strings.HasPrefix(want, g) {
			t.Fatalf("stop %d: listed rows not a prefix of the database's:\n%s\n---\n%s", stopAt, g, want)
		}
	}
}

// TestPipelinedMergeMeetsAnotherWriter checks a merge into an empty
// history, which pairs ahead of its writes, when another writer commits
// between two of its batches: it goes on from what the database holds,
// and leaves the history a merge into the same history with that row
// in it from the start leaves, counting every record once.
func TestPipelinedMergeMeetsAnotherWriter(t *testing.T) {
	ctx := context.Background()
	recs := busyWtmp(2000)
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, recs)
	live := Session{Class: "Linux_LogonSession", LogonID: "9", Path: `x.logonid="9"`, User: "zed", TTY: "pts/77", PID: 9, Start: recs[0].Time.Add(time.Second), Status: "OK"}
	s := openTemp(t)
	batches := 0
	st, err := s.MergeFile(ctx, path, MergeOptions{Batch: 100, Progress: func(int, int) {
		if batches++; batches == 2 {
			if _, err := s.Begin(ctx, live); err != nil {
				t.Error(err)
			}
		}
	}})
	if err != nil || st.Records != len(recs) || st.From != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	want := openTemp(t)
	if _, err := want.Begin(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := want.MergeFile(ctx, path, MergeOptions{Batch: 100}); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, s), dump(t, want); a != b {
		t.Fatalf("with another writer midway:\n%s\nwith its row first:\n%s", a, b)
	}
}

// historyWith opens a new history in a folder of its own, closed when the
// test ends, beside a wtmp file of recs.
func historyWith(t *testing.T, recs []utmp.Record) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(context.Background(), filepath.Join(dir, "history.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	path := filepath.Join(dir, "wtmp")
	writeWtmp(t, path, recs)
	return s, path
}
