package linux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

const unset = procfs.Unset

// pts returns tty_nr of /dev/pts/N.
func pts(n uint64) uint64 { return 136<<8 | n&0xff | (n&^0xff)<<12 }

// sshLogin adds the processes of an ssh login with audit session sid:
// sshd (the leader), bash and sleep, all with login uid uid.
func (w *world) sshLogin(sid uint32, uid uint32, firstPID int, start time.Time, tty uint64) {
	w.addProc(fproc{pid: firstPID, ppid: 1, comm: "sshd", start: start, loginUID: uid, session: sid, cmdline: "sshd: x [priv]"})
	w.addProc(fproc{pid: firstPID + 1, ppid: firstPID, comm: "sshd", start: start.Add(10 * time.Millisecond), uid: uid, loginUID: uid, session: sid, cmdline: "sshd: x@pts/0"})
	w.addProc(fproc{pid: firstPID + 2, ppid: firstPID + 1, comm: "bash", start: start.Add(50 * time.Millisecond), uid: uid, tty: tty, loginUID: uid, session: sid, cmdline: "-bash"})
}

func TestGroupsProcessesByAuditSession(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, 0)
	w.addProc(fproc{pid: 110, ppid: 102, comm: "sleep", start: t0.Add(time.Minute), uid: 1000, loginUID: 1000, session: 7})
	w.sshLogin(8, 1001, 200, t0.Add(time.Hour), 0)
	// Processes outside any login make no session.
	w.addProc(fproc{pid: 1, comm: "systemd", loginUID: unset, session: unset})
	w.addProc(fproc{pid: 2, comm: "kthreadd", loginUID: unset, session: unset, noAudit: true})
	got := enum(t, w.provider())
	if len(got) != 2 {
		t.Fatalf("%d instances, want 2: %v", len(got), got)
	}
	want(t, got["7"], map[string]any{"UserName": "alice", "UserId": 1000, "AuditSessionId": 7, "LeaderProcessId": 100,
		"TTY": nil, "RemoteHost": nil, "Service": "sshd", "LogonType": LogonNetwork, "Status": StatusOK,
		"StartTime": t0, "Name": "alice@sshd", "Caption": "alice on sshd"})
	want(t, got["8"], map[string]any{"UserName": "bob", "UserId": 1001, "LeaderProcessId": 200, "Status": StatusOK})
	if o := got["7"].Owner; o != "alice" {
		t.Errorf("Owner %q, want alice", o)
	}
}

func TestUtmpRecordJoinsItsSession(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, pts(0))
	login := t0.Add(300 * time.Millisecond)
	w.records(
		utmp.Record{Type: utmp.BootTime, Line: "~", User: "reboot", Time: bootTime},
		utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/0", ID: "ts/0", User: "alice", Host: "192.0.2.1",
			Addr: netip.MustParseAddr("192.0.2.1"), Time: login},
		utmp.Record{Type: utmp.DeadProcess, PID: 90, Line: "pts/1", ID: "ts/1", Time: login},
		utmp.Record{Type: utmp.LoginProcess, PID: 91, Line: "tty1", User: "LOGIN", Time: login},
	)
	w.tty("pts/0", w.now.Add(-90*time.Second-300*time.Millisecond))
	got := enum(t, w.provider())
	if len(got) != 1 {
		t.Fatalf("%d instances, want 1: %v", len(got), got)
	}
	want(t, got["7"], map[string]any{"UserName": "alice", "TTY": "pts/0", "RemoteHost": "192.0.2.1", "RemoteAddress": "192.0.2.1",
		"LogonType": LogonRemoteInteractive, "StartTime": login, "Status": StatusOK, "IdleTime": 90 * time.Second,
		"LeaderProcessId": 100, "Caption": "alice on pts/0 from 192.0.2.1", "Name": "alice@pts/0"})
}

func TestGhosts(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, pts(3))
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/3", User: "alice", Host: "10.0.0.1", Time: t0.Add(time.Second)},
		// Its processes are gone and nobody remembered its audit id.
		utmp.Record{Type: utmp.UserProcess, PID: 555, Line: "pts/5", User: "bob", Host: "10.0.0.2", Time: t0.Add(2 * time.Second)},
	)
	w.tty("pts/3", w.now)
	w.tty("pts/5", w.now)
	state := filepath.Join(w.dir, "state", "logon-ids")
	p := w.providerWithState(state)
	got := enum(t, p)
	want(t, got["7"], map[string]any{"Status": StatusOK, "TTY": "pts/3"})
	want(t, got["utmp:pts/5:555"], map[string]any{"Status": StatusLostComm, "UserName": "bob", "TTY": "pts/5",
		"LeaderProcessId": 555, "AuditSessionId": nil, "UserId": nil, "IdleTime": nil, "LogonType": LogonRemoteInteractive,
		"StartTime": t0.Add(2 * time.Second)})
	if d := got["utmp:pts/5:555"].String("Description"); !strings.Contains(d, "gone") {
		t.Errorf("a ghost's Description %q does not say its processes are gone", d)
	}

	// The login's processes die, its record stays: the same LogonId, now Lost Comm.
	for _, pid := range []int{100, 101, 102} {
		w.killProc(pid)
	}
	got = enum(t, p)
	if len(got) != 2 {
		t.Fatalf("%d instances, want 2: %v", len(got), got)
	}
	want(t, got["7"], map[string]any{"Status": StatusLostComm, "UserName": "alice", "AuditSessionId": 7, "TTY": "pts/3",
		"IdleTime": nil, "LeaderProcessId": 102})

	// A one-shot run (a new provider) reads the id from the state file,
	// which any user may read (a user's run must name a ghost as root's).
	if st, err := os.Stat(state); err != nil {
		t.Error(err)
	} else if st.Mode().Perm() != 0o644 {
		t.Errorf("the state file's mode %v, want 0644", st.Mode())
	}
	got = enum(t, w.providerWithState(state))
	want(t, got["7"], map[string]any{"Status": StatusLostComm, "AuditSessionId": 7})
	// Without a state file the ghost falls back to its record's id.
	got = enum(t, w.provider())
	want(t, got["utmp:pts/3:102"], map[string]any{"Status": StatusLostComm, "UserName": "alice"})

	// Once the record goes (DEAD_PROCESS), so does the session and its remembered id.
	w.records(utmp.Record{Type: utmp.DeadProcess, PID: 102, Line: "pts/3", Time: t0.Add(time.Hour)})
	if got = enum(t, p); len(got) != 0 {
		t.Fatalf("after logout: %v, want none", got)
	}
	b, err := os.ReadFile(state)
	if err != nil || len(b) != 0 {
		t.Errorf("state file after logout: %q, %v; want empty", b, err)
	}
}

