//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// historyRow is one session of `cimsess history --output json`.
type historyRow struct {
	Class, LogonId, User, TTY, RemoteHost string
	Start                                 time.Time
	End                                   *time.Time
	How, Status, Source                   string
}

func runHistory(t *testing.T, bin string, args ...string) []historyRow {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"history", "--output", "json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cimsess history %v: %v: %s", args, err, stderr.String())
	}
	var rows []historyRow
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("cimsess history output is not JSON: %v: %s", err, out)
	}
	return rows
}

func agree(t *testing.T, got []historyRow, want []testenv.LastSession) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("cimsess history has %d sessions, last %d:\n%+v\n%+v", len(got), len(want), got, want)
	}
	for i, w := range want {
		g := got[i]
		ok := g.User == w.User && g.TTY == w.Line && g.RemoteHost == w.Host && g.Start.Unix() == w.Start.Unix() && g.How == w.How
		switch {
		case !ok:
		case w.How == "", w.How == "gone-no-logout":
			ok = g.End == nil
		case w.How == "logout":
			ok = g.End != nil && g.End.Unix() == w.End.Unix()
		default: // crash, shutdown: last prints the length only
			ok = g.End != nil && testenv.LastLength(g.End.Truncate(time.Second).Sub(g.Start.Truncate(time.Second))) == w.Length
		}
		if !ok {
			t.Errorf("#%d: cimsess %s %s %q %v–%v %q; last %s %s %q %v–%v %q %s", i, g.User, g.TTY, g.RemoteHost, g.Start, g.End, g.How,
				w.User, w.Line, w.Host, w.Start, w.End, w.How, w.Length)
		}
	}
}

var wt0 = time.Date(2026, 4, 5, 6, 0, 0, 0, time.UTC)

func wrec(typ utmp.Type, min int, user, line, host string, pid int32) utmp.Record {
	id := line
	if len(id) > 4 {
		id = id[len(id)-4:]
	}
	return utmp.Record{Type: typ, PID: pid, Line: line, ID: id, User: user, Host: host, Time: wt0.Add(time.Duration(min)*time.Minute + 250*time.Millisecond)}
}

// TestHistoryAgreesWithLast backfills `cimsess history` from wtmp files
// the test writes (logins, logouts, line reuse, reboots, shutdowns,
// crashes, a truncated last record) and checks that it reports the same
// sessions, with the same start and end, as util-linux `last -f FILE`.
func TestHistoryAgreesWithLast(t *testing.T) {
	bin := buildCimsess(t)
	dir := t.TempDir()
	boot := func(min int) utmp.Record { return wrec(utmp.BootTime, min, "reboot", "~", "6.1.0-test", 0) }
	down := func(min int) utmp.Record { return wrec(utmp.RunLevel, min, "shutdown", "~", "6.1.0-test", 0) }
	in := func(min int, user, line, host string, pid int32) utmp.Record {
		return wrec(utmp.UserProcess, min, user, line, host, pid)
	}
	out := func(min int, line string, pid int32) utmp.Record {
		return wrec(utmp.DeadProcess, min, "", line, "", pid)
	}
	files := map[string][]utmp.Record{
		"logins": {boot(0), in(1, "alice", "pts/0", "192.0.2.7", 100), in(2, "bob", "tty1", "", 101), out(50, "pts/0", 100),
			in(51, "alice", "pts/0", "2001:db8::5", 102), out(52, "pts/0", 102), in(53, "carol", "pts/1", "host.example", 103)},
		"reboots": {boot(0), in(1, "alice", "pts/0", "192.0.2.7", 100), down(120), boot(122), in(130, "bob", "pts/0", "192.0.2.8", 200),
			out(135, "pts/0", 200), in(140, "carol", "pts/1", "", 201), boot(3000), in(3001, "dave", "tty1", "", 5)},
		"crashes": {boot(0), in(1, "alice", "pts/0", "", 100), in(2, "bob", "pts/1", "", 101), boot(90),
			in(95, "alice", "pts/0", "", 300), in(100, "alice", "pts/0", "", 301), boot(2000)},
	}
	for name, recs := range files {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if err := utmp.WriteFile(file, recs, utmp.Native); err != nil {
				t.Fatal(err)
			}
			got := runHistory(t, bin, "--wtmp", file, "--db", filepath.Join(dir, name+".db"))
			agree(t, got, testenv.RunLast(t, file))
			// A second run merges the same wtmp again and changes nothing.
			again := runHistory(t, bin, "--wtmp", file, "--db", filepath.Join(dir, name+".db"))
			if len(again) != len(got) {
				t.Fatalf("second run: %d sessions, first %d", len(again), len(got))
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		// A crash in the middle of a write leaves a partial record. last
		// reads records back from the end of the file, so that a partial
		// tail misaligns every record (it then lists nothing sensible);
		// cimsess keeps every whole record, as glibc does. So cimsess on
		// the truncated file must agree with last on its whole records.
		whole := filepath.Join(dir, "whole")
		if err := utmp.WriteFile(whole, files["logins"], utmp.Native); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(whole)
		partial := utmp.Encode(in(60, "eve", "pts/2", "", 104), utmp.Native)[:200]
		truncated := filepath.Join(dir, "truncated")
		if err := os.WriteFile(truncated, append(data, partial...), 0o644); err != nil {
			t.Fatal(err)
		}
		got := runHistory(t, bin, "--wtmp", truncated, "--db", filepath.Join(dir, "truncated.db"))
		agree(t, got, testenv.RunLast(t, whole))
	})
	t.Run("filters", func(t *testing.T) {
		db := filepath.Join(dir, "logins.db")
		got := runHistory(t, bin, "--wtmp", "-", "--db", db, "--user", "alice", "--since", wt0.Add(51*time.Minute).Format(time.RFC3339))
		if len(got) != 1 || got[0].TTY != "pts/0" || got[0].RemoteHost != "2001:db8::5" {
			t.Fatalf("alice since 06:51: %+v", got)
		}
		got = runHistory(t, bin, "--wtmp", "-", "--db", db, "--class", "Win32_ServerSession")
		if len(got) != 0 {
			t.Fatalf("Win32_ServerSession: %+v", got)
		}
		cmd := exec.Command(bin, "history", "--wtmp", "-", "--db", db, "--output", "csv")
		csvOut, err := cmd.Output()
		if err != nil || strings.Count(string(csvOut), "\n") != 6 || !strings.HasPrefix(string(csvOut), "Class,LogonId,User") {
			t.Fatalf("csv: %v %q", err, csvOut)
		}
	})
}

