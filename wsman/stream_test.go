package wsman

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// countingFixture is the fixture with its batches counted and its end
// seen.
type countingFixture struct {
	*fixture
	batches atomic.Int64
	ended   chan error
}

func (f *countingFixture) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	err := f.fixture.Enumerate(ctx, class, hint, func(b []*cim.Instance) error {
		f.batches.Add(1)
		return emit(b)
	})
	f.ended <- err
	return err
}

// TestPullCutFromStream: an enumeration context of 20,000 instances
// holds a page's worth and a batch or two, whatever the result's size,
// its operation waiting for the client; pages are cut from that stream as
// they are pulled; and a context that expires unpulled releases its
// operation, which stops within one batch.
func TestPullCutFromStream(t *testing.T) {
	const n = 20_000
	f := &countingFixture{fixture: newFixture(n), ended: make(chan error, 1)}
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, f)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{ObjectManager: om, MaxEnvelopeSize: 4 << 20, Contexts: ContextLimits{Idle: idleOf(300 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	env := Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", MaxEnvelopeSize: 4 << 20,
		Body: EnumerateBody(100, "", "", "")}.Envelope()
	_, raw := postRaw(h, admin, env)
	node, err := Parse(raw, Limits{MaxBytes: 64 << 20, MaxElements: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx := body(node).Child(NSEnum, "EnumerationContext").T()
	if ctx == "" {
		t.Fatalf("no context: %.3000s", raw)
	}
	for range 5 {
		_, node = post(t, h, admin, Message{Action: ActionPull, MaxEnvelopeSize: 4 << 20, Body: PullBody(ctx, 100)}.Envelope())
		items := body(node).Child(NSEnum, "Items")
		if items == nil {
			// Under -race a page's parsing can outlast the 300 ms idle
			// time: the context expired, which is a fault, not a crash.
			t.Fatalf("no page: %s (a context idle for 300 ms expires; is the machine slow, or -race on?)", subcode(node))
		}
		if got := len(items.Children); got != 100 {
			t.Fatalf("a page of %d: %s", got, subcode(node))
		}
	}
	lastPull := time.Now()
	time.Sleep(50 * time.Millisecond)
	st, made := h.Stats(), f.batches.Load()
	// 600 pulled of 20,000: the operation is a batch or two ahead.
	if st.Contexts != 1 || st.Held > 3*provider.MaxBatch || made > int64(600/provider.MaxBatch+3) {
		t.Errorf("after 600 pulled: %d held, %d batches made", st.Held, made)
	}
	var opErr error
	select {
	case opErr = <-f.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the expired context did not release its operation")
	}
	if waited := time.Since(lastPull); waited < 100*time.Millisecond {
		t.Errorf("the operation ended %v after the last Pull, before the context's idle time", waited)
	}
	if after := f.batches.Load() - made; after > 1 || opErr == nil {
		t.Errorf("after expiry: %d more batches, the operation returned %v", after, opErr)
	}
	if st := h.Stats(); st.Contexts != 0 || st.Held != 0 {
		t.Errorf("after expiry: %+v", st)
	}
	t.Logf("made %d batches for 600 instances pulled; %d held; the expired operation returned %v", made, st.Held, opErr)
}
