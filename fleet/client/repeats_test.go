package client

import (
	"encoding/json"
	"testing"

	"github.com/cimsess/cimsess/fleet/wire"
)

func change(kind, path, state string, late bool) *Event {
	e := &Event{Late: late}
	e.Host, e.Kind, e.Path = "h1", kind, path
	e.Instance = wire.Instance{Class: "Linux_LogonSession", Properties: []wire.Property{
		{Name: "LogonId", Value: json.RawMessage(`"` + path + `"`)},
		{Name: "State", Value: json.RawMessage(`"` + state + `"`)},
	}}
	return e
}

// idle gives e an IdleTime, as a repeat made later has.
func idle(e *Event) *Event {
	e.Instance.Properties = append(e.Instance.Properties, wire.Property{Name: "IdleTime", Value: json.RawMessage(`"00000000000130.000000:000"`)})
	return e
}

// TestRepeats: an event that leaves its instance as the last one left it
// is a repeat (what an agent sends again after a crash); every real
// change, and a late event, is not.
func TestRepeats(t *testing.T) {
	r := newRepeats()
	steps := []struct {
		ev   *Event
		want bool
	}{
		{change(wire.KindCreation, "a", "active", false), false},
		{change(wire.KindCreation, "a", "active", false), true},       // sent again
		{idle(change(wire.KindCreation, "a", "active", false)), true}, // sent again later, idle longer
		{change(wire.KindModification, "a", "active", false), true},   // already so
		{change(wire.KindModification, "a", "online", false), false},  // a change
		{change(wire.KindCreation, "a", "online", false), true},       // a crash's creation of what is there
		{change(wire.KindCreation, "b", "online", false), false},      // another instance
		{change(wire.KindDeletion, "a", "online", false), false},
		{change(wire.KindDeletion, "a", "online", false), true},
		{change(wire.KindModification, "b", "closing", true), false}, // late: handed on, state kept
		{change(wire.KindCreation, "b", "online", false), true},
		{change(wire.KindCreation, "a", "online", false), false}, // created again after its deletion
	}
	for i, s := range steps {
		if got := r.repeated(s.ev); got != s.want {
			t.Errorf("step %d (%s of %s, %s): repeated %v, want %v", i, s.ev.Kind, s.ev.Path, s.ev.Instance.Properties[1].Value, got, s.want)
		}
	}
}

// TestRepeatsBounded: the memory is two generations; an instance of the
// older is still known, one older still is forgotten.
func TestRepeatsBounded(t *testing.T) {
	r := newRepeats()
	name := func(i int) string {
		return "s" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)) + string(rune('a'+i/17576%26))
	}
	for i := range 2 * repeatsKept {
		r.repeated(change(wire.KindCreation, name(i), "active", false))
	}
	if len(r.cur)+len(r.old) > 2*repeatsKept {
		t.Fatalf("%d instances kept, bound %d", len(r.cur)+len(r.old), 2*repeatsKept)
	}
	if !r.repeated(change(wire.KindCreation, name(1), "active", false)) {
		t.Error("an instance of the older generation was forgotten")
	}
	for i := range repeatsKept {
		r.repeated(change(wire.KindCreation, "t"+name(i), "active", false))
	}
	if r.repeated(change(wire.KindCreation, name(0), "active", false)) {
		t.Error("an instance two generations old is still known")
	}
}
