//go:build linux || darwin || freebsd || netbsd || openbsd

package linux

import "syscall"

// pidExists reports whether process pid exists, whether or not this user
// may see it: signal 0 to another user's process is refused (EPERM), not
// lost (ESRCH).
func pidExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
