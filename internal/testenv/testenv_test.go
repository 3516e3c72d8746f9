package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var updateSample = flag.Bool("update-sample", false, "rewrite testdata/smbstatus-sample.json from a live smbd")

// recorder stands in for testing.TB to see whether a helper skips or fails.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestInCI(t *testing.T) {
	for _, tc := range []struct {
		val  string
		want bool
	}{
		{"", false}, {"true", true}, {"TRUE", true}, {"1", true}, {" true ", true},
		{"0", false}, {"false", false}, {"yes", false},
	} {
		t.Run(fmt.Sprintf("%q", tc.val), func(t *testing.T) {
			t.Setenv("CI", tc.val)
			if got := InCI(); got != tc.want {
				t.Errorf("InCI() with CI=%q = %v, want %v", tc.val, got, tc.want)
			}
		})
	}
}

func TestRequireTool(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ci          string
		tools       []string
		skip, fatal bool
	}{
		{"present", "", []string{"sh"}, false, false},
		{"present in CI", "true", []string{"sh"}, false, false},
		{"missing", "", []string{"sh", "cimsess-no-such-tool"}, true, false},
		{"missing in CI", "true", []string{"cimsess-no-such-tool"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			RequireTool(r, tc.tools...)
			if r.skipped != tc.skip || r.failed != tc.fatal {
				t.Errorf("skipped=%v failed=%v, want %v %v", r.skipped, r.failed, tc.skip, tc.fatal)
			}
		})
	}
}

func TestRequireRoot(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		RequireRoot(r)
		root := os.Geteuid() == 0
		if root && (r.skipped || r.failed) {
			t.Errorf("CI=%q: root was refused", ci)
		}
		if !root && (r.skipped == (ci == "true") || r.failed != (ci == "true")) {
			t.Errorf("CI=%q: skipped=%v failed=%v", ci, r.skipped, r.failed)
		}
	}
}

func TestLookToolSbin(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	for _, name := range []string{"sshd", "smbd"} {
		if _, err := os.Stat(filepath.Join("/usr/sbin", name)); err != nil {
			continue
		}
		if p, err := LookTool(name); err != nil || p != filepath.Join("/usr/sbin", name) {
			t.Errorf("LookTool(%q) = %q, %v", name, p, err)
		}
	}
	if _, err := LookTool("cimsess-no-such-tool"); err == nil {
		t.Error("LookTool found a tool that does not exist")
	}
}

// TestSSHDLogins checks, against a real sshd, what the session providers rely on.
func TestSSHDLogins(t *testing.T) {
	s := StartSSHD(t)
	if s.User() != TestUser || s.Port() <= 0 {
		t.Fatalf("User()=%q Port()=%d", s.User(), s.Port())
	}

	tty := s.Login(t, LoginOpts{TTY: true})
	if !strings.HasPrefix(tty.Line(), "pts/") {
		t.Errorf("tty login line = %q, want pts/N", tty.Line())
	}
	rec, err := tty.WaitUtmp(UtmpUserProcess, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rec.User != TestUser || rec.Line != tty.Line() || rec.Host != "127.0.0.1" {
		t.Errorf("utmp record = %+v, want user %s line %s host 127.0.0.1", rec, TestUser, tty.Line())
	}
	t.Logf("tty login: monitor %d, sshd %d, shell %d, sessionid %d, utmp %+v",
		tty.MonitorPID(), tty.SSHDPID(), tty.ShellPID(), tty.SessionID(), rec)
	if tty.SessionID() == UnsetSessionID || tty.SessionID() == 0 {
		t.Errorf("tty login has no audit session id (%d)", tty.SessionID())
	}
	for _, pid := range []int{tty.MonitorPID(), tty.SSHDPID(), tty.ShellPID()} {
		if sid, ok := readSessionID(pid); !ok || sid != tty.SessionID() {
			t.Errorf("process %d has sessionid %d, want %d", pid, sid, tty.SessionID())
		}
	}
	if tty.Started.IsZero() || time.Since(tty.Started) > time.Minute {
		t.Errorf("Started = %v", tty.Started)
	}

	notty := s.Login(t, LoginOpts{Command: "sleep 30"})
	if notty.Line() != "" {
		t.Errorf("no-tty login line = %q", notty.Line())
	}
	if notty.SessionID() == UnsetSessionID || notty.SessionID() == tty.SessionID() {
		t.Errorf("no-tty login sessionid %d, tty login's %d: want a fresh one", notty.SessionID(), tty.SessionID())
	}
	// The leader is the user's shell until it execs the command: same pid.
	var leader procInfo
	if !waitUntil(5*time.Second, 20*time.Millisecond, func() bool {
		leader, _ = readProc(notty.ShellPID())
		return strings.HasPrefix(leader.Cmdline, "sleep 30")
	}) {
		t.Errorf("no-tty leader = %+v, want sleep 30", leader)
	}
	if _, ok := notty.UtmpEntry(); ok {
		t.Errorf("no-tty login has a utmp record")
	}

	// Normal logout: sshd writes DEAD_PROCESS and every process goes.
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, err := tty.WaitUtmp(UtmpDeadProcess, 5*time.Second); err != nil {
		t.Error(err)
	} else if rec.User != "" {
		t.Errorf("dead record keeps user %q", rec.User)
	}
	if err := notty.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(notty.ShellPID()) || alive(notty.MonitorPID()) {
		t.Error("no-tty session still alive after Close")
	}

	// A command that is a shell script: Close ends its children too.
	script := s.Login(t, LoginOpts{Command: "sleep 30; true"})
	start := time.Now()
	if err := script.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close of a script took %v", d)
	}
}

