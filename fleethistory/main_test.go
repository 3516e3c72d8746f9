package fleethistory

import (
	"context"
	"os"
	"testing"

	"github.com/cimsess/cimsess/internal/testenv"
)

// pg is the one PostgreSQL cluster of this package's tests.
var pg *testenv.TestPostgres

func TestMain(m *testing.M) { os.Exit(testenv.RunWithPostgres(m, "fleethistory", &pg)) }

// newDB creates a fresh database in the shared cluster and returns its URL.
func newDB(tb testing.TB) string { return pg.NewDB(tb) }

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
