package procfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

var boot = time.Unix(1767261600, 0)

func TestListFixture(t *testing.T) {
	fs := New(filepath.Join("testdata", "proc"))
	procs, err := fs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hasExe := runtime.GOOS != "windows" // git may check symlinks out as files there
	want := []Process{
		{PID: 1, PPID: 0, State: 'S', Comm: "systemd", Cmdline: "/sbin/init splash", Exe: "/usr/lib/systemd/systemd",
			UID: 0, LoginUID: Unset, SessionID: Unset, StartTicks: 2},
		{PID: 4242, PPID: 1, State: 'S', Comm: "sshd", Cmdline: "sshd: alice@pts/3", Exe: "/usr/sbin/sshd",
			UID: 0, LoginUID: 1000, SessionID: 7, StartTicks: 360000},
		{PID: 4300, PPID: 4242, State: 'S', Comm: "bash", Cmdline: "-bash", Exe: "/usr/bin/bash",
			UID: 1000, LoginUID: 1000, SessionID: 7, TTY: 34819, TTYName: "pts/3", StartTicks: 360050},
		{PID: 4301, PPID: 4300, State: 'R', Comm: "(evil) (name) S 9", Cmdline: "./evil --flag=a b",
			UID: 1000, LoginUID: 1000, SessionID: 7, TTY: 34819, TTYName: "pts/3", StartTicks: 360100},
		{PID: 5000, PPID: 4300, State: 'Z', Comm: "defunct", UID: 1000, LoginUID: 1000, SessionID: 7,
			TTY: 34819, TTYName: "pts/3", StartTicks: 370000},
		{PID: 7000, PPID: 1, State: 'S', Comm: "agetty", Cmdline: `/sbin/agetty -o -p -- \\u --noclear tty1 linux`,
			Exe: "/usr/sbin/agetty", LoginUID: Unset, SessionID: Unset, TTY: 1025, TTYName: "tty1", StartTicks: 500},
		{PID: 7001, PPID: 1, State: 'S', Comm: "agetty", Cmdline: "/sbin/agetty ttyS0",
			LoginUID: Unset, SessionID: Unset, TTY: 1088, TTYName: "ttyS0", StartTicks: 510},
		{PID: 8000, PPID: 1, State: 'S', Comm: "tmux: server", Cmdline: "tmux", UID: 1001, LoginUID: 1001, SessionID: 12,
			TTY: 35116, TTYName: "pts/300", StartTicks: 900000},
		// No loginuid or sessionid files: a kernel without audit.
		{PID: 9000, PPID: 2, State: 'I', Comm: "kworker/0:1", LoginUID: Unset, SessionID: Unset, StartTicks: 30},
	}
	if len(procs) != len(want) {
		t.Fatalf("got %d processes, want %d: %+v", len(procs), len(want), procs)
	}
	for i, w := range want {
		w.StartTime = boot.Add(time.Duration(w.StartTicks) * 10 * time.Millisecond)
		if !hasExe {
			procs[i].Exe, w.Exe = "", ""
		}
		if fmt.Sprintf("%+v", procs[i]) != fmt.Sprintf("%+v", w) {
			t.Errorf("process %d:\n got %+v\nwant %+v", w.PID, procs[i], w)
		}
	}
	if !procs[1].HasSession() || procs[0].HasSession() || !procs[1].HasLoginUID() || procs[0].HasLoginUID() {
		t.Error("HasSession/HasLoginUID wrong")
	}
}

func TestGetAliveFixture(t *testing.T) {
	fs := New(filepath.Join("testdata", "proc"))
	p, err := fs.Get(4300)
	if err != nil || p.Comm != "bash" || p.TTYName != "pts/3" || p.SessionID != 7 {
		t.Fatalf("Get(4300) = %+v, %v", p, err)
	}
	for _, pid := range []int{9999, 12345, 0, -1} {
		if _, err := fs.Get(pid); cim.CodeOf(err) != cim.ErrNotFound {
			t.Errorf("Get(%d): %v, want CIM_ERR_NOT_FOUND", pid, err)
		}
	}
	for pid, want := range map[int]bool{1: true, 4300: true, 5000: false, 9999: false, 12345: false, 0: false} {
		if got := fs.Alive(pid); got != want {
			t.Errorf("Alive(%d) = %v, want %v", pid, got, want)
		}
	}
	bt, err := fs.BootTime()
	if err != nil || !bt.Equal(boot) {
		t.Errorf("BootTime = %v, %v", bt, err)
	}
}

