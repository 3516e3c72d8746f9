package bsd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmpx"
)

var (
	login = time.Date(2026, 5, 4, 9, 15, 30, 250000000, time.UTC)
	cest  = time.FixedZone("CEST", 2*60*60)
)

// writeFile writes a utmpx file of records and returns its path.
func writeFile(t *testing.T, f utmpx.Format, recs []utmpx.Record, tail int) string {
	t.Helper()
	var b []byte
	for _, r := range recs {
		b = utmpx.AppendEncode(b, r, f)
	}
	b = append(b, make([]byte, tail)...)
	path := filepath.Join(t.TempDir(), "utmpx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mac is a Mac's utmpx: the header, a boot, the console user, an ssh
// login, a Terminal window whose shell is gone, a logout and an X display.
var mac = []utmpx.Record{
	utmpx.SignatureRecord(),
	{Type: utmpx.BootTime, Line: "~", Time: login.Add(-time.Hour)},
	{Type: utmpx.UserProcess, PID: 412, User: "alice", Line: "console", ID: "\x00", Time: login},
	{Type: utmpx.UserProcess, PID: 9001, User: "bob", Line: "ttys003", ID: "s003", Host: "10.0.0.7", Time: login.Add(time.Minute)},
	{Type: utmpx.UserProcess, PID: 9100, User: "alice", Line: "ttys004", ID: "s004", Time: login.Add(2 * time.Minute)},
	{Type: utmpx.DeadProcess, PID: 9200, Line: "ttys005", ID: "s005", Time: login.Add(3 * time.Minute)},
	{Type: utmpx.UserProcess, PID: 0, User: "carol", Line: "tty\xff", Host: ":0"},
}

func fakeAlive(live ...int) func(int) (bool, bool) {
	return func(pid int) (bool, bool) {
		for _, l := range live {
			if l == pid {
				return true, true
			}
		}
		return false, true
	}
}

func TestEnumerate(t *testing.T) {
	path := writeFile(t, utmpx.Darwin, mac, 0)
	p := New(Options{Format: utmpx.Darwin, Path: path, Alive: fakeAlive(412, 9001), Location: cest})
	insts, err := provider.Collect(context.Background(), p, "win32_logonsession", provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	reg := schema.MustDefault()
	for _, in := range insts {
		if err := reg.Validate(in); err != nil {
			t.Errorf("%s: %v", in.String("LogonId"), err)
		}
	}
	type want struct {
		id, status, name, caption, owner, start string
		logonType                               uint32
	}
	wants := []want{
		{"utmpx:console:412", "OK", "alice@console", "alice on console", "alice", "20260504111530.250000+120", 2},
		{"utmpx:tty\\xff:0", "Unknown", "carol@tty\uFFFD", "carol on tty\uFFFD", "carol", "", 2},
		{"utmpx:ttys003:9001", "OK", "bob@ttys003", "bob on ttys003 from 10.0.0.7", "bob", "20260504111630.250000+120", 10},
		{"utmpx:ttys004:9100", "Lost Comm", "alice@ttys004", "alice on ttys004", "alice", "20260504111730.250000+120", 2},
	}
	if len(insts) != len(wants) {
		t.Fatalf("%d instances, want %d", len(insts), len(wants))
	}
	for i, w := range wants {
		in := insts[i]
		st, _ := in.Value("StartTime").(cim.DateTime)
		start := ""
		if !st.IsZero() {
			start = st.String()
		}
		got := want{in.String("LogonId"), in.String("Status"), in.String("Name"), in.String("Caption"), in.Owner, start, in.Value("LogonType").(uint32)}
		if got != w {
			t.Errorf("instance %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if d := insts[3].String("Description"); d != "Logon session utmpx:ttys004:9100 of alice on ttys004, process 9100; its process is gone but its record remains" {
		t.Errorf("Description %q", d)
	}
	if s := p.Sources(); len(s) != 1 || s[0].Found != 4 || s[0].Note != "" || s[0].Where != path {
		t.Errorf("sources %+v", s)
	}
	one, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{Keys: map[string]any{"logonid": "UTMPX:TTYS003:9001"}})
	if err != nil || len(one) != 1 || one[0].String("LogonId") != "utmpx:ttys003:9001" {
		t.Errorf("narrowed: %v %v", one, err)
	}
	if _, err := provider.Collect(context.Background(), p, "Linux_LogonSession", provider.Hint{}); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("other class: %v", err)
	}
}

func TestFreeBSD(t *testing.T) {
	path := writeFile(t, utmpx.FreeBSD, []utmpx.Record{
		{Type: utmpx.UserProcess, PID: 777, User: "dave", Line: "pts/1", Host: "192.0.2.9", Time: login},
		{Type: utmpx.DeadProcess, PID: 778, Line: "pts/2"},
	}, 0)
	insts, err := provider.Collect(context.Background(), New(Options{Format: utmpx.FreeBSD, Path: path, Alive: fakeAlive(777)}), ClassName, provider.Hint{})
	if err != nil || len(insts) != 1 || insts[0].String("LogonId") != "utmpx:pts/1:777" || insts[0].Value("LogonType") != uint32(10) {
		t.Fatalf("%v %v", insts, err)
	}
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The system's file may be missing: no logins.
	p := New(Options{Alive: fakeAlive()})
	p.opts.Path = filepath.Join(dir, "none")
	insts, err := provider.Collect(ctx, p, ClassName, provider.Hint{})
	if err != nil || len(insts) != 0 || p.Sources()[0].Note != "not present" {
		t.Errorf("missing default: %v %v %+v", insts, err, p.Sources())
	}
	// A file the user named must exist.
	if _, err := provider.Collect(ctx, New(Options{Path: filepath.Join(dir, "none")}), ClassName, provider.Hint{}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing named file: %v", err)
	}
	// A partial last record is a note, not a failure.
	path := writeFile(t, utmpx.Darwin, mac, 100)
	p = New(Options{Format: utmpx.Darwin, Path: path, Alive: fakeAlive()})
	insts, err = provider.Collect(ctx, p, ClassName, provider.Hint{})
	if err != nil || len(insts) != 4 {
		t.Fatalf("%d, %v", len(insts), err)
	}
	if n := p.Sources()[0].Note; n != "4 login records; utmpx: truncated record at byte 4396: 100 of 628 bytes" {
		t.Errorf("note %q", n)
	}
	if New(Options{}).opts.Path != utmpx.FormatFor(runtime.GOOS).DefaultPath() {
		t.Error("default path")
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		alive, known bool
		want         string
	}{{true, true, "OK"}, {false, true, "Lost Comm"}, {false, false, "Unknown"}, {true, false, "Unknown"}} {
		if got := statusOf(tc.alive, tc.known); got != tc.want {
			t.Errorf("%v %v: %q, want %q", tc.alive, tc.known, got, tc.want)
		}
	}
}

// TestProcessAlive asks the real kernel about this process and about one
// that has exited.
func TestProcessAlive(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		if _, known := processAlive(os.Getpid()); known {
			t.Error("known where it cannot be")
		}
		return
	}
	if alive, known := processAlive(os.Getpid()); !alive || !known {
		t.Errorf("this process: %v %v", alive, known)
	}
	if alive, known := processAlive(1); !alive || !known {
		t.Errorf("init (another user's, EPERM): %v %v", alive, known)
	}
	for _, pid := range []int{0, -1} {
		if _, known := processAlive(pid); known {
			t.Errorf("pid %d is a process group, not asked", pid)
		}
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	if alive, known := processAlive(cmd.Process.Pid); alive || !known {
		t.Errorf("an exited, reaped child: %v %v", alive, known)
	}
}

// FuzzInstance checks that any login record gives an instance the schema
// accepts.
func FuzzInstance(f *testing.F) {
	for _, r := range mac {
		f.Add(r.User, r.Line, r.Host, r.PID, r.Time.Unix())
	}
	f.Add("\xff", "\x00\\", "::1", int32(-7), int64(-1))
	reg := schema.MustDefault()
	p := New(Options{Alive: fakeAlive(1), Location: cest})
	f.Fuzz(func(t *testing.T, user, line, host string, pid int32, sec int64) {
		r := utmpx.Record{Type: utmpx.UserProcess, User: user, Line: line, Host: host, PID: pid, Time: time.Unix(sec%(1<<40), 0)}
		in := p.instance(logonID(r), r)
		if err := reg.Validate(in); err != nil {
			t.Fatalf("%v: %+v", err, in.Properties)
		}
	})
}

func TestWatch(t *testing.T) {
	path := writeFile(t, utmpx.Darwin, mac[:1], 0)
	p := New(Options{Format: utmpx.Darwin, Path: path})
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx, func() { changed <- struct{}{} }) }()
	var _ provider.Notifier = p
	// Write until the watcher, which starts asynchronously, sees a write.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	b := utmpx.Encode(mac[2], utmpx.Darwin)
wait:
	for {
		select {
		case <-changed:
			break wait
		case <-tick.C:
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(b)
			f.Close()
		case err := <-done:
			t.Fatalf("the watch ended before seeing a change: %v", err)
		case <-deadline:
			t.Fatal("no change seen")
		}
	}
	// Another file in the folder is not a change.
	os.WriteFile(filepath.Join(filepath.Dir(path), "other"), nil, 0o644)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := New(Options{Path: filepath.Join(t.TempDir(), "gone", "utmpx")}).Watch(context.Background(), func() {}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("unwatchable folder: %v", err)
	}
}
