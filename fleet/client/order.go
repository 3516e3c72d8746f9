package client

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// OrderHold is how long a watch holds a host's event back while an event
// of that host with a lower sequence number is missing: long enough for
// an agent to publish again after a stream leader change (its retries
// begin 250 ms after a failure; an election takes a few seconds), short
// enough that a number that never comes (a record the agent's outbox set
// aside as damaged) delays that host's events only this once.
const OrderHold = 5 * time.Second

// orderMaxHeld bounds the events held for one agent: past it the oldest
// gap is given up at once, so that memory does not grow with a gap.
const orderMaxHeld = 1024

// order puts each agent's events back in the order of their sequence
// numbers, which the stream keeps only very likely (an agent publishes
// up to 256 events at a time, and across a leader change a later one may
// be stored before an earlier one it publishes again). An event whose
// predecessor is missing is held until the predecessor comes or the hold
// ends; one that comes after its place was given up is handed on when it
// comes, marked Late. An agent is its events' ID less the sequence
// number (host and agent instance), so an agent whose numbering starts
// again (a new state directory) starts a new order.
type order struct {
	hold    time.Duration
	agents  map[string]*agentOrder
	holding map[*agentOrder]struct{} // the agents with events held: what wait and due look at
	gaps    []Gap                    // the gaps given up since the caller last took them
}

// Gap is a run of a host's events that never came to a watch: numbers
// From to To (inclusive) of one agent, given up after the hold. An agent
// gives a number to an event its full outbox could not keep, and a
// stream can lose what it had not yet stored; either way the watch says
// so instead of waiting for good.
type Gap struct {
	Host     string
	From, To uint64
}

// agentOrder is the order of one agent's events.
type agentOrder struct {
	host  string    // the host, as its events name it
	next  uint64    // the sequence number due next
	held  []*Event  // events after a gap, by sequence number
	since time.Time // when the first of held was held
}

func newOrder(hold time.Duration) *order {
	return &order{hold: hold, agents: map[string]*agentOrder{}, holding: map[*agentOrder]struct{}{}}
}

// track keeps a in holding while it holds events.
func (o *order) track(a *agentOrder) {
	if len(a.held) > 0 {
		o.holding[a] = struct{}{}
	} else {
		delete(o.holding, a)
	}
}

// agentOf is the agent part of an event ID ("host.agent.seq").
func agentOf(id string) string {
	if i := strings.LastIndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// add takes an event that came at now and appends to out those that are
// due, in order.
func (o *order) add(ev *Event, now time.Time, out []*Event) []*Event {
	key := agentOf(ev.ID)
	a := o.agents[key]
	switch {
	case a == nil: // the first of this agent's events the watch sees
		o.agents[key] = &agentOrder{host: ev.Host, next: ev.Seq + 1}
		return append(out, ev)
	case ev.Seq < a.next: // its place was given up (or a number starts again)
		ev.Late = true
		return append(out, ev)
	case ev.Seq == a.next:
		a.next++
		out = a.release(append(out, ev), now)
		o.track(a)
		return out
	}
	i, found := slices.BinarySearchFunc(a.held, ev.Seq, func(h *Event, seq uint64) int { return cmp.Compare(h.Seq, seq) })
	if found { // the same number twice: the stream's duplicate window had passed
		return out
	}
	if len(a.held) == 0 {
		a.since = now
	}
	a.held = slices.Insert(a.held, i, ev)
	if len(a.held) > orderMaxHeld {
		out = o.skip(a, out, now)
	}
	o.track(a)
	return out
}

// due appends to out the events whose hold has ended at now, in order.
func (o *order) due(now time.Time, out []*Event) []*Event {
	for a := range o.holding {
		for len(a.held) > 0 && now.Sub(a.since) >= o.hold {
			out = o.skip(a, out, now)
		}
		o.track(a)
	}
	return out
}

// wait is how long from now until the next hold ends; ok is false when
// nothing is held.
func (o *order) wait(now time.Time) (d time.Duration, ok bool) {
	for a := range o.holding {
		left := max(0, o.hold-now.Sub(a.since))
		if !ok || left < d {
			d, ok = left, true
		}
	}
	return d, ok
}

// release appends the held events that follow on from next.
func (a *agentOrder) release(out []*Event, now time.Time) []*Event {
	n := 0
	for n < len(a.held) && a.held[n].Seq == a.next {
		out = append(out, a.held[n])
		a.next++
		n++
	}
	if n > 0 {
		clear(a.held[:n])
		a.held = a.held[n:]
		a.since = now // what is still held waits a hold of its own
	}
	return out
}

// skip gives up the gap before a's first held event, noting it in gaps,
// and releases what follows it.
func (o *order) skip(a *agentOrder, out []*Event, now time.Time) []*Event {
	o.gaps = append(o.gaps, Gap{Host: a.host, From: a.next, To: a.held[0].Seq - 1})
	a.next = a.held[0].Seq
	return a.release(out, now)
}

// sequencer hands a watch's events on through an order: from the
// reading goroutine as they come (add), and from its own (run) as holds
// end. pass, which gets them in order, is called from one goroutine at a
// time; its first error ends the watch (cancel) and is kept (failed).
type sequencer struct {
	mu      sync.Mutex // all below, pass and gap
	ord     *order
	ready   []*Event
	pass    func(*Event) error
	gap     func(Gap) // nil: gaps are not told
	err     error
	cancel  context.CancelFunc
	changed chan struct{} // a hold began: run computes its wait again
}

func newSequencer(hold time.Duration, cancel context.CancelFunc, pass func(*Event) error, gap func(Gap)) *sequencer {
	return &sequencer{ord: newOrder(hold), pass: pass, gap: gap, cancel: cancel, changed: make(chan struct{}, 1)}
}

// add takes an event from the stream and hands on what is due; it
// returns pass's first error.
func (s *sequencer) add(ev *Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	holding := len(s.ord.holding)
	s.ready = s.ord.add(ev, time.Now(), s.ready)
	s.hand()
	if len(s.ord.holding) > holding { // a hold began: run's wait may be shorter
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	return s.err
}

// run hands on the events whose hold ends, until ctx ends.
func (s *sequencer) run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		d, ok := s.ord.wait(time.Now())
		s.mu.Unlock()
		if !ok {
			d = time.Hour // until an event is held: changed
		}
		t.Reset(d)
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		case <-t.C:
			s.mu.Lock()
			s.ready = s.ord.due(time.Now(), s.ready)
			s.hand()
			s.mu.Unlock()
		}
	}
}

// failed returns pass's first error, if any.
func (s *sequencer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// hand tells the gaps given up and passes the ready events on; after an
// error of pass it drops them. s.mu is held.
func (s *sequencer) hand() {
	for _, g := range s.ord.gaps {
		if s.gap != nil && s.err == nil {
			s.gap(g)
		}
	}
	s.ord.gaps = s.ord.gaps[:0]
	for i, ev := range s.ready {
		s.ready[i] = nil
		if s.err != nil {
			continue
		}
		if err := s.pass(ev); err != nil {
			s.err = err
			s.cancel()
		}
	}
	s.ready = s.ready[:0]
}