func TestPIDReuse(t *testing.T) {
	w := newWorld(t)
	login := bootTime.Add(time.Hour)
	// pid 300 logged in on pts/4, died uncleanly, and the pid now belongs
	// to a process of another session that started a day later.
	w.records(utmp.Record{Type: utmp.UserProcess, PID: 300, Line: "pts/4", User: "carol", Host: "h.example", Time: login})
	w.addProc(fproc{pid: 300, comm: "sshd", start: login.Add(24 * time.Hour), loginUID: 1000, session: 9})
	got := enum(t, w.provider())
	if len(got) != 2 {
		t.Fatalf("%d instances, want 2: %v", len(got), got)
	}
	want(t, got["utmp:pts/4:300"], map[string]any{"Status": StatusLostComm, "UserName": "carol", "TTY": "pts/4"})
	want(t, got["9"], map[string]any{"Status": StatusOK, "UserName": "alice", "TTY": nil})

	// A process that started within the login's second is the login's.
	w.addProc(fproc{pid: 300, comm: "sshd", start: login.Add(time.Second), loginUID: 1000, session: 9})
	got = enum(t, w.provider())
	if len(got) != 1 {
		t.Fatalf("%d instances, want 1: %v", len(got), got)
	}
	want(t, got["9"], map[string]any{"Status": StatusOK, "UserName": "alice", "TTY": "pts/4"})

	// A zombie is no live session.
	w.addProc(fproc{pid: 300, comm: "sshd", state: 'Z', start: login.Add(time.Second), loginUID: 1000, session: 9})
	got = enum(t, w.provider())
	want(t, got["utmp:pts/4:300"], map[string]any{"Status": StatusLostComm})
	if len(got) != 1 {
		t.Errorf("%d instances, want 1: %v", len(got), got)
	}
}

func TestFallbackIDs(t *testing.T) {
	w := newWorld(t)
	login := bootTime.Add(time.Hour)
	// No audit support (or no pam_loginuid): the record's id, with a live process.
	w.addProc(fproc{pid: 400, comm: "bash", start: login, uid: 1001, loginUID: unset, session: unset})
	w.addProc(fproc{pid: 401, comm: "login", start: login, uid: 0, noAudit: true})
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 400, Line: "pts/9", User: "bob", Host: "", Time: login},
		utmp.Record{Type: utmp.UserProcess, PID: 401, Line: "tty1", User: "carol", Host: ":0", Time: login},
		utmp.Record{Type: utmp.UserProcess, PID: 402, Line: "pts/\xff", User: "d\xe9j\xe0", Host: "h\xc3(", Time: login},
		utmp.Record{Type: utmp.UserProcess, PID: 403, Line: "pts/10", User: "", Time: login}, // no user: not a login
	)
	got := enum(t, w.provider())
	if len(got) != 3 {
		t.Fatalf("%d instances, want 3: %v", len(got), got)
	}
	want(t, got["utmp:pts/9:400"], map[string]any{"Status": StatusOK, "UserName": "bob", "TTY": "pts/9", "RemoteHost": nil,
		"LogonType": LogonInteractive, "LeaderProcessId": 400, "AuditSessionId": nil})
	// An X display is no remote host.
	want(t, got["utmp:tty1:401"], map[string]any{"Status": StatusOK, "UserName": "carol", "RemoteHost": nil, "LogonType": LogonInteractive,
		"Service": "login"})
	// Bytes that are not UTF-8 are escaped in the id (distinct lines keep
	// distinct ids) and replaced in the shown strings.
	in := got[`utmp:pts/\xff:402`]
	want(t, in, map[string]any{"Status": StatusLostComm, "UserName": "d\uFFFDj\uFFFD", "TTY": "pts/\uFFFD", "RemoteHost": "h\uFFFD("})
}

