// Package collector turns the fleet's event stream into session history:
// it reads the JetStream stream of instance events (package fleet/wire)
// through the durable pull consumer that every collector shares, maps
// each session event onto a [fleethistory.Change], writes a batch of them
// in one transaction to a [Sink] (PostgreSQL, or the embedded SQLite
// history for a small fleet) and acknowledges the batch's messages only
// after the sink committed. A collector that dies mid-batch leaves its
// messages unacknowledged, so JetStream delivers them again (to it or to
// another collector), and the sink's idempotence on message ids makes the
// second delivery change nothing.
package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
)

// Sink is where a collector writes: Apply writes a batch of changes
// atomically (all or nothing) and idempotently on their message ids.
type Sink interface {
	Apply(ctx context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error)
}

// PostgresSink writes to a fleet history in PostgreSQL, skipping changes
// older than Keep (when positive).
type PostgresSink struct {
	Store *fleethistory.Store
	Keep  time.Duration
}

// Apply writes a batch (see [fleethistory.Store.Apply]).
func (p PostgresSink) Apply(ctx context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error) {
	return p.Store.Apply(ctx, changes, p.Keep)
}

// Gaps returns the agents whose events never all came (see
// [fleethistory.Store.Gaps]).
func (p PostgresSink) Gaps(ctx context.Context) ([]fleethistory.Gap, error) {
	return p.Store.Gaps(ctx, "")
}

// GapSink is a sink that keeps the agents' event numbers, whatever
// collector wrote them, and so can tell those that never came. A
// collector whose sink is one asks it every GapEvery and logs the gaps.
type GapSink interface {
	Sink
	Gaps(ctx context.Context) ([]fleethistory.Gap, error)
}

// Defaults of a Collector.
const (
	DefaultBatch   = 1000
	DefaultMaxWait = 200 * time.Millisecond
	DefaultAckWait = time.Minute
	// DefaultApplyTimeout is half DefaultAckWait: a write given up is
	// retried before the batch would be delivered again.
	DefaultApplyTimeout = 30 * time.Second
	// DefaultGapEvery is how often a collector asks its sink for the
	// events that never came: one query over a row per agent with a gap.
	DefaultGapEvery = time.Minute
	retryMin        = 200 * time.Millisecond
	retryMax        = 10 * time.Second
	maxAckPendingOf = 20 // MaxAckPending is this many batches
)

// Collector reads the stream into a sink. Set the fields, then call Run.
type Collector struct {
	// JS is the JetStream context of a connection to the fleet's NATS.
	// Required.
	JS jetstream.JetStream
	// Sink receives the changes. Required.
	Sink Sink
	// Schema gives the instances their types; nil is schema.Default().
	Schema *schema.Registry
	// Batch is the most messages applied in one transaction; 0 is
	// DefaultBatch. MaxWait is how long a fetch waits to fill a batch; 0
	// is DefaultMaxWait.
	Batch   int
	MaxWait time.Duration
	// AckWait is how long JetStream waits for a message's acknowledgement
	// before it delivers it again; 0 is DefaultAckWait.
	AckWait time.Duration
	// ApplyTimeout bounds one write of a batch: a database that stops
	// answering fails it, and the write is retried and said; 0 is
	// DefaultApplyTimeout.
	ApplyTimeout time.Duration
	// Classes are the session classes recorded (with their subclasses);
	// nil is history.DefaultClasses. Events of other classes are
	// acknowledged and skipped.
	Classes []string
	// Logf, when set, receives one line per noteworthy thing.
	Logf func(format string, args ...any)
	// OnBatch, when set, is called after each committed batch with its
	// changes (for live views such as the timeline); Skip changes are not
	// among them.
	OnBatch func([]fleethistory.Change)
	// GapEvery is how often the gaps in the agents' numbers are asked
	// for, when the sink is a [GapSink]; 0 is DefaultGapEvery, negative
	// never. Each agent's gap is logged once, and again when it grows.
	GapEvery time.Duration

	stats Stats
}

