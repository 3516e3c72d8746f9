package linux

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// geteuid is os.Geteuid, and groups the user's groups (variables for
// tests, which run as root in CI).
var (
	geteuid = os.Geteuid
	groups  = func() []int {
		g, _ := os.Getgroups()
		return append(g, os.Getegid())
	}
)

// inGroup reports whether this user is in group gid (a number).
func inGroup(gid string) bool {
	n, err := strconv.Atoi(gid)
	return err == nil && slices.Contains(groups(), n)
}

// procHidesOthers reports whether the procfs mounted at root hides other
// users' processes from this one (mount option hidepid=1, 2, noaccess or
// invisible, unless its gid= names a group of this user's), as
// /proc/self/mountinfo says: their sessions then show no processes, and a
// login record whose process this user cannot see is not a ghost for
// that. Root sees everything. (subset=pid hides /proc's other files, not
// processes.) Of procfs mounted over one another at root, the top one
// decides.
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
	// The last proc mount at root is the one in use: a procfs mounted
	// over another (systemd's ProtectProc=, a container runtime) is
	// listed after the one it covers, as libmount reads it backwards.
	hidden := false
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
		hides, exempt := false, false
		for _, o := range strings.Split(rf[2], ",") {
			name, v, _ := strings.Cut(o, "=")
			switch name {
			case "hidepid":
				hides = v != "0" && v != "off"
			case "gid":
				exempt = inGroup(v)
			}
		}
		hidden = hides && !exempt
	}
	return hidden
}