func TestLogindStates(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(12, 1000, 500, t0, 0)
	w.sshLogin(13, 1001, 600, t0, 0)
	w.sshLogin(14, 1002, 700, t0, 0)
	w.logindSession("12", "UID=1000", "USER=alice", "STATE=opening", "REMOTE=1", "REMOTE_HOST=192.0.2.7", "SERVICE=sshd",
		"TYPE=tty", "CLASS=user", "TTY=pts/7", "LEADER=500", "AUDIT=12", "REALTIME=1772352000000000")
	w.logindSession("13", "UID=1001", "USER=bob", "STATE=closing", "SERVICE=sshd", "CLASS=user", "LEADER=600", "AUDIT=13")
	w.logindSession("14", "UID=1002", "USER=carol", "STATE=active", "SERVICE=gdm-password", "TYPE=wayland", "CLASS=user",
		"SEAT=seat0", "LEADER=700", "AUDIT=14")
	// logind's session of a user's service manager, with no audit id.
	w.addProc(fproc{pid: 800, comm: "systemd", start: t0, uid: 1000, loginUID: unset, session: unset})
	w.logindSession("c1", "UID=1000", "USER=alice", "STATE=online", "CLASS=manager", "SERVICE=systemd-user", "LEADER=800")
	// A session file whose processes are all gone.
	w.logindSession("15", "UID=1001", "USER=bob", "STATE=closing", "SERVICE=sshd", "CLASS=user", "LEADER=900", "AUDIT=15")
	got := enum(t, w.provider())
	if len(got) != 5 {
		t.Fatalf("%d instances, want 5: %v", len(got), got)
	}
	want(t, got["12"], map[string]any{"Status": StatusStarting, "State": "opening", "TTY": "pts/7", "RemoteHost": "192.0.2.7",
		"RemoteAddress": "192.0.2.7", "LogonType": LogonRemoteInteractive, "SessionClass": "user",
		"StartTime": time.UnixMicro(1772352000000000), "AuthenticationPackage": "sshd"})
	want(t, got["13"], map[string]any{"Status": StatusStopping, "State": "closing", "LogonType": LogonNetwork})
	want(t, got["14"], map[string]any{"Status": StatusOK, "Seat": "seat0", "LogonType": LogonInteractive, "Service": "gdm-password"})
	want(t, got["c1"], map[string]any{"Status": StatusOK, "UserName": "alice", "LogonType": LogonService, "LeaderProcessId": 800,
		"AuditSessionId": nil})
	want(t, got["15"], map[string]any{"Status": StatusLostComm, "UserName": "bob", "LeaderProcessId": 900})
}

func TestStartTimePrecedence(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	rec := t0.Add(2 * time.Second)
	ld := t0.Add(time.Second)
	w.sshLogin(20, 1000, 100, t0, pts(1))
	w.sshLogin(21, 1000, 200, t0, 0)
	w.sshLogin(22, 1000, 300, t0.Add(500*time.Millisecond), 0)
	w.sshLogin(23, 1000, 400, t0, pts(2))
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/1", User: "alice", Time: rec},
		utmp.Record{Type: utmp.UserProcess, PID: 402, Line: "pts/2", User: "alice"}, // a zero time says nothing
		// Two records of one session: the earliest with a time counts.
		utmp.Record{Type: utmp.UserProcess, PID: 500, Line: "pts/5", User: "alice"},
		utmp.Record{Type: utmp.UserProcess, PID: 501, Line: "pts/6", User: "alice", Time: rec.Add(time.Minute)},
		utmp.Record{Type: utmp.UserProcess, PID: 502, Line: "pts/7", User: "alice", Time: rec},
	)
	w.sshLogin(24, 1000, 500, t0, pts(5))
	for _, id := range []string{"20", "21", "23"} {
		w.logindSession(id, "UID=1000", "STATE=active", "AUDIT="+id, "REALTIME=1772355601000000")
	}
	got := enum(t, w.provider())
	want(t, got["20"], map[string]any{"StartTime": rec})                                                            // the record
	want(t, got["21"], map[string]any{"StartTime": ld})                                                             // logind
	want(t, got["22"], map[string]any{"StartTime": t0.Add(500 * time.Millisecond).Truncate(10 * time.Millisecond)}) // the first process
	want(t, got["23"], map[string]any{"StartTime": ld, "TTY": "pts/2"})
	want(t, got["24"], map[string]any{"StartTime": rec, "TTY": "pts/7"})
	if !ld.Equal(time.UnixMicro(1772355601000000)) {
		t.Fatalf("fixture: %v", time.UnixMicro(1772355601000000).UTC())
	}
}

func TestIdleTime(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(30, 1000, 100, t0, pts(0))
	w.sshLogin(31, 1000, 200, t0, pts(1))
	w.sshLogin(32, 1000, 300, t0, pts(2))
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/0", User: "alice", Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 202, Line: "pts/1", User: "alice", Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 302, Line: "../../etc/passwd", User: "alice", Time: t0},
	)
	w.tty("pts/0", w.now.Add(-3*time.Hour-4*time.Minute-5*time.Second-999*time.Millisecond))
	w.tty("pts/1", w.now.Add(time.Minute)) // typed "in the future": not negative
	got := enum(t, w.provider())
	want(t, got["30"], map[string]any{"IdleTime": 3*time.Hour + 4*time.Minute + 5*time.Second})
	want(t, got["31"], map[string]any{"IdleTime": time.Duration(0)})
	want(t, got["32"], map[string]any{"IdleTime": nil, "TTY": "../../etc/passwd"})
}

