// Package client asks a fleet: the live hosts from the hosts bucket, a
// WQL query scatter-gathered over request-reply from every host (or those
// whose names match a glob), and the event stream followed live or from a
// point in time, with each instance given back its CIM types and its
// host in its path (__SERVER).
package client

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/wql"
)

// Client asks the fleet over one NATS connection.
type Client struct {
	NC  *nats.Conn
	Reg *schema.Registry
	js  jetstream.JetStream

	mu     sync.Mutex
	hostsS jetstream.Stream // the bucket's stream, looked up once
}

// New returns a client over nc.
func New(nc *nats.Conn, reg *schema.Registry) (*Client, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	return &Client{NC: nc, Reg: reg, js: js}, nil
}

// Hosts returns the heartbeats of the live hosts (those whose entry the
// bucket's TTL has not dropped), by host name; a non-empty glob keeps the
// hosts whose names match it (path.Match, case-insensitive).
func (c *Client) Hosts(ctx context.Context, glob string) ([]wire.Heartbeat, error) {
	kv, err := c.js.KeyValue(ctx, wire.Bucket)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "the hosts bucket %s: %v", wire.Bucket, err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "reading the hosts bucket: %v", err)
	}
	defer w.Stop()
	var out []wire.Heartbeat
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, cim.Errorf(cim.ErrFailed, "reading the hosts bucket: %v", ctx.Err())
		case e = <-w.Updates():
		}
		if e == nil {
			break // the entries present have all come
		}
		var hb wire.Heartbeat
		if err := json.Unmarshal(e.Value(), &hb); err != nil || hb.Host == "" || wire.HostToken(hb.Host) != e.Key() {
			continue
		}
		if glob != "" && !matchHost(glob, hb.Host) {
			continue
		}
		out = append(out, hb)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Host) < strings.ToLower(out[j].Host) })
	return out, nil
}

// kvSubjects is the subject filter of every key of the hosts bucket.
const kvSubjects = "$KV." + wire.Bucket + "."

// Live returns the live hosts (those whose heartbeat the bucket's TTL has
// not dropped) by token, each with its host name as the token spells it
// (lower case). It reads only the per-subject counts of the bucket's
// stream (STREAM.INFO with a subject filter): one request, no consumer
// and no heartbeat body, which is what a query needs to know whom to
// wait for. A non-empty glob keeps the hosts whose names match it.
func (c *Client) Live(ctx context.Context, glob string) (map[string]string, error) {
	if _, err := path.Match(glob, ""); err != nil {
		// A malformed glob matches no host: every host would seem to be
		// away, where the question is at fault.
		return nil, cim.Errorf(cim.ErrInvalidParameter, "hosts %q is not a glob of host names: %v", glob, err)
	}
	c.mu.Lock()
	s := c.hostsS
	c.mu.Unlock()
	if s == nil {
		var err error
		if s, err = c.js.Stream(ctx, "KV_"+wire.Bucket); err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "the hosts bucket %s: %v", wire.Bucket, err)
		}
		c.mu.Lock()
		c.hostsS = s
		c.mu.Unlock()
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(kvSubjects+">"))
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "reading the hosts bucket: %v", err)
	}
	live := make(map[string]string, len(info.State.Subjects))
	for subj, n := range info.State.Subjects {
		tok, ok := strings.CutPrefix(subj, kvSubjects)
		if !ok || n == 0 {
			continue
		}
		host, err := wire.ParseHostToken(tok)
		if err != nil || glob != "" && !matchHost(glob, host) {
			continue
		}
		live[tok] = host
	}
	return live, nil
}

func matchHost(glob, host string) bool {
	ok, _ := path.Match(strings.ToLower(glob), strings.ToLower(host))
	return ok
}

