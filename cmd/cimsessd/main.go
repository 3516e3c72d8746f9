// Command cimsessd is cimsess with its daemons: every verb of the cimsess
// command line, and serve (the CIM-XML and WS-Management server), hub and
// agent (the fleet's NATS server and each host's publisher) and collect
// (the fleet's history and timeline). cimsess hands those four verbs to
// it, found next to itself or on PATH; the CLI alone then starts without
// linking the servers.
package main

import (
	"os"

	"github.com/cimsess/cimsess/internal/cli"
	_ "github.com/cimsess/cimsess/internal/daemon" // serve, hub, agent, collect
)

func main() {
	cli.Program = "cimsessd"
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
