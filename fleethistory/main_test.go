package fleethistory

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/internal/testenv"
)

// pg is the one PostgreSQL cluster of this package's tests; nil when none
// could be started outside CI (the tests skip then).
var (
	pg    *testenv.Postgres
	pgErr error
	dbSeq atomic.Int64
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fleethistory-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pg, pgErr = testenv.StartPostgres(dir)
	if pgErr != nil && testenv.InCI() {
		fmt.Fprintf(os.Stderr, "fleethistory: no PostgreSQL for the tests: %v\n", pgErr)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if pg != nil {
		pg.Remove()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// newDB creates a fresh database in the shared cluster and returns its URL.
func newDB(tb testing.TB) string {
	tb.Helper()
	if pg == nil {
		tb.Skipf("no PostgreSQL: %v", pgErr)
	}
	name := fmt.Sprintf("t%d", dbSeq.Add(1))
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

// openStore opens a store on a fresh database, closed at the test's end.
func openStore(tb testing.TB) (*Store, string) {
	tb.Helper()
	url := newDB(tb)
	s, err := Open(context.Background(), url, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, url
}