func TestErrors(t *testing.T) {
	missing := New(filepath.Join(t.TempDir(), "nothing"))
	if _, err := missing.List(context.Background()); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("List of a missing root: %v", err)
	}
	if _, err := missing.BootTime(); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("BootTime of a missing root: %v", err)
	}
	if missing.Alive(1) {
		t.Error("Alive in a missing root")
	}
	// A root without btime cannot give start times.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "stat"), []byte("cpu 1 2 3\n"), 0o644)
	if _, err := New(dir).List(context.Background()); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("List without btime: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(filepath.Join("testdata", "proc")).List(ctx); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
	if New("").Root() != DefaultRoot {
		t.Error("New(\"\") does not read /proc")
	}
}

// writeProc writes a synthetic process into a procfs tree.
func writeProc(t testing.TB, root string, pid, ppid int, comm string, tty int, session uint32) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (%s) S %d %d %d %d -1 4194304 100 0 0 0 5 6 0 0 20 0 1 0 %d 1000 100 18446744073709551615 1 1 0\n",
		pid, comm, ppid, pid, pid, tty, pid*3)
	files := map[string]string{
		"stat":      stat,
		"status":    fmt.Sprintf("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t%d\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n", comm, pid),
		"loginuid":  "1000",
		"sessionid": strconv.FormatUint(uint64(session), 10),
		"cmdline":   "/usr/bin/" + comm + "\x00--verbose\x00",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVanishedMidRead(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "stat"), []byte("btime 1767261600\n"), 0o644)
	for pid := 100; pid < 110; pid++ {
		writeProc(t, root, pid, 1, "p"+strconv.Itoa(pid), 0, 3)
	}
	// 103 exited after its stat was read: its other files are gone.
	for _, f := range []string{"status", "loginuid", "sessionid", "cmdline"} {
		os.Remove(filepath.Join(root, "103", f))
	}
	// 105 exited before: its directory is empty.
	os.RemoveAll(filepath.Join(root, "105"))
	os.Mkdir(filepath.Join(root, "105"), 0o755)
	// 107's stat is garbage.
	os.WriteFile(filepath.Join(root, "107", "stat"), []byte("107 no parens"), 0o644)
	procs, err := New(root).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		pids = append(pids, p.PID)
	}
	if fmt.Sprint(pids) != "[100 101 102 104 106 108 109]" {
		t.Errorf("pids %v", pids)
	}
}

func TestTTYName(t *testing.T) {
	enc := func(major, minor uint64) uint64 { return minor&0xff | major<<8 | (minor&^0xff)<<12 }
	for _, tc := range []struct {
		nr   uint64
		want string
	}{
		{0, ""},
		{enc(136, 0), "pts/0"},
		{enc(136, 3), "pts/3"},
		{enc(137, 44), "pts/300"},
		{enc(143, 255), "pts/2047"},
		{enc(4, 1), "tty1"},
		{enc(4, 63), "tty63"},
		{enc(4, 64), "ttyS0"},
		{enc(4, 65), "ttyS1"},
		{enc(5, 0), "tty"},
		{enc(5, 1), "console"},
		{enc(188, 0), "ttyUSB0"},
		{enc(188, 300), "ttyUSB300"},
		{enc(166, 2), "ttyACM2"},
		{enc(204, 64), "ttyAMA0"},
		{enc(229, 1), "hvc1"},
		{enc(8, 1), ""}, // a disk, not a terminal
	} {
		if got := TTYName(tc.nr); got != tc.want {
			t.Errorf("TTYName(%d) = %q, want %q", tc.nr, got, tc.want)
		}
	}
}

