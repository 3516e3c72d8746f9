package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "history.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestBackfillIsIdempotentAndCloses(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	first := pairCases[1].recs // the boot, alice closed, bob open
	st, err := s.MergeRecords(ctx, first)
	if err != nil || st.Added != 3 {
		t.Fatalf("first backfill: %+v %v", st, err)
	}
	st, err = s.MergeRecords(ctx, first)
	if err != nil || st.Added != 0 || st.Closed != 0 {
		t.Fatalf("second backfill changed things: %+v %v", st, err)
	}
	// wtmp grows: bob logs out.
	grown := append(pairCases[1].recs[:len(pairCases[1].recs):len(pairCases[1].recs)], logout(50, "pts/1", 101))
	st, err = s.MergeRecords(ctx, grown)
	if err != nil || st.Added != 0 || st.Closed != 1 {
		t.Fatalf("grown backfill: %+v %v", st, err)
	}
	got, err := s.Sessions(ctx, Filter{User: "bob"})
	if err != nil || len(got) != 1 || !got[0].End.Equal(at(50)) || got[0].How != EndLogout {
		t.Fatalf("bob: %+v %v", got, err)
	}
}

func TestBeginAdoptsWtmpRowAndStatus(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.MergeRecords(ctx, pairCases[1].recs); err != nil {
		t.Fatal(err)
	}
	lt := uint32(10)
	id, err := s.Begin(ctx, Session{Class: "Linux_LogonSession", LogonID: "7", Path: `linux_logonsession.logonid="7"`, User: "bob", TTY: "pts/1",
		LogonType: &lt, PID: 101, Start: at(2).Add(800 * time.Millisecond), Status: "OK"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Begin(ctx, Session{Class: "Linux_LogonSession", LogonID: "7", Path: `linux_logonsession.logonid="7"`, User: "bob", TTY: "pts/1", Start: at(2)})
	if err != nil || again != id {
		t.Fatalf("second Begin: %d %v, want %d", again, err, id)
	}
	all, _ := s.Sessions(ctx, Filter{Classes: []string{"Linux_LogonSession"}})
	if len(all) != 2 {
		t.Fatalf("want 2 rows (alice from wtmp, bob adopted), got %+v", all)
	}
	if err := s.SetStatus(ctx, id, at(3), "Lost Comm"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, id, at(4), "Lost Comm"); err != nil {
		t.Fatal(err)
	}
	ch, err := s.StatusChanges(ctx, id)
	if err != nil || len(ch) != 1 || ch[0].From != "OK" || ch[0].To != "Lost Comm" {
		t.Fatalf("status changes %+v %v", ch, err)
	}
	if err := s.Finish(ctx, id, at(9), EndGhost); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, id, at(10), EndLogout); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Sessions(ctx, Filter{User: "bob"})
	if len(got) != 1 || got[0].How != EndGhost || !got[0].End.Equal(at(9)) || got[0].Source != SourceLive || *got[0].LogonType != 10 {
		t.Fatalf("bob: %+v", got)
	}
}

// TestUpdateFillsInNeverErases follows one login as the Linux provider
// sees it: first through /proc (no terminal, start to the second), then
// with its utmp record, then at logout with the record gone but processes
// left. The row gains the terminal and utmp's start and keeps both.
func TestUpdateFillsInNeverErases(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	path := `linux_logonsession.logonid="9"`
	procStart := at(5).Truncate(time.Second)
	utmpStart := at(5).Add(700 * time.Millisecond)
	id, err := s.Begin(ctx, Session{Class: "Linux_LogonSession", LogonID: "9", Path: path, User: "carol", PID: 300, Start: procStart})
	if err != nil {
		t.Fatal(err)
	}
	lt := uint32(10)
	steps := []Session{
		{User: "carol", TTY: "pts/4", RemoteHost: "192.0.2.9", LogonType: &lt, PID: 300, Start: utmpStart},
		{User: "carol", PID: 0, Start: procStart}, // logout: utmp record gone, leader gone
	}
	for i, st := range steps {
		if err := s.Update(ctx, id, st); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Sessions(ctx, Filter{User: "carol"})
		if len(got) != 1 || got[0].TTY != "pts/4" || got[0].RemoteHost != "192.0.2.9" || got[0].PID != 300 ||
			got[0].LogonType == nil || *got[0].LogonType != 10 || !got[0].Start.Equal(utmpStart) {
			t.Fatalf("after step %d: %+v", i, got)
		}
	}
}

func TestFilter(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.MergeRecords(ctx, busyWtmp(300)); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Sessions(ctx, Filter{})
	since, until := at(600), at(900)
	win, _ := s.Sessions(ctx, Filter{Since: since, Until: until})
	n := 0
	for _, x := range all {
		if !x.Start.After(until) && (x.Open() || !x.End.Before(since)) {
			n++
		}
	}
	if n == 0 || len(win) != n {
		t.Fatalf("window: %d sessions, want %d (of %d)", len(win), n, len(all))
	}
	if got, _ := s.Sessions(ctx, Filter{Classes: []string{"win32_serversession"}}); len(got) != 0 {
		t.Fatalf("class filter: %d", len(got))
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	lcs := busyWtmp(300)
	if _, err := s.MergeRecords(ctx, lcs); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Sessions(ctx, Filter{})
	now := at(3000)
	n, err := s.Prune(ctx, now, 2000*time.Minute, 50)
	if err != nil || n == 0 {
		t.Fatalf("prune: %d %v", n, err)
	}
	left, _ := s.Sessions(ctx, Filter{})
	if len(left) > 50 || len(left) != len(all)-n {
		t.Fatalf("after prune %d rows (deleted %d of %d)", len(left), n, len(all))
	}
	for _, x := range left {
		if !x.Open() && x.End.Before(now.Add(-2000*time.Minute)) {
			t.Fatalf("kept an old session %+v", x)
		}
	}
	// A new backfill of the same wtmp does not bring pruned rows back.
	st, err := s.MergeRecords(ctx, lcs)
	if err != nil || st.Added != 0 {
		t.Fatalf("backfill after prune: %+v %v", st, err)
	}
}

func TestBadPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("this is not sqlite\n", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	for name, path := range map[string]string{
		"corrupt":        corrupt,
		"parent-is-file": filepath.Join(notDir, "history.db"),
		"dir":            dir,
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, path, Options{})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			var ce *cim.Error
			if !errors.As(err, &ce) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("want a one-line *cim.Error, got %T %q", err, err)
			}
			t.Log(err)
		})
	}
	if _, err := Open(ctx, filepath.Join(dir, "missing.db"), Options{ReadOnly: true}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Fatalf("read-only missing: %v", err)
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.MergeRecords(ctx, pairCases[0].recs)
	s.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := ro.Sessions(ctx, Filter{})
	if err != nil || len(got) != 2 { // the boot and alice
		t.Fatalf("%+v %v", got, err)
	}
}

