//go:build linux

package fleetdb

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// daemonProc runs a cimsessd command until the test ends (SIGINT, then
// SIGKILL after 10 s) and returns once a line of its output contains
// ready; its whole output is logged when the test fails.
func daemonProc(t *testing.T, name, ready string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(cimsessdBin, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	lines := make(chan string, 100)
	var log testenv.SyncBuffer
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintln(&log, sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, log.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%s exited:\n%s", name, log.String())
			}
			if strings.Contains(line, ready) {
				return cmd
			}
		case <-deadline:
			t.Fatalf("%s did not start:\n%s", name, log.String())
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hubAdd makes a fleet user's credentials with `cimsess hub add`.
func hubAdd(t *testing.T, dir, role, name string) string {
	t.Helper()
	out, err := exec.Command(cimsessBin, "hub", "add", role, name, "--data", dir).Output()
	if err != nil {
		t.Fatalf("cimsess hub add %s %s: %v", role, name, err)
	}
	return strings.TrimSpace(string(out))
}

// fullRow is a row of `cimsess history --db postgres://… -o json`.
type fullRow struct {
	Host, Class, LogonId, User, TTY, RemoteHost, Start, How, Status string
	End                                                             *string
	StatusChanges                                                   []struct{ From, To string }
}

// rowsOf returns the fleet history's rows of the test user on host.
func rowsOf(t *testing.T, db, host string) []fullRow {
	t.Helper()
	var rows []fullRow
	s := history(t, db, "--host", host, "--user", testenv.TestUser, "-o", "json")
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return rows
}

// rowOfLogin returns the rows of one login: those of the LogonId of the
// row of its terminal that started after the ssh client did (at most a
// second before: the record's time is the second's start in some
// places). A login's events must all meet in that one row.
func rowOfLogin(rows []fullRow, l *testenv.Login) []fullRow {
	id := ""
	for _, r := range rows {
		st, err := time.Parse(time.RFC3339Nano, r.Start)
		if r.TTY == l.Line() && r.Class == "Linux_LogonSession" && err == nil && !st.Before(l.Started.Add(-time.Second)) {
			id = r.LogonId
		}
	}
	var out []fullRow
	for _, r := range rows {
		if id != "" && r.LogonId == id && r.Class == "Linux_LogonSession" {
			out = append(out, r)
		}
	}
	return out
}

// countMoves returns how many sessions' starts moved.
func countMoves(t *testing.T, db string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM session_moves").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// utmpTime returns the time of the login's utmp record, as sshd wrote it.
func utmpTime(t *testing.T, l *testenv.Login) time.Time {
	t.Helper()
	var at time.Time
	_, err := utmp.ReadFile(context.Background(), utmp.DefaultPath, utmp.Native, func(r utmp.Record) error {
		if r.Type == utmp.UserProcess && (int(r.PID) == l.MonitorPID() || r.Line == l.Line()) {
			at = r.Time
		}
		return nil
	})
	if err != nil || at.IsZero() {
		t.Fatalf("no utmp record of the login (pid %d, %s): %v", l.MonitorPID(), l.Line(), err)
	}
	return at
}

// TestRealLoginsEndToEnd is the whole path with nothing played: real ssh
// logins of the test user (ssh -tt, through PAM, written to utmp by
// sshd) seen by `cimsess agent`, published to `cimsess hub`'s embedded
// NATS with the agent's own credentials, read by `cimsess collect` with a
// collector's credentials into PostgreSQL, then asked with `cimsess
// history --db postgres://…` and looked at in headless Chromium. A
// logout ends its row; a session whose sshd is killed with SIGKILL is a
// ghost ("Lost Comm"). Each login is exactly one row.
func TestRealLoginsEndToEnd(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh")
	db := newDB(t)
	sshd := testenv.StartSSHD(t)

	hubDir := filepath.Join(t.TempDir(), "hub")
	const host = "node-a.fleet.test"
	agentCreds := hubAdd(t, hubDir, "agent", host)
	collectorCreds := hubAdd(t, hubDir, "collector", "history")
	natsAddr := freeAddr(t)
	natsURL := "nats://" + natsAddr
	daemonProc(t, "hub", "hub: NATS with JetStream", "hub", "--data", hubDir, "--listen", natsAddr)
	daemonProc(t, "agent", "publishing to", "agent", "--nats", natsURL, "--creds", agentCreds,
		"--state", filepath.Join(t.TempDir(), "agent"), "--within", "500ms")
	users := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(users, "sec", []byte("sec-pw"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	base := collect(t, natsURL, db, users, "--creds", collectorCreds)

	l1 := sshd.Login(t, testenv.LoginOpts{TTY: true})
	l2 := sshd.Login(t, testenv.LoginOpts{TTY: true})
	t.Logf("logins on %s and %s", l1.Line(), l2.Line())
	// Each login is one row: the first events of a login may come before
	// sshd wrote its utmp record (the agent saw its processes), with an
	// earlier start; the row moves to the record's time.
	var rows []fullRow
	waitFor(t, 60*time.Second, "both logins as open rows", func() bool {
		rows = rowsOf(t, db, host)
		a, b := rowOfLogin(rows, l1), rowOfLogin(rows, l2)
		return len(a) == 1 && len(b) == 1 && a[0].End == nil && b[0].End == nil
	})
	for _, l := range []*testenv.Login{l1, l2} {
		r := rowOfLogin(rows, l)[0]
		logged := utmpTime(t, l)
		st, _ := time.Parse(time.RFC3339Nano, r.Start)
		if r.Host != host || r.User != testenv.TestUser || r.RemoteHost != "127.0.0.1" || st.Unix() != logged.Unix() {
			t.Errorf("row of the login on %s: %+v; utmp record at %s", l.Line(), r, logged.Format(time.RFC3339Nano))
		}
		if sid := l.SessionID(); sid != 0 && sid != 4294967295 && r.LogonId != strconv.FormatUint(uint64(sid), 10) {
			t.Errorf("row of the login on %s: LogonId %s, audit session %d", l.Line(), r.LogonId, sid)
		}
	}

	// A logout ends the row; a killed sshd makes a ghost.
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	l2.HoldTerminal(t) // so that no other test's login takes the ghost's line
	if err := l2.KillSSHD9(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the logout and the ghost in the rows", func() bool {
		rows = rowsOf(t, db, host)
		a, b := rowOfLogin(rows, l1), rowOfLogin(rows, l2)
		return len(a) == 1 && a[0].End != nil && len(b) == 1 && b[0].Status == "Lost Comm"
	})
	a, b := rowOfLogin(rows, l1)[0], rowOfLogin(rows, l2)[0]
	if a.How != "logout" || b.End != nil {
		t.Errorf("logout row %+v; ghost row %+v", a, b)
	}
	if n := len(b.StatusChanges); n == 0 || b.StatusChanges[n-1].To != "Lost Comm" {
		t.Errorf("ghost's status changes: %+v", b.StatusChanges)
	}
	// Who was on the host at the first login's start: both.
	at := history(t, db, "--host", host, "--at", a.Start, "--user", testenv.TestUser)
	if !strings.Contains(at, l1.Line()) {
		t.Errorf("--at %s:\n%s", a.Start, at)
	}
	if n := countMoves(t, db); n > 0 {
		t.Logf("%d session start(s) moved to the utmp record's time", n)
	}
	t.Logf("cimsess history --db postgres://… --host %s --user %s:\n%s", host, testenv.TestUser,
		history(t, db, "--host", host, "--user", testenv.TestUser))

	t.Run("timeline", func(t *testing.T) {
		ctx, cancel := browser(t, base, "sec:sec-pw")
		defer cancel()
		bars := waitBars(t, ctx, fmt.Sprintf(`[data-host=%q][data-user=%q]`, host, testenv.TestUser), 2)
		hows := map[string]bool{}
		for _, b := range bars {
			hows[b["how"]] = true
		}
		if !hows["logout"] || !hows["ghost"] {
			t.Errorf("bars of the logins: %v", bars)
		}
		// The last hour, so that the two short bars are wide enough to see.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-range="3600"]`))); err != nil {
			t.Fatal(err)
		}
		waitBars(t, ctx, fmt.Sprintf(`[data-host=%q][data-user=%q]`, host, testenv.TestUser), 2)
		screenshot(t, ctx, "timeline-real-logins.png")
	})
}
