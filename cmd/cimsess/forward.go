package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/internal/cli"
)

// daemonBinary is the name of the binary that holds the daemons.
const daemonBinary = "cimsessd"

// daemonVerbs are the verbs cimsessd runs, with the one line its help
// gives each (TestForwarding checks they are the same).
var daemonVerbs = []struct{ name, short string }{
	{"serve", "Serve the sessions to WBEM and WinRM clients: CIM-XML (DSP0200) and WS-Management over HTTP and HTTPS"},
	{"hub", "Run the fleet's embedded NATS server with JetStream (or set up an existing NATS cluster)"},
	{"agent", "Publish this host's session events to the fleet and answer its queries"},
	{"collect", "Collect the fleet's session events from NATS into a history database (PostgreSQL or SQLite)"},
}

func init() {
	for _, v := range daemonVerbs {
		cli.Register(func(e *cli.Env) *cobra.Command { return forwardCmd(e, v.name, v.short) })
	}
}

// daemonVerb returns the daemon's verb that args run, if any: their first
// word, or the one after the shell completion's request (__complete,
// __completeNoDesc), which cimsessd answers for its own verbs.
func daemonVerb(args []string) (string, bool) {
	if len(args) > 1 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		args = args[1:]
	}
	if len(args) == 0 {
		return "", false
	}
	for _, v := range daemonVerbs {
		if args[0] == v.name {
			return v.name, true
		}
	}
	return "", false
}

// forwardCmd is the stub of a daemon's verb: it takes no flags of its own
// (--help too goes through) and hands the whole command line, unchanged,
// to cimsessd.
func forwardCmd(e *cli.Env, name, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name,
		Short: short + " (runs in " + daemonBinary + ")",
		Long: fmt.Sprintf(`%s runs in %s, the daemons' binary: 'cimsess %s ARGS' runs '%s %s ARGS'
(the same process on Unix), found next to cimsess or else on PATH.
'cimsess %s --help' shows its flags.`, name, daemonBinary, name, daemonBinary, name, name),
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := findDaemon(name)
			if err != nil {
				return err
			}
			return runDaemon(path, e.Args())
		},
	}
}

// findDaemon returns the path of cimsessd: the one in the folder of the
// running executable (symbolic links resolved), else the first on PATH.
// Neither is a usage error that says how to get it.
func findDaemon(verb string) (string, error) {
	file := daemonBinary
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	self, err := os.Executable()
	if err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode().Perm()&0o111 != 0) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(daemonBinary); err == nil {
		return p, nil
	}
	where := "beside cimsess"
	if self != "" {
		where = "in " + filepath.Dir(self) + ", beside cimsess,"
	}
	return "", cli.UsageError(fmt.Errorf("%s runs in %s, the daemons' binary, which is neither %s nor on PATH: "+
		"install it with 'go install github.com/cimsess/cimsess/cmd/%s@latest' (or build both: CGO_ENABLED=0 go build -o . ./cmd/...), "+
		"or from a clone run it as 'go run ./cmd/%s %s …'", verb, daemonBinary, where, daemonBinary, daemonBinary, verb))
}
