package linux

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// bootTime is the boot time of every fixture proc tree.
var bootTime = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// ticksAt returns the start ticks of a process that started at t.
func ticksAt(t time.Time) uint64 {
	return uint64(t.Sub(bootTime) / (time.Second / procfs.ClockTicks))
}

// fproc is one process of a fixture proc tree.
type fproc struct {
	pid, ppid int
	comm      string
	state     byte // default 'S'
	start     time.Time
	tty       uint64 // tty_nr
	uid       uint32
	loginUID  uint32 // procfs.Unset for none (the zero value is root's login uid 0)
	session   uint32 // procfs.Unset for none
	cmdline   string
	noAudit   bool // no loginuid and sessionid files, as without kernel audit
}

// world is a fixture of the three sources: a proc root, a utmp file, a
// logind folder and a /dev, all under one temporary folder.
type world struct {
	t      testing.TB
	dir    string
	proc   string
	utmp   string
	logind string
	dev    string
	now    time.Time
}

func newWorld(t testing.TB) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{t: t, dir: dir, proc: filepath.Join(dir, "proc"), utmp: filepath.Join(dir, "utmp"),
		logind: filepath.Join(dir, "sessions"), dev: filepath.Join(dir, "dev"),
		now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	for _, d := range []string{w.proc, w.logind, w.dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.write(filepath.Join(w.proc, "stat"), fmt.Sprintf("cpu  1 2 3 4 5 6 7 0 0 0\nintr 1 0\nbtime %d\nprocesses 42\n", bootTime.Unix()))
	w.records()
	return w
}

func (w *world) write(path, content string) {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// addProc writes /proc/PID/{stat,status,loginuid,sessionid,cmdline}.
func (w *world) addProc(p fproc) {
	w.t.Helper()
	if p.state == 0 {
		p.state = 'S'
	}
	if p.start.IsZero() {
		p.start = bootTime.Add(time.Minute)
	}
	d := filepath.Join(w.proc, strconv.Itoa(p.pid))
	// Fields 1-22 of stat: pid (comm) state ppid pgrp session tty_nr tpgid
	// flags minflt cminflt majflt cmajflt utime stime cutime cstime
	// priority nice num_threads itrealvalue starttime, then the rest.
	w.write(filepath.Join(d, "stat"), fmt.Sprintf("%d (%s) %c %d %d %d %d -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 %d 1000 100 18446744073709551615\n",
		p.pid, p.comm, p.state, p.ppid, p.pid, p.pid, p.tty, ticksAt(p.start)))
	w.write(filepath.Join(d, "status"), fmt.Sprintf("Name:\t%s\nState:\t%c (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t0\t0\t0\t0\n",
		p.comm, p.state, p.pid, p.pid, p.ppid, p.uid, p.uid, p.uid, p.uid))
	if !p.noAudit {
		w.write(filepath.Join(d, "loginuid"), strconv.FormatUint(uint64(p.loginUID), 10))
		w.write(filepath.Join(d, "sessionid"), strconv.FormatUint(uint64(p.session), 10))
	}
	w.write(filepath.Join(d, "cmdline"), strings.ReplaceAll(p.cmdline, " ", "\x00"))
}

// killProc removes a process from the tree.
func (w *world) killProc(pid int) {
	w.t.Helper()
	if err := os.RemoveAll(filepath.Join(w.proc, strconv.Itoa(pid))); err != nil {
		w.t.Fatal(err)
	}
}

// records writes the utmp file, in this build's layout.
func (w *world) records(recs ...utmp.Record) {
	w.t.Helper()
	if err := utmp.WriteFile(w.utmp, recs, utmp.Native); err != nil {
		w.t.Fatal(err)
	}
}

// logindSession writes a logind session file with the given lines.
func (w *world) logindSession(id string, lines ...string) {
	w.t.Helper()
	w.write(filepath.Join(w.logind, id), "# This is private data. Do not parse.\n"+strings.Join(lines, "\n")+"\n")
}

// tty makes /dev/NAME with the given access time.
func (w *world) tty(name string, atime time.Time) {
	w.t.Helper()
	path := filepath.Join(w.dev, name)
	w.write(path, "")
	if err := os.Chtimes(path, atime, atime); err != nil {
		w.t.Fatal(err)
	}
}

// users names the fixture's uids.
var users = map[uint32]string{0: "root", 1000: "alice", 1001: "bob", 1002: "carol"}

func userName(uid uint32) (string, bool) {
	n, ok := users[uid]
	return n, ok
}

// provider returns a provider over the world with no state file.
func (w *world) provider() *Provider {
	return w.providerWithState("-")
}

func (w *world) providerWithState(state string) *Provider {
	return New(Options{UtmpPath: w.utmp, Layout: utmp.Native, ProcRoot: w.proc, LogindRoot: w.logind,
		DevRoot: w.dev, StatePath: state, UserName: userName, Now: func() time.Time { return w.now }})
}

// enum enumerates and checks every instance against the schema; it
// returns the instances by LogonId.
func enum(t *testing.T, p *Provider) map[string]*cim.Instance {
	t.Helper()
	insts, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{})
	if err != nil {
		t.Fatalf("Enumerate: %v", err)
	}
	return byID(t, insts)
}

func byID(t *testing.T, insts []*cim.Instance) map[string]*cim.Instance {
	t.Helper()
	reg := schema.MustDefault()
	out := map[string]*cim.Instance{}
	for _, in := range insts {
		if err := reg.Validate(in); err != nil {
			t.Errorf("instance %s is not valid: %v\n%v", in.String("LogonId"), err, in)
		}
		// Unknown properties are left out, not stored as NULL, and the
		// slice was cut to the exact count: nothing to spare, no regrowth.
		if len(in.Properties) != cap(in.Properties) {
			t.Errorf("instance %s: %d properties in room for %d", in.String("LogonId"), len(in.Properties), cap(in.Properties))
		}
		names := map[string]bool{}
		for _, pv := range in.Properties {
			if pv.Value == nil || names[pv.Name] {
				t.Errorf("instance %s: property %s is NULL or set twice", in.String("LogonId"), pv.Name)
			}
			names[pv.Name] = true
		}
		if c := in.String("Caption"); len([]rune(c)) > 64 {
			t.Errorf("Caption %q is %d characters, more than 64", c, len([]rune(c)))
		}
		id := in.String("LogonId")
		if _, dup := out[id]; dup {
			t.Errorf("LogonId %q twice", id)
		}
		out[id] = in
	}
	return out
}

// want checks properties of one instance; a nil value means NULL.
func want(t *testing.T, in *cim.Instance, props map[string]any) {
	t.Helper()
	if in == nil {
		t.Fatalf("no instance; want %v", props)
	}
	for name, v := range props {
		got := in.Value(name)
		if dt, ok := got.(cim.DateTime); ok {
			got = dt.String()
		}
		if tm, ok := v.(time.Time); ok {
			v = cim.NewDateTime(tm.In(time.Local)).String()
		}
		if d, ok := v.(time.Duration); ok {
			v = cim.NewInterval(d).String()
		}
		if fmt.Sprint(got) != fmt.Sprint(v) || (got == nil) != (v == nil) {
			t.Errorf("LogonId %s: %s = %v (%T), want %v (%T)", in.String("LogonId"), name, got, got, v, v)
		}
	}
}
