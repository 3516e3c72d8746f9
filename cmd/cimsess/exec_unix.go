//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// runDaemon replaces this process with cimsessd at path, given args:
// the same process id, so that signals, the terminal and the exit status
// are cimsessd's with nothing in between. It returns only when the exec
// failed.
func runDaemon(path string, args []string) error {
	argv := append([]string{path}, args...)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("running %s: %w", path, err)
	}
	return nil
}
