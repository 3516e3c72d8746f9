package wsman

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// ContextLimits bound the enumeration contexts the server keeps between a
// client's Enumerate and its last Pull, so that a client who opens
// contexts and never pulls cannot exhaust memory. Zero fields take the
// defaults.
type ContextLimits struct {
	MaxTotal   int           // open contexts in all; default 1,024
	MaxPerUser int           // open contexts of one user; default 64
	MaxHeld    int           // instances made and not yet pulled, all contexts together; default 200,000
	Idle       time.Duration // a context unused this long is dropped; default 60 s
	MaxExpires time.Duration // the longest Expires a client may ask for; default 10 min
}

func (l ContextLimits) withDefaults() ContextLimits {
	if l.MaxTotal <= 0 {
		l.MaxTotal = 1024
	}
	if l.MaxPerUser <= 0 {
		l.MaxPerUser = 64
	}
	if l.MaxHeld <= 0 {
		l.MaxHeld = 200_000
	}
	if l.Idle <= 0 {
		l.Idle = 60 * time.Second
	}
	if l.MaxExpires <= 0 {
		l.MaxExpires = 10 * time.Minute
	}
	return l
}

// streamFunc runs an enumeration's operation, handing its instances to
// emit in batches as they come.
type streamFunc func(ctx context.Context, emit provider.Emit) error

// enumeration is one open enumeration context. Its operation streams on
// a goroutine of its own from Enumerate on, one batch ahead of the
// client: the goroutine blocks until a Pull takes what it made, so a
// context holds at most a batch in hand, one in the channel and what a
// Pull left over, whatever the number of instances.
type enumeration struct {
	id, user string
	rend     renderer
	mode     enumMode
	props    []string
	ch       chan []*cim.Instance // batches; closed when the operation ends
	err      error                // the operation's error, set before ch is closed
	cancel   context.CancelFunc

	// Used by the one Pull that has the context (busy).
	pending []*cim.Instance
	ended   bool

	// Guarded by the store's mutex.
	held    int // instances made and not yet sent, counted in store.held
	dropped bool
	busy    bool
	turn    uint64 // counts the requests that had it busy: whose turn busy is
	idle    time.Duration
	expires time.Time
	timer   *time.Timer
}

type enumMode int

const (
	modeObject enumMode = iota
	modeEPR
	modeObjectAndEPR
)

// store holds the open enumeration contexts.
type store struct {
	lim     ContextLimits
	mu      sync.Mutex
	byID    map[string]*enumeration
	perUser map[string]int
	held    int
	closed  bool
}

func newStore(l ContextLimits) *store {
	return &store{lim: l.withDefaults(), byID: map[string]*enumeration{}, perUser: map[string]int{}}
}

// open registers a new context for user and starts its operation with
// ctx's values (the viewer) but not its cancellation: the operation
// outlives the Enumerate request and ends with the context. The context
// is returned busy, in the turn it returns: the caller ends with put or
// drop (dropIfBusy with that turn for a request that could not).
func (s *store) open(ctx context.Context, user string, idle time.Duration, props []string, stream streamFunc) (*enumeration, uint64, error) {
	if idle <= 0 {
		idle = s.lim.Idle
	}
	idle = min(idle, s.lim.MaxExpires)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, 0, faultInternal("the server is shutting down")
	}
	if len(s.byID) >= s.lim.MaxTotal {
		s.mu.Unlock()
		return nil, 0, faultQuota(codeQuotaSystem, "the server has %d enumeration contexts open, its limit; release or finish some", s.lim.MaxTotal)
	}
	if s.perUser[user] >= s.lim.MaxPerUser {
		s.mu.Unlock()
		return nil, 0, faultQuota(codeQuotaUser, "you have %d enumeration contexts open, the limit per user; release or finish some", s.lim.MaxPerUser)
	}
	opCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Busy until the Enumerate that opens it puts it back (put or drop):
	// its idle time runs from then, not while its first page is made.
	e := &enumeration{id: "uuid:" + newUUID(), user: user, props: props, ch: make(chan []*cim.Instance, 1),
		cancel: cancel, idle: idle, expires: time.Now().Add(idle), busy: true, turn: 1}
	s.byID[e.id] = e
	s.perUser[user]++
	e.timer = time.AfterFunc(idle, func() { s.expire(e) })
	s.mu.Unlock()

	go func() {
		err := stream(opCtx, func(batch []*cim.Instance) error {
			if len(batch) == 0 {
				return nil
			}
			if !s.reserve(e, len(batch)) {
				return faultQuota(codeQuotaSystem, "the open enumerations hold %d instances, the server's limit; pull or release them", s.lim.MaxHeld)
			}
			b := append([]*cim.Instance(nil), batch...) // the batch slice is lent
			select {
			case e.ch <- b:
				return nil
			case <-opCtx.Done():
				s.unreserve(e, len(b))
				return opCtx.Err()
			}
		})
		e.err = err
		close(e.ch)
	}()
	return e, 1, nil
}

