package linux

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// geteuid is os.Geteuid (a variable for tests, which run as root in CI).
var geteuid = os.Geteuid

// procHidesOthers reports whether the procfs mounted at root hides other
// users' processes from this one (mount option hidepid=1, 2, noaccess or
// invisible, or subset=pid), as /proc/self/mountinfo says: their sessions
// then show no processes, and a login record whose process this user
// cannot see is not a ghost for that. Root sees everything.
func procHidesOthers(root string) bool {
	if geteuid() == 0 {
		return false
	}
	f, err := os.Open(filepath.Join(root, "self", "mountinfo"))
	if err != nil {
		return false
	}
	defer f.Close()
	root = filepath.Clean(root)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "36 35 0:22 / /proc rw,nosuid - proc proc rw,hidepid=invisible"
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) < 5 || len(rf) < 3 || rf[0] != "proc" || lf[4] != root {
			continue
		}
		for _, o := range strings.Split(rf[2], ",") {
			name, v, _ := strings.Cut(o, "=")
			if name == "hidepid" && v != "0" && v != "off" || name == "subset" && v == "pid" {
				return true
			}
		}
	}
	return false
}
