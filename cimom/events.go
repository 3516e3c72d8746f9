package cimom

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/wql"
)

// The intrinsic event classes an [Event] can be of.
const (
	InstanceCreationEvent     = wql.InstanceCreationEvent
	InstanceDeletionEvent     = wql.InstanceDeletionEvent
	InstanceModificationEvent = wql.InstanceModificationEvent
)

// DefaultWithin is how often a subscription rescans when its query has
// no WITHIN clause.
const DefaultWithin = time.Second

// MinWithin bounds WITHIN from below, so that WITHIN 0.0000001 cannot
// turn the engine into a busy loop of whole enumerations; a smaller one is
// raised to it with a warning (SubscribeOptions.OnWarning).
const MinWithin = 20 * time.Millisecond

// maxWithinSeconds keeps a huge WITHIN a valid duration (a year).
const maxWithinSeconds = 365 * 24 * 3600

// notifyDebounce is how long the engine waits after a provider's change
// notification for more of them before it rescans (a login writes utmp,
// then logind's file, then more); notifyMaxWait bounds the wait when
// notifications keep coming.
const (
	notifyDebounce = 4 * time.Millisecond
	notifyMaxWait  = 25 * time.Millisecond
)

// volatileProperties change on their own all the time (counters of
// seconds); a change of them alone is not a modification event, or every
// idle session would raise one at every scan.
var volatileProperties = []string{"IdleTime", "ActiveTime"}

// Event is an intrinsic instance event: an instance was created, deleted
// or modified.
type Event struct {
	// Class is InstanceCreationEvent, InstanceDeletionEvent or
	// InstanceModificationEvent.
	Class string
	// Target is the instance created or deleted, or as it is after a
	// modification (WQL's TargetInstance).
	Target *cim.Instance
	// Previous is the instance before a modification (PreviousInstance);
	// nil for the other events.
	Previous *cim.Instance
	// Time is when the engine saw the change.
	Time time.Time
}

// TimeCreated returns the event's TIME_CREATED: 100-ns ticks since
// 1601-01-01 UTC.
func (e Event) TimeCreated() uint64 { return wql.TimeCreated(e.Time) }

// wql returns the event as the WQL evaluator takes it.
func (e *Event) wql() *wql.Event {
	return &wql.Event{Class: e.Class, TargetInstance: e.Target, PreviousInstance: e.Previous, TimeCreated: e.TimeCreated()}
}

// SubscribeOptions tunes a subscription. The zero value is the usual one.
type SubscribeOptions struct {
	// Within, when positive, overrides the query's WITHIN interval.
	Within time.Duration
	// NoNotify ignores the providers' change notifications, so that only
	// the rescans every Within find changes (for measuring that path).
	NoNotify bool
	// OnBaseline, when set, is called once, before Subscribe returns,
	// with the instances of the target class present at the start (all
	// of them, whatever the query's conditions). Events are changes from
	// that baseline.
	OnBaseline func([]*cim.Instance)
	// OnError, when set, is called with the error of a rescan that
	// failed; the subscription goes on and tries again at the next one.
	OnError func(error)
	// Buffer is the capacity of the event channel; 0 means 64.
	Buffer int
	// OnWarning, when set, is called before Subscribe returns with each
	// warning about the query: the WQL compiler's, and a WITHIN below
	// MinWithin that was raised to it.
	OnWarning func(string)
}

