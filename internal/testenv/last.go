package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// LastSession is one session as util-linux `last --time-format iso -w`
// prints it: the reference that the history's wtmp pairing is checked
// against.
type LastSession struct {
	User, Line, Host string
	Start            time.Time
	End              time.Time // zero unless a logout time is printed
	// How is "logout", "crash", "shutdown", "gone-no-logout", or "" (still
	// logged in; a boot still running). A boot ("reboot   system boot
	// KERNEL") that a shutdown ended is "shutdown", with its End.
	How    string
	Length string // "(hh:mm)" or "(d+hh:mm)" as printed
}

// RunLast runs last on a wtmp file with TZ=UTC and returns the sessions it
// lists, oldest first, boots ("reboot system boot") with them. A missing last fails the
// test in CI and skips it elsewhere.
func RunLast(tb testing.TB, file string) []LastSession {
	tb.Helper()
	RequireTool(tb, "last")
	path, _ := LookTool("last")
	cmd := exec.Command(path, "-f", file, "--time-format", "iso", "-w")
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("last -f %s: %v: %s", file, err, stderr.String())
	}
	res, err := ParseLast(string(out))
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// ParseLast reads the output of `last --time-format iso -w`, oldest
// session first (last prints the newest first), boots with them; the
// closing "wtmp begins" line is left out.
func ParseLast(out string) ([]LastSession, error) {
	var res []LastSession
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || strings.Contains(l, " begins ") {
			continue
		}
		boot := f[0] == "reboot" && f[1] == "system" && len(f) > 3 && f[2] == "boot"
		if boot {
			// "system boot" is one field of last's, two of Fields.
			f = append([]string{f[0], "system boot"}, f[3:]...)
		}
		idx := -1
		var start time.Time
		for i := 2; i < len(f); i++ {
			if ts, err := time.Parse(time.RFC3339, f[i]); err == nil {
				idx, start = i, ts
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("testenv: cannot parse last's line %q", l)
		}
		s := LastSession{User: f[0], Line: f[1], Host: strings.Join(f[2:idx], " "), Start: start}
		rest := strings.Join(f[idx+1:], " ")
		switch {
		case strings.HasPrefix(rest, "- crash"):
			s.How = "crash"
		case strings.HasPrefix(rest, "- down"):
			s.How = "shutdown"
		case strings.HasPrefix(rest, "gone - no logout"):
			s.How = "gone-no-logout"
		case strings.HasPrefix(rest, "still logged in"), strings.HasPrefix(rest, "still running"):
		case strings.HasPrefix(rest, "- "):
			g := strings.Fields(rest)
			if len(g) < 2 {
				return nil, fmt.Errorf("testenv: cannot parse last's logout time in %q", l)
			}
			end, err := time.Parse(time.RFC3339, g[1])
			if err != nil {
				return nil, fmt.Errorf("testenv: cannot parse last's logout time in %q", l)
			}
			s.End, s.How = end, "logout"
			if boot {
				s.How = "shutdown"
			}
		default:
			return nil, fmt.Errorf("testenv: cannot parse last's line %q", l)
		}
		if i := strings.LastIndexByte(rest, '('); i >= 0 {
			s.Length = rest[i:]
		}
		res = append(res, s)
	}
	for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
		res[i], res[j] = res[j], res[i]
	}
	return res, nil
}

// LastLength formats a session's length as last prints it for a crash or
// a shutdown: "(hh:mm)", or "(d+hh:mm)" from a day on.
func LastLength(d time.Duration) string {
	secs := int64(d / time.Second)
	mins, hours, days := (secs/60)%60, (secs/3600)%24, secs/86400
	if days != 0 {
		return fmt.Sprintf("(%d+%02d:%02d)", days, hours, mins)
	}
	return fmt.Sprintf("(%02d:%02d)", hours, mins)
}
