//go:build linux

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// The logon-session provider against real logins: sshd on 127.0.0.1 logs
// the test user in through PAM, which sets the kernel audit session id and
// writes the system's utmp; cimsess reads /var/run/utmp and /proc as it
// does in production. Other tests may log in at the same time, so every
// check selects this test's own session by the audit id it observed.

// logonSessions runs `cimsess enum CLASS -o json` on the system's sources.
func logonSessions(t *testing.T, class string) []jsonInstance {
	t.Helper()
	return cimsessJSON(t, "enum", class)
}

// sessionOf returns the one instance with LogonId id, or nil.
func sessionOf(t *testing.T, insts []jsonInstance, id string) jsonInstance {
	t.Helper()
	found := where(insts, "LogonId", id)
	switch len(found) {
	case 0:
		return nil
	case 1:
		return found[0]
	}
	t.Fatalf("%d instances with LogonId %s", len(found), id)
	return nil
}

// auditID returns a login's audit session id as a LogonId; the login must
// have one (sshd with UsePAM and pam_loginuid sets it).
func auditID(t *testing.T, l *testenv.Login) string {
	t.Helper()
	sid := l.SessionID()
	if sid == testenv.UnsetSessionID {
		t.Fatalf("the login's processes have no audit session id (/proc/%d/sessionid unset): no pam_loginuid, or a kernel without audit", l.ShellPID())
	}
	return strconv.FormatUint(uint64(sid), 10)
}

// checkStart checks that StartTime is the login's time: within 2 s of the
// interval in which the login happened.
func checkStart(t *testing.T, in jsonInstance, from, to time.Time) {
	t.Helper()
	st, ok := in.Time("StartTime")
	if !ok {
		t.Errorf("LogonId %s: StartTime %q is not a time", in.Str("LogonId"), in.Str("StartTime"))
		return
	}
	if st.Before(from.Add(-2*time.Second)) || st.After(to.Add(2*time.Second)) {
		t.Errorf("LogonId %s: StartTime %v, but the login happened between %v and %v", in.Str("LogonId"), st, from, to)
	}
	t.Logf("LogonId %s: StartTime %v, %v after ssh started", in.Str("LogonId"), st, st.Sub(from).Round(time.Millisecond))
}

// checkProps checks properties by their text ("" for NULL).
func checkProps(t *testing.T, in jsonInstance, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if got := in.Str(p); got != w {
			t.Errorf("LogonId %s: %s = %q, want %q", in.Str("LogonId"), p, got, w)
		}
	}
}

