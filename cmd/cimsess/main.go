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
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
