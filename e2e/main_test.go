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
// the test user too), with cimsessd beside it: the tests run the daemons
// as the documentation does, 'cimsess serve', which cimsess hands to it.
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
	out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/cimsess/cimsess/cmd/cimsess", "github.com/cimsess/cimsess/cmd/cimsessd").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build cimsess cimsessd: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// buildCimsess returns the cimsess binary that TestMain built, for the
// tests that run it (each used to build one of its own).
func buildCimsess(t *testing.T) string {
	t.Helper()
	if cimsessBin == "" {
		t.Fatal("e2e: no cimsess binary: TestMain did not build it")
	}
	return cimsessBin
}
