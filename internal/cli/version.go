package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is the program's version; release builds set it with
// -ldflags "-X github.com/cimsess/cimsess/internal/cli.Version=…".
var Version = "dev"

func newVersionCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of " + Program,
		Args:  ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(e.stdout, "%s %s %s/%s %s\n", Program, BuildVersion(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			return err
		},
	}
}

// BuildVersion is Version, or for a build without one "dev-" and the first 12
// digits of the commit built: what `cimsess version` prints and the
// server says of itself (WS-Man's Identify, root/interop's
// CIM_ObjectManager).
func BuildVersion() string {
	v := Version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v = "dev-" + s.Value[:12]
				}
			}
		}
	}
	return v
}