// TestHistoryBadPaths checks that bad history paths give one clear line
// and a non-zero exit, never a panic.
func TestHistoryBadPaths(t *testing.T) {
	bin := buildCimsess(t)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	os.WriteFile(corrupt, []byte(strings.Repeat("garbage, not SQLite\n", 300)), 0o644)
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, db := range []string{corrupt, filepath.Join(file, "h.db"), dir} {
		for _, verb := range []string{"history", "record"} {
			cmd := exec.Command(bin, verb, "--db", db, "--wtmp", "-")
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if !ok || ee.ExitCode() == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "cimsess: CIM_ERR_") || strings.Contains(string(out), "panic") {
				t.Errorf("%s --db %s: %v: %q", verb, db, err, out)
			}
		}
	}
}

// recorder runs `cimsess record` and can kill it with SIGKILL.
type recorder struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	log   strings.Builder
	ready chan struct{}
	done  chan struct{}
}

func startRecorder(t *testing.T, bin string, args ...string) *recorder {
	t.Helper()
	r := &recorder{ready: make(chan struct{}), done: make(chan struct{})}
	r.cmd = exec.Command(bin, append([]string{"record"}, args...)...)
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if strings.Contains(sc.Text(), "recording into") {
				once.Do(func() { close(r.ready) })
			}
		}
		_ = r.cmd.Wait()
	}()
	t.Cleanup(func() { r.kill() })
	select {
	case <-r.ready:
	case <-r.done:
		t.Fatalf("cimsess record ended: %s", r.text())
	case <-time.After(30 * time.Second):
		t.Fatalf("cimsess record not ready: %s", r.text())
	}
	return r
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