// Stats counts what a collector did.
type Stats struct {
	Messages  atomic.Int64 // messages received
	Applied   atomic.Int64 // changes written
	Duplicate atomic.Int64 // changes whose message was applied before
	Skipped   atomic.Int64 // events of classes not recorded
	Bad       atomic.Int64 // messages that are not events, refused for good
	Batches   atomic.Int64 // batches committed
	Retries   atomic.Int64 // batches that failed and were retried
	Missing   atomic.Int64 // events that never came, of all agents, as last asked (GapSink)
}

// Stats returns the collector's counters.
func (c *Collector) Stats() *Stats { return &c.stats }

func (c *Collector) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Consumer creates (or finds) the shared durable consumer on the stream,
// waiting for the stream to exist (a hub makes it) until ctx ends.
func (c *Collector) Consumer(ctx context.Context) (jetstream.Consumer, error) {
	ackWait := c.AckWait
	if ackWait <= 0 {
		ackWait = DefaultAckWait
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       wire.CollectConsumer,
		Description:   "cimsess collect: the fleet's session history",
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       ackWait,
		MaxAckPending: c.batch() * maxAckPendingOf,
		FilterSubject: wire.EventSubjects,
	}
	wait := retryMin
	logged := ""
	for {
		cons, err := c.JS.CreateOrUpdateConsumer(ctx, wire.Stream, cfg)
		if err == nil {
			return cons, nil
		}
		var why string
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			why = "stream " + wire.Stream + " does not exist yet (is a hub running?); waiting for it"
		case natsconn.Unreachable(err):
			why = "the NATS server is unreachable; waiting for it"
		default:
			return nil, cim.Errorf(cim.ErrFailed, "collect: consumer %s on %s: %v", wire.CollectConsumer, wire.Stream, err)
		}
		if why != logged {
			c.logf("%s", why)
			logged = why
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

func (c *Collector) batch() int {
	if c.Batch > 0 {
		return c.Batch
	}
	return DefaultBatch
}

// Run collects until ctx ends (it returns nil then) or the consumer
// cannot be made. A failing sink (the database restarting) is retried
// with a growing pause; the batch's messages stay unacknowledged
// meanwhile.
func (c *Collector) Run(ctx context.Context) error {
	if c.JS == nil || c.Sink == nil {
		return cim.Errorf(cim.ErrInvalidParameter, "collect: a Collector needs JetStream and a sink")
	}
	if c.Schema == nil {
		reg, err := schema.Default()
		if err != nil {
			return err
		}
		c.Schema = reg
	}
	cons, err := c.Consumer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if gs, ok := c.Sink.(GapSink); ok && c.GapEvery >= 0 {
		var gw sync.WaitGroup
		gw.Add(1)
		go func() {
			defer gw.Done()
			c.watchGaps(ctx, gs)
		}()
		defer gw.Wait()
	}
	// Fetch and decode the next batch while the current one is written.
	type fetched struct {
		msgs []jetstream.Msg
		b    batch
		err  error
	}
	next := make(chan fetched, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(next)
		for ctx.Err() == nil {
			b, err := cons.Fetch(c.batch(), jetstream.FetchMaxWait(maxWait))
			var f fetched
			if err != nil {
				f.err = err
			} else {
				for m := range b.Messages() {
					f.msgs = append(f.msgs, m)
				}
				f.err = b.Error()
			}
			if len(f.msgs) == 0 && gone(f.err) {
				// The durable consumer was deleted (by an operator, or
				// lost with its server): make it again, from the stream's
				// start, which costs a second pass over events already
				// written and loses none (writing an event twice changes
				// nothing).
				mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if again, err := c.JS.CreateOrUpdateConsumer(mctx, wire.Stream, cons.CachedInfo().Config); err == nil {
					cons = again
					c.logf("the durable consumer %s was gone: made again, from the stream's start", wire.CollectConsumer)
				}
				cancel()
			}
			if len(f.msgs) == 0 && (f.err == nil || idle(f.err)) {
				continue
			}
			if len(f.msgs) > 0 {
				f.b = c.decode(f.msgs)
			}
			select {
			case next <- f:
			case <-ctx.Done():
				nakAll(f.msgs)
				return
			}
		}
	}()
	defer func() {
		// A batch fetched ahead and not written goes back at once.
		wg.Wait()
		for f := range next {
			nakAll(f.msgs)
		}
	}()
	lastFetchErr := ""
	for {
		var f fetched
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case f, ok = <-next:
			if !ok {
				return nil
			}
		}
		if f.err != nil && len(f.msgs) == 0 {
			if s := f.err.Error(); s != lastFetchErr && ctx.Err() == nil {
				c.logf("fetching from %s: %s", wire.Stream, natsconn.Reason(f.err))
				lastFetchErr = s
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(retryMin):
			}
			continue
		}
		if lastFetchErr != "" {
			c.logf("reading %s again", wire.Stream)
			lastFetchErr = ""
		}
		if len(f.msgs) > 0 {
			c.handle(ctx, f.b)
		}
	}
}

// gone reports whether a fetch's error says that its consumer is no more
// (NATS answers a fetch from a deleted consumer with no responders).
func gone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDoesNotExist) || errors.Is(err, nats.ErrNoResponders)
}

