package history

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// state is everything of a store a merge writes: every column of every
// row by id, wtmp_files and meta.
func state(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	q := func(query string) {
		rs, err := s.db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if v.Valid {
					b.WriteString(v.String)
				} else {
					b.WriteString("NULL")
				}
				b.WriteByte('|')
			}
			b.WriteByte('\n')
		}
	}
	q(`SELECT id, class, user, tty, remote_host, logon_type, pid, start_us, end_us, how, source, wtmp_file FROM sessions ORDER BY id`)
	q(`SELECT id, head, merged, layout FROM wtmp_files ORDER BY id`)
	q(`SELECT key, value FROM meta WHERE key <> 'heartbeat_us' ORDER BY key`)
	return b.String()
}

// pipeCase is a wtmp file to merge and how the history is before.
type pipeCase struct {
	name  string
	recs  []utmp.Record
	water int64 // pruned_before_us to set first; 0 none
	tail  int   // bytes of a partial record appended
}

// pipeCases are files of every shape the pairing knows.
func pipeCases() []pipeCase {
	busy := busyWtmp(1200)
	odd := append([]utmp.Record(nil), busy...)
	for i := 5; i < len(odd); i += 37 {
		odd[i].Type = 99 // implausible
	}
	for i := 11; i < len(odd); i += 53 {
		odd[i].Time = time.Unix(-5, 0) // implausible
	}
	// one session open from the start across every batch, closed at the end
	long := append([]utmp.Record{login(-1, "alice", "tty9", "", 9)}, busyWtmp(800)...)
	long = append(long, logout(100000, "tty9", 9))
	// open at the end, with boots and crashes and no line logins
	var crashes []utmp.Record
	for i := range 300 {
		switch i % 7 {
		case 0:
			crashes = append(crashes, boot(i*3))
		case 3:
			crashes = append(crashes, login(i*3, "bob", "", "h", int32(i))) // no line
		case 5:
			crashes = append(crashes, runlevel(i*3, '6'))
		default:
			crashes = append(crashes, login(i*3, fmt.Sprintf("u%d", i%4), fmt.Sprintf("pts/%d", i%3), "10.0.0.1", int32(i)))
		}
	}
	// same start for many rows: tie order
	var ties []utmp.Record
	for i := range 400 {
		ties = append(ties, login(i/10, "t", fmt.Sprintf("pts/%d", i%10), "", int32(i)))
	}
	ties = append(ties, shutdown(1000))
	return []pipeCase{
		{name: "busy", recs: busy},
		{name: "implausible", recs: odd},
		{name: "long", recs: long},
		{name: "crashes", recs: crashes},
		{name: "ties", recs: ties},
		{name: "water", recs: busy, water: us(at(6000))},
		{name: "tail", recs: busy, tail: 100},
	}
}

// writeCase writes c's file in dir.
func writeCase(t *testing.T, dir string, c pipeCase) string {
	path := filepath.Join(dir, "wtmp")
	writeWtmp(t, path, c.recs)
	if c.tail > 0 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(make([]byte, c.tail))
		f.Close()
	}
	return path
}

// storeFor opens a new history as c has it before the merge.
func storeFor(t *testing.T, c pipeCase) *Store {
	s := openTemp(t)
	if c.water != 0 {
		if _, err := s.db.Exec(`INSERT INTO meta(key, value) VALUES('pruned_before_us', ?)`, c.water); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestPipelineSameAsSerial compares, for files of every shape the pairing
// knows and batches of 1 to 5,000 records, a pipelined merge with one that
// is not, on every column, the row ids, wtmp_files, the stats and the
// listing beside it.
func TestPipelineSameAsSerial(t *testing.T) {
	ctx := context.Background()
	for _, c := range pipeCases() {
		for _, batch := range pipeBatches {
			for _, withListing := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/%v", c.name, batch, withListing), func(t *testing.T) {
					dir := t.TempDir()
					path := writeCase(t, dir, c)
					var outs [2]string
					var sts [2]MergeStats
					var lists [2]string
					for i, pipe := range []bool{true, false} {
						s := storeFor(t, c)
						opts := MergeOptions{Batch: batch}
						var settled *Settled
						listed := make(chan string, 1)
						if withListing {
							settled = NewSettled()
							if pipeLimit > 0 {
								settled.limit = pipeLimit
							}
							opts.Settled = settled
							go func() {
								var b strings.Builder
								err := s.EachSettled(ctx, Filter{}, settled, func(x Session) error {
									fmt.Fprintf(&b, "%d %s %s %v %v %s\n", x.ID, x.User, x.TTY, x.Start.UnixMicro(), x.End.UnixMicro(), x.How)
									return nil
								})
								if err != nil {
									b.WriteString(err.Error())
								}
								listed <- b.String()
							}()
						}
						st, err := s.mergeFile(ctx, path, opts, pipe)
						if settled != nil {
							settled.Finish(err)
							lists[i] = <-listed
						}
						if err != nil {
							t.Fatal(err)
						}
						st.Warning = nil
						sts[i], outs[i] = st, state(t, s)
					}
					if outs[0] != outs[1] {
						t.Errorf("pipelined:\n%.3000s\nserial:\n%.3000s", outs[0], outs[1])
					}
					if sts[0] != sts[1] {
						t.Errorf("stats: pipelined %+v, serial %+v", sts[0], sts[1])
					}
					if lists[0] != lists[1] {
						t.Errorf("listing: pipelined\n%.2000s\nserial\n%.2000s", lists[0], lists[1])
					}
				})
			}
		}
	}
}