func TestSSHLogonSessions(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "ssh-keygen")
	sshd := testenv.StartSSHD(t)

	// A login with a terminal and one without.
	ttyFrom := time.Now()
	tty := sshd.Login(t, testenv.LoginOpts{TTY: true})
	ttyTo := time.Now()
	nottyFrom := time.Now()
	notty := sshd.Login(t, testenv.LoginOpts{Command: "sleep 30"})
	nottyTo := time.Now()
	ttyID, nottyID := auditID(t, tty), auditID(t, notty)
	if ttyID == nottyID {
		t.Fatalf("both logins have audit session %s", ttyID)
	}
	rec, ok := tty.UtmpEntry()
	if !ok || rec.Type != testenv.UtmpUserProcess {
		t.Fatalf("no USER_PROCESS record in %s for the tty login (%+v)", testenv.UtmpPath, rec)
	}
	t.Logf("tty login: audit %s, line %s, monitor %d, sshd %d, shell %d, utmp pid %d host %q",
		ttyID, tty.Line(), tty.MonitorPID(), tty.SSHDPID(), tty.ShellPID(), rec.PID, rec.Host)
	t.Logf("notty login: audit %s, monitor %d, sshd %d, command %d", nottyID, notty.MonitorPID(), notty.SSHDPID(), notty.ShellPID())

	insts := logonSessions(t, "Win32_LogonSession")
	in := sessionOf(t, insts, ttyID)
	if in == nil {
		t.Fatalf("no Win32_LogonSession with LogonId %s among %d", ttyID, len(insts))
	}
	checkProps(t, in, map[string]string{
		"__CLASS": "Linux_LogonSession", "UserName": testenv.TestUser, "LogonType": "10", "Status": "OK",
		"TTY": tty.Line(), "RemoteHost": "127.0.0.1", "RemoteAddress": "127.0.0.1", "AuditSessionId": ttyID,
		"Service": "sshd",
	})
	if u := in.Str("UserId"); u == "" || u == "0" {
		t.Errorf("UserId %q, want the test user's", u)
	}
	// The leader is a process of this login, the first one (sshd's
	// monitor), as logind names it.
	if l := in.Str("LeaderProcessId"); l != strconv.Itoa(tty.MonitorPID()) {
		t.Errorf("LeaderProcessId %s, want the session's first process %d", l, tty.MonitorPID())
	}
	if in.IsNull("IdleTime") {
		t.Errorf("no IdleTime for a live tty session")
	}
	checkStart(t, in, ttyFrom, ttyTo)
	for _, dup := range where(insts, "TTY", tty.Line()) {
		if dup.Str("LogonId") != ttyID {
			t.Errorf("the tty %s also shows in session %s: %v", tty.Line(), dup.Str("LogonId"), dup)
		}
	}

	nt := sessionOf(t, insts, nottyID)
	if nt == nil {
		t.Fatalf("no Win32_LogonSession with LogonId %s (the login without a tty) among %d", nottyID, len(insts))
	}
	checkProps(t, nt, map[string]string{
		"UserName": testenv.TestUser, "LogonType": "3", "Status": "OK", "TTY": "", "Service": "sshd",
	})
	checkStart(t, nt, nottyFrom, nottyTo)

	// Deep enumeration of the abstract Win32_Session holds them too.
	sess := logonSessions(t, "Win32_Session")
	if sessionOf(t, sess, ttyID) == nil || sessionOf(t, sess, nottyID) == nil {
		t.Errorf("Win32_Session lacks LogonId %s or %s", ttyID, nottyID)
	}

	// get by the Win32 class's path finds the subclass instance.
	got := cimsessJSON(t, "get", `Win32_LogonSession.LogonId="`+ttyID+`"`)
	if len(got) != 1 || got[0].Str("LogonId") != ttyID || got[0].Str("UserName") != testenv.TestUser {
		t.Errorf("get LogonId %s: %v", ttyID, got)
	}
	if _, stderr, code := runCimsess(t, "get", `Win32_LogonSession.LogonId="no-such-session"`); code == 0 {
		t.Errorf("get of a missing session succeeded; stderr %q", stderr)
	}

	// Logging out ends the session.
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	if err := notty.Close(); err != nil {
		t.Fatal(err)
	}
	var left []jsonInstance
	waitFor(t, 10*time.Second, "the sessions end at logout", func() bool {
		insts := logonSessions(t, "Win32_LogonSession")
		left = append(where(insts, "LogonId", ttyID), where(insts, "LogonId", nottyID)...)
		left = append(left, where(insts, "LogonId", "utmp:"+tty.Line()+":"+strconv.Itoa(int(rec.PID)))...)
		return len(left) == 0
	})
}

func TestSSHGhostSession(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "ssh-keygen")
	sshd := testenv.StartSSHD(t)
	l := sshd.Login(t, testenv.LoginOpts{TTY: true})
	id := auditID(t, l)

	// Seen alive once: that is when cimsess learns the record's audit id
	// (it keeps it in its state file, as each command is a new process).
	in := sessionOf(t, logonSessions(t, "Win32_LogonSession"), id)
	if in == nil {
		t.Fatalf("no session %s", id)
	}
	checkProps(t, in, map[string]string{"Status": "OK", "TTY": l.Line()})

	l.HoldTerminal(t) // so that no other test's login takes the ghost's line

	// kill -9 of the session's sshd: nobody writes DEAD_PROCESS.
	if err := l.KillSSHD9(); err != nil {
		t.Fatal(err)
	}
	rec, ok := l.UtmpEntry()
	if !ok || rec.Type != testenv.UtmpUserProcess {
		t.Fatalf("after kill -9 the utmp record is %+v, %v; want it left USER_PROCESS", rec, ok)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(int(rec.PID))); err == nil {
		t.Fatalf("the record's process %d still lives", rec.PID)
	}
	ghost := sessionOf(t, logonSessions(t, "Win32_LogonSession"), id)
	if ghost == nil {
		t.Fatalf("the ghost lost its LogonId %s", id)
	}
	checkProps(t, ghost, map[string]string{
		"Status": "Lost Comm", "UserName": testenv.TestUser, "TTY": l.Line(), "RemoteHost": "127.0.0.1",
		"LogonType": "10", "IdleTime": "",
	})
	if got := cimsessJSON(t, "get", `Win32_LogonSession.LogonId="`+id+`"`); len(got) != 1 || got[0].Str("Status") != "Lost Comm" {
		t.Errorf("get of the ghost: %v", got)
	}
}