// idle reports whether a fetch's error only says that no message came.
func idle(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, context.DeadlineExceeded)
}

// batch is a fetched batch decoded: the changes to write and the
// messages to acknowledge once they are written.
type batch struct {
	msgs    []jetstream.Msg
	changes []fleethistory.Change
	of      []jetstream.Msg // the message of each change
	ack     []jetstream.Msg
}

// decode maps a batch's messages onto changes; a message that is not an
// event is refused for good (Term), one of a class not recorded becomes a
// Skip change, which only counts its number.
func (c *Collector) decode(msgs []jetstream.Msg) batch {
	c.stats.Messages.Add(int64(len(msgs)))
	b := batch{msgs: msgs, changes: make([]fleethistory.Change, 0, len(msgs))}
	for _, m := range msgs {
		ch, ok, err := c.Change(m.Subject(), m.Data(), m.Headers().Get(wire.MsgIDHeader))
		switch {
		case err != nil:
			c.stats.Bad.Add(1)
			c.logf("refusing message %s: %v", msgSubject(m), err)
			_ = m.Term()
			if ch.Kind == fleethistory.Skip && ch.MsgID != "" {
				// Refused, but it came: its number is counted.
				b.changes = append(b.changes, ch)
				b.of = append(b.of, m)
			}
		case !ok:
			// Not recorded, but its number is counted: it came.
			c.stats.Skipped.Add(1)
			b.changes = append(b.changes, ch)
			b.of = append(b.of, m)
			b.ack = append(b.ack, m)
		default:
			b.changes = append(b.changes, ch)
			b.of = append(b.of, m)
			b.ack = append(b.ack, m)
		}
	}
	return b
}

