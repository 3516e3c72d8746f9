package history

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

func writeWtmp(t *testing.T, path string, recs []utmp.Record) {
	t.Helper()
	if err := utmp.WriteFile(path, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
}

func appendWtmp(t *testing.T, path string, recs ...utmp.Record) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := utmp.NewWriter(f, utmp.Native)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
}

// dump is the sessions of a store, one line each, for comparing stores.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	got, err := s.Sessions(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, x := range got {
		b.WriteString(x.User + " " + x.TTY + " " + x.Start.UTC().String() + " " + x.End.UTC().String() + " " + string(x.How) + "\n")
	}
	return b.String()
}

// TestMergeFileRemembersProgress checks that a wtmp merged before costs
// nothing when unchanged, and only its new records when appended to, and
// that an appended logout closes the row an earlier merge left open.
func TestMergeFileRemembersProgress(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := busyWtmp(300)
	recs = append(recs, login(100000, "zoe", "pts/9", "h", 4242))
	writeWtmp(t, path, recs)
	st, err := s.MergeFile(ctx, path, MergeOptions{Batch: 32})
	if err != nil || st.Records != len(recs) || st.Added == 0 || st.Unchanged {
		t.Fatalf("first merge: %+v %v", st, err)
	}
	first := dump(t, s)
	st, err = s.MergeFile(ctx, path, MergeOptions{})
	if err != nil || !st.Unchanged || st.Records != 0 || st.Added != 0 {
		t.Fatalf("unchanged file merged again: %+v %v", st, err)
	}
	if dump(t, s) != first {
		t.Fatal("an unchanged file changed the history")
	}
	appendWtmp(t, path, logout(100005, "pts/9", 4242), login(100010, "yann", "pts/8", "", 4243))
	st, err = s.MergeFile(ctx, path, MergeOptions{})
	if err != nil || st.From != int64(len(recs)*utmp.Native.Size) || st.Records != 2 || st.Added != 1 || st.Closed != 1 {
		t.Fatalf("appended file: %+v %v", st, err)
	}
	zoe, _ := s.Sessions(ctx, Filter{User: "zoe"})
	if len(zoe) != 1 || zoe[0].How != EndLogout || !zoe[0].End.Equal(at(100005)) {
		t.Fatalf("zoe: %+v", zoe)
	}
	// The same as one merge of the whole file into a new history.
	all := append(recs, logout(100005, "pts/9", 4242), login(100010, "yann", "pts/8", "", 4243))
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(ctx, all); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, s), dump(t, fresh); a != b {
		t.Fatalf("merged in two steps:\n%s\nin one:\n%s", a, b)
	}
	// A new file on the same path (a rotation) is merged from its start.
	os.Remove(path)
	writeWtmp(t, path, []utmp.Record{boot(200000), login(200001, "xavier", "tty1", "", 7)})
	st, err = s.MergeFile(ctx, path, MergeOptions{})
	if err != nil || st.From != 0 || st.Added != 2 { // the boot and xavier
		t.Fatalf("rotated file: %+v %v", st, err)
	}
}