// reserve counts n more instances held by e, unless that would pass the
// total bound.
func (s *store) reserve(e *enumeration, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.dropped {
		return true // not counted: nobody will take them
	}
	if s.held+n > s.lim.MaxHeld {
		return false
	}
	s.held += n
	e.held += n
	return true
}

// unreserve counts n instances of e as no longer held (sent or dropped).
func (s *store) unreserve(e *enumeration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.dropped {
		return
	}
	s.held -= n
	e.held -= n
}

// take returns the context id of user's for one Pull, marked busy, and
// the Pull's turn; put or drop ends the Pull.
func (s *store) take(id, user string) (*enumeration, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil || e.user != user || time.Now().After(e.expires) {
		return nil, 0, faultInvalidContext()
	}
	if e.busy {
		return nil, 0, receiverFault(actionEnumFault, "n:InvalidEnumerationContext", "", codeEnumerationInvalid,
			"another request is using this enumeration context")
	}
	e.busy = true
	e.turn++
	return e, e.turn, nil
}

// put ends a Pull that leaves the context open, restarting its idle time.
func (s *store) put(e *enumeration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.busy = false
	e.expires = time.Now().Add(e.idle)
	if e.timer != nil {
		e.timer.Reset(e.idle)
	}
}

// next takes up to n instances of the context, waiting for the operation
// until deadline (or ctx's end): what came by then, and whether the
// operation has ended with nothing left. An operation that failed gives
// its error.
func (s *store) next(ctx context.Context, e *enumeration, n int, deadline time.Time) ([]*cim.Instance, bool, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var page []*cim.Instance
	wait := func() bool { // one more batch into pending; false on timeout
		select {
		case b, ok := <-e.ch:
			if !ok {
				e.ended = true
			} else {
				e.pending = b
			}
			return true
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	full := false
	for len(e.pending) > 0 || !e.ended { // what a page left over comes first, even after the end
		if full = len(page) == n; full {
			break
		}
		if len(e.pending) == 0 {
			if !wait() {
				break
			}
			continue
		}
		k := min(n-len(page), len(e.pending))
		page = append(page, e.pending[:k]...)
		clear(e.pending[:k])
		e.pending = e.pending[k:]
		s.unreserve(e, k)
	}
	// A full page: see whether the operation is at its end, so that the
	// client need not pull once more for nothing, but only for as long as
	// an operation that has all its instances in hand takes to end: the
	// page is not held back for a slow source's next batch.
	if full && len(e.pending) == 0 && !e.ended {
		timer.Reset(min(time.Until(deadline), endGrace))
		wait()
	}
	if e.ended && e.err != nil {
		return nil, true, e.err
	}
	return page, e.ended && len(e.pending) == 0, nil
}

// endGrace is how long a full page waits to learn whether the operation
// has ended.
const endGrace = 20 * time.Millisecond

// back returns the unsent tail of a page to the context.
func (s *store) back(e *enumeration, unsent []*cim.Instance) {
	if len(unsent) == 0 {
		return
	}
	e.pending = append(append([]*cim.Instance(nil), unsent...), e.pending...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.dropped {
		s.held += len(unsent)
		e.held += len(unsent)
	}
}

// drop removes a context (released, finished, failed or expired) and
// cancels its operation if it still runs.
func (s *store) drop(e *enumeration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(e)
}

func (s *store) dropLocked(e *enumeration) {
	if s.byID[e.id] != e {
		return
	}
	delete(s.byID, e.id)
	if s.perUser[e.user]--; s.perUser[e.user] <= 0 {
		delete(s.perUser, e.user)
	}
	s.held -= e.held
	e.held = 0
	e.dropped = true
	if e.timer != nil {
		e.timer.Stop()
	}
	e.cancel()
}

// dropIfBusy drops a context that the request of turn left busy, with
// neither put nor drop: a request that ended on a panic, whose context
// nobody could use again. A context busy in a later turn is another
// request's (a Pull that took it once this one put it back), and stays.
func (s *store) dropIfBusy(e *enumeration, turn uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.busy && e.turn == turn {
		s.dropLocked(e)
	}
}

// release drops user's context id; ok is false if there is none.
func (s *store) release(id, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil || e.user != user {
		return false
	}
	s.dropLocked(e)
	return true
}

// expire drops a context whose idle time has passed, unless a Pull uses
// it now.
func (s *store) expire(e *enumeration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.busy && !time.Now().Before(e.expires) {
		s.dropLocked(e)
	}
}

// close drops every context.
func (s *store) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, e := range s.byID {
		s.dropLocked(e)
	}
}

// Stats is what the open enumeration contexts hold.
type Stats struct {
	Contexts int // open contexts
	Held     int // instances they hold
}

func (s *store) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Contexts: len(s.byID), Held: s.held}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
