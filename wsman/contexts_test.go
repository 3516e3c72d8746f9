package wsman

import (
	"context"
	"testing"

	"github.com/cimsess/cimsess/provider"
)

// TestDropIfBusyKeepsAnotherTurn: a request's deferred dropIfBusy drops
// the context only when that request left it busy. A Pull that took the
// context once the request before had put it back (two pipelined Pulls
// of one client) makes it busy in a turn of its own, which the earlier
// request's late check must not take for its own: it used to drop the
// context, and the enumeration ended short.
func TestDropIfBusyKeepsAnotherTurn(t *testing.T) {
	s := newStore(ContextLimits{})
	never := func(ctx context.Context, emit provider.Emit) error { <-ctx.Done(); return ctx.Err() }
	e, opened, err := s.open(context.Background(), "alice", 0, nil, never)
	if err != nil {
		t.Fatal(err)
	}
	s.put(e) // the Enumerate answered
	s.dropIfBusy(e, opened)
	_, first, err := s.take(e.id, "alice")
	if err != nil {
		t.Fatalf("the first Pull: %v", err)
	}
	s.put(e) // its answer is on its way; its deferred check has not run yet
	_, second, err := s.take(e.id, "alice")
	if err != nil {
		t.Fatalf("the second Pull: %v", err)
	}
	s.dropIfBusy(e, first) // the first Pull's deferred check, late
	if e.dropped {
		t.Fatal("the first Pull's late check dropped the context the second Pull holds")
	}
	s.dropIfBusy(e, second) // the second Pull ends on a panic: its context goes
	if !e.dropped {
		t.Fatal("a context its own request left busy stayed")
	}
}
