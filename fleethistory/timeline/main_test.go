package timeline

import (
	"context"
	"os"
	"testing"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/testenv"
)

// pg is the one PostgreSQL cluster of this package's tests.
var pg *testenv.TestPostgres

func TestMain(m *testing.M) { os.Exit(testenv.RunWithPostgres(m, "timeline", &pg)) }

// openStore opens a fleet history on a fresh database of the cluster,
// closed at the test's end.
func openStore(t *testing.T) *fleethistory.Store {
	t.Helper()
	s, err := fleethistory.Open(context.Background(), pg.NewDB(t), fleethistory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
