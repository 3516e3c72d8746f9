package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/cli"
)

// TestCollectTimelineFlags: the timeline's listener follows serve's rules,
// HTTPS takes a certificate and its key together, and the timeline's own
// flags need the timeline; each is refused before anything is opened.
func TestCollectTimelineFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", "0.0.0.0:8080"}, "refusing HTTP Basic over plain HTTP"},
		{[]string{"--http", "0.0.0.0:8080", "--no-auth"}, "--no-auth is only allowed on a loopback address"},
		{[]string{"--http", "0.0.0.0:8443", "--cert", "c.pem"}, "--cert and --key go together"},
		{[]string{"--cert", "c.pem", "--key", "k.pem"}, "they need --http"},
		{[]string{"--http-db", "postgres://r@db/fleet"}, "they need --http"},
	} {
		_, stderr, code := runCLI(t, "", append([]string{"collect", "--db", "postgres://127.0.0.1:1/none"}, c.args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("collect %v: exit %d, %q; want usage and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestCollectGapWait: a gap is told after 5 minutes, or after twice the
// acknowledgement wait when that is longer: a killed collector's batch is
// delivered again only after it.
func TestCollectGapWait(t *testing.T) {
	for ack, want := range map[time.Duration]time.Duration{time.Minute: fleethistory.DefaultGapWait, time.Hour: 2 * time.Hour} {
		if got := collectGapWait(ack); got != want {
			t.Errorf("collectGapWait(%s) = %s, want %s", ack, got, want)
		}
	}
}