// TestSSHDGhost makes a ghost: the utmp record stays USER_PROCESS, its pid gone.
func TestSSHDGhost(t *testing.T) {
	s := StartSSHD(t)
	l := s.Login(t, LoginOpts{TTY: true})
	sid := l.SessionID()
	if err := l.KillSSHD9(); err != nil {
		t.Fatal(err)
	}
	rec, ok := l.UtmpEntry()
	if !ok || rec.Type != UtmpUserProcess || rec.User != TestUser {
		t.Fatalf("after kill -9: utmp record %+v (found %v), want USER_PROCESS of %s", rec, ok, TestUser)
	}
	if alive(int(rec.PID)) {
		t.Errorf("ghost record's pid %d is alive", rec.PID)
	}
	if pids := pidsWithSessionID(listProcs(), sid); len(pids) != 0 {
		t.Errorf("processes %v still carry sessionid %d", pids, sid)
	}
	// The harness's cleanup closes the ghost's record.
	l.cleanup()
	if rec, ok := l.UtmpEntry(); !ok || rec.Type != UtmpDeadProcess {
		t.Errorf("after cleanup: %+v (found %v), want DEAD_PROCESS", rec, ok)
	}
}

// TestSSHDKillChild records what happens when only the unprivileged
// "sshd: user@pts/N" process is killed: the privileged monitor survives it
// and logs the session out, so this is no ghost.
func TestSSHDKillChild(t *testing.T) {
	s := StartSSHD(t)
	l := s.Login(t, LoginOpts{TTY: true})
	signalPIDs(syscall.SIGKILL, l.SSHDPID())
	if _, err := l.WaitUtmp(UtmpDeadProcess, 5*time.Second); err != nil {
		t.Errorf("monitor did not write DEAD_PROCESS after its child was killed: %v", err)
	}
	if !waitGone(5*time.Second, l.MonitorPID(), l.ShellPID()) {
		t.Error("session outlived its sshd child")
	}
}

// TestSMBD checks a real smbd and smbclient against smbstatus --json.
func TestSMBD(t *testing.T) {
	s := StartSMBD(t)
	if s.User() != TestUser || s.Share() != SMBShare || s.Port() <= 0 || s.Conf() == "" {
		t.Fatalf("User %q Share %q Port %d Conf %q", s.User(), s.Share(), s.Port(), s.Conf())
	}
	c1 := s.Connect(t)
	c2 := s.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseSMBStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*SMBClient{c1, c2} {
		sess, ok := st.sessionFrom(c.LocalPort())
		if !ok {
			t.Fatalf("no session from port %d in %s", c.LocalPort(), out)
		}
		if sess.Username != TestUser || sess.SessionID != c.SessionID() || fmt.Sprint(c.ServerPID()) != sess.ServerID.PID {
			t.Errorf("session %+v, client id %s server %d", sess, c.SessionID(), c.ServerPID())
		}
		if !st.hasTcon(sess.SessionID, SMBShare) || !st.hasOpen(sess.ServerID.PID, SMBFile) {
			t.Errorf("session %s lacks its tcon or open file: %s", sess.SessionID, out)
		}
	}
	if c1.SessionID() == c2.SessionID() || c1.ServerPID() == c2.ServerPID() {
		t.Errorf("two clients share session %s / smbd %d", c1.SessionID(), c1.ServerPID())
	}
	if *updateSample {
		writeSample(t, s, out)
	}

	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	gone := waitUntil(10*time.Second, 100*time.Millisecond, func() bool {
		out, err := s.Status(ctx)
		if err != nil {
			return false
		}
		st, err := parseSMBStatus(out)
		if err != nil {
			return false
		}
		_, still := st.sessionFrom(c1.LocalPort())
		_, other := st.sessionFrom(c2.LocalPort())
		return !still && other
	})
	if !gone {
		t.Error("closed client's session still in smbstatus, or the other one vanished")
	}
}

// writeSample stores the live smbstatus JSON, indented, with the server's
// temporary directory replaced so no machine path is committed.
func writeSample(t *testing.T, s *SMBD, out []byte) {
	t.Helper()
	out = bytes.ReplaceAll(out, []byte(s.dir), []byte("/srv/cimsess"))
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	if err := os.WriteFile(filepath.Join("testdata", "smbstatus-sample.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSMBStatusSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "smbstatus-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseSMBStatus(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sessions) == 0 || len(st.Tcons) == 0 || len(st.OpenFiles) == 0 {
		t.Fatalf("sample lacks sessions, tcons or open files: %+v", st)
	}
	for _, sess := range st.Sessions {
		if sess.Username != TestUser || !strings.HasPrefix(sess.Hostname, "ipv4:127.0.0.1:") {
			t.Errorf("sample session %+v", sess)
		}
		if !st.hasTcon(sess.SessionID, SMBShare) || !st.hasOpen(sess.ServerID.PID, SMBFile) {
			t.Errorf("sample session %s lacks its tcon or open", sess.SessionID)
		}
	}
	if bytes.Contains(data, []byte("/tmp/")) {
		t.Error("sample holds a machine path")
	}
}
