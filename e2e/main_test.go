//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cimsessBin is the cimsess binary that TestMain builds once for every
// test of the package, in a folder other users may enter (tests run it as
// the test user too).
var cimsessBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cimsess-e2e-") // t.TempDir's parents are closed to other users
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	cimsessBin = filepath.Join(dir, "cimsess")
	out, err := exec.Command("go", "build", "-o", cimsessBin, "github.com/cimsess/cimsess/cmd/cimsess").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build cimsess: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
