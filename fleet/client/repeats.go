package client

import (
	"encoding/binary"
	"hash/fnv"
	"strings"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/wire"
)

// repeatsKept bounds the instances a watch remembers the state of, per
// generation (two are kept): about 100 bytes each, so a few MB at most.
// An instance whose state was forgotten has a repeat of its last change
// shown again, as a watch that began after that change would.
const repeatsKept = 1 << 15

// repeats drops an event that brings its instance to the state the watch
// already knows it in. An agent that crashed after its events were sent
// and before it saved its snapshot sends the changes since that snapshot
// again, under new numbers (its events may repeat, never be lost): a
// creation of a session the watch saw created, a deletion of one it saw
// deleted, a modification to properties it already has. The collector
// merges such repeats into the rows it has; the watch, which hands on
// events rather than rows, drops them here.
//
// The state of an instance is its properties after its last event, or
// "deleted". A change cannot truly leave an instance as it was: a second
// creation needs a deletion between, and a modification changes some
// property. An event that came late (after a later one of its agent) is
// handed on and leaves the state as the later one left it.
//
// Memory is bounded by two generations of at most [repeatsKept]
// instances: when the newer is full, the older is forgotten.
type repeats struct {
	cur, old map[string][16]byte
}

func newRepeats() *repeats {
	return &repeats{cur: map[string][16]byte{}}
}

// repeated reports whether ev leaves its instance in the state the last
// event left it in, and remembers the state ev leaves.
func (r *repeats) repeated(ev *Event) bool {
	if ev.Late {
		return false
	}
	key := strings.ToLower(ev.Host) + "\x00" + ev.Path
	after := stateAfter(&ev.Event)
	last, ok := r.cur[key]
	if !ok {
		last, ok = r.old[key]
	}
	if ok && last == after {
		return true
	}
	if len(r.cur) >= repeatsKept {
		r.old, r.cur = r.cur, make(map[string][16]byte, repeatsKept)
	}
	r.cur[key] = after
	return false
}

// deleted is the state of an instance after its deletion.
var deleted = [16]byte{'d', 'e', 'l', 'e', 't', 'e', 'd'}

// stateAfter is a digest of the instance as an event leaves it: its
// properties after a creation or modification, but for the volatile
// ones (IdleTime, which a repeat sent later has counted on: a change of
// them alone is no event either), or [deleted] after a deletion. Not the
// event's number, id or time.
func stateAfter(e *wire.Event) [16]byte {
	if e.Kind == wire.KindDeletion {
		return deleted
	}
	h := fnv.New128a()
	var n [8]byte
	field := func(b []byte) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(e.Instance.Class))
	field([]byte(e.Instance.Path))
	for _, p := range e.Instance.Properties {
		if cimom.IsVolatile(p.Name) {
			continue // a repeat made later has counted on
		}
		field([]byte(p.Name))
		field(p.Value)
	}
	var sum [16]byte
	h.Sum(sum[:0])
	if sum == deleted { // not a digest a deletion can be taken for
		sum[15] ^= 1
	}
	return sum
}
