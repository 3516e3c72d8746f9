//go:build openbsd

package linux

import (
	"syscall"
	"time"
)

// statAtime is a file's access time; OpenBSD names it Atim.
func statAtime(st *syscall.Stat_t) time.Time {
	return time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec))
}