func (r *recorder) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// sessionsOf reads the history database directly.
func sessionsOf(t *testing.T, db string) []history.Session {
	t.Helper()
	s, err := history.Open(context.Background(), db, history.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Sessions(context.Background(), history.Filter{User: testenv.TestUser})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wtmpLogin returns the time of the login's USER_PROCESS record in wtmp
// (sshd writes the privileged monitor's pid into it).
func wtmpLogin(t *testing.T, l *testenv.Login) time.Time {
	t.Helper()
	var at time.Time
	_, err := utmp.ReadFile(context.Background(), utmp.DefaultWtmpPath, utmp.Native, func(r utmp.Record) error {
		if r.Type == utmp.UserProcess && int(r.PID) == l.MonitorPID() && r.Line == l.Line() {
			at = r.Time
		}
		return nil
	})
	if err != nil || at.IsZero() {
		t.Fatalf("no wtmp login record with pid %d on %s: %v", l.MonitorPID(), l.Line(), err)
	}
	return at
}

// findSession returns the row of the session that logged in on tty at
// about start.
func findSession(rows []history.Session, tty string, start time.Time) (history.Session, bool) {
	best, found := time.Duration(-1), history.Session{}
	for _, r := range rows {
		d := r.Start.Sub(start)
		if d < 0 {
			d = -d
		}
		if r.TTY == tty && d <= 2*time.Second && (best < 0 || d < best) {
			best, found = d, r
		}
	}
	return found, best >= 0
}

func waitSession(t *testing.T, db, what string, cond func([]history.Session) bool, rec *recorder) []history.Session {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows := sessionsOf(t, db)
		if cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; history: %+v\nrecorder: %s", what, rows, rec.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRecorderCrashSafety runs `cimsess record` while real ssh logins
// come and go, kills it with SIGKILL, lets sessions end and begin while it
// is down, restarts it and checks that every session is in the history
// with its right end.
func TestRecorderCrashSafety(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh")
	sshd := testenv.StartSSHD(t)
	bin := buildCimsess(t)
	db := filepath.Join(t.TempDir(), "history.db")
	args := []string{"--db", db, "--within", "200ms"}

	rec := startRecorder(t, bin, args...)
	a := sshd.Login(t, testenv.LoginOpts{TTY: true})
	b := sshd.Login(t, testenv.LoginOpts{TTY: true})
	at := map[*testenv.Login]time.Time{a: wtmpLogin(t, a), b: wtmpLogin(t, b)}
	waitSession(t, db, "a and b recorded live", func(rows []history.Session) bool {
		ra, okA := findSession(rows, a.Line(), at[a])
		rb, okB := findSession(rows, b.Line(), at[b])
		return okA && okB && ra.Source == history.SourceLive && rb.Source == history.SourceLive
	}, rec)
	// A quick login and logout while the recorder runs: without change
	// notifications a rescan may miss it, and then wtmp has it at restart.
	q := sshd.Login(t, testenv.LoginOpts{TTY: true})
	at[q] = wtmpLogin(t, q)
	qOut0 := time.Now()
	q.Close()
	qOut1 := time.Now()

	// Kill the recorder in the middle of things.
	rec.kill()
	aOut0 := time.Now()
	a.Close() // a ends while the recorder is down
	aOut1 := time.Now()
	c := sshd.Login(t, testenv.LoginOpts{TTY: true}) // c comes and goes while it is down
	at[c] = wtmpLogin(t, c)
	cOut0 := time.Now()
	c.Close()
	cOut1 := time.Now()
	d := sshd.Login(t, testenv.LoginOpts{TTY: true}) // d comes while it is down and stays
	at[d] = wtmpLogin(t, d)

	rec = startRecorder(t, bin, args...)
	rows := sessionsOf(t, db)
	check := func(name string, l *testenv.Login, open bool, how history.End, from, to time.Time) {
		t.Helper()
		r, ok := findSession(rows, l.Line(), at[l])
		if !ok {
			t.Errorf("%s (%s) is not in the history: %+v", name, l.Line(), rows)
			return
		}
		if r.Open() != open || (!open && (r.How != how || r.End.Before(from.Add(-time.Second)) || r.End.After(to.Add(time.Second)))) {
			t.Errorf("%s: %+v; want open=%v how=%q end in [%v, %v]", name, r, open, how, from, to)
		}
	}
	// q was seen live, or not: it was killed in the middle of things.
	if r, ok := findSession(rows, q.Line(), at[q]); ok && r.How == history.EndGone {
		check("q", q, false, history.EndGone, qOut0, qOut1)
	} else {
		check("q", q, false, history.EndLogout, qOut0, qOut1)
	}
	// a's logout is in wtmp: the merge at restart closes it as a logout
	// at that second, as last shows it (not "seen gone").
	check("a", a, false, history.EndLogout, aOut0, aOut1)
	check("b", b, true, "", time.Time{}, time.Time{})
	check("c", c, false, history.EndLogout, cOut0, cOut1)
	check("d", d, true, "", time.Time{}, time.Time{})

	// After the restart, live recording goes on: b and d log out.
	bOut0 := time.Now()
	b.Close()
	d.Close()
	dOut1 := time.Now()
	rows = waitSession(t, db, "b and d's logouts", func(rows []history.Session) bool {
		rb, okB := findSession(rows, b.Line(), at[b])
		rd, okD := findSession(rows, d.Line(), at[d])
		return okB && okD && !rb.Open() && !rd.Open()
	}, rec)
	check("b after restart", b, false, history.EndLogout, bOut0, dOut1.Add(time.Second))
	check("d after restart", d, false, history.EndLogout, bOut0, dOut1.Add(time.Second))
}

// TestHistoryForAnOrdinaryUser: a user who may neither write nor read the
// history database is told so and what to do, not that it "cannot be
// opened for writing" with SQLite's error number; so with the server's
// users file and the hub's data directory.
func TestHistoryForAnOrdinaryUser(t *testing.T) {
	if os.Geteuid() != 0 {
		if testenv.InCI() {
			t.Fatal("running a command as another user needs root")
		}
		t.Skip("running a command as another user needs root")
	}
	dir, err := os.MkdirTemp("", "cimsess-private-") // 0700, root's
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "history.db")
	if out, err := exec.Command(cimsessBin, "history", "--db", db, "--wtmp", "-").CombinedOutput(); err != nil {
		t.Fatalf("as root: %v: %s", err, out)
	}
	// So are the server's users file and the hub's data directory.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--db", db, "--wtmp", "-"}, "may neither write nor read it; run as root, or give a database of your own: cimsess history --db ~/sessions.db"},
		{[]string{"serve", "--users", filepath.Join(dir, "users")}, "this user may not read it; run as its owner, or give --users FILE of your own"},
		{[]string{"hub", "--data", filepath.Join(dir, "hub")}, "cannot be made (give --data DIR that this user may write)"},
	} {
		out, err := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", cimsessBin}, c.args...)...).CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 5 || !strings.Contains(string(out), c.want) {
			t.Errorf("%s as nobody: %v: %s", c.args[0], err, out)
		}
	}
}