// Subscribe starts watching the instances an event query is about and
// returns a channel of the events that satisfy it, until ctx ends (the
// channel is then closed). The query is
//
//	SELECT * FROM __InstanceCreationEvent | __InstanceDeletionEvent |
//	    __InstanceModificationEvent | __InstanceOperationEvent [WITHIN s]
//	    WHERE TargetInstance ISA 'Class' [AND conditions]
//
// The engine keeps the last snapshot of the class's instances (deep, as
// the context's viewer sees them), keyed by canonical object path, and
// turns each difference into an event. It rescans every WITHIN seconds
// (default [DefaultWithin]) and, for classes whose providers implement
// [provider.Notifier], a few milliseconds after each change notification.
// A change of IdleTime or ActiveTime alone is not a modification. A
// query that is not an event query is CIM_ERR_INVALID_QUERY; the first
// scan's failure is returned as it is.
func (om *ObjectManager) Subscribe(ctx context.Context, query string, opts SubscribeOptions) (<-chan Event, error) {
	q, err := wql.Compile(query, om.reg)
	if err != nil {
		return nil, err
	}
	if !q.IsEvent() {
		return nil, cim.Errorf(cim.ErrInvalidQuery, "%q is not an event query (SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession')", query)
	}
	target := q.Class()
	within := opts.Within
	if w := q.Within(); within <= 0 && w > 0 {
		// Neither rounded to nothing (and so to the default) nor
		// overflowing into a negative duration.
		within = time.Duration(min(w, maxWithinSeconds) * float64(time.Second))
		within = max(within, 1)
	}
	if within <= 0 {
		within = DefaultWithin
	}
	warn := opts.OnWarning
	if warn == nil {
		warn = func(string) {}
	}
	for _, w := range q.Warnings() {
		warn(w)
	}
	if within < MinWithin {
		warn(fmt.Sprintf("WITHIN %g is below %g s: rescanning every %g s", within.Seconds(), MinWithin.Seconds(), MinWithin.Seconds()))
		within = MinWithin
	}
	buf := opts.Buffer
	if buf <= 0 {
		buf = 64
	}

	sub := &subscription{om: om, q: q, target: target, within: within, opts: opts,
		out: make(chan Event, buf), notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(ctx)
	if !opts.NoNotify {
		if err := sub.startWatchers(ctx); err != nil {
			cancel()
			return nil, err
		}
	}
	insts, err := om.EnumerateInstances(ctx, target, EnumOptions{})
	if err != nil {
		cancel()
		return nil, err
	}
	sub.prev = snapshot(insts)
	if opts.OnBaseline != nil {
		opts.OnBaseline(insts)
	}
	go func() {
		defer cancel()
		sub.run(ctx)
	}()
	return sub.out, nil
}

type subscription struct {
	om     *ObjectManager
	q      *wql.Query
	target string
	within time.Duration
	opts   SubscribeOptions
	out    chan Event
	notify chan struct{}
	prev   map[string]*cim.Instance
}

// startWatchers starts the change notifications of every provider that
// serves a concrete class of the target and implements provider.Notifier.
func (s *subscription) startWatchers(ctx context.Context) error {
	classes, err := s.om.concreteClasses(s.target, false)
	if err != nil {
		return err
	}
	seen := map[provider.Provider]bool{}
	for _, c := range classes {
		p := s.om.byClass[strings.ToLower(c.Name)]
		if p == nil || seen[p] {
			continue
		}
		seen[p] = true
		n, ok := p.(provider.Notifier)
		if !ok {
			continue
		}
		go func() {
			err := n.Watch(ctx, s.poke)
			if err != nil && ctx.Err() == nil && s.opts.OnError != nil {
				// Polling still finds the changes, only later.
				s.opts.OnError(cim.Wrap(cim.ErrFailed, err))
			}
		}()
	}
	return nil
}

// poke is the callback providers call on a change.
func (s *subscription) poke() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *subscription) run(ctx context.Context) {
	defer close(s.out)
	tick := time.NewTicker(s.within)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.notify:
			s.debounce(ctx)
		}
		if !s.scan(ctx) {
			return
		}
	}
}

// debounce waits until notifications have been quiet for notifyDebounce,
// or notifyMaxWait has passed.
func (s *subscription) debounce(ctx context.Context) {
	deadline := time.NewTimer(notifyMaxWait)
	defer deadline.Stop()
	quiet := time.NewTimer(notifyDebounce)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-quiet.C:
			return
		case <-s.notify:
			quiet.Reset(notifyDebounce)
		}
	}
}

// scan rescans, sends the events of the difference and reports whether
// the subscription goes on.
func (s *subscription) scan(ctx context.Context) bool {
	insts, err := s.om.EnumerateInstances(ctx, s.target, EnumOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		if s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		return true
	}
	now := time.Now()
	cur := snapshot(insts)
	for _, ev := range diff(s.prev, cur, now) {
		if ctx.Err() != nil {
			return false
		}
		if !s.q.MatchEvent(ev.wql()) {
			continue
		}
		select {
		case s.out <- ev:
		case <-ctx.Done():
			return false
		}
	}
	s.prev = cur
	return true
}

// snapshot keys instances by their canonical path.
func snapshot(insts []*cim.Instance) map[string]*cim.Instance {
	m := make(map[string]*cim.Instance, len(insts))
	for _, in := range insts {
		m[in.Path.Canonical()] = in
	}
	return m
}

// diff returns the events that turn prev into cur: deletions, then
// modifications, then creations, each in path order.
func diff(prev, cur map[string]*cim.Instance, now time.Time) []Event {
	var dels, mods, creates []string
	for k := range prev {
		if _, ok := cur[k]; !ok {
			dels = append(dels, k)
		}
	}
	for k, in := range cur {
		old, ok := prev[k]
		switch {
		case !ok:
			creates = append(creates, k)
		case Modified(old, in):
			mods = append(mods, k)
		}
	}
	sort.Strings(dels)
	sort.Strings(mods)
	sort.Strings(creates)
	out := make([]Event, 0, len(dels)+len(mods)+len(creates))
	for _, k := range dels {
		out = append(out, Event{Class: InstanceDeletionEvent, Target: prev[k], Time: now})
	}
	for _, k := range mods {
		out = append(out, Event{Class: InstanceModificationEvent, Target: cur[k], Previous: prev[k], Time: now})
	}
	for _, k := range creates {
		out = append(out, Event{Class: InstanceCreationEvent, Target: cur[k], Time: now})
	}
	return out
}

// Modified reports whether two snapshots of an instance differ in more
// than volatile properties ([IsVolatile]): whether the change from a to b
// is a modification event.
func Modified(a, b *cim.Instance) bool {
	seen := 0
	for _, p := range a.Properties {
		if IsVolatile(p.Name) {
			continue
		}
		seen++
		v, ok := b.Get(p.Name)
		if !ok || !cim.Equal(p.Value, v) {
			return true
		}
	}
	n := 0
	for _, p := range b.Properties {
		if !IsVolatile(p.Name) {
			n++
		}
	}
	return n != seen
}

// IsVolatile reports whether a property changes on its own all the time
// (IdleTime, ActiveTime: counters of seconds), so that its change alone
// is no modification.
func IsVolatile(name string) bool {
	for _, v := range volatileProperties {
		if strings.EqualFold(v, name) {
			return true
		}
	}
	return false
}