// Result is a fleet query's answer.
type Result struct {
	// Instances are every host's instances, host by host in the order the
	// answers came, each with its host in Path.Host.
	Instances []*cim.Instance
	// Properties are the select list (nil for SELECT *).
	Properties []string
	// Answered lists the hosts that answered in full, sorted.
	Answered []string
	// Missing lists the live hosts that did not answer in time, sorted,
	// by their names as host tokens spell them (lower case).
	Missing []string
	// Failed holds the hosts that answered with an error.
	Failed map[string]error
}

// Partial reports whether some live host did not answer or failed.
func (r *Result) Partial() bool { return len(r.Missing) > 0 || len(r.Failed) > 0 }

// QueryOptions narrow a fleet query.
type QueryOptions struct {
	// Hosts is a glob of host names; empty is every host.
	Hosts string
	// Timeout bounds the wait for answers; default 5 s.
	Timeout time.Duration
}

// Query runs a WQL data query on every live host (or those matching
// Hosts) and gathers the answers until every live host has answered in
// full or the timeout passes.
//
// Each host is asked on its own subject, with a reply subject that ends in
// its host token, and only an answer for that host is taken from it: the
// hub lets an agent receive only its own host's queries (and the
// fleet-wide one, which this client does not send) and answer only the
// queries it received, so no host can answer for another. A host is live
// when its heartbeat is in the bucket, which only that host may write.
func (c *Client) Query(ctx context.Context, query string, o QueryOptions) (*Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	q, err := wql.Compile(query, c.Reg)
	if err != nil {
		return nil, err
	}
	if q.IsEvent() {
		return nil, cim.Errorf(cim.ErrInvalidQuery, "an event query is followed with watch --fleet, not asked with query")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	expect, err := c.Live(ctx, o.Hosts) // token → host
	if err != nil {
		return nil, err
	}

	res := &Result{Failed: map[string]error{}}
	if len(expect) == 0 {
		return res, nil
	}
	inbox := c.NC.NewInbox() + "."
	msgs := make(chan *nats.Msg, 4096)
	sub, err := c.NC.ChanSubscribe(inbox+"*", msgs)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "subscribing to the answers: %v", err)
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1)
	req, _ := json.Marshal(wire.Query{WQL: query, Hosts: o.Hosts, TimeoutMillis: o.Timeout.Milliseconds()})
	for tok := range expect {
		if err := c.NC.PublishRequest(wire.QuerySubject(tok), inbox+tok, req); err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "sending the query: %v", err)
		}
	}
	c.NC.Flush()

	type progress struct {
		chunks, want int // chunks received; want = last chunk + 1 once known
		insts        []*cim.Instance
		total        int
	}
	got := map[string]*progress{}
	done := map[string]bool{}
	pending := len(expect)
	for pending > 0 {
		var m *nats.Msg
		select {
		case <-ctx.Done():
			pending = -1
		case m = <-msgs:
		}
		if m == nil {
			break
		}
		ans, err := wire.ParseAnswer(m.Data)
		if err != nil || ans.Host == "" {
			continue
		}
		tok := wire.HostToken(ans.Host)
		if m.Subject != inbox+tok {
			continue // an answer for another host than the one asked on that subject
		}
		if done[tok] || o.Hosts != "" && !matchHost(o.Hosts, ans.Host) {
			continue
		}
		if ans.Error != nil {
			res.Failed[ans.Host] = cim.Errorf(cim.Status(ans.Error.Code), "%s", ans.Error.Message)
			done[tok] = true
			if _, ok := expect[tok]; ok {
				pending--
			}
			continue
		}
		p := got[tok]
		if p == nil {
			p = &progress{}
			got[tok] = p
		}
		if res.Properties == nil && ans.Properties != nil {
			res.Properties = ans.Properties
		}
		for _, w := range ans.Instances {
			in, err := wire.DecodeInstance(c.Reg, w)
			if err != nil {
				res.Failed[ans.Host] = err
				continue
			}
			in.Path.Host, in.Path.Namespace = ans.Host, schema.Namespace
			p.insts = append(p.insts, in)
		}
		p.chunks++
		if ans.Last {
			p.want, p.total = ans.Chunk+1, ans.Total
		}
		if p.want > 0 && p.chunks >= p.want {
			done[tok] = true
			res.Answered = append(res.Answered, ans.Host)
			res.Instances = append(res.Instances, p.insts...)
			if _, ok := expect[tok]; ok {
				pending--
			}
		}
	}
	for tok, host := range expect {
		if !done[tok] {
			res.Missing = append(res.Missing, host)
		}
	}
	sort.Strings(res.Answered)
	sort.Strings(res.Missing)
	return res, nil
}

