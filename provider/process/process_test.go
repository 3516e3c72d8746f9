package process

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/procfs"
)

// fakeProc is a process to write into a fixture procfs.
type fakeProc struct {
	pid, ppid int
	comm      string
	cmdline   string // NUL-separated
	exe       string // symlink target; "" for none
	uid       int
	sessionid string
	startTick int
}

// writeProcfs builds a procfs fixture tree under a temporary folder.
func writeProcfs(t testing.TB, procs []fakeProc) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "stat"), []byte("cpu  1 2 3\nbtime 1760000000\nprocesses 5\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "self"), []byte("not a process"), 0o644))
	for _, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(p.pid))
		must(os.MkdirAll(dir, 0o755))
		stat := strconv.Itoa(p.pid) + " (" + p.comm + ") S " + strconv.Itoa(p.ppid) +
			" 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 " + strconv.Itoa(p.startTick) + " 8192000 300 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
		must(os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644))
		must(os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\t"+p.comm+"\nUid:\t"+strconv.Itoa(p.uid)+"\t"+strconv.Itoa(p.uid)+"\t"+strconv.Itoa(p.uid)+"\t"+strconv.Itoa(p.uid)+"\n"), 0o644))
		must(os.WriteFile(filepath.Join(dir, "cmdline"), []byte(p.cmdline), 0o644))
		must(os.WriteFile(filepath.Join(dir, "sessionid"), []byte(p.sessionid), 0o644))
		if p.exe != "" {
			must(os.Symlink(p.exe, filepath.Join(dir, "exe")))
		}
	}
	return root
}

var fixture = []fakeProc{
	{pid: 1, ppid: 0, comm: "systemd", cmdline: "/sbin/init\x00", exe: "/usr/lib/systemd/systemd", uid: 0, sessionid: "4294967295", startTick: 10},
	{pid: 2, ppid: 0, comm: "kthreadd", uid: 0, sessionid: "4294967295", startTick: 10},
	{pid: 400, ppid: 1, comm: "bash", cmdline: "-bash\x00", exe: "/usr/bin/bash", uid: 1000, sessionid: "7", startTick: 5000},
	{pid: 401, ppid: 400, comm: "sleep", cmdline: "sleep\x0060\x00", exe: "/usr/bin/sleep", uid: 1000, sessionid: "7", startTick: 5100},
	{pid: 402, ppid: 400, comm: "weird) (name", cmdline: "python3\x00my script.py\x00\x00", exe: "/usr/bin/python3.11 (deleted)", uid: 1000, sessionid: "8", startTick: 5200},
}

func users(uid uint32) string {
	return map[uint32]string{0: "root", 1000: "alice"}[uid]
}

func newProvider(t testing.TB, root string) *Provider {
	return New(Options{Proc: root, Host: "h1", OSName: "Debian GNU/Linux 12 (bookworm)", UserName: users})
}

func TestEnumerateFixture(t *testing.T) {
	p := newProvider(t, writeProcfs(t, fixture))
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	insts, err := om.EnumerateInstances(ctx, "CIM_Process", cimom.EnumOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != len(fixture) {
		t.Fatalf("%d processes, want %d", len(insts), len(fixture))
	}
	start := time.Unix(1760000000, 0).Add(5100 * 10 * time.Millisecond)
	tests := []struct {
		handle string
		owner  string
		want   map[string]any
	}{
		{"1", "root", map[string]any{"Name": "systemd", "CommandLine": "/sbin/init", "SessionId": nil, "ParentProcessId": uint32(0)}},
		{"2", "root", map[string]any{"Name": "kthreadd", "CommandLine": nil, "ExecutablePath": nil}},
		{"401", "alice", map[string]any{"Name": "sleep", "Caption": "sleep", "Description": "sleep", "ProcessId": uint32(401),
			"ParentProcessId": uint32(400), "ExecutablePath": "/usr/bin/sleep", "CommandLine": "sleep 60", "SessionId": uint32(7),
			"CSName": "h1", "OSName": "Debian GNU/Linux 12 (bookworm)", "CreationDate": cim.NewDateTime(start),
			"ThreadCount": uint32(3), "VirtualSize": uint64(8192000), "UserModeTime": uint64(250 * 100000), "KernelModeTime": uint64(50 * 100000)}},
		{"402", "alice", map[string]any{"Name": "python3.11", "CommandLine": `python3 "my script.py"`, "SessionId": uint32(8)}},
	}
	for _, tc := range tests {
		in, err := om.GetInstance(ctx, cim.ObjectPath{ClassName: "Win32_Process", Keys: []cim.KeyBinding{{Name: "Handle", Value: tc.handle}}})
		if err != nil {
			t.Errorf("GetInstance %s: %v", tc.handle, err)
			continue
		}
		if in.Owner != tc.owner {
			t.Errorf("%s Owner = %q", tc.handle, in.Owner)
		}
		for k, w := range tc.want {
			if g := in.Value(k); !(g == nil && w == nil) && !cim.Equal(g, w) {
				t.Errorf("%s.%s = %#v, want %#v", tc.handle, k, g, w)
			}
		}
	}
	if srcs := p.Sources(); len(srcs) != 1 || srcs[0].Found != 1 {
		t.Errorf("a key lookup should read one process: %+v", srcs)
	}
	if _, err := om.GetInstance(ctx, p.Path(999)); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing process: %v", err)
	}
}

