package wsman

import (
	"context"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// slowSource serves two accounts at once, then holds its next batch until
// the test ends (or the enumeration is dropped): a source slower than any
// OperationTimeout, beside a fast one (smbstatus beside /etc/passwd).
type slowSource struct{ release chan struct{} }

func (s *slowSource) Name() string      { return "slow" }
func (s *slowSource) Classes() []string { return []string{"Win32_UserAccount"} }

func (s *slowSource) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	var first []*cim.Instance
	for _, u := range []string{"alice", "bob"} {
		a := cim.NewInstance("Win32_UserAccount").Set("Domain", testHost).Set("Name", u)
		a.Owner = u
		first = append(first, a)
	}
	if err := emit(first); err != nil {
		return err
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	last := cim.NewInstance("Win32_UserAccount").Set("Domain", testHost).Set("Name", "carol")
	last.Owner = "carol"
	return emit([]*cim.Instance{last})
}

// TestOperationTimeout: a Pull answers within its OperationTimeout with
// what came by then, a full page at once (not held for the slow source's
// next batch), and w:TimedOut when nothing came (DSP0226 6.1).
func TestOperationTimeout(t *testing.T) {
	src := &slowSource{release: make(chan struct{})}
	defer close(src.release)
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, src)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{ObjectManager: om})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const timeout = 300 * time.Millisecond
	open := func() string {
		_, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_UserAccount", Body: EnumerateBody(0, "", "", "")}.Envelope())
		return body(n).Child(NSEnum, "EnumerationContext").T()
	}
	pull := func(ctx string, max int) (items int, fault string, took time.Duration) {
		start := time.Now()
		_, n := post(t, h, admin, Message{Action: ActionPull, Body: PullBody(ctx, max), OperationTimeout: timeout}.Envelope())
		if f := subcode(n); f != "" {
			return 0, f, time.Since(start)
		}
		return len(body(n).Child(NSEnum, "Items").Children), "", time.Since(start)
	}
	ctx := open()
	// A full page is there at once: it goes without waiting for more.
	if items, f, took := pull(ctx, 2); items != 2 || took > timeout {
		t.Errorf("a full page: %d items, fault %q, in %v", items, f, took)
	}
	// Nothing more by the timeout: w:TimedOut, in about that time.
	if _, f, took := pull(ctx, 10); f != "w:TimedOut" || took > 5*timeout {
		t.Errorf("nothing to pull: fault %q in %v", f, took)
	}
	// Part of a page by the timeout: that part, in about that time.
	ctx = open()
	if items, f, took := pull(ctx, 10); items != 2 || took < timeout || took > 5*timeout {
		t.Errorf("part of a page: %d items, fault %q, in %v", items, f, took)
	}
}

// buggySource panics after its first batch: a provider with a bug.
type buggySource struct{ slowSource }

func (s *buggySource) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	a := cim.NewInstance("Win32_UserAccount").Set("Domain", testHost).Set("Name", "alice")
	if err := emit([]*cim.Instance{a}); err != nil {
		return err
	}
	panic("a bug")
}

// TestProviderBug: an enumeration whose provider panics is a fault, in
// the first page or a later Pull, and leaves no context open.
func TestProviderBug(t *testing.T) {
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, &buggySource{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{ObjectManager: om})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	m := Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_UserAccount", Body: EnumerateBody(5, "", "", "")}
	if code, n := post(t, h, admin, m.Envelope()); code != 500 || subcode(n) == "" {
		t.Errorf("optimized Enumerate: %d %q", code, subcode(n))
	}
	m.Body = EnumerateBody(0, "", "", "")
	_, n := post(t, h, admin, m.Envelope())
	ctx := body(n).Child(NSEnum, "EnumerationContext").T()
	if code, n := post(t, h, admin, Message{Action: ActionPull, Body: PullBody(ctx, 5)}.Envelope()); code != 500 || subcode(n) == "" {
		t.Errorf("Pull: %d %q", code, subcode(n))
	}
	if st := h.Stats(); st.Contexts != 0 {
		t.Errorf("%d contexts left open", st.Contexts)
	}
}
