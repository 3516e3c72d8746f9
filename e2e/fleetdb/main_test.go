//go:build linux

// Package fleetdb tests the fleet history end to end: the cimsess binary's
// collect and history commands against a real PostgreSQL and a NATS
// server with JetStream, and the timeline in a real headless Chromium.
package fleetdb

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/internal/testenv"
)

var (
	cimsessBin string
	pg         *testenv.Postgres
	pgErr      error
	dbSeq      atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cimsess-fleetdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cimsessBin = filepath.Join(dir, "cimsess")
	if out, err := exec.Command("go", "build", "-o", cimsessBin, "github.com/cimsess/cimsess/cmd/cimsess").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "fleetdb: go build cimsess: %v\n%s", err, out)
		return 1
	}
	pg, pgErr = testenv.StartPostgres(dir)
	if pgErr != nil && testenv.InCI() {
		fmt.Fprintf(os.Stderr, "fleetdb: no PostgreSQL: %v\n", pgErr)
		return 1
	}
	defer func() {
		if pg != nil {
			pg.Remove()
		}
	}()
	return m.Run()
}

func newDB(tb testing.TB) string {
	tb.Helper()
	if pg == nil {
		tb.Skipf("no PostgreSQL: %v", pgErr)
	}
	name := fmt.Sprintf("e%d", dbSeq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	return pg.URL(name)
}
