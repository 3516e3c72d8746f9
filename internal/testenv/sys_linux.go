//go:build linux

package testenv

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// serverAttr puts a server in its own process group and kills it when the
// test binary dies, so that a crashed or timed-out test leaves no listener.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// lockFile takes the whole-file write lock that glibc's utmp functions honour,
// waiting at most two seconds for it. Closing f releases it.
func lockFile(f *os.File) error {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postgresAttr runs a PostgreSQL program as uid:gid when asUser (the
// server refuses to run as root), in its own process group.
func postgresAttr(asUser bool, uid, gid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if asUser {
		a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return a
}
