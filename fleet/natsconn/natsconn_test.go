package natsconn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestReason: what nats.go says of a publish while the connection is away
// (its reconnect buffer, which Connect sets to none, being full) reads as
// the server being unreachable; other errors keep their own text.
func TestReason(t *testing.T) {
	for _, err := range []error{nats.ErrReconnectBufExceeded, fmt.Errorf("publishing: %w", nats.ErrNoServers), nats.ErrConnectionReconnecting, nats.ErrHeadersNotSupported} {
		if got := Reason(err); got != "the NATS server is unreachable" || !Unreachable(err) {
			t.Errorf("Reason(%v) = %q", err, got)
		}
	}
	if got := Reason(nats.ErrAuthorization); got != nats.ErrAuthorization.Error() || Unreachable(nats.ErrAuthorization) {
		t.Errorf("Reason(authorization) = %q", got)
	}
	// A publish that no stream took: say which stream and what makes it.
	if got := Reason(fmt.Errorf("publishing: %w", jetstream.ErrNoStreamResponse)); !strings.Contains(got, "CIMSESS_EVENTS is missing") || !strings.Contains(got, "electing its leader") {
		t.Errorf("Reason(no stream) = %q", got)
	}
}
