package testenv

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// daemon is a server a test runs in the foreground on a port of
// 127.0.0.1: its command, its output and when it exits. SSHD and SMBD
// embed it.
type daemon struct {
	port   int
	cmd    *exec.Cmd
	log    *lockedBuffer
	exited chan struct{}
}

// start runs the server on a free port and waits until it accepts
// connections (and ready, if given, says it serves). setup writes the
// configuration for d.port and returns the command; when another test
// takes the port in between (the server says "in use"), start tries
// another, three times at most. Any other failure fails the test; once
// started, stop runs at the test's end.
func (d *daemon) start(tb testing.TB, name string, timeout, poll time.Duration, setup func(attempt int) *exec.Cmd, ready func() bool, stop func()) {
	tb.Helper()
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		d.port = freePort(tb)
		d.cmd = setup(attempt)
		d.log = &lockedBuffer{}
		d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
		d.cmd.SysProcAttr = serverAttr()
		if err := d.cmd.Start(); err != nil {
			tb.Fatalf("testenv: start %s: %v", name, err)
		}
		d.exited = make(chan struct{})
		go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(d.cmd, d.exited)
		ok := waitUntil(timeout, poll, func() bool {
			select {
			case <-d.exited:
				return true
			default:
			}
			return dialable(d.port) && (ready == nil || ready())
		})
		select {
		case <-d.exited:
			lastLog = d.log.String()
			if strings.Contains(lastLog, "in use") {
				continue // another test took the port in between: try another
			}
			tb.Fatalf("testenv: %s exited at start: %s", name, lastLog)
		default:
		}
		if !ok {
			stop()
			tb.Fatalf("testenv: %s not ready on port %d within %v: %s", name, d.port, timeout, d.log.String())
		}
		tb.Cleanup(stop)
		return
	}
	tb.Fatalf("testenv: %s could not bind a port: %s", name, lastLog)
}
