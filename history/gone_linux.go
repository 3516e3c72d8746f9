package history

import (
	"bufio"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bootTime is the kernel's boot time (btime of /proc/stat), or the zero
// Time.
func bootTime() time.Time {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(n, 0)
			}
		}
	}
	return time.Time{}
}

// phantom is last's is_phantom past the boot time: the user must exist;
// the session's process, when /proc has it, must run under the user's
// login uid; else its terminal must exist and belong to the user.
func phantom(s Session) bool {
	u, err := user.Lookup(s.User)
	if err != nil {
		return true
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return true
	}
	if b, err := os.ReadFile("/proc/" + strconv.FormatInt(s.PID, 10) + "/loginuid"); err == nil && s.PID > 0 {
		login, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		return err != nil || login != uid
	}
	if s.TTY == "" || strings.Contains(s.TTY, "..") {
		return true
	}
	fi, err := os.Stat("/dev/" + s.TTY)
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || uint64(st.Uid) != uid
}