// TestMergeFileResumes checks that a merge cut off after some batches
// keeps them and that the next one goes on from there, to the same
// history as an uninterrupted merge.
func TestMergeFileResumes(t *testing.T) {
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := busyWtmp(500)
	writeWtmp(t, path, recs)
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	_, err := s.MergeFile(ctx, path, MergeOptions{Batch: 50, Progress: func(done, total int) {
		if batches++; batches == 3 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("the cancelled merge did not fail")
	}
	part := dump(t, s)
	if part == "" {
		t.Fatal("the cancelled merge kept nothing")
	}
	st, err := s.MergeFile(context.Background(), path, MergeOptions{Batch: 50})
	if err != nil || st.From != 150*int64(utmp.Native.Size) || st.Records != len(recs)-150 {
		t.Fatalf("resumed merge: %+v %v", st, err)
	}
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, s), dump(t, fresh); a != b {
		t.Fatalf("resumed:\n%s\nat once:\n%s", a, b)
	}
}

// TestMatchThroughIndex checks that matching a session is a search of
// the index on its identity, never a scan of a terminal's rows: the
// cause of history's quadratic time when few terminals carry many
// sessions.
func TestMatchThroughIndex(t *testing.T) {
	s := openTemp(t)
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT id, end_us IS NULL, wtmp_file FROM sessions
		WHERE tty = ? AND user = ? AND start_us BETWEEN ? AND ? AND id <= ?
		AND (start_us = ? OR (source <> 'wtmp' AND pid = ? AND pid <> 0))
		ORDER BY abs(start_us - ?), id LIMIT 1`, "pts/0", "u", 1, 2, 3, 4, 5, 6)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
	}
	p := strings.Join(plan, "; ")
	if !strings.Contains(p, "USING INDEX sessions_start (start_us>? AND start_us<?)") {
		t.Fatalf("match plan: %s", p)
	}
}

// TestMergeFileRefusesForeignLayout checks that a wtmp of another
// machine's layout is refused naming its layout, before any row is
// written, and merged when that layout is given; and that single
// implausible records are never written.
func TestMergeFileRefusesForeignLayout(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	foreign := utmp.Layout400BE
	if utmp.Native == foreign {
		foreign = utmp.Layout384
	}
	if err := utmp.WriteFile(path, busyWtmp(300), foreign); err != nil {
		t.Fatal(err)
	}
	_, err := s.MergeFile(ctx, path, MergeOptions{})
	if err == nil || !strings.Contains(err.Error(), "--layout "+foreign.Name()) {
		t.Fatalf("foreign layout: %v", err)
	}
	if d := dump(t, s); d != "" {
		t.Fatalf("rows written from a foreign layout:\n%s", d)
	}
	if st, err := s.MergeFile(ctx, path, MergeOptions{Layout: foreign}); err != nil || st.Added == 0 {
		t.Fatalf("with its layout: %+v %v", st, err)
	}
	bad := []utmp.Record{login(1, "ok", "pts/0", "", 1), {Type: 1792, User: "x", Line: "pts/1", Time: at(2)},
		{Type: utmp.UserProcess, User: "old", Line: "pts/2", Time: time.Date(1911, 1, 1, 0, 0, 0, 0, time.UTC)}}
	fresh := openTemp(t)
	st, err := fresh.MergeRecords(ctx, bad)
	if err != nil || st.Implausible != 2 || st.Added != 1 {
		t.Fatalf("implausible records: %+v %v", st, err)
	}
}

// TestMergeHostAndTimeRules checks the Linux provider's rules, which the
// history shares with enum: an X display is no remote host (LogonType 2),
// a zero tv_sec is no time.
func TestMergeHostAndTimeRules(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	recs := []utmp.Record{login(1, "xuser", "tty7", ":0", 10), {Type: utmp.UserProcess, PID: 11, Line: "pts/3", User: "zero"}}
	if _, err := s.MergeRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	x, _ := s.Sessions(ctx, Filter{User: "xuser"})
	if len(x) != 1 || x[0].RemoteHost != "" || x[0].LogonType == nil || *x[0].LogonType != 2 {
		t.Errorf("X display: %+v", x)
	}
	z, _ := s.Sessions(ctx, Filter{User: "zero"})
	if len(z) != 1 || !z[0].Start.IsZero() {
		t.Errorf("zero time: %+v", z)
	}
}

// TestConcurrentMergesAgree checks that two merges of the same file into
// the same database at once, each with its own connections and
// checkpointer as two processes would have, leave the history one merge
// leaves, each record read by one of them: the first stops after its
// second batch until the second has merged a batch after it, and then
// reads on from where the database says the second stopped.
func TestConcurrentMergesAgree(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "history.db")
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := busyWtmp(4000)
	writeWtmp(t, path, recs)
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, dbPath, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	type result struct {
		st  MergeStats
		err error
	}
	results := make(chan result, len(stores))
	firstBatch := make(chan struct{})
	secondMerged := make(chan struct{}, 1)
	batches := 0
	go func() {
		st, err := stores[0].MergeFile(ctx, path, MergeOptions{Batch: 200, Progress: func(done, total int) {
			switch batches++; batches {
			case 1:
				close(firstBatch)
			case 2: // committed, holding no lock: the other merge goes on
				select {
				case <-secondMerged:
				case <-time.After(10 * time.Second):
					t.Error("the second merge did not merge a batch while the first waited")
				}
			}
		}})
		results <- result{st, err}
	}()
	<-firstBatch
	go func() {
		st, err := stores[1].MergeFile(ctx, path, MergeOptions{Batch: 200, Progress: func(done, total int) {
			select {
			case secondMerged <- struct{}{}:
			default:
			}
		}})
		results <- result{st, err}
	}()
	read := 0
	for range stores {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.st.Records == 0 || r.st.Records == len(recs) {
			t.Errorf("a merge read %d of the %d records: the two did not take turns", r.st.Records, len(recs))
		}
		read += r.st.Records
	}
	if read != len(recs) {
		t.Errorf("the two merges read %d records between them, want %d: each once", read, len(recs))
	}
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	want := dump(t, fresh)
	for i, s := range stores {
		if got := dump(t, s); got != want {
			t.Fatalf("store %d after two merges at once:\n%s\nby one:\n%s", i, got, want)
		}
	}
}

// TestMergeAppendedOddLine: a logout appended for a login on a terminal
// whose name is not UTF-8 ends the row an earlier merge left open, as one
// merge of the whole file does (and last(1)): the pairing keys lines as
// their rows store them (prop.Clean), by which a later merge finds them.
func TestMergeAppendedOddLine(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := []utmp.Record{boot(100000), login(100001, "alice", "tty\xe9", "", 4242)}
	writeWtmp(t, path, recs)
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	appendWtmp(t, path, logout(100010, "tty\xe9", 4242))
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	alice, _ := s.Sessions(ctx, Filter{User: "alice"})
	if len(alice) != 1 || alice[0].How != EndLogout || !alice[0].End.Equal(at(100010)) || alice[0].TTY != "tty\uFFFD" {
		t.Fatalf("alice: %+v", alice)
	}
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(ctx, append(recs, logout(100010, "tty\xe9", 4242))); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, s), dump(t, fresh); a != b {
		t.Fatalf("merged in two steps:\n%s\nin one:\n%s", a, b)
	}
}

// TestMergeAfterRotation: once wtmp is rotated (moved away, a new one
// begun at its path), the new file's logouts, shutdowns and boots end the
// sessions and the boot the old one left open, as one merge of the two
// files read as one does (and last(1) of them); a file that begins before
// them (another machine's copy merged at that path) adopts nothing.
func TestMergeAfterRotation(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "wtmp")
	old := []utmp.Record{boot(100000), login(100001, "alice", "pts/0", "", 10), login(100002, "bob", "pts/1", "", 11)}
	writeWtmp(t, path, old)
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	rotated := []utmp.Record{logout(100010, "pts/0", 10), shutdown(100020), boot(100021), login(100022, "carol", "pts/0", "", 12)}
	writeWtmp(t, path, rotated)
	st, err := s.MergeFile(ctx, path, MergeOptions{})
	if err != nil || st.From != 0 || st.Closed != 3 { // alice, bob and the first boot
		t.Fatalf("the rotated file: %+v %v", st, err)
	}
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(ctx, append(append([]utmp.Record(nil), old...), rotated...)); err != nil {
		t.Fatal(err)
	}
	if a, b := dump(t, s), dump(t, fresh); a != b {
		t.Fatalf("after the rotation:\n%s\nthe two files as one:\n%s", a, b)
	}
	// The old file, merged again at its new path, is as it was.
	if st, err := s.MergeFile(ctx, path+".1", MergeOptions{}); err != nil || !st.Unchanged {
		t.Fatalf("the old file at its new path: %+v %v", st, err)
	}

	// A file that begins before what the history holds of the path adopts
	// nothing: carol stays open.
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	writeWtmp(t, path, []utmp.Record{boot(50000), logout(50001, "pts/0", 12)})
	if st, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil || st.Closed != 0 {
		t.Fatalf("an older file: %+v %v", st, err)
	}
	if carol, _ := s.Sessions(ctx, Filter{User: "carol"}); len(carol) != 1 || !carol[0].Open() {
		t.Fatalf("carol: %+v", carol)
	}
}

// TestMergeRepeatedRecordAsItGrows: a login record repeated in a file is
// two sessions, as last shows them, whether the file is merged at once or
// as it grows: a record read later is never matched to a row of the same
// file's earlier records.
func TestMergeRepeatedRecordAsItGrows(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	recs := []utmp.Record{boot(100000), login(100001, "alice", "pts/0", "", 10), logout(100002, "pts/0", 10)}
	more := []utmp.Record{login(100001, "alice", "pts/0", "", 10), logout(100005, "pts/0", 10)}
	writeWtmp(t, path, recs)
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	appendWtmp(t, path, more...)
	if _, err := s.MergeFile(ctx, path, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := openTemp(t)
	if _, err := fresh.MergeRecords(ctx, append(recs, more...)); err != nil {
		t.Fatal(err)
	}
	a, b := dump(t, s), dump(t, fresh)
	if a != b || strings.Count(a, "alice") != 2 {
		t.Fatalf("merged as it grew:\n%s\nat once:\n%s", a, b)
	}
}

// TestMergeWritesRowsInStartOrder checks that a batch writes the sessions
// it closed in the order of their starts, which a listing reads them in:
// their ids ascend with their starts (the rows still open come after).
func TestMergeWritesRowsInStartOrder(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, busyWtmp(2000))
	if _, err := s.MergeFile(ctx, path, MergeOptions{Batch: 5000}); err != nil {
		t.Fatal(err)
	}
	last, n := int64(0), 0
	if err := s.EachSession(ctx, Filter{}, func(x Session) error {
		if x.Open() {
			return nil
		}
		if x.ID < last {
			t.Errorf("row %d (%v) listed after row %d", x.ID, x.Start, last)
		}
		last, n = x.ID, n+1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n < 500 {
		t.Fatalf("only %d closed sessions", n)
	}
}