func TestCaptionAndNames(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	long := strings.Repeat("h", utmp.MaxHost)
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 1, Line: strings.Repeat("L", utmp.MaxLine), User: strings.Repeat("é", utmp.MaxUser/2), Host: long, Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 2, Line: "pts/1", User: "u", Host: "[::1]", Time: t0},
	)
	got := enum(t, w.provider())
	for id, in := range got {
		if c := in.String("Caption"); c == "" || len([]rune(c)) > 64 {
			t.Errorf("%s: Caption %q", id, c)
		}
		if in.String("Description") == "" || in.String("Name") == "" {
			t.Errorf("%s: no Description or Name: %v", id, in)
		}
	}
	want(t, got["utmp:pts/1:2"], map[string]any{"RemoteHost": "[::1]", "RemoteAddress": nil})
}

func TestHintAndErrors(t *testing.T) {
	w := newWorld(t)
	w.sshLogin(7, 1000, 100, bootTime, 0)
	w.sshLogin(8, 1000, 200, bootTime, 0)
	p := w.provider()
	ctx := context.Background()
	insts, err := provider.Collect(ctx, p, "linux_logonsession", provider.Hint{Keys: map[string]any{"logonid": "8"}})
	if err != nil || len(insts) != 1 || insts[0].String("LogonId") != "8" {
		t.Errorf("hint LogonId 8: %v, %v", insts, err)
	}
	if insts, err := provider.Collect(ctx, p, ClassName, provider.Hint{Keys: map[string]any{"logonid": uint32(8)}}); err != nil || len(insts) != 0 {
		t.Errorf("hint of a number: %v, %v", insts, err)
	}
	if _, err := provider.Collect(ctx, p, "Win32_Process", provider.Hint{}); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("other class: %v, want ErrInvalidClass", err)
	}
	srcs := p.Sources()
	if len(srcs) != 3 || srcs[0].Name != "utmp" || srcs[1].Found != 2 {
		t.Errorf("sources %+v", srcs)
	}

	// A utmp file the user named must exist; the default one need not.
	missing := filepath.Join(w.dir, "nothing")
	p = New(Options{UtmpPath: missing, ProcRoot: w.proc, LogindRoot: w.logind, StatePath: "-"})
	if _, err := provider.Collect(ctx, p, ClassName, provider.Hint{}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing named utmp: %v, want ErrNotFound", err)
	}
	p = New(Options{ProcRoot: w.proc, LogindRoot: w.logind, StatePath: "-"})
	p.opts.UtmpPath = missing
	if insts, err := provider.Collect(ctx, p, ClassName, provider.Hint{}); err != nil || len(insts) != 2 {
		t.Errorf("missing default utmp: %d, %v", len(insts), err)
	}
	// An unreadable proc root is a note, not a failure: the records remain.
	p = New(Options{UtmpPath: w.utmp, ProcRoot: missing, LogindRoot: missing, StatePath: "-"})
	if _, err := provider.Collect(ctx, p, ClassName, provider.Hint{}); err != nil {
		t.Errorf("missing proc root: %v", err)
	} else if s := p.Sources(); s[1].Note == "" || s[2].Note != "not running" {
		t.Errorf("sources %+v", s)
	}
	// A truncated utmp file is a note too.
	b, _ := os.ReadFile(w.utmp)
	os.WriteFile(w.utmp, append(b, 1, 2, 3), 0o644)
	p = w.provider()
	if _, err := provider.Collect(ctx, p, ClassName, provider.Hint{}); err != nil || p.Sources()[0].Note == "" {
		t.Errorf("truncated utmp: %v, %+v", err, p.Sources())
	}
	// A cancelled context stops it.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := provider.Collect(cctx, w.provider(), ClassName, provider.Hint{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestStateFileDefault(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, DefaultStatePath},
		{Options{ProcRoot: "/proc", UtmpPath: "/var/run/utmp"}, DefaultStatePath},
		{Options{UtmpPath: "/run/utmp"}, DefaultStatePath},
		{Options{UtmpPath: "copy-of-utmp"}, ""}, // another file must not rewrite the system's ids
		{Options{ProcRoot: "fixture"}, ""},
		{Options{StatePath: "-"}, ""},
		{Options{ProcRoot: "fixture", StatePath: "ids"}, "ids"},
	} {
		if got := New(c.opts).opts.StatePath; got != c.want {
			t.Errorf("%+v: StatePath %q, want %q", c.opts, got, c.want)
		}
	}
}

