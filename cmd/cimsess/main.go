// Command cimsess answers who is interacting with this machine, how, since
// when and what became of them, as instances of the WMI Win32_Session
// class family: a command-line tool and a WBEM server in one binary.
package main

import (
	"os"

	"github.com/cimsess/cimsess/internal/cli"
	_ "github.com/cimsess/cimsess/internal/daemon" // serve, hub, agent, collect
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
