//go:build linux || darwin || freebsd || netbsd || openbsd

package linux

import (
	"os"
	"syscall"
	"time"
)

// accessTime returns a file's last access time.
func accessTime(fi os.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return statAtime(st), true
}