func TestSessionPIDs(t *testing.T) {
	p := newProvider(t, writeProcfs(t, fixture))
	ctx := context.Background()
	all, err := p.SessionPIDs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || len(all[7]) != 2 || len(all[8]) != 1 {
		t.Errorf("SessionPIDs(nil) = %v", all)
	}
	some, _ := p.SessionPIDs(ctx, map[uint32]bool{8: true})
	if len(some) != 1 || some[8][0] != 402 {
		t.Errorf("SessionPIDs(8) = %v", some)
	}
	if sid, ok := p.SessionOf(ctx, 401); !ok || sid != 7 {
		t.Errorf("SessionOf(401) = %v %v", sid, ok)
	}
	if _, ok := p.SessionOf(ctx, 1); ok {
		t.Error("SessionOf(1) should be unset")
	}
}

func TestPIDOf(t *testing.T) {
	for _, tc := range []struct {
		v    any
		pid  int
		want bool
	}{{"12", 12, true}, {int64(12), 12, true}, {"012", 0, false}, {"-1", 0, false}, {"x", 0, false}, {true, 0, false}} {
		pid, ok := PIDOf(cim.ObjectPath{ClassName: ClassName, Keys: []cim.KeyBinding{{Name: "Handle", Value: tc.v}}})
		if pid != tc.pid || ok != tc.want {
			t.Errorf("PIDOf(%v) = %d %v", tc.v, pid, ok)
		}
	}
}

func TestRealProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	p := New(Options{Host: "h1"})
	insts, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{Keys: map[string]any{"handle": strconv.Itoa(os.Getpid())}})
	if err != nil || len(insts) != 1 {
		t.Fatalf("%v %v", insts, err)
	}
	if err := schema.MustDefault().Validate(insts[0]); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	if got := insts[0].String("ExecutablePath"); got != exe {
		t.Errorf("ExecutablePath = %q, want %q", got, exe)
	}
	ct, _ := insts[0].Value("CreationDate").(cim.DateTime)
	if tm, ok := ct.Time(); !ok || time.Since(tm) > time.Hour || time.Since(tm) < -time.Minute {
		t.Errorf("CreationDate = %v", ct)
	}
}

// FuzzInstance maps whatever /proc may say of a process (the parsing is
// procfs's, fuzzed there) and checks the instance obeys the schema.
func FuzzInstance(f *testing.F) {
	for _, fp := range fixture {
		f.Add(fp.comm, fp.exe, fp.cmdline, uint32(fp.pid), uint32(fp.ppid), uint64(fp.startTick))
	}
	f.Add("caf\xe9\x00", "/x\xff (deleted)", "a\x00\"b c\"\x00\xfe", uint32(1<<31), uint32(0), uint64(1<<63))
	reg := schema.MustDefault()
	p := New(Options{Proc: ".", Host: "h", OSName: "L"})
	f.Fuzz(func(t *testing.T, comm, exe, cmdline string, pid, ppid uint32, ticks uint64) {
		pr := procfs.Process{PID: int(pid), PPID: int(ppid), Comm: comm, Exe: exe, Args: strings.Split(cmdline, "\x00"),
			SessionID: UnsetSessionID, UTimeTicks: ticks, STimeTicks: ticks, VSize: ticks, RSSPages: ticks % (1 << 40)}
		if err := reg.Validate(p.Instance(pr)); err != nil {
			t.Fatal(err)
		}
	})
}