// handle writes one decoded batch and acknowledges it, retrying the sink
// until it works or ctx ends.
func (c *Collector) handle(ctx context.Context, b batch) {
	msgs, changes, ack := b.msgs, b.changes, b.ack
	wait := retryMin
	failed := false
	for len(changes) > 0 {
		st, err := c.apply(ctx, changes)
		if err == nil {
			if failed {
				c.logf("writing again: %d events written", len(changes))
			}
			c.stats.Applied.Add(int64(st.Applied))
			c.stats.Duplicate.Add(int64(st.Duplicate))
			c.stats.Batches.Add(1)
			if st.Invalid+st.Expired > 0 {
				c.logf("%d events refused as out of range, %d older than the retention", st.Invalid, st.Expired)
			}
			if c.OnBatch != nil {
				c.OnBatch(recorded(changes))
			}
			break
		}
		if ctx.Err() != nil {
			nakAll(ack) // not written: delivered again, at once, to whichever collector runs
			return
		}
		if fleethistory.IsDataError(err) {
			// One event the database refuses would stop the batch, and
			// every batch after it, for good: the events go one at a time,
			// and the one refused is set aside (Term) and said.
			if err = c.oneByOne(ctx, &b); err == nil {
				changes, ack = b.changes, b.ack
				if c.OnBatch != nil && len(changes) > 0 {
					c.OnBatch(recorded(changes))
				}
				break
			}
			changes, ack = b.changes, b.ack // what is left, tried again
		}
		c.stats.Retries.Add(1)
		failed = true
		c.logf("writing %d events: %s (retrying in %s)", len(changes), c.applyFailure(err), wait)
		for _, m := range msgs {
			_ = m.InProgress() // keep them ours while we retry
		}
		select {
		case <-ctx.Done():
			nakAll(ack)
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
	for _, m := range ack {
		_ = m.Ack()
	}
}

// apply writes changes through the sink within the apply timeout.
func (c *Collector) apply(ctx context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error) {
	actx, cancel := context.WithTimeout(ctx, c.applyTimeout())
	defer cancel()
	return c.Sink.Apply(actx, changes)
}

func (c *Collector) applyTimeout() time.Duration {
	if c.ApplyTimeout > 0 {
		return c.ApplyTimeout
	}
	return DefaultApplyTimeout
}

// applyFailure says why a write failed: a database that did not answer
// within the apply timeout by that name, else the error.
func (c *Collector) applyFailure(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("the database did not answer within %s", c.applyTimeout())
	}
	return err.Error()
}

// nakAll gives messages back unwritten, so that they are delivered again
// now rather than after the acknowledgement wait: a collector that stops
// leaves no minute's lag to the one that takes over.
func nakAll(msgs []jetstream.Msg) {
	for _, m := range msgs {
		_ = m.Nak()
	}
}

// oneByOne applies b's changes one at a time, after the database refused
// the data of the whole batch: a change it refuses is set aside (its
// message terminated, not delivered again) and logged, and taken out of
// b. It stops at an error of another kind, which the caller retries (the
// changes written before it are then skipped as written).
func (c *Collector) oneByOne(ctx context.Context, b *batch) error {
	var keep []fleethistory.Change
	var keepOf []jetstream.Msg
	refused := map[jetstream.Msg]bool{}
	defer func() {
		if len(refused) > 0 {
			b.ack = slices.DeleteFunc(b.ack, func(m jetstream.Msg) bool { return refused[m] })
		}
	}()
	for i, ch := range b.changes {
		st, err := c.apply(ctx, []fleethistory.Change{ch})
		switch {
		case err == nil:
			c.stats.Applied.Add(int64(st.Applied))
			c.stats.Duplicate.Add(int64(st.Duplicate))
			keep, keepOf = append(keep, ch), append(keepOf, b.of[i])
		case fleethistory.IsDataError(err):
			c.stats.Bad.Add(1)
			c.logf("refusing event %s of %s: the database refuses it: %v", clip(ch.MsgID), clip(ch.Session.Host), err)
			// It came, and is said here: its number is counted, so that
			// it is not told again as an event that never came.
			_, _ = c.apply(ctx, []fleethistory.Change{{MsgID: ch.MsgID, Kind: fleethistory.Skip, Session: fleethistory.Session{Host: ch.Session.Host}}})
			_ = b.of[i].Term()
			refused[b.of[i]] = true
		default:
			b.changes = append(keep, b.changes[i:]...)
			b.of = append(keepOf, b.of[i:]...)
			return err
		}
	}
	b.changes, b.of = keep, keepOf
	c.stats.Batches.Add(1)
	return nil
}

func msgSubject(m jetstream.Msg) string {
	s := m.Subject()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// Change maps an event's message, which came on subject, onto a session
// change. ok is false for an event of a class that is not recorded; ch is
// then a Skip change with the event's id and host, which only counts its
// number.
// msgID, when not empty, is the message's Nats-Msg-Id; it must agree with
// the event's ID. An event whose body names another host than its subject
// is refused (wire.ParseEventOn): no host speaks for another.
func (c *Collector) Change(subject string, data []byte, msgID string) (ch fleethistory.Change, ok bool, err error) {
	reg := c.Schema
	if reg == nil {
		if reg, err = schema.Default(); err != nil {
			return ch, false, err
		}
	}
	ev, err := wire.ParseEventOn(subject, data)
	if err != nil {
		return ch, false, err
	}
	if msgID != "" && msgID != ev.ID {
		return ch, false, cim.Errorf(cim.ErrInvalidParameter, "event %q came with message id %q", clip(ev.ID), clip(msgID))
	}
	if err := checkEventID(ev); err != nil {
		return ch, false, err
	}
	classes := c.Classes
	if classes == nil {
		classes = history.DefaultClasses
	}
	skip := fleethistory.Change{MsgID: ev.ID, Kind: fleethistory.Skip, Session: fleethistory.Session{Host: strings.ToLower(ev.Host)}}
	if _, err := reg.Class(ev.Class); err != nil {
		return skip, false, nil // a class this schema does not know: not a session
	}
	recorded := false
	for _, cl := range classes {
		if reg.IsA(ev.Class, cl) {
			recorded = true
			break
		}
	}
	if !recorded {
		return skip, false, nil
	}
	// From here an event refused still came: its number is counted (the
	// Skip returned with the error), so that it is not told as lost.
	in, err := wire.DecodeInstance(reg, ev.Instance)
	if err != nil {
		return skip, false, err
	}
	hs := history.SessionOf(in, ev.Time)
	if _, has := in.Value("StartTime").(cim.DateTime); !has {
		hs.Start = time.Time{} // resolved by the store from the session's row
	}
	if hs.Path == "" {
		hs.Path = ev.Path
	}
	s := fleethistory.Session{Session: hs, Host: strings.ToLower(ev.Host), RemoteAddress: in.String("RemoteAddress")}
	if v, ok := in.Value("UserId").(uint32); ok {
		s.UID = &v
	}
	// The wire form as it came (PostgreSQL's jsonb normalises it): no
	// second pass of encoding/json over it.
	if b, err := ev.Instance.MarshalJSON(); err == nil {
		s.Props = b
	}
	if err := storable(&s, ev.ID); err != nil {
		return skip, false, cim.Errorf(cim.ErrInvalidParameter, "event %q: %v", clip(ev.ID), err)
	}
	ch = fleethistory.Change{MsgID: ev.ID, Time: ev.Time, Session: s}
	switch ev.Kind {
	case wire.KindCreation:
		ch.Kind = fleethistory.Begin
	case wire.KindModification:
		ch.Kind = fleethistory.Update
		if ev.Previous != nil {
			if prev, err := wire.DecodeInstance(reg, *ev.Previous); err == nil {
				ch.PrevStatus = prev.String("Status")
				if was, ok := prev.Value("StartTime").(cim.DateTime); ok && !hs.Start.IsZero() {
					if t, ok := was.Time(); ok && !t.Equal(hs.Start) {
						ch.PrevStart = t
					}
				}
			}
		}
	case wire.KindDeletion:
		ch.Kind = fleethistory.Finish
		ch.How = history.EndLogout
		if in.String("Status") == "Lost Comm" {
			ch.How = history.EndGhost
		}
	}
	return ch, true, nil
}

// maxKeyBytes bounds the texts the fleet history indexes (host, class,
// LogonId, user name, event id): PostgreSQL refuses an index entry of more
// than about 2,700 bytes, and real ones are tens of bytes.
const maxKeyBytes = 1024

// storable says why a session cannot be stored, or nil: a text the
// history indexes that is too long, or a NUL, which PostgreSQL's texts and
// JSON do not hold. Refused here, such an event is set aside with its
// reason, where the database's refusal would stop the batch.
func storable(s *fleethistory.Session, id string) error {
	for _, f := range [...]struct{ name, v string }{{"host", s.Host}, {"class", s.Class}, {"LogonId", s.LogonID}, {"UserName", s.User}, {"id", id}} {
		if len(f.v) > maxKeyBytes {
			return fmt.Errorf("its %s is %d bytes, more than %d", f.name, len(f.v), maxKeyBytes)
		}
	}
	for _, v := range [...]string{s.Host, s.Class, s.LogonID, s.User, s.TTY, s.RemoteHost, s.RemoteAddress, s.Path, s.Status, id} {
		if strings.IndexByte(v, 0) >= 0 {
			return errors.New("a NUL character in its session's fields")
		}
	}
	if jsonHasNUL(s.Props) {
		return errors.New("a NUL character in its instance's properties")
	}
	return nil
}

// jsonHasNUL reports whether JSON text b holds the escape \u0000 (a
// backslash not itself escaped, then u0000).
func jsonHasNUL(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		n := 0 // backslashes before the one found
		for k := at - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = at + 1
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// recorded returns the changes that are not Skip changes.
func recorded(changes []fleethistory.Change) []fleethistory.Change {
	for _, ch := range changes {
		if ch.Kind == fleethistory.Skip {
			return slices.DeleteFunc(slices.Clone(changes), func(ch fleethistory.Change) bool { return ch.Kind == fleethistory.Skip })
		}
	}
	return changes
}

// watchGaps asks the sink for the gaps in the agents' numbers every
// GapEvery until ctx ends, and logs each agent's gap once, and again
// when it grows.
func (c *Collector) watchGaps(ctx context.Context, gs GapSink) {
	every := c.GapEvery
	if every <= 0 {
		every = DefaultGapEvery
	}
	told := map[string]uint64{} // agent → the missing count last told
	lastErr := ""
	for {
		gaps, err := gs.Gaps(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if s := err.Error(); s != lastErr {
				c.logf("asking for the events that never came: %v", err)
				lastErr = s
			}
		default:
			lastErr = ""
			now := map[string]uint64{}
			var total uint64
			for _, g := range gaps {
				now[g.Agent] = g.Missing
				total += g.Missing
				if g.Missing > told[g.Agent] {
					c.logf("%s", GapMessage(g))
				}
			}
			told = now // a gap filled late, or forgotten, is told again should it come back
			c.stats.Missing.Store(int64(min(total, 1<<62)))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// maxRunsTold bounds the runs of numbers a gap's message names.
const maxRunsTold = 4

// checkEventID refuses an event whose id is not its own host's: the
// host's token, an agent id of letters, digits, '-' and '_', and its
// number (wire.EventID). The subject already names the body's host; the
// id must too, or one host could make gaps in another's accounting, or
// hide them, and claim its message ids.
func checkEventID(ev *wire.Event) error {
	prefix, suffix := wire.HostToken(ev.Host)+".", "."+strconv.FormatUint(ev.Seq, 10)
	id := ev.ID
	if ev.Seq == 0 || len(id) <= len(prefix)+len(suffix) || !strings.HasPrefix(id, prefix) || !strings.HasSuffix(id, suffix) {
		return cim.Errorf(cim.ErrInvalidParameter, "event %q: its id is not <host token>.<agent id>.<seq> of its host %q and number %d", clip(id), clip(ev.Host), ev.Seq)
	}
	agent := id[len(prefix) : len(id)-len(suffix)]
	if len(agent) > 64 || strings.IndexFunc(agent, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return cim.Errorf(cim.ErrInvalidParameter, "event %q: its agent id %q is not up to 64 letters, digits, '-' or '_'", clip(id), clip(agent))
	}
	return nil
}

// GapMessage says what a gap is, as a collector logs it: "host web-2: 3
// events of agent web-2.x1 never came (numbers 4 to 6: …)".
func GapMessage(g fleethistory.Gap) string {
	var b strings.Builder
	for i, r := range g.Runs {
		if i == maxRunsTold {
			fmt.Fprintf(&b, " and %d more runs", len(g.Runs)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if r.From == r.To {
			fmt.Fprintf(&b, "%d", r.From)
		} else {
			fmt.Fprintf(&b, "%d to %d", r.From, r.To)
		}
	}
	if g.Forgotten > 0 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "and %d before", g.Forgotten)
	}
	events, numbers, they := "events", "numbers", "they"
	if g.Missing == 1 {
		events, numbers, they = "event", "number", "it"
	}
	return fmt.Sprintf("host %s: %d %s of agent %s never came (%s %s: lost before %s reached the stream, by a full outbox on the host (see its log), or dropped by the stream's limits before a collector read them)",
		output.Escape(clip(g.Host)), g.Missing, events, output.Escape(clip(g.Agent)), numbers, b.String(), they)
}