// TestOpenConcurrentCreate checks that processes creating the same new
// history at once all succeed (an admin's first history racing the record
// service on first boot): each opens its own connection, as a process
// does.
func TestOpenConcurrentCreate(t *testing.T) {
	for round := 0; round < 5; round++ {
		path := filepath.Join(t.TempDir(), "h.db")
		errs := make(chan error, 4)
		for i := 0; i < cap(errs); i++ {
			go func() {
				s, err := Open(context.Background(), path, Options{})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < cap(errs); i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// TestOpenCreatesPrivateAndRefusesSymlink checks that a new history is
// created 0600 and that a symbolic link planted at its path is refused,
// its target left untouched.
func TestOpenCreatesPrivateAndRefusesSymlink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new database mode: %v %v", fi.Mode(), err)
	}
	target := filepath.Join(dir, "victim")
	link := filepath.Join(dir, "planted.db")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, err := Open(ctx, link, Options{}); cim.CodeOf(err) != cim.ErrAccessDenied || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("planted symlink: %v", err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created: %v", err)
	}
}

// TestEachSessionOrder checks that sessions are listed by start and then
// by row id, also where many share a start on terminals and users in
// another order, and with a filter.
func TestEachSessionOrder(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	ins := func(user, tty string, start int64) {
		if _, err := s.db.Exec(`INSERT INTO sessions(class, user, tty, start_us, source) VALUES('Linux_LogonSession', ?, ?, ?, 'wtmp')`, user, tty, start); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 40; i++ {
		// Later rows sort first by terminal and user.
		ins(fmt.Sprintf("u%02d", 40-i), fmt.Sprintf("pts/%02d", 40-i), int64(1000+i%3)) // groups of 13-14 starts alike
		ins("z", "tty1", int64(2000+i))                                                 // one each
		ins(fmt.Sprintf("u%02d", 9-i%10), "pts/0", 3000)                                // a group of 40
		ins("zero", fmt.Sprintf("pts/%d", 9-i%5), 0)                                    // no time, a group of 40
		if i < 5 {
			ins("w", fmt.Sprintf("pts/%d", 5-i), 4000) // a group of 5
		}
	}
	for _, f := range []Filter{{}, {User: "z"}, {Until: time.UnixMicro(2010)}} {
		var got []int64
		if err := s.EachSession(ctx, f, func(x Session) error {
			got = append(got, x.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		q := `SELECT id FROM sessions ORDER BY start_us, id`
		var args []any
		switch {
		case f.User != "":
			q, args = `SELECT id FROM sessions WHERE user = ? ORDER BY start_us, id`, []any{f.User}
		case !f.Until.IsZero():
			q, args = `SELECT id FROM sessions WHERE start_us <= ? ORDER BY start_us, id`, []any{int64(2010)}
		}
		rows, err := s.db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			want = append(want, id)
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("filter %+v:\n got %v\nwant %v", f, got, want)
		}
	}
}

// TestListingNeedsNoSort checks that the listing's order (start, then
// row id) is the index's own: SQLite sorts nothing, so a listing's memory
// does not grow with the sessions that share a start.
func TestListingNeedsNoSort(t *testing.T) {
	s := openTemp(t)
	for _, where := range []string{"1", "user = 'u' AND 1", "(end_us IS NULL OR end_us >= 1) AND start_us <= 2 AND 1"} {
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT ` + sessionCols + ` FROM sessions WHERE ` + where + ` ORDER BY start_us, id`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "USING INDEX sessions_start") {
			t.Errorf("WHERE %s: plan %s", where, p)
		}
	}
}

// TestInterner checks that the interner gives each column's bytes back
// as they are, whether they repeat the row before's, one seen earlier in
// another column, or are new; and that it has a place for every column.
func TestInterner(t *testing.T) {
	if n := strings.Count(sessionCols, ",") + 1; n != numSessionCols {
		t.Fatalf("sessionCols names %d columns, numSessionCols says %d", n, numSessionCols)
	}
	var in interner
	for i, c := range []struct {
		col  int
		text string
	}{
		{1, "Linux_LogonSession"}, {1, "Linux_LogonSession"}, {4, "alice"}, {4, "bob"}, {4, "alice"},
		{5, "alice"}, {4, ""}, {4, "alice"}, {11, "logout"}, {11, "crash"}, {11, "logout"},
	} {
		b := []byte(c.text)
		got := in.str(c.col, b)
		for k := range b {
			b[k] = 'X' // the bytes are SQLite's, overwritten by the next row
		}
		if got != c.text {
			t.Fatalf("%d: %q, want %q", i, got, c.text)
		}
	}
	// A column of values that do not repeat stops being looked up (and
	// adding to the map); its values are still returned as they are, and
	// the other columns are still looked up.
	seen := len(in.seen)
	for i := range 2 * internTries {
		host := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		if got := in.str(6, []byte(host)); got != host {
			t.Fatalf("host %d: %q, want %q", i, got, host)
		}
	}
	if in.misses[6] != internMisses || len(in.seen) != seen+internMisses {
		t.Errorf("after %d distinct hosts: %d misses, %d strings kept; want %d and %d", 2*internTries, in.misses[6], len(in.seen), internMisses, seen+internMisses)
	}
	if got := in.str(4, []byte("carol")); got != "carol" || in.seen["carol"] != "carol" {
		t.Errorf("user carol: %q, kept %q: the user column is still looked up", got, in.seen["carol"])
	}
}
