package natsconn

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestReason: what nats.go says of a publish while the connection is away
// (its reconnect buffer, which Connect sets to none, being full) reads as
// the server being unreachable; other errors keep their own text.
func TestReason(t *testing.T) {
	for _, err := range []error{nats.ErrReconnectBufExceeded, fmt.Errorf("publishing: %w", nats.ErrNoServers), nats.ErrConnectionReconnecting} {
		if got := Reason(err); got != "the NATS server is unreachable" || !Unreachable(err) {
			t.Errorf("Reason(%v) = %q", err, got)
		}
	}
	if got := Reason(nats.ErrAuthorization); got != nats.ErrAuthorization.Error() || Unreachable(nats.ErrAuthorization) {
		t.Errorf("Reason(authorization) = %q", got)
	}
}
