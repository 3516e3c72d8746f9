package wsman

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// ContextLimits bound the enumeration contexts the server keeps between a
// client's Enumerate and its last Pull, so that a client who opens
// contexts and never pulls cannot exhaust memory. Zero fields take the
// defaults.
type ContextLimits struct {
	MaxTotal   int           // open contexts in all; default 1,024
	MaxPerUser int           // open contexts of one user; default 64
	MaxHeld    int           // instances held by all contexts together; default 200,000
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

// fetchFunc runs an enumeration's operation: its instances and, for a WQL
// select list, the properties to render (nil for all).
type fetchFunc func(ctx context.Context) ([]*cim.Instance, []string, error)

// enumeration is one open enumeration context. Its operation runs on its
// own goroutine from Enumerate on; Pulls take pages of what it returned,
// dropping each instance as it is sent, so that what a context holds only
// shrinks while it is pulled.
type enumeration struct {
	id, user string
	rend     renderer
	mode     enumMode
	done     chan struct{} // closed when the operation has finished
	cancel   context.CancelFunc

	// Set by the operation's goroutine before done is closed.
	insts []*cim.Instance
	props []string
	err   error

	// Guarded by the store's mutex.
	pos     int
	held    int // instances counted in store.held
	busy    bool
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
// outlives the Enumerate request and ends with the context.
func (s *store) open(ctx context.Context, user string, idle time.Duration, fetch fetchFunc) (*enumeration, error) {
	if idle <= 0 {
		idle = s.lim.Idle
	}
	idle = min(idle, s.lim.MaxExpires)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, faultInternal("the server is shutting down")
	}
	if len(s.byID) >= s.lim.MaxTotal {
		s.mu.Unlock()
		return nil, faultQuota(codeQuotaSystem, "the server has %d enumeration contexts open, its limit; release or finish some", s.lim.MaxTotal)
	}
	if s.perUser[user] >= s.lim.MaxPerUser {
		s.mu.Unlock()
		return nil, faultQuota(codeQuotaUser, "you have %d enumeration contexts open, the limit per user; release or finish some", s.lim.MaxPerUser)
	}
	e := &enumeration{id: "uuid:" + newUUID(), user: user, done: make(chan struct{}), idle: idle,
		expires: time.Now().Add(idle)}
	s.byID[e.id] = e
	s.perUser[user]++
	e.timer = time.AfterFunc(idle, func() { s.expire(e) })
	s.mu.Unlock()

	opCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	go func() {
		insts, props, err := fetch(opCtx)
		s.mu.Lock()
		if err == nil && s.byID[e.id] == e {
			if s.held+len(insts) > s.lim.MaxHeld {
				err = faultQuota(codeQuotaSystem, "the open enumerations would hold more than %d instances; pull or release them, or narrow the query", s.lim.MaxHeld)
				insts = nil
			} else {
				e.held = len(insts)
				s.held += e.held
			}
		} else if s.byID[e.id] != e {
			insts = nil // released while it ran
		}
		e.insts, e.props, e.err = insts, props, err
		s.mu.Unlock()
		close(e.done)
	}()
	return e, nil
}

// take returns the context id of user's for one Pull, marked busy; put
// or drop ends the Pull.
func (s *store) take(id, user string) (*enumeration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byID[id]
	if e == nil || e.user != user || time.Now().After(e.expires) {
		return nil, faultInvalidContext()
	}
	if e.busy {
		return nil, receiverFault(actionEnumFault, "n:InvalidEnumerationContext", "", codeEnumerationInvalid,
			"another request is using this enumeration context")
	}
	e.busy = true
	return e, nil
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

// next takes up to n instances from the context's position and forgets
// them there; back gives back those of them not sent.
func (s *store) next(e *enumeration, n int) []*cim.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := min(e.pos+n, len(e.insts))
	page := append([]*cim.Instance(nil), e.insts[e.pos:end]...)
	clear(e.insts[e.pos:end])
	s.held -= end - e.pos
	e.held -= end - e.pos
	e.pos = end
	return page
}

// back returns the unsent tail of a page to the context.
func (s *store) back(e *enumeration, unsent []*cim.Instance) {
	if len(unsent) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.pos -= len(unsent)
	copy(e.insts[e.pos:], unsent)
	s.held += len(unsent)
	e.held += len(unsent)
}

// finished reports whether every instance has been taken.
func (s *store) finished(e *enumeration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.pos >= len(e.insts)
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
	e.insts = nil
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.cancel != nil {
		e.cancel()
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
