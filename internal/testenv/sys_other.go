//go:build !linux

package testenv

import (
	"os"
	"syscall"
)

// serverAttr has nothing to add outside Linux, where the servers do not run.
func serverAttr() *syscall.SysProcAttr { return nil }

// lockFile is a no-op outside Linux, where there is no utmp to share.
func lockFile(*os.File) error { return nil }

// postgresAttr: only Linux runs the tests' PostgreSQL as another account.
func postgresAttr(asUser bool, uid, gid int) *syscall.SysProcAttr { return nil }