// WatchOptions choose where following the stream starts.
type WatchOptions struct {
	// Since, when not zero, replays the events from that time on before
	// the live ones; otherwise only new events come.
	Since time.Time
	// Hosts is a glob of host names; empty is every host.
	Hosts string
	// Hold is how long an event is held back while an earlier one of its
	// agent is missing from the stream; 0 is [OrderHold].
	Hold time.Duration
	// Gap, when set, is told each run of a host's events that did not
	// come within the hold, before the events after it are handed on.
	Gap func(Gap)
}

// Event is an event from the stream with its instances decoded.
type Event struct {
	wire.Event
	// Class is the intrinsic event class (__InstanceCreationEvent, …).
	Class    string
	Target   *cim.Instance
	Previous *cim.Instance
	// Late marks an event that came after a later one of its agent had
	// been handed on: the watch held that one for [WatchOptions.Hold]
	// waiting for this one, then gave its place up.
	Late bool
}

// Watch follows the event stream and calls fn with each event that
// satisfies the WQL event query, until ctx ends or fn returns an error.
// Events that do not decode are skipped. Each agent's events come in the
// order of their sequence numbers: one whose predecessor is not in the
// stream yet is held for [WatchOptions.Hold] (see [OrderHold]), and one
// that comes after that is handed on when it comes, marked Late. An
// event that leaves its instance as the watch already knows it (a change
// an agent sent again after a crash) is dropped, as the collector merges
// it into the row it has. fn is called from one goroutine at a time, not
// always the same one.
func (c *Client) Watch(ctx context.Context, query string, o WatchOptions, fn func(Event) error) error {
	q, err := wql.Compile(query, c.Reg)
	if err != nil {
		return err
	}
	if !q.IsEvent() {
		return cim.Errorf(cim.ErrInvalidQuery, "%q is not an event query (SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession')", query)
	}
	cfg := jetstream.ConsumerConfig{FilterSubject: wire.EventSubjects, DeliverPolicy: jetstream.DeliverNewPolicy}
	if o.Hosts != "" && !strings.ContainsAny(o.Hosts, "*?[\\") {
		cfg.FilterSubject = wire.HostEvents(wire.HostToken(o.Hosts))
	}
	if !o.Since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		since := o.Since
		cfg.OptStartTime = &since
	}
	// Each agent's events are handed on in the order of their sequence
	// numbers (see sequencer).
	hold := o.Hold
	if hold <= 0 {
		hold = OrderHold
	}
	wctx, cancel := context.WithCancel(ctx)
	reps := newRepeats()
	seq := newSequencer(hold, cancel, func(ev *Event) error {
		if reps.repeated(ev) { // an agent's crash sent it again
			return nil
		}
		wev := &wql.Event{Class: ev.Class, TargetInstance: ev.Target, PreviousInstance: ev.Previous, TimeCreated: wql.TimeCreated(ev.Time)}
		if !q.MatchEvent(wev) {
			return nil
		}
		return fn(*ev)
	}, o.Gap)
	holds := make(chan struct{})
	go func() {
		defer close(holds)
		seq.run(wctx)
	}()
	defer func() { cancel(); <-holds }()

	// Whatever stops the reading — its consumer's server lost, a gap, the
	// connection away — the watch makes a new consumer from the stream
	// sequence after the last event it handed on, so that none is lost
	// and none comes twice.
	var last uint64
	backoff := 250 * time.Millisecond
	for {
		err := c.follow(wctx, cfg, &last, func(subject string, data []byte) error {
			backoff = 250 * time.Millisecond
			ev, err := c.decodeEvent(subject, data)
			if err != nil {
				return nil
			}
			if o.Hosts != "" && !matchHost(o.Hosts, ev.Host) {
				return nil
			}
			return seq.add(ev)
		})
		if err := seq.failed(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		var stop fnError
		if errors.As(err, &stop) {
			return stop.err
		}
		if c.NC.IsClosed() {
			return cim.Errorf(cim.ErrFailed, "following %s: %v", wire.Stream, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		if last > 0 {
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartSequencePolicy, nil
			cfg.OptStartSeq = last + 1
		}
	}
}

// fnError carries the error of Watch's function, which ends the watch.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// Heartbeats of the watch's consumer: two missed make a new consumer.
const watchHeartbeat = 2 * time.Second

// follow reads the stream in order through one ephemeral consumer (in
// memory, one replica, no acknowledgements: what an ordered consumer is)
// until ctx ends, the reading fails, or fn returns an error (as fnError);
// *last is the stream sequence of the last message handed to fn.
//
// It is not the library's ordered consumer: that one makes itself again
// under the same name after a failure, and after a server is lost
// nats-server 2.9 may place the consumer on the dead server, where the
// same name stays for good and no answer ever comes. Each follow makes a
// consumer of a new name, which may be placed elsewhere.
func (c *Client) follow(ctx context.Context, start jetstream.ConsumerConfig, last *uint64, fn func(subject string, data []byte) error) error {
	cfg := start
	cfg.AckPolicy = jetstream.AckNonePolicy
	cfg.MemoryStorage, cfg.Replicas = true, 1
	cfg.InactiveThreshold = time.Minute
	cctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	cons, err := c.js.CreateConsumer(cctx, wire.Stream, cfg)
	cancel()
	if err != nil {
		return err
	}
	// The consumer is not deleted after: a client may not delete
	// consumers (whose names are anyone's), and an ephemeral one goes by
	// itself once idle for its InactiveThreshold.
	it, err := cons.Messages(jetstream.PullHeartbeat(watchHeartbeat), jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	var delivered uint64
	for {
		m, err := it.Next()
		if err != nil {
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		if md.Sequence.Consumer != delivered+1 {
			// A message lost on the way: read again after the last one.
			return cim.Errorf(cim.ErrFailed, "following %s: message %d of the consumer after %d", wire.Stream, md.Sequence.Consumer, delivered)
		}
		delivered = md.Sequence.Consumer
		if md.Sequence.Stream <= *last {
			continue
		}
		*last = md.Sequence.Stream
		if err := fn(m.Subject(), m.Data()); err != nil {
			return fnError{err}
		}
	}
}

// decodeEvent reads the body of an event that came on subject (one that
// names another host than its subject's is refused) and decodes its
// instances.
func (c *Client) decodeEvent(subject string, data []byte) (*Event, error) {
	w, err := wire.ParseEventOn(subject, data)
	if err != nil {
		return nil, err
	}
	ev := &Event{Event: *w, Class: w.CIMClass()}
	if ev.Target, err = wire.DecodeInstance(c.Reg, w.Instance); err != nil {
		return nil, err
	}
	ev.Target.Path.Host, ev.Target.Path.Namespace = w.Host, schema.Namespace
	if w.Previous != nil {
		if ev.Previous, err = wire.DecodeInstance(c.Reg, *w.Previous); err != nil {
			return nil, err
		}
		ev.Previous.Path.Host, ev.Previous.Path.Namespace = w.Host, schema.Namespace
	}
	return ev, nil
}
