//go:build unix

package bsd

import (
	"errors"
	"syscall"
)

// processAlive asks the kernel with signal 0, which is not sent: a
// process that exists answers nil, or EPERM when it is another user's.
func processAlive(pid int) (alive, known bool) {
	if pid <= 0 {
		return false, false // 0 and negatives name process groups
	}
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, true
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}