// whoRecords returns n utmp records of every type, as a busy and somewhat
// damaged utmp file holds them, and the pids among their USER_PROCESS
// records that should get live processes (those with a time, one in
// three, that logged in after fakeBoot). (line, pid) is unique among USER_PROCESS records, as it is in a
// real utmp, where a login replaces its line's old record.
func whoRecords(n int) (recs []utmp.Record, live []int32) {
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		r := utmp.Record{Type: utmp.UserProcess, PID: int32(5000 + i), Line: "pts/" + strconv.Itoa(i), ID: strconv.Itoa(i % 10000),
			User: "user" + strconv.Itoa(i%97), Time: base.Add(time.Duration(i) * 37 * time.Second).Add(time.Duration(i%1000) * time.Microsecond),
			Session: int64(i)}
		switch i % 11 {
		case 0:
			r.Addr = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
			r.Host = r.Addr.String()
		case 1:
			r.Host = "host-" + strconv.Itoa(i) + ".example.org"
			r.Addr = netip.MustParseAddr("2001:db8::" + strconv.FormatInt(int64(i), 16))
		case 2:
			r.Host = ":" + strconv.Itoa(i%3) // an X display: who shows it, cimsess has no remote host
			r.Line = "tty" + strconv.Itoa(i)
		case 3:
			r.Host = strings.Repeat("h", utmp.MaxHost-3) + strconv.Itoa(i%1000) // fills the field: no NUL
		case 4:
			r.User = "d\xe9j\xe0" + strconv.Itoa(i%7) // Latin-1, not UTF-8
			r.Host = "\xc3(\x80." + strconv.Itoa(i)
			r.Line = "pts/\xff" + strconv.Itoa(i)
		case 5:
			r.Time = time.Time{} // who shows the epoch
		case 6:
			r.User = strings.Repeat("u", utmp.MaxUser)
			r.Line = strings.Repeat("L", utmp.MaxLine-6) + strconv.Itoa(100000+i)
		case 7:
			r.User = "" // no user: not a login for who either
		case 8:
			r.Type = utmp.Type(i % 10) // every other type, with a user: not shown
			if r.Type == utmp.UserProcess {
				r.Type = utmp.DeadProcess
			}
		case 9:
			r.Host = "héte.example" // UTF-8
			if i%2 == 0 {
				r.Time = time.Unix(-1<<31, 0) // 1901
			} else {
				r.Time = time.Unix(1<<31-1, 999999000) // 2038
			}
		}
		// Live only when the process may be the login's: started (in
		// fakeProc, in 2020) before the login, else its pid was reused.
		if r.UserProcess() && r.Time.After(fakeBoot) && i%3 == 0 {
			live = append(live, r.PID)
		}
		recs = append(recs, r)
	}
	return recs, live
}

// fakeBoot is when the fixture proc roots of fakeProc booted; their
// processes started then.
var fakeBoot = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeProc writes a proc root holding processes pids, without audit ids
// (as on a kernel without audit), started at btime.
func fakeProc(t *testing.T, dir string, btime time.Time, pids []int32) {
	t.Helper()
	write := func(name, s string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "stat"), fmt.Sprintf("cpu  1 2 3 4 5 6 7 0 0 0\nbtime %d\n", btime.Unix()))
	for _, pid := range pids {
		d := filepath.Join(dir, strconv.Itoa(int(pid)))
		write(filepath.Join(d, "stat"), fmt.Sprintf("%d (bash) S 1 %d %d 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 0 1000 100\n", pid, pid, pid))
		write(filepath.Join(d, "status"), fmt.Sprintf("Name:\tbash\nPid:\t%d\nUid:\t1000\t1000\t1000\t1000\n", pid))
		write(filepath.Join(d, "cmdline"), "-bash\x00")
	}
}

// whoTimeLayout is how coreutils' who prints a time in the C locale
// ("%b %e %H:%M").
const whoTimeLayout = "Jan _2 15:04"