func TestOrderOfIDs(t *testing.T) {
	ids := []string{"utmp:b:1", "10", "9", "c1", "utmp:a:2", "100"}
	want := []string{"9", "10", "100", "c1", "utmp:a:2", "utmp:b:1"}
	for i := range ids {
		for j := range ids {
			a, b := ids[i], ids[j]
			ia, ib := indexOf(want, a), indexOf(want, b)
			if idLess(a, b) != (ia < ib) {
				t.Errorf("idLess(%q, %q) = %v", a, b, idLess(a, b))
			}
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// FuzzEnumerate feeds any utmp file and any state file to the provider
// over a small proc tree: it must never fail on them, and every instance
// must be valid with a distinct LogonId.
func FuzzEnumerate(f *testing.F) {
	t0 := bootTime.Add(time.Hour)
	seed := func(state string, recs ...utmp.Record) {
		var b []byte
		for _, r := range recs {
			b = utmp.AppendEncode(b, r, utmp.Native)
		}
		f.Add(b, state)
	}
	seed("")
	seed("pts/3|102|1772359201000000\t7\n", utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/3", User: "alice", Time: t0.Add(time.Second)})
	seed("garbage\n\t\t\nx\t99999999999\n", utmp.Record{Type: utmp.UserProcess, PID: 555, Line: "pts/\xff\n\t", User: "d\xe9", Host: ":0"})
	seed("", utmp.Record{Type: utmp.UserProcess, PID: 300, Line: "pts/4", User: "carol", Host: "h.example", Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 300, Line: "pts/4", User: "carol", Time: t0.Add(-time.Hour)},
		utmp.Record{Type: utmp.DeadProcess, PID: 1, Line: "pts/4"})
	w := newWorld(f)
	w.sshLogin(7, 1000, 100, t0, pts(3))
	w.addProc(fproc{pid: 300, comm: "bash", start: t0, loginUID: unset, session: unset})
	f.Fuzz(func(t *testing.T, file []byte, state string) {
		if err := os.WriteFile(w.utmp, file, 0o644); err != nil {
			t.Fatal(err)
		}
		statePath := filepath.Join(w.dir, "ids")
		if err := os.WriteFile(statePath, []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
		p := w.providerWithState(statePath)
		if err := utmp.CheckLayout(bytes.NewReader(file), int64(len(file)), w.utmp, utmp.Native); err != nil {
			// Records that are not plausible in the layout are refused,
			// with the layout named, rather than read as sessions.
			if _, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{}); err == nil || !strings.Contains(err.Error(), "plausible") {
				t.Fatalf("an implausible utmp was read: %v", err)
			}
			return
		}
		for range 2 {
			got := enum(t, p)
			if _, ok := got["7"]; !ok {
				t.Fatalf("the live session 7 is missing: %v", got)
			}
		}
	})
}

// TestEnumerateStreams checks the batches of a file read on one goroutine
// and of one read on its own (more than two chunks): in file order, every
// batch full but the last, a failing emit and a cancelled context stopping
// at once, a narrowed enumeration finding its one session.
func TestEnumerateStreams(t *testing.T) {
	for _, records := range []int{5*provider.MaxBatch + 77, 3*chunkRecords + 77} {
		t.Run(strconv.Itoa(records), func(t *testing.T) { testEnumerateStreams(t, records) })
	}
}

func testEnumerateStreams(t *testing.T, records int) {
	w := newWorld(t)
	var recs []utmp.Record
	for i := range records {
		recs = append(recs, utmp.Record{Type: utmp.UserProcess, PID: int32(4_000_000 + i), Line: fmt.Sprintf("pts/%d", i),
			User: "u", Time: bootTime.Add(time.Duration(i) * time.Second)})
	}
	w.records(recs...)
	p := w.provider()
	ctx := context.Background()
	n, batches := 0, 0
	err := p.Enumerate(ctx, ClassName, provider.Hint{}, func(b []*cim.Instance) error {
		if len(b) == 0 || len(b) > provider.MaxBatch || len(b) < provider.MaxBatch && n+len(b) != len(recs) {
			t.Fatalf("batch of %d after %d", len(b), n)
		}
		for _, in := range b {
			if want := fmt.Sprintf("pts/%d", n); in.String("TTY") != want {
				t.Fatalf("instance %d has TTY %q, want %q", n, in.String("TTY"), want)
			}
			n++
		}
		batches++
		return nil
	})
	wantBatches := (len(recs) + provider.MaxBatch - 1) / provider.MaxBatch
	if err != nil || n != len(recs) || batches != wantBatches {
		t.Fatalf("%d instances in %d batches, %v; want %d in %d", n, batches, err, len(recs), wantBatches)
	}
	bad := errors.New("bad instance")
	batches = 0
	err = p.Enumerate(ctx, ClassName, provider.Hint{}, func([]*cim.Instance) error { batches++; return bad })
	if err != bad || batches != 1 {
		t.Errorf("failing emit: %v after %d batches", err, batches)
	}
	cctx, cancel := context.WithCancel(ctx)
	batches = 0
	err = p.Enumerate(cctx, ClassName, provider.Hint{}, func([]*cim.Instance) error { batches++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || batches != 1 {
		t.Errorf("cancelled: %v after %d batches", err, batches)
	}
	for _, id := range []string{"utmp:pts/3:4000003", fmt.Sprintf("utmp:pts/%d:%d", records-1, 4_000_000+records-1)} {
		one, err := provider.Collect(ctx, p, ClassName, provider.Hint{Keys: map[string]any{"logonid": id}})
		if err != nil || len(one) != 1 || one[0].String("LogonId") != id {
			t.Errorf("narrowed to %s: %d instances, %v", id, len(one), err)
		}
	}
}

func TestAddrText(t *testing.T) {
	for _, tc := range []struct{ addr, host, want string }{
		{"192.0.2.1", "192.0.2.1", "192.0.2.1"},
		{"2001:db8::5", "2001:DB8::5", "2001:db8::5"}, // respelled as Go writes it
		{"2001:db8::5", "host.example", "2001:db8::5"},
		{"192.0.2.1", "", "192.0.2.1"},
	} {
		for _, room := range [][]byte{nil, make([]byte, addrRoom), make([]byte, 2)} {
			if got := addrText(netip.MustParseAddr(tc.addr), tc.host, room); got != tc.want {
				t.Errorf("addrText(%s, %q, room of %d) = %q, want %q", tc.addr, tc.host, len(room), got, tc.want)
			}
		}
	}
	if n := testing.AllocsPerRun(10, func() { _ = addrText(netip.MustParseAddr("192.0.2.1"), "192.0.2.1", nil) }); n != 0 {
		t.Errorf("addrText of a host spelt as the address allocates %v times", n)
	}
	room := make([]byte, addrRoom)
	if n := testing.AllocsPerRun(10, func() { _ = addrText(netip.MustParseAddr("2001:db8::5"), "host.example", room) }); n != 0 {
		t.Errorf("addrText in a room allocates %v times", n)
	}
}

// TestLoggedOutWhileProcessesRemain follows a login whose logout sshd has
// written (its record turns DEAD_PROCESS) while some of its processes are
// still there: a provider that saw the record keeps its terminal, host and
// start and says Stopping, instead of showing a new session without a
// terminal; once the processes end, the session is gone.
func TestLoggedOutWhileProcessesRemain(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, pts(0))
	login := t0.Add(300 * time.Millisecond)
	w.records(utmp.Record{Type: utmp.UserProcess, PID: 100, Line: "pts/0", ID: "ts/0", User: "alice", Host: "192.0.2.1",
		Addr: netip.MustParseAddr("192.0.2.1"), Time: login})
	p := w.provider()
	got := enum(t, p)
	want(t, got["7"], map[string]any{"Status": StatusOK, "TTY": "pts/0", "LogonType": LogonRemoteInteractive, "StartTime": login})

	w.records(utmp.Record{Type: utmp.DeadProcess, PID: 100, Line: "pts/0", ID: "ts/0", Time: t0.Add(time.Minute)})
	w.killProc(102) // the shell is gone; sshd's processes remain
	got = enum(t, p)
	want(t, got["7"], map[string]any{"Status": StatusStopping, "TTY": "pts/0", "RemoteHost": "192.0.2.1",
		"LogonType": LogonRemoteInteractive, "StartTime": login, "UserName": "alice"})
	if d := got["7"].String("Description"); !strings.Contains(d, "logout is recorded") {
		t.Errorf("Description %q does not say the logout is recorded", d)
	}
	// A one-shot run never saw the record: it shows what the sources say.
	got = enum(t, w.provider())
	want(t, got["7"], map[string]any{"Status": StatusOK, "TTY": nil, "LogonType": LogonNetwork})

	w.killProc(100)
	w.killProc(101)
	if got = enum(t, p); len(got) != 0 {
		t.Errorf("after the last process: %v, want none", got)
	}
	// A new session with the same audit id (ids are not reused, but a
	// remembered record must not outlive its session) starts clean.
	w.sshLogin(7, 1000, 200, t0.Add(2*time.Hour), 0)
	got = enum(t, p)
	want(t, got["7"], map[string]any{"Status": StatusOK, "TTY": nil})
}

// TestReusedPIDEveryRecord checks that two login records of one line and
// pid (the pid was reused) are two sessions, as who shows two lines, each
// with its own LogonId, and that the ids stay the same from one call to
// the next.
func TestReusedPIDEveryRecord(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 4000123, Line: "pts/7", User: "alice", Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 4000123, Line: "pts/7", User: "bob", Time: t0.Add(time.Hour)},
		utmp.Record{Type: utmp.UserProcess, PID: 4000123, Line: "pts/7", User: "carol", Time: t0.Add(time.Hour)},
	)
	p := w.provider()
	got := enum(t, p)
	want := []string{"utmp:pts/7:4000123", fmt.Sprintf("utmp:pts/7:4000123@%d", t0.Add(time.Hour).Unix()),
		fmt.Sprintf("utmp:pts/7:4000123@%d#2", t0.Add(time.Hour).Unix())}
	for i, id := range want {
		in, ok := got[id]
		if !ok {
			t.Fatalf("%s missing: %v", id, got)
		}
		if u := in.String("UserName"); u != []string{"alice", "bob", "carol"}[i] {
			t.Errorf("%s: user %s", id, u)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d sessions, want 3", len(got))
	}
	if again := enum(t, p); len(again) != 3 || again[want[2]] == nil {
		t.Errorf("second call: %v", again)
	}
}

// TestOriginStable: a session's LogonType, RemoteHost and RemoteAddress do
// not change during its life: a non-tty ssh session stays a network logon
// (3) once its sshd processes are gone, and keeps the host logind named.
func TestOriginStable(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, 0)
	w.addProc(fproc{pid: 110, ppid: 102, comm: "sleep", start: t0.Add(time.Minute), uid: 1000, loginUID: 1000, session: 7})
	w.logindSession("7", "UID=1000", "USER=alice", "REMOTE=1", "REMOTE_HOST=10.1.2.3", "LEADER=100", "STATE=active")
	p := w.provider()
	first := map[string]any{"LogonType": LogonNetwork, "RemoteHost": "10.1.2.3", "RemoteAddress": "10.1.2.3"}
	want(t, enum(t, p)["7"], first)
	// sshd and bash exit, nohup'ed sleep remains; logind's file is gone.
	w.killProc(100)
	w.killProc(101)
	w.killProc(102)
	if err := os.Remove(filepath.Join(w.logind, "7")); err != nil {
		t.Fatal(err)
	}
	want(t, enum(t, p)["7"], first)
	// Once the session is gone, it is forgotten: a new session with the id
	// starts afresh.
	w.killProc(110)
	enum(t, p)
	if len(p.origins) != 0 {
		t.Errorf("origins kept after the session ended: %v", p.origins)
	}
}

// TestOriginLearnsTheTerminal: a session first seen before sshd wrote its
// utmp record (its processes only: a network logon) becomes a remote
// interactive one once the record names its terminal and host, in the
// same provider (a watch, a recorder, a server), as a fresh look says.
func TestOriginLearnsTheTerminal(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.sshLogin(7, 1000, 100, t0, pts(0))
	w.records(utmp.Record{Type: utmp.BootTime, Line: "~", User: "reboot", Time: bootTime})
	p := w.provider()
	want(t, enum(t, p)["7"], map[string]any{"LogonType": LogonNetwork, "TTY": nil})
	login := t0.Add(300 * time.Millisecond)
	w.records(
		utmp.Record{Type: utmp.BootTime, Line: "~", User: "reboot", Time: bootTime},
		utmp.Record{Type: utmp.UserProcess, PID: 102, Line: "pts/0", ID: "ts/0", User: "alice", Host: "192.0.2.1",
			Addr: netip.MustParseAddr("192.0.2.1"), Time: login},
	)
	learnt := map[string]any{"LogonType": LogonRemoteInteractive, "TTY": "pts/0", "RemoteHost": "192.0.2.1"}
	want(t, enum(t, p)["7"], learnt)
	want(t, enum(t, w.provider())["7"], learnt)
}

// TestRepeatsInABigFile: in a utmp of many records (the first pass's
// filter small for them, so that false positives occur), every repeated
// line and pid gets its own id, in record order, and no other record's id
// changes.
func TestRepeatsInABigFile(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	var recs []utmp.Record
	var want []string
	for k := range 30000 {
		pid := int32(4000000 + k)
		at := t0.Add(time.Duration(k) * time.Second)
		id := fmt.Sprintf("utmp:pts/%d:%d", k%50, pid)
		if k%1000 == 999 { // the line and pid of the record 500 before
			pid = int32(4000000 + k - 500)
			id = fmt.Sprintf("utmp:pts/%d:%d@%d", k%50, pid, at.Unix())
		}
		recs = append(recs, utmp.Record{Type: utmp.UserProcess, PID: pid, Line: "pts/" + strconv.Itoa(k%50), User: "u", Time: at})
		want = append(want, id)
	}
	w.records(recs...)
	insts, err := provider.Collect(context.Background(), w.provider(), ClassName, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != len(want) {
		t.Fatalf("%d instances, want %d", len(insts), len(want))
	}
	for i, in := range insts {
		if id := in.String("LogonId"); id != want[i] {
			t.Fatalf("instance %d: %s, want %s", i, id, want[i])
		}
	}
	// The filter: at its smallest, with many ids, it answers "maybe" for
	// more ids than repeat, and for every id that does.
	r := newRepeats(0)
	for k := range 41000 {
		r.addLineString("pts/1", int32(k%40000))
	}
	if len(r.again) <= 1000 || !r.maybe("utmp:pts/1:999") || !r.maybe("utmp:pts/1:0") || r.maybe("utmp:pts/1:40001") {
		t.Errorf("filter: %d ids kept", len(r.again))
	}
	// Two lines whose ids are one text (the byte 0x85 and the character
	// U+0085 are escaped alike) are one id that repeats.
	r = newRepeats(0)
	r.addLine([]byte("\x85"), 7)
	r.addLineString("\xc2\x85", 7)
	if !r.maybe("utmp:\\x85:7") {
		t.Errorf("filter: two lines with one id's text did not repeat: kept %v", r.again)
	}
	// A line read in place and the same line decoded hash alike.
	r = newRepeats(0)
	r.addLine([]byte("tty7"), 5)
	r.addLineString("tty7", 5)
	r.addLine([]byte("tty7"), 6)
	if !r.maybe("utmp:tty7:5") || r.maybe("utmp:tty7:6") {
		t.Errorf("filter: a line's bytes and its string differ: kept %v", r.again)
	}
}

// TestLentBatches: with provider.Hint.Lent each batch is made in the
// memory of the last, and says what a batch made anew says; also for a
// file big enough to be read on a goroutine of its own, whose batches are
// made in the two chunks that take turns.
func TestLentBatches(t *testing.T) {
	for _, records := range []int{1000, 5*chunkRecords + 77} {
		t.Run(strconv.Itoa(records), func(t *testing.T) { testLentBatches(t, records) })
	}
}

func testLentBatches(t *testing.T, records int) {
	w := newWorld(t)
	w.records(benchRecords(records)...)
	p := w.provider()
	ctx := context.Background()
	whole, err := provider.Collect(ctx, p, ClassName, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	firsts := map[*cim.Instance]bool{}
	err = p.Enumerate(ctx, ClassName, provider.Hint{Lent: true}, func(batch []*cim.Instance) error {
		firsts[batch[0]] = true
		for _, in := range batch {
			got = append(got, fmt.Sprint(in.Properties))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(whole) {
		t.Fatalf("%d instances lent, %d whole", len(got), len(whole))
	}
	for i, in := range whole {
		if want := fmt.Sprint(in.Properties); got[i] != want {
			t.Fatalf("instance %d lent:\n%s\nwhole:\n%s", i, got[i], want)
		}
	}
	want := 1
	if records > 2*chunkRecords {
		want = 2
	}
	if len(firsts) != want {
		t.Errorf("%d batches began with %d different instances, want %d", (len(got)+provider.MaxBatch-1)/provider.MaxBatch, len(firsts), want)
	}
}

// TestConcurrentEnumerations: enumerations of one provider may overlap
// (the server's requests); the second pass of one reads the remembered ids
// while another's first pass, or a state file written by another process,
// replaces them. Run under -race.
func TestConcurrentEnumerations(t *testing.T) {
	w := newWorld(t)
	w.records(benchRecords(600)...)
	state := filepath.Join(t.TempDir(), "logon-ids")
	p := w.providerWithState(state)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if g == 0 {
					// Another process remembers an id: the next first pass loads it.
					os.WriteFile(state, []byte("pts/1|"+strconv.Itoa(i)+"|0\t7\n"), 0o644)
				}
				n := 0
				err := p.Enumerate(context.Background(), ClassName, provider.Hint{Lent: g%2 == 1}, func(b []*cim.Instance) error {
					n += len(b)
					return nil
				})
				if err != nil || n != 600-600/16 {
					t.Errorf("%d instances: %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLentChunksKeepNothing: in a lent listing a record's texts, its
// LogonId and its address text are made in the chunk, which later records
// write again. What the provider keeps of them beyond the chunk (the
// origins of live sessions, the ids that repeat, the ids alive) must be
// copies: a second listing, and the origins themselves, show any that is
// not.
func TestLentChunksKeepNothing(t *testing.T) {
	w := newWorld(t)
	recs := benchRecords(5*chunkRecords + 77)
	for k := range recs {
		r := &recs[k]
		if k%16 == 15 {
			continue // a logout
		}
		if k%4 == 1 {
			// A host name with the address it resolved to: the address's
			// text is made apart from the host's.
			r.Addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(k >> 8), 15: byte(k)})
		}
		if k%10 == 3 {
			w.addProc(fproc{pid: int(r.PID), ppid: 1, comm: "bash", start: r.Time, cmdline: "-bash", noAudit: true})
		}
	}
	// The same line and pid again, later: a reused pid, named apart.
	again := recs[7]
	again.Time = again.Time.Add(time.Hour)
	recs = append(recs, again)
	w.records(recs...)
	p := w.provider()
	ctx := context.Background()
	listing := func() []string {
		var got []string
		err := p.Enumerate(ctx, ClassName, provider.Hint{Lent: true}, func(batch []*cim.Instance) error {
			for _, in := range batch {
				got = append(got, fmt.Sprint(in.Properties))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first, second := listing(), listing()
	held, err := provider.Collect(ctx, p, ClassName, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(held) || len(second) != len(held) {
		t.Fatalf("%d and %d instances lent, %d held", len(first), len(second), len(held))
	}
	live := 0
	for i, in := range held {
		if want := fmt.Sprint(in.Properties); first[i] != want || second[i] != want {
			t.Fatalf("instance %d\nfirst lent:  %s\nsecond lent: %s\nheld:        %s", i, first[i], second[i], want)
		}
		id, host, addr := text(in, "LogonId"), text(in, "RemoteHost"), text(in, "RemoteAddress")
		o, ok := p.origins[id]
		if text(in, "Status") != StatusOK {
			continue
		}
		live++
		if !ok || o.remoteHost != host || o.remoteAddr != addr {
			t.Errorf("origin of %s: %+v (known %v), want host %q, address %q", id, o, ok, host, addr)
		}
	}
	if live == 0 || len(p.origins) != live {
		t.Errorf("%d origins kept for %d live sessions", len(p.origins), live)
	}
	named := 0
	for _, in := range held {
		if strings.Contains(text(in, "LogonId"), "@") {
			named++
		}
	}
	if named != 1 {
		t.Errorf("%d records named apart, want the repeated one", named)
	}
}

// text is in's string property name, "" when it has none.
func text(in *cim.Instance, name string) string {
	v, _ := in.Get(name)
	s, _ := v.(string)
	return s
}

// Two logins on one pid whose lines differ in their bytes but not in
// their escaped id's text (the byte 0x85, the character U+0085) are two
// sessions with two LogonIds: a key is unique in its class.
func TestLinesWithOneEscapedID(t *testing.T) {
	w := newWorld(t)
	t0 := bootTime.Add(time.Hour)
	w.records(
		utmp.Record{Type: utmp.UserProcess, PID: 4000123, Line: "\x85", User: "alice", Time: t0},
		utmp.Record{Type: utmp.UserProcess, PID: 4000123, Line: "\xc2\x85", User: "bob", Time: t0.Add(time.Hour)},
	)
	insts, err := provider.Collect(context.Background(), w.provider(), ClassName, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, in := range insts {
		id, user := in.String("LogonId"), in.String("UserName")
		if other, dup := ids[id]; dup {
			t.Errorf("LogonId %q is both %s's and %s's", id, other, user)
		}
		ids[id] = user
	}
	if len(ids) != 2 {
		t.Errorf("%d sessions, want 2: %v", len(ids), ids)
	}
}
