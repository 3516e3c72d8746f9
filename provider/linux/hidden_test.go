package linux

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestProcHidesOthers reads mountinfo as a user whom hidepid concerns.
func TestProcHidesOthers(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 65534 }
	root := t.TempDir()
	write := func(line string) {
		os.MkdirAll(filepath.Join(root, "self"), 0o755)
		if err := os.WriteFile(filepath.Join(root, "self", "mountinfo"), []byte("25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func() []int) { groups = f }(groups)
	groups = func() []int { return []int{65534, 100} }
	for opts, want := range map[string]bool{"rw": false, "rw,hidepid=2": true, "rw,hidepid=invisible": true, "rw,hidepid=0": false,
		"rw,subset=pid": false, "rw,hidepid=2,gid=100": false, "rw,hidepid=2,gid=4": true} {
		write("36 25 0:22 / " + root + " rw,nosuid - proc proc " + opts)
		if got := procHidesOthers(root); got != want {
			t.Errorf("%s: %v", opts, got)
		}
	}
	write("36 25 0:22 / /elsewhere rw - proc proc rw,hidepid=2")
	if procHidesOthers(root) {
		t.Error("another mount's hidepid counted")
	}
	// A procfs mounted over another (systemd's ProtectProc=invisible, a
	// container's): the top one, listed last, is the one in use.
	write("36 25 0:22 / " + root + " rw - proc proc rw\n88 36 0:40 / " + root + " rw - proc proc rw,hidepid=invisible")
	if !procHidesOthers(root) {
		t.Error("the hidepid of a procfs mounted over another was missed")
	}
	write("36 25 0:22 / " + root + " rw - proc proc rw,hidepid=2\n88 36 0:40 / " + root + " rw - proc proc rw")
	if procHidesOthers(root) {
		t.Error("the covered procfs's hidepid counted")
	}
	geteuid = func() int { return 0 }
	write("36 25 0:22 / " + root + " rw - proc proc rw,hidepid=2")
	if procHidesOthers(root) {
		t.Error("root is not hidden from")
	}
}

// TestHiddenProcessIsAlive: with /proc hiding other users' processes, a
// login record whose process exists is live, not a ghost; one whose
// process is gone is a ghost still.
func TestHiddenProcessIsAlive(t *testing.T) {
	n := recordNamer{owners: &recordOwners{sessions: map[string]*session{}}, reps: newRepeats(10), hidden: true}
	defer n.reps.done()
	var out recordSession
	live := utmp.Record{Type: utmp.UserProcess, PID: int32(os.Getpid()), Line: "pts/7", User: "bob"}
	if !n.name(live, &out, nil) || !out.hiddenAlive || len(n.alive) != 1 {
		t.Errorf("a hidden live process: %+v, alive %v", out, n.alive)
	}
	gone := utmp.Record{Type: utmp.UserProcess, PID: 4_000_000, Line: "pts/8", User: "bob"}
	if !n.name(gone, &out, nil) || out.hiddenAlive {
		t.Errorf("a process that is gone: %+v", out)
	}
	// A process this user sees, found to be another (a reused pid, a
	// zombie): not the login's, however much it exists.
	n.owners.byPID = map[int]*procfs.Process{os.Getpid(): {PID: os.Getpid(), State: 'Z'}}
	if !n.name(live, &out, nil) || out.hiddenAlive {
		t.Errorf("a visible zombie at the record's pid: %+v", out)
	}
	n.owners.byPID = nil
	var m recordSessionMaker
	n.name(live, &out, nil)
	if f := factsOf(m.session(&out), func(uint32) (string, bool) { return "", false }, nil); !f.alive || f.status != "OK" {
		t.Errorf("facts of a hidden live session: alive %v, status %q", f.alive, f.status)
	}
}
