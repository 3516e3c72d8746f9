// Command cimsess answers who is interacting with this machine, how, since
// when and what became of them, as instances of the WMI Win32_Session
// class family. It is the command line alone: the daemons (serve, hub,
// agent, collect) are in cimsessd, to which cimsess hands those verbs
// (forward.go), so that the command line starts without linking the
// servers, the embedded NATS server or the Prometheus client.
package main

import (
	"os"

	"github.com/cimsess/cimsess/internal/cli"
)

func main() {
	args := os.Args[1:]
	// A daemon's verb goes to cimsessd before the command line starts:
	// once it has, its handler of SIGINT and SIGTERM would take a signal
	// sent in those milliseconds, and cimsessd would never see it.
	if verb, ok := daemonVerb(args); ok {
		if path, err := findDaemon(verb); err == nil {
			_ = runDaemon(path, args) // returns only when it could not run; the stub below says why
		}
	}
	os.Exit(cli.Main(args, os.Stdin, os.Stdout, os.Stderr))
}