// TestPipelineConflictKeepsCounts checks that a pipelined merge that meets another
// writer and restarts reports the records it skipped as implausible, and
// the sessions retention skipped, as a merge that did not meet it.
func TestPipelineConflictKeepsCounts(t *testing.T) {
	ctx := context.Background()
	c := pipeCases()[1] // implausible
	c.water = us(at(6000))
	path := writeCase(t, t.TempDir(), c)
	live := Session{Class: "Linux_LogonSession", LogonID: "9", Path: `x.logonid="9"`, User: "zed", TTY: "pts/77", PID: 9, Start: at(-5000), Status: "OK"}
	s := storeFor(t, c)
	batches := 0
	st, err := s.MergeFile(ctx, path, MergeOptions{Batch: 100, Progress: func(int, int) {
		if batches++; batches == 3 {
			if _, err := s.Begin(ctx, live); err != nil {
				t.Error(err)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := storeFor(t, c)
	if _, err := want.Begin(ctx, live); err != nil {
		t.Fatal(err)
	}
	wst, err := want.MergeFile(ctx, path, MergeOptions{Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	if st.Implausible != wst.Implausible || st.Skipped != wst.Skipped || st.Records != wst.Records || st.Added != wst.Added {
		t.Errorf("after a restart: %+v\nwithout one:     %+v", st, wst)
	}
}

// TestPipelineWriterErrorThenResume checks that a merge whose writes fail
// midway keeps the batches before, as a serial one does, and resumes to
// the same.
func TestPipelineWriterErrorThenResume(t *testing.T) {
	ctx := context.Background()
	for _, c := range pipeCases() {
		for _, batch := range []int{1, 7, 100} {
			t.Run(fmt.Sprintf("%s/%d", c.name, batch), func(t *testing.T) {
				path := writeCase(t, t.TempDir(), c)
				var mid, final [2]string
				for i, pipe := range []bool{true, false} {
					s := storeFor(t, c)
					cut := us(c.recs[len(c.recs)/2].Time)
					if _, err := s.db.Exec(fmt.Sprintf(`CREATE TRIGGER boom BEFORE INSERT ON sessions WHEN NEW.start_us >= %d BEGIN SELECT RAISE(ABORT, 'boom'); END`, cut)); err != nil {
						t.Fatal(err)
					}
					if _, err := s.mergeFile(ctx, path, MergeOptions{Batch: batch}, pipe); err == nil || !strings.Contains(err.Error(), "boom") {
						t.Fatalf("pipe %v: %v", pipe, err)
					}
					mid[i] = state(t, s)
					if _, err := s.db.Exec(`DROP TRIGGER boom`); err != nil {
						t.Fatal(err)
					}
					if _, err := s.MergeFile(ctx, path, MergeOptions{Batch: batch}); err != nil {
						t.Fatal(err)
					}
					final[i] = state(t, s)
				}
				if mid[0] != mid[1] {
					t.Errorf("after the failure: pipelined\n%.2000s\nserial\n%.2000s", mid[0], mid[1])
				}
				if final[0] != final[1] {
					t.Errorf("resumed: pipelined\n%.2000s\nserial\n%.2000s", final[0], final[1])
				}
			})
		}
	}
}

// TestPipelineCancelThenResume checks that, cancelled from Progress after
// batch k, a pipelined merge keeps the batches a serial one keeps, and resumes to
// the same.
func TestPipelineCancelThenResume(t *testing.T) {
	for _, c := range pipeCases() {
		for _, batch := range []int{7, 100} {
			for _, k := range []int{1, 2, 5} {
				if k*batch >= len(c.recs) {
					continue // the file has fewer batches
				}
				t.Run(fmt.Sprintf("%s/%d/%d", c.name, batch, k), func(t *testing.T) {
					path := writeCase(t, t.TempDir(), c)
					var mid, final [2]string
					for i, pipe := range []bool{true, false} {
						s := storeFor(t, c)
						ctx, cancel := context.WithCancel(context.Background())
						n := 0
						_, err := s.mergeFile(ctx, path, MergeOptions{Batch: batch, Progress: func(int, int) {
							if n++; n == k {
								cancel()
							}
						}}, pipe)
						cancel()
						if err == nil {
							t.Fatalf("pipe %v: not cancelled", pipe)
						}
						mid[i] = state(t, s)
						if _, err := s.MergeFile(context.Background(), path, MergeOptions{Batch: batch}); err != nil {
							t.Fatal(err)
						}
						final[i] = state(t, s)
					}
					if mid[0] != mid[1] {
						t.Errorf("after the cancel: pipelined\n%.2000s\nserial\n%.2000s", mid[0], mid[1])
					}
					if final[0] != final[1] {
						t.Errorf("resumed: pipelined\n%.2000s\nserial\n%.2000s", final[0], final[1])
					}
				})
			}
		}
	}
}

// pipeLimit, when not 0, is the bound of the rows kept for the listing in
// TestPipelineSameAsSerial, and pipeBatches its batch sizes.
var (
	pipeLimit   int
	pipeBatches = []int{1, 3, 7, 100, 5000}
)

// TestPipelineSmallLimit is TestPipelineSameAsSerial with the rows kept for
// the listing spilling to the database early.
func TestPipelineSmallLimit(t *testing.T) {
	pipeLimit, pipeBatches = 50, []int{7, 100}
	defer func() { pipeLimit, pipeBatches = 0, []int{1, 3, 7, 100, 5000} }()
	TestPipelineSameAsSerial(t)
}
