//go:build unix

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

var wtmpT0 = time.Date(2026, 4, 5, 6, 0, 0, 0, time.UTC)

func wtmpRecs() []utmp.Record {
	return []utmp.Record{
		{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-test", Time: wtmpT0},
		{Type: utmp.UserProcess, PID: 100, Line: "pts/0", ID: "ts/0", User: "alice", Host: "192.0.2.7", Time: wtmpT0.Add(time.Minute)},
		{Type: utmp.DeadProcess, PID: 100, Line: "pts/0", ID: "ts/0", Time: wtmpT0.Add(5 * time.Minute)},
	}
}

// TestHistoryWtmpFailures checks that history fails as enum does when its
// wtmp is missing or not a regular file (a FIFO is not waited on), and
// warns of a truncated last record.
func TestHistoryWtmpFailures(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wtmp, want string
		code       int
	}{
		{filepath.Join(dir, "missing"), "CIM_ERR_NOT_FOUND: wtmp: open " + filepath.Join(dir, "missing") + ": no such file or directory", 4},
		{fifo, "is a named pipe (FIFO), not a regular file", 1},
		{"/dev/zero", "is a character device, not a regular file", 1},
	} {
		done := make(chan struct{})
		var stderr string
		var code int
		go func() {
			_, stderr, code = runCLI(t, "", "history", "--wtmp", tc.wtmp, "--db", db)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("history --wtmp %s does not return", tc.wtmp)
		}
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("history --wtmp %s: exit %d, %q; want exit %d, %q", tc.wtmp, code, stderr, tc.code, tc.want)
		}
	}

	// A partial last record: the whole records are shown, and a warning.
	wtmp := filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(wtmp, wtmpRecs(), utmp.Native); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(wtmp, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 100))
	f.Close()
	stdout, stderr, code := runCLI(t, "", "history", "--wtmp", wtmp, "--db", db)
	if code != 0 || !strings.Contains(stdout, "alice") || !strings.Contains(stderr, fmt.Sprintf("warning: wtmp %s: utmp: truncated record at byte %d: 100 of %d bytes", wtmp, 3*utmp.Native.Size, utmp.Native.Size)) {
		t.Errorf("truncated wtmp: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestForeignLayout checks that history and enum refuse a file of another
// machine's layout, naming it, and read it with --layout.
func TestForeignLayout(t *testing.T) {
	dir := t.TempDir()
	foreign := utmp.Layout400BE
	if utmp.Native == foreign {
		foreign = utmp.Layout384
	}
	file := filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(file, wtmpRecs(), foreign); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "h.db")
	_, stderr, code := runCLI(t, "", "history", "--wtmp", file, "--db", db)
	if code != 1 || !strings.Contains(stderr, "read it with --layout "+foreign.Name()) {
		t.Errorf("history of a %v file: exit %d %q", foreign, code, stderr)
	}
	stdout, stderr, code := runCLI(t, "", "history", "--wtmp", file, "--db", db, "--layout", foreign.Name())
	if code != 0 || !strings.Contains(stdout, "alice") {
		t.Errorf("history --layout %s: exit %d %s%s", foreign.Name(), code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "", "history", "--wtmp", file, "--db", db, "--layout", "392"); code != 2 {
		t.Errorf("--layout 392: exit %d %s", code, stderr)
	}
	if runtime.GOOS != "linux" {
		return
	}
	_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--utmp", file, "--proc", dir)
	if code == 0 || !strings.Contains(stderr, "read it with --layout "+foreign.Name()) {
		t.Errorf("enum of a %v file: exit %d %q", foreign, code, stderr)
	}
}

// TestHistoryTableEscapes checks that the history table writes control
// characters from wtmp escaped (a terminal title and clear, a newline
// that would split a row), that a user name that is not UTF-8 shows as
// enum shows it (U+FFFD for each byte that is not), and that it leaves
// every other row's columns as they are.
func TestHistoryTableEscapes(t *testing.T) {
	dir := t.TempDir()
	recs := wtmpRecs()
	recs = append(recs,
		utmp.Record{Type: utmp.UserProcess, PID: 200, Line: "pts/1", User: "eve\x1b]0;pwned\x07\x1b[2J", Host: "a\nb", Time: wtmpT0.Add(6 * time.Minute)},
		utmp.Record{Type: utmp.UserProcess, PID: 201, Line: "pts/2", User: "d\xe9j\xe0", Time: wtmpT0.Add(7 * time.Minute)})
	file := filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(file, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "", "history", "--wtmp", file, "--db", filepath.Join(dir, "h.db"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stdout, "\x1b\x07\t") || !strings.Contains(stdout, `eve\x1b]0;pwned\x07\x1b[2J`) || !strings.Contains(stdout, `a\x0ab`) || !strings.Contains(stdout, "d\uFFFDj\uFFFD") {
		t.Errorf("not escaped:\n%q", stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 5 { // header, boot, alice, eve, the non-UTF-8 user
		t.Fatalf("%d lines:\n%s", len(lines), stdout)
	}
	col := strings.Index(lines[0], "TTY")
	for _, l := range lines[1:3] {
		if len(l) < col || l[col-2:col] != "  " {
			t.Errorf("row out of its columns: %q (TTY at %d)", l, col)
		}
	}
}

// TestHistoryDurationAsLast: a session's length is that of the whole
// seconds shown beside it, as last(1) counts it: a login at 00:01:00.5 and
// a logout at 00:05:00.0 last 00:04, not 00:03.
func TestHistoryDurationAsLast(t *testing.T) {
	dir := t.TempDir()
	recs := []utmp.Record{
		{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-test", Time: wtmpT0},
		{Type: utmp.UserProcess, PID: 100, Line: "pts/0", ID: "ts/0", User: "alice", Time: wtmpT0.Add(time.Minute + 500*time.Millisecond)},
		{Type: utmp.DeadProcess, PID: 100, Line: "pts/0", ID: "ts/0", Time: wtmpT0.Add(5 * time.Minute)},
	}
	file := filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(file, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "", "history", "--wtmp", file, "--db", filepath.Join(dir, "h.db"))
	if code != 0 || !strings.Contains(stdout, "00:04") || strings.Contains(stdout, "00:03") {
		t.Errorf("exit %d: %s%s", code, stdout, stderr)
	}
}

// TestFleetDatabaseTakesNoHostSessions: a SQLite file that collect
// writes is read by history without this host's wtmp merged in (it used
// to be, and this host's logins were then taken for the fleet's), and
// record refuses to write into it.
func TestFleetDatabaseTakesNoHostSessions(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fleet.db")
	store, err := history.Open(context.Background(), db, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MarkFleet(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.Close()
	wtmp := filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(wtmp, wtmpRecs(), utmp.Native); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "", "history", "--wtmp", wtmp, "--db", db)
	if code != 0 || strings.Contains(stdout, "alice") || !strings.Contains(stderr, "is a fleet's history (collect writes it)") {
		t.Errorf("history of a fleet's database: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "", "record", "--wtmp", wtmp, "--db", db); code == 0 || !strings.Contains(stderr, "give this host's own --db") {
		t.Errorf("record into a fleet's database: exit %d, %s", code, stderr)
	}
}