// normalizeWho turns a line of `who FILE` into what cimsess can say of the
// same login: bytes that are not UTF-8 become U+FFFD (cimsess shows valid
// UTF-8 only), an X display host "(:0)" goes (cimsess puts displays in no
// RemoteHost), and runs of blanks become one space (who pads by bytes).
func normalizeWho(line string) string {
	line = strings.ToValidUTF8(line, "\uFFFD")
	if i := strings.LastIndex(line, " (:"); i >= 0 && strings.HasSuffix(line, ")") {
		line = line[:i]
	}
	return strings.Join(strings.Fields(line), " ")
}

// whoLineOf is the normalized who line of a cimsess instance: user, line,
// start time to the minute in UTC (the epoch for a NULL time, as who
// shows a zero time), remote host in parentheses.
func whoLineOf(in jsonInstance) string {
	st, ok := in.Time("StartTime")
	if !ok {
		st = time.Unix(0, 0)
	}
	s := in.Str("UserName") + " " + in.Str("TTY") + " " + st.UTC().Format(whoTimeLayout)
	if h := in.Str("RemoteHost"); h != "" {
		s += " (" + h + ")"
	}
	return strings.Join(strings.Fields(s), " ")
}

// TestAgreesWithWho checks, at the product level, that the logins
// `cimsess enum Win32_LogonSession --utmp FILE` reports are the ones
// coreutils' `who FILE` prints, line for line: user, line, start time (to
// who's minute) and remote host, on a file with every record type,
// full-width fields, non-UTF-8 bytes, zero, 1901 and 2038 times and a
// truncated last record. The proc root is a fixture in which a third of
// the logins' processes live (Status OK) and the rest are gone (Lost Comm):
// who shows both alike, and so must cimsess, with its Status telling them
// apart. The comparison's two deliberate differences are in normalizeWho.
func TestAgreesWithWho(t *testing.T) {
	testenv.RequireTool(t, "who")
	dir := t.TempDir()
	file := filepath.Join(dir, "utmp")
	recs, live := whoRecords(1200)
	if err := utmp.WriteFile(file, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	// A truncated last record, which glibc and who ignore.
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	partial := utmp.Encode(utmp.Record{Type: utmp.UserProcess, PID: 99999, Line: "pts/999", User: "partial", Time: time.Now()}, utmp.Native)
	if _, err := f.Write(partial[:utmp.Native.Size/2]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	proc, logind := filepath.Join(dir, "proc"), filepath.Join(dir, "sessions")
	fakeProc(t, proc, fakeBoot, live)
	if err := os.Mkdir(logind, 0o755); err != nil {
		t.Fatal(err)
	}

	whoPath, err := testenv.LookTool("who")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(whoPath, file)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("who %s: %v", file, err)
	}
	var whoLines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		whoLines = append(whoLines, normalizeWho(l))
	}

	insts := cimsessJSONEnv(t, []string{"TZ=UTC"}, "enum", "Win32_LogonSession", "--utmp", file, "--proc", proc, "--logind", logind)
	var ours []string
	isLive := map[string]bool{}
	for _, pid := range live {
		isLive[strconv.Itoa(int(pid))] = true
	}
	nLive := 0
	for _, in := range insts {
		ours = append(ours, whoLineOf(in))
		wantStatus := "Lost Comm"
		if isLive[in.Str("LeaderProcessId")] {
			wantStatus = "OK"
			nLive++
		}
		if in.Str("Status") != wantStatus {
			t.Errorf("LogonId %q: Status %q, want %q", in.Str("LogonId"), in.Str("Status"), wantStatus)
		}
	}
	if nLive != len(live) {
		t.Errorf("%d live sessions, want %d", nLive, len(live))
	}
	slices.Sort(whoLines)
	slices.Sort(ours)
	if len(whoLines) < 500 {
		t.Fatalf("who printed only %d lines", len(whoLines))
	}
	t.Logf("who and cimsess: %d logins, %d of them live; e.g. %q", len(whoLines), nLive, whoLines[len(whoLines)/2])
	if !slices.Equal(whoLines, ours) {
		t.Errorf("who printed %d logins, cimsess %d", len(whoLines), len(ours))
		shown := 0
		for _, l := range whoLines {
			if !slices.Contains(ours, l) && shown < 10 {
				t.Errorf("only who: %q", l)
				shown++
			}
		}
		for _, l := range ours {
			if !slices.Contains(whoLines, l) && shown < 20 {
				t.Errorf("only cimsess: %q", l)
				shown++
			}
		}
	}
}
