//go:build linux

// Package fleetdb tests the fleet history end to end: the cimsess binary's
// collect and history commands against a real PostgreSQL and a NATS
// server with JetStream, and the timeline in a real headless Chromium.
package fleetdb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cimsess/cimsess/internal/testenv"
)

var (
	// cimsessBin is the command line, and cimsessdBin, beside it, the
	// daemons' binary: the tests start the hub, the agents and the
	// collectors as the deploy units do, from cimsessd, and make
	// credentials with 'cimsess hub add', which cimsess hands to it.
	cimsessBin, cimsessdBin string
	pg                      *testenv.TestPostgres
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cimsess-fleetdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cimsessBin, cimsessdBin = filepath.Join(dir, "cimsess"), filepath.Join(dir, "cimsessd")
	if out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/cimsess/cimsess/cmd/cimsess", "github.com/cimsess/cimsess/cmd/cimsessd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "fleetdb: go build cimsess cimsessd: %v\n%s", err, out)
		return 1
	}
	return testenv.RunWithPostgres(m, "fleetdb", &pg)
}

func newDB(tb testing.TB) string { return pg.NewDB(tb) }
