package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgres is the one PostgreSQL cluster of a package's tests, shared
// by them: each test makes a database of its own in it (NewDB).
type TestPostgres struct {
	*Postgres       // nil when none could be started (outside CI)
	Err       error // why none could be started
	seq       atomic.Int64
}

// RunWithPostgres runs a package's tests with a cluster of their own,
// started in a temporary directory and removed after, and returns the
// exit code for TestMain: pkg names the package in messages. Outside CI, a cluster that cannot start is kept
// in *tp's Err and the tests that need one skip; in CI it fails the run.
func RunWithPostgres(m *testing.M, pkg string, tp **TestPostgres) int {
	flag.Parse()
	if fuzzing() {
		// A fuzz target needs no database, and each fuzzing worker would
		// start a cluster of its own.
		*tp = &TestPostgres{Err: errors.New("not started for fuzzing")}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", pkg+"-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*tp = &TestPostgres{}
	(*tp).Postgres, (*tp).Err = StartPostgres(dir)
	if (*tp).Err != nil && InCI() {
		fmt.Fprintf(os.Stderr, "%s: no PostgreSQL for the tests: %v\n", pkg, (*tp).Err)
		return 1
	}
	if (*tp).Postgres != nil {
		defer (*tp).Remove()
	}
	return m.Run()
}

// fuzzing reports whether the test binary fuzzes (-test.fuzz), or is a
// fuzzing worker.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// NewDB creates a fresh database in the cluster and returns its URL; with
// no cluster it skips tb.
func (tp *TestPostgres) NewDB(tb testing.TB) string {
	tb.Helper()
	if tp == nil || tp.Postgres == nil {
		var why error
		if tp != nil {
			why = tp.Err
		}
		tb.Skipf("no PostgreSQL: %v", why)
	}
	name := fmt.Sprintf("db%d", tp.seq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, tp.URL("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	return tp.URL(name)
}