var statCases = []struct {
	line string
	want stat
	ok   bool
}{
	{"1 (systemd) S 0 1 1 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 2 1000 100 1 2 3\n", stat{1, "systemd", 'S', 0, 0, 2, false}, true},
	{"42 (a b) R 7 42 42 34816 42 0 0 0 0 0 0 0 0 0 20 0 1 0 99", stat{42, "a b", 'R', 7, 34816, 99, false}, true},
	{"43 ((x) S 1 2) Z 7 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0", stat{43, "(x) S 1 2", 'Z', 7, 0, 5, false}, true},
	{"44 () S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{44, "", 'S', 1, 0, 5, false}, true},
	{"45 (new\nline) S 1 1 1 -2 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{45, "new\nline", 'S', 1, 0xfffffffe, 5, false}, true},
	{"46 (x)) S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{46, "x)", 'S', 1, 0, 5, false}, true},
	{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{2, "kthreadd", 'S', 0, 0, 5, true}, true},
	{"", stat{}, false},
	{"1 (x", stat{}, false},
	{"1 x) S", stat{}, false},
	{"(x) S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{}, false},
	{"1 (x) S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0", stat{}, false},    // no field 22
	{"1 (x) SS 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{}, false}, // state is one letter
	{"1 (x) S -1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{}, false},
	{"1 (x) S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", stat{}, false},
	{"x (x) S 1 1 1 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 5", stat{}, false},
}

func TestParseStat(t *testing.T) {
	for _, tc := range statCases {
		got, err := parseStat([]byte(tc.line))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v ok=%v", tc.line, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	for _, tc := range statCases {
		f.Add([]byte(tc.line))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if err != nil {
			return
		}
		// Whatever parsed must print back to a line that parses the same.
		flags := 0
		if st.kthread {
			flags = pfKthread
		}
		line := fmt.Sprintf("%d (%s) %s %d 0 0 %d 0 %d 0 0 0 0 0 0 0 0 0 0 0 0 %d 0\n",
			st.pid, st.comm, []byte{st.state}, st.ppid, int32(uint32(st.tty)), flags, st.start)
		st2, err := parseStat([]byte(line))
		if err != nil || st2 != st {
			t.Fatalf("reparse of %q: %+v, %v; want %+v", line, st2, err, st)
		}
		if !strings.Contains(string(b), st.comm) {
			t.Fatalf("comm %q not in the line", st.comm)
		}
		_ = TTYName(st.tty)
	})
}

func TestStatusUID(t *testing.T) {
	for in, want := range map[string]int64{
		"Name:\tx\nUid:\t1000\t0\t0\t0\n":    1000,
		"Uid:\t7 8 9 10\n":                   7,
		"Name:\tx\nUid:\t4294967294\t0\n":    4294967294,
		"Name:\tx\nGid:\t5\n":                -1,
		"Name:\tx\nUid:\tabc\n":              -1,
		"Name:\tx\nUid:\t99999999999999\n":   -1,
		"Name:\tx\nUid:\t12":                 12,
		"Name:\tUid:\t5\nUid:\t6\t6\t6\t6\n": 6,
	} {
		got, ok := statusUID([]byte(in))
		if (want < 0 && ok) || (want >= 0 && (!ok || int64(got) != want)) {
			t.Errorf("statusUID(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
}

// TestRealProc reads the system's /proc and finds this test process.
func TestRealProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("no procfs on " + runtime.GOOS)
	}
	fs := New("")
	procs, err := fs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	var me *Process
	for i := range procs {
		if procs[i].PID == self {
			me = &procs[i]
		}
	}
	if me == nil {
		t.Fatalf("pid %d not among %d processes", self, len(procs))
	}
	if me.PPID != os.Getppid() {
		t.Errorf("PPID %d, want %d", me.PPID, os.Getppid())
	}
	if me.UID != uint32(os.Getuid()) {
		t.Errorf("UID %d, want %d", me.UID, os.Getuid())
	}
	b, err := os.ReadFile("/proc/self/sessionid")
	if err == nil {
		sid, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if me.SessionID != uint32(sid) {
			t.Errorf("SessionID %d, want %d", me.SessionID, sid)
		}
		t.Logf("own audit session id: %d (set: %v)", me.SessionID, me.HasSession())
	}
	if exe, err := os.Executable(); err == nil && me.Exe != exe {
		t.Errorf("Exe %q, want %q", me.Exe, exe)
	}
	if !strings.Contains(me.Cmdline, filepath.Base(os.Args[0])) {
		t.Errorf("Cmdline %q does not name %q", me.Cmdline, os.Args[0])
	}
	if age := time.Since(me.StartTime); age < -2*time.Second || age > 10*time.Minute {
		t.Errorf("StartTime %v is %v ago", me.StartTime, age)
	}
	if me.State != 'R' && me.State != 'S' {
		t.Errorf("State %c", me.State)
	}
	if !fs.Alive(self) {
		t.Error("Alive(self) = false")
	}
	g, err := fs.Get(self)
	if err != nil || g.StartTicks != me.StartTicks || g.PPID != me.PPID {
		t.Errorf("Get(self) = %+v, %v", g, err)
	}
}

func BenchmarkList(b *testing.B) {
	b.Run("fixture2000", func(b *testing.B) {
		root := b.TempDir()
		os.WriteFile(filepath.Join(root, "stat"), []byte("btime 1767261600\n"), 0o644)
		for i := range 2000 {
			writeProc(b, root, 1000+i, 1, "proc"+strconv.Itoa(i), 34816+i%200, uint32(i%50))
		}
		fs := New(root)
		b.ReportAllocs()
		for b.Loop() {
			procs, err := fs.List(context.Background())
			if err != nil || len(procs) != 2000 {
				b.Fatal(len(procs), err)
			}
		}
	})
	if runtime.GOOS == "linux" {
		b.Run("proc", func(b *testing.B) {
			fs := New("")
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				procs, err := fs.List(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				n = len(procs)
			}
			b.ReportMetric(float64(n), "procs")
		})
	}
}

// The lines provider/process parsed itself before it read through this
// package, with what [FieldUsage] takes of them.
var usageCases = []struct {
	line string
	want usage
	ok   bool
}{
	{"401 (sleep) S 400 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 5100 8192000 300 18446744073709551615",
		usage{faults: 100, utime: 250, stime: 50, threads: 3, vsize: 8192000, rss: 300, prio: 20}, true},
	{"402 (nice) S 400 1 1 0 -1 4194560 100 7 5 0 250 50 0 0 -51 -10 3 0 5100 8192000 300 18446744073709551615",
		usage{faults: 105, prio: -51, nice: -10, utime: 250, stime: 50, threads: 3, vsize: 8192000, rss: 300}, true},
	{"1 (a) b) c) R 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0", usage{threads: 1}, true},
	{"5 () Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 99999999999 0 1 2 3", usage{vsize: 2, rss: 3, prio: 20}, true},      // threads beyond 32 bits: 0
	{"6 (short) S 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 2 0 9", usage{utime: 7, stime: 8, threads: 2, prio: 20}, true}, // no fields 23, 24
	{"x (y) S", usage{}, false},
	{"", usage{}, false},
}

func TestParseStatUsage(t *testing.T) {
	for _, tc := range usageCases {
		var u usage
		st, err := parseStatUsage([]byte(tc.line), &u)
		if (err == nil) != tc.ok || (tc.ok && u != tc.want) {
			t.Errorf("parseStatUsage(%q) = %+v, %v; want %+v ok=%v", tc.line, u, err, tc.want, tc.ok)
		}
		if st0, err0 := parseStat([]byte(tc.line)); st0 != st || (err0 == nil) != (err == nil) {
			t.Errorf("parseStat(%q) and parseStatUsage disagree: %+v/%v, %+v/%v", tc.line, st0, err0, st, err)
		}
	}
}

func FuzzParseStatUsage(f *testing.F) {
	for _, tc := range usageCases {
		f.Add([]byte(tc.line))
	}
	for _, tc := range statCases {
		f.Add([]byte(tc.line))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var u usage
		st, err := parseStatUsage(b, &u)
		st0, err0 := parseStat(b)
		if (err == nil) != (err0 == nil) || st != st0 {
			t.Fatalf("parseStat %+v, %v; parseStatUsage %+v, %v", st0, err0, st, err)
		}
	})
}

func TestStatusUIDs(t *testing.T) {
	for _, tc := range []struct {
		in         string
		ruid, euid uint32
		rok, eok   bool
	}{
		{"Name:\tx\nUid:\t1000\t1001\t1000\t1000\n", 1000, 1001, true, true},
		{"Uid: 1", 1, 0, true, false},
		{"Uid:\t1\nGid:\t5\t5\n", 1, 0, true, false}, // the effective uid is on the Uid: line or nowhere
		{"Name:\tx\nGid:\t5\n", 0, 0, false, false},
		{"Uid:\tx\t5\n", 0, 0, false, false},
		{"Uid:\t5\tx\n", 5, 0, true, false},
	} {
		r, e, rok, eok := statusUIDs([]byte(tc.in))
		if r != tc.ruid || e != tc.euid || rok != tc.rok || eok != tc.eok {
			t.Errorf("statusUIDs(%q) = %d %d %v %v", tc.in, r, e, rok, eok)
		}
	}
}

func FuzzStatusUIDs(f *testing.F) {
	f.Add([]byte("Name:\tx\nUid:\t1000\t1001\t1000\t1000\n"))
	f.Add([]byte("Uid: 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, rok, eok := statusUIDs(b)
		if r2, ok2 := statusUID(b); r2 != r || ok2 != rok {
			t.Fatalf("statusUID and statusUIDs disagree on %q", b)
		}
		if eok && !rok {
			t.Fatalf("an effective uid without a real one in %q", b)
		}
	})
}

func TestSplitCmdline(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "[]",
		"\x00\x00":                        "[]",
		"sleep\x0060\x00":                 `["sleep" "60"]`,
		"python3\x00my script.py\x00\x00": `["python3" "my script.py"]`,
		"sshd: alice@pts/3":               `["sshd: alice@pts/3"]`,
		"a\x00\x00b":                      `["a" "" "b"]`,
	} {
		if got := fmt.Sprintf("%q", splitCmdline([]byte(in))); got != want {
			t.Errorf("splitCmdline(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzSplitCmdline(f *testing.F) {
	f.Add([]byte("python3\x00my script.py\x00\x00"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		args := splitCmdline(b)
		joined := strings.Join(args, "\x00")
		if joined != strings.TrimRight(string(b), "\x00") {
			t.Fatalf("splitCmdline(%q) = %q does not join back", b, args)
		}
		if want := joinCmdline(append([]byte(nil), b...)); strings.Join(args, " ") != want {
			t.Fatalf("splitCmdline(%q) joined by spaces %q, joinCmdline %q", b, strings.Join(args, " "), want)
		}
	})
}

func TestListFields(t *testing.T) {
	fs := New(filepath.Join("testdata", "proc"))
	ctx := context.Background()
	all, err := fs.ListFields(ctx, DefaultFields|FieldEUID|FieldArgs|FieldUsage)
	if err != nil {
		t.Fatal(err)
	}
	basic, _ := fs.List(ctx)
	if len(all) != len(basic) {
		t.Fatalf("%d processes with every field, %d with the default", len(all), len(basic))
	}
	for i := range all {
		p := all[i]
		if p.UID != basic[i].UID || p.Cmdline != basic[i].Cmdline || !p.StartTime.Equal(basic[i].StartTime) {
			t.Errorf("%d: the default fields differ: %+v / %+v", p.PID, p, basic[i])
		}
		if strings.Join(p.Args, " ") != p.Cmdline {
			t.Errorf("%d: Args %q, Cmdline %q", p.PID, p.Args, p.Cmdline)
		}
	}
	bash := all[2]
	if bash.PID != 4300 || bash.EUID != 0 || bash.UID != 1000 || bash.Threads == 0 {
		t.Errorf("4300 = %+v", bash)
	}
	// Asked for nothing, it reads only stat: no btime needed, no uid.
	dir := t.TempDir()
	writeProc(t, dir, 100, 1, "smbd", 0, 3)
	min, err := New(dir).ListFields(ctx, 0)
	if err != nil || len(min) != 1 || min[0].Comm != "smbd" || min[0].UID != 0 || min[0].SessionID != Unset || !min[0].StartTime.IsZero() {
		t.Errorf("ListFields(0) = %+v, %v", min, err)
	}
	if _, err := New(dir).GetFields(100, FieldStartTime); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("GetFields with a start time and no btime: %v", err)
	}
	if p, err := fs.GetFields(4242, FieldStartTime); err != nil || !p.StartTime.Equal(boot.Add(3600*time.Second)) || p.Exe != "" {
		t.Errorf("GetFields(4242, FieldStartTime) = %+v, %v", p, err)
	}
}

func TestSessionPIDs(t *testing.T) {
	fs := New(filepath.Join("testdata", "proc"))
	ctx := context.Background()
	all, err := fs.SessionPIDs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(all) != "map[7:[4242 4300 4301 5000] 12:[8000]]" {
		t.Errorf("SessionPIDs(nil) = %v", all)
	}
	some, _ := fs.SessionPIDs(ctx, map[uint32]bool{12: true, 99: true})
	if fmt.Sprint(some) != "map[12:[8000]]" {
		t.Errorf("SessionPIDs(12, 99) = %v", some)
	}
	for pid, want := range map[int]string{4300: "7 true", 1: "4294967295 true", 9000: "0 false", 12345: "0 false", 0: "0 false"} {
		if sid, ok := fs.SessionID(pid); fmt.Sprint(sid, ok) != want {
			t.Errorf("SessionID(%d) = %d %v, want %s", pid, sid, ok, want)
		}
	}
	if _, err := New(filepath.Join(t.TempDir(), "none")).SessionPIDs(ctx, nil); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("SessionPIDs of a missing root: %v", err)
	}
}

func BenchmarkSessionPIDs(b *testing.B) {
	root := b.TempDir()
	for i := range 2000 {
		writeProc(b, root, 1000+i, 1, "proc"+strconv.Itoa(i), 0, uint32(i%50))
	}
	fs := New(root)
	b.ReportAllocs()
	for b.Loop() {
		m, err := fs.SessionPIDs(context.Background(), map[uint32]bool{7: true})
		if err != nil || len(m[7]) != 40 {
			b.Fatal(len(m[7]), err)
		}
	}
}

func TestParseIO(t *testing.T) {
	c, ok := parseIO([]byte("rchar: 100\nwchar: 200\nsyscr: 3\nsyscw: 4\nread_bytes: 0\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n"))
	if !ok || c != (IOCounters{ReadBytes: 100, WriteBytes: 200, ReadCalls: 3, WriteCalls: 4}) {
		t.Errorf("parseIO = %+v %v", c, ok)
	}
	if _, ok := parseIO([]byte("garbage\nrchar: x\n")); ok {
		t.Error("parseIO of garbage: ok")
	}
}

func FuzzParseIO(f *testing.F) {
	f.Add([]byte("rchar: 100\nwchar: 200\nsyscr: 3\nsyscw: 4\n"))
	f.Fuzz(func(t *testing.T, b []byte) { parseIO(b) })
}

// TestKernelThreadAuditUnread: a kernel thread's audit files are not read
// (no login owns one); its LoginUID and SessionID are Unset whatever they
// would say, while a user process's beside it are read.
func TestKernelThreadAuditUnread(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "stat"), []byte("btime 1767261600\n"), 0o644)
	writeProc(t, root, 2, 0, "kthreadd", 0, 7)
	writeProc(t, root, 300, 1, "sshd", 0, 7)
	kstat := "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 18446744073709551615 0 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "2", "stat"), []byte(kstat), 0o644); err != nil {
		t.Fatal(err)
	}
	procs, err := New(root).ListFields(context.Background(), FieldLoginUID|FieldSessionID)
	if err != nil || len(procs) != 2 {
		t.Fatalf("%d processes: %v", len(procs), err)
	}
	for _, p := range procs {
		want := map[int][2]uint32{2: {Unset, Unset}, 300: {1000, 7}}[p.PID]
		if got := [2]uint32{p.LoginUID, p.SessionID}; got != want {
			t.Errorf("pid %d: LoginUID, SessionID = %v, want %v", p.PID, got, want)
		}
	}
}
