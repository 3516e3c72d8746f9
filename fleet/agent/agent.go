// Package agent is what runs on each host of a fleet: it publishes every
// instance event of the session classes to the JetStream stream (through
// a persisted outbox, so that nothing is lost while NATS is away), keeps
// the host's heartbeat in the hosts bucket, and answers the fleet's
// queries by running them on the host's own object manager.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
)

// DefaultClasses are the classes whose events an agent publishes: every
// session (logon sessions, SMB sessions) and the SMB connections.
var DefaultClasses = []string{"Win32_Session", "Win32_ServerConnection"}

// DefaultHeartbeat is how often an agent writes its heartbeat.
const DefaultHeartbeat = 5 * time.Second

// MaxPending bounds the events an agent holds in memory while its outbox
// cannot take them (a full disk).
const MaxPending = 10000

// PendingRetry is how often an agent tries again to queue the events its
// outbox could not take (a variable for tests).
var PendingRetry = 2 * time.Second

// snapshotEvery bounds the events queued between two saves of the
// snapshot: what a crash can repeat. A burst of 3,000 logins used to be
// saved only at its end, and a crash in it repeated 520 events.
const snapshotEvery = 64

// Config is an agent's configuration.
type Config struct {
	// OM answers for the host.
	OM *cimom.ObjectManager
	// NC is the agent's NATS connection, as its agent user.
	NC *nats.Conn
	// Host is the host's name in subjects and events; default OM.Host().
	Host string
	// StateDir keeps the agent's id, its outbox and its last snapshot.
	StateDir string
	// Classes whose events are published; default DefaultClasses.
	Classes []string
	// Within is the rescan interval of the event subscriptions (changes
	// that notifications tell are seen at once); default 1 s.
	Within time.Duration
	// Heartbeat is how often the heartbeat is written; default
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// Outbox bounds and syncs the outbox.
	Outbox outbox.Options
	// Version is the agent's version in its heartbeat.
	Version string
	// Log gets the agent's notices.
	Log func(string)
}

// Agent is a running agent.
type Agent struct {
	cfg   Config
	tok   string
	id    string
	start time.Time
	js    jetstream.JetStream
	box   *outbox.Outbox
	pub   *Publisher

	mu      sync.Mutex
	current map[string]*cim.Instance // canonical path → instance, every class watched
	dirty   bool

	// pending are events the outbox could not take (its disk full or
	// failing), in order, tried again before any later one and every
	// PendingRetry; while there are any the snapshot is not saved, so
	// that a restart finds their changes again. Run's goroutine alone
	// touches them.
	pending []*wire.Event
	failing bool // the last try to queue failed (said once)
	lost    int  // events dropped from a full pending list
}

// New prepares an agent: its state directory, its id, its outbox.
func New(cfg Config) (*Agent, error) {
	if cfg.Host == "" {
		cfg.Host = cfg.OM.Host()
	}
	if len(cfg.Classes) == 0 {
		cfg.Classes = DefaultClasses
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.StateDir == "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "the agent needs a state directory")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	id, made, err := agentID(cfg.StateDir, false)
	if err != nil {
		return nil, err
	}
	box, err := outbox.Open(filepath.Join(cfg.StateDir, "outbox"), cfg.Outbox)
	if err != nil {
		return nil, err
	}
	if d := box.Damage(); d != "" && cfg.Log != nil {
		cfg.Log("outbox: " + d)
	}
	if !made && !box.HeadRead() {
		// The outbox does not know the numbers this agent gave out: new
		// events would take the ids of events sent before, and the stream
		// would drop them as repeats. Under a new id they cannot.
		old := id
		if id, _, err = agentID(cfg.StateDir, true); err != nil {
			box.Close()
			return nil, err
		}
		if cfg.Log != nil {
			cfg.Log(fmt.Sprintf("outbox: its head (the last sequence number) is lost: events are numbered anew as agent %s (was %s), so that none takes the id of one sent before", id, old))
		}
	}
	if !box.HeadRead() {
		// Now that the id fits the numbers, the head is kept: the next
		// start reads it (and no damage is told twice).
		if err := box.WriteHead(); err != nil {
			box.Close()
			return nil, err
		}
	}
	js, err := jetstream.New(cfg.NC)
	if err != nil {
		box.Close()
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	a := &Agent{cfg: cfg, tok: wire.HostToken(cfg.Host), id: id, start: time.Now(), js: js, box: box,
		current: map[string]*cim.Instance{}}
	a.pub = &Publisher{Host: cfg.Host, Agent: id, Box: box, NC: cfg.NC, Log: cfg.Log}
	return a, nil
}

// agentID returns the agent's instance id, made the first time (made),
// or anew when renew.
func agentID(dir string, renew bool) (id string, made bool, err error) {
	p := filepath.Join(dir, "agent-id")
	if b, err := os.ReadFile(p); err == nil && !renew {
		if id := strings.TrimSpace(string(b)); len(id) == 16 {
			return id, false, nil
		}
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, cim.Wrap(cim.ErrFailed, err)
	}
	id = hex.EncodeToString(r[:])
	if err := os.WriteFile(p, []byte(id+"\n"), 0o600); err != nil {
		return "", false, cim.Wrap(cim.ErrFailed, err)
	}
	return id, true, nil
}

// ID returns the agent's instance id.
func (a *Agent) ID() string { return a.id }

// Outbox returns the agent's outbox.
func (a *Agent) Outbox() *outbox.Outbox { return a.box }

func (a *Agent) logf(format string, args ...any) {
	if a.cfg.Log != nil {
		a.cfg.Log(fmt.Sprintf(format, args...))
	}
}

// Run runs the agent until ctx ends: the event subscriptions, the
// publisher, the heartbeat and the query answers. Events of changes made
// while the agent was stopped (since its last snapshot) come first.
func (a *Agent) Run(ctx context.Context) error {
	defer a.box.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// Queries first: a host answers as soon as it is up.
	subs, err := a.serveQueries(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range subs {
			s.Unsubscribe()
		}
	}()

	old := a.loadSnapshot()
	var chans []<-chan cimom.Event
	baseline := map[string]*cim.Instance{}
	for _, class := range a.cfg.Classes {
		q := fmt.Sprintf("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA '%s'", class)
		ch, err := a.cfg.OM.Subscribe(ctx, q, cimom.SubscribeOptions{
			Within: a.cfg.Within,
			OnBaseline: func(insts []*cim.Instance) {
				for _, in := range insts {
					baseline[in.Path.Relative().Canonical()] = in
				}
			},
			OnError: func(err error) { a.logf("watching %s: %v", class, err) },
			Buffer:  1024,
		})
		if err != nil {
			return err
		}
		chans = append(chans, ch)
	}
	if old == nil {
		// The first start (or a snapshot that is gone): the sessions
		// open now are news to the fleet, or its history would not have
		// them until they end. A repeat of one the fleet has (a lost
		// state directory) is merged by the collector and dropped by a
		// watch.
		old = map[string]*cim.Instance{}
	}
	for _, ev := range diffSnapshots(old, baseline, time.Now()) {
		a.add(ev)
	}
	a.mu.Lock()
	a.current = baseline
	a.dirty = true
	a.mu.Unlock()
	a.saveSnapshot()

	wg.Add(1)
	go func() { defer wg.Done(); a.pub.Run(ctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); a.heartbeat(ctx) }()

	merged := make(chan cimom.Event, 256)
	var fan sync.WaitGroup
	for _, ch := range chans {
		fan.Add(1)
		go func() {
			defer fan.Done()
			for ev := range ch {
				select {
				case merged <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { fan.Wait(); close(merged) }()
	retry := time.NewTicker(PendingRetry)
	defer retry.Stop()
	for {
		select {
		case ev, ok := <-merged:
			if !ok {
				a.saveSnapshot()
				return nil
			}
			a.takeBurst(ev, merged)
			a.saveSnapshot()
		case <-retry.C:
			if len(a.pending) > 0 {
				a.flushPending()
				a.saveSnapshot()
			}
		}
	}
}

// add turns an engine event into a wire event, queues it and updates the
// snapshot.
func (a *Agent) add(ev cimom.Event) {
	kind := wire.KindOf(ev.Class)
	target := ev.Target
	w, err := wire.EncodeInstance(target)
	if err != nil {
		a.logf("event of %s: %v", target.Path, err)
		return
	}
	rel := target.Path.Relative()
	out := &wire.Event{Kind: kind, Time: ev.Time.UTC(), Class: target.ClassName, Path: rel.Canonical(), Instance: w}
	if ev.Previous != nil {
		p, err := wire.EncodeInstance(ev.Previous)
		if err != nil {
			a.logf("event of %s: %v", target.Path, err)
			return
		}
		out.Previous = &p
	}
	a.pending = append(a.pending, out)
	a.flushPending()
	a.mu.Lock()
	if kind == wire.KindDeletion {
		delete(a.current, rel.Canonical())
	} else {
		a.current[rel.Canonical()] = target
	}
	a.dirty = true
	a.mu.Unlock()
}

// takeBurst adds ev and what else is ready on merged at once, snapshotEvery
// events at most, before the caller saves the snapshot: a crash repeats
// (under new ids) the changes queued since the snapshot was last saved.
// It returns how many it added.
func (a *Agent) takeBurst(ev cimom.Event, merged <-chan cimom.Event) int {
	a.add(ev)
	n := 1
	for n < snapshotEvery {
		select {
		case ev, ok := <-merged:
			if !ok {
				return n
			}
			a.add(ev)
			n++
		default:
			return n
		}
	}
	return n
}

// flushPending queues the pending events in order, as far as the outbox
// takes them. One its file did not take (a *outbox.WriteError) stays
// pending with those after it; beyond MaxPending the oldest are lost, and
// said to be. One refused for what it is, or because the outbox is full,
// is lost, and said to be.
func (a *Agent) flushPending() {
	for len(a.pending) > 0 {
		ev := a.pending[0]
		err := a.pub.Add(ev)
		var we *outbox.WriteError
		if err != nil && err != outbox.ErrFull && !errors.As(err, &we) {
			// Refused for what it is (too big, not encodable): trying
			// again would hold up every event after it.
			a.logf("WARNING: the event of %s cannot be queued and is LOST: %v", ev.Path, err)
			err = nil
		}
		if err != nil && err != outbox.ErrFull {
			if !a.failing {
				a.logf("queueing the event of %s: %v; it and those after it wait in memory (at most %d) and are tried again every %v", ev.Path, err, MaxPending, PendingRetry)
				a.failing = true
			}
			if n := len(a.pending) - MaxPending; n > 0 {
				a.lost += n
				a.logf("WARNING: %d events that the outbox could not take are LOST (%d so far); the next start finds their changes again", n, a.lost)
				a.pending = slices.Delete(a.pending, 0, n)
			}
			return
		}
		a.pending[0] = nil
		a.pending = a.pending[1:]
	}
	a.pending = nil
	if a.failing {
		a.logf("queueing events works again")
		a.failing = false
	}
}

// heartbeat writes the host's entry in the hosts bucket now and every
// Heartbeat.
func (a *Agent) heartbeat(ctx context.Context) {
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	failing := false
	for {
		hb := wire.Heartbeat{Host: a.cfg.Host, Version: a.cfg.Version, Agent: a.id, Start: a.start.UTC(),
			LastSeen: time.Now().UTC(), Sessions: a.counts(), Seq: a.box.LastSeq(), Outbox: a.box.Len()}
		b, _ := json.Marshal(hb)
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := a.js.Publish(pctx, "$KV."+wire.Bucket+"."+a.tok, b)
		cancel()
		if err != nil && ctx.Err() == nil && !failing && a.cfg.NC.IsConnected() {
			a.logf("heartbeat: %v", err)
		}
		failing = err != nil
		retry := t.C
		if failing {
			// Not connected yet, or NATS away: try again soon.
			retry = time.After(time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-retry:
		}
	}
}

// counts returns the host's instances by class.
func (a *Agent) counts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := map[string]int{}
	for _, in := range a.current {
		m[in.ClassName]++
	}
	return m
}

// serveQueries answers queries on the host's subject and the fleet's.
func (a *Agent) serveQueries(ctx context.Context) ([]*nats.Subscription, error) {
	sem := make(chan struct{}, 4)
	handle := func(m *nats.Msg) {
		if m.Reply == "" {
			return
		}
		q, asked, err := queryFor(m.Data, a.cfg.Host)
		if err != nil {
			a.reply(m.Reply, nil, nil, err)
			return
		}
		if !asked {
			return
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		go func() {
			defer func() { <-sem }()
			qctx, cancel := context.WithTimeout(ctx, q.timeout)
			defer cancel()
			insts, props, err := a.cfg.OM.ExecQuery(qctx, q.wql)
			a.reply(m.Reply, insts, props, err)
		}()
	}
	var subs []*nats.Subscription
	for _, subj := range []string{wire.QuerySubject(a.tok), wire.QueryAll} {
		s, err := a.cfg.NC.Subscribe(subj, handle)
		if err != nil {
			for _, s := range subs {
				s.Unsubscribe()
			}
			return nil, cim.Errorf(cim.ErrFailed, "subscribing to %s: %v", subj, err)
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// maxQueryTime bounds a host's work on one query, whatever it asks.
const maxQueryTime = time.Minute

// query is a query message as the agent runs it.
type query struct {
	wql     string
	timeout time.Duration // within (0, maxQueryTime]
}

// queryFor reads a query message for the host named host: the query,
// and whether the host is asked (a hosts glob may leave it out). A
// message that is no query is CIM_ERR_INVALID_PARAMETER, which the host
// answers with.
func queryFor(data []byte, host string) (q query, asked bool, err error) {
	var w wire.Query
	if err := json.Unmarshal(data, &w); err != nil {
		return q, false, cim.Errorf(cim.ErrInvalidParameter, "not a query: %v", err)
	}
	if w.Hosts != "" {
		if ok, _ := path.Match(strings.ToLower(w.Hosts), strings.ToLower(host)); !ok {
			return q, false, nil
		}
	}
	q.wql, q.timeout = w.WQL, maxQueryTime
	if w.TimeoutMillis > 0 && w.TimeoutMillis < maxQueryTime.Milliseconds() {
		q.timeout = time.Duration(w.TimeoutMillis) * time.Millisecond
	}
	return q, true, nil
}

// rawAnswer is wire.Answer with its instances encoded already, so that
// each is made into JSON once: to measure the chunk and to send it.
type rawAnswer struct {
	Host       string            `json:"host"`
	Chunk      int               `json:"chunk"`
	Last       bool              `json:"last,omitempty"`
	Total      int               `json:"total,omitempty"`
	Properties []string          `json:"properties,omitempty"`
	Instances  []json.RawMessage `json:"instances,omitempty"`
	Error      *wire.AnswerError `json:"error,omitempty"`
}

// reply sends an answer in chunks of at most wire.MaxChunkBytes.
func (a *Agent) reply(to string, insts []*cim.Instance, props []string, err error) {
	a.answer(insts, props, err, func(b []byte) {
		if err := a.cfg.NC.Publish(to, b); err != nil {
			a.logf("answering a query: %v", err)
		}
	})
}

// answer makes the messages of an answer, in order: an error's one, or
// the instances in chunks of at most wire.MaxChunkBytes, the last marked.
func (a *Agent) answer(insts []*cim.Instance, props []string, err error, publish func([]byte)) {
	send := func(ans *rawAnswer) {
		b, _ := json.Marshal(ans)
		publish(b)
	}
	if err != nil {
		send(&rawAnswer{Host: a.cfg.Host, Last: true, Error: &wire.AnswerError{Code: int(cim.CodeOf(err)), Message: err.Error()}})
		return
	}
	ans := &rawAnswer{Host: a.cfg.Host, Properties: props}
	size, total := 0, 0
	for _, in := range insts {
		w, err := wire.EncodeInstance(in)
		if err != nil {
			a.logf("answering a query: %v", err)
			continue
		}
		b, err := json.Marshal(w)
		if err != nil {
			a.logf("answering a query: %v", err)
			continue
		}
		if size+len(b) > wire.MaxChunkBytes && len(ans.Instances) > 0 {
			send(ans)
			ans = &rawAnswer{Host: a.cfg.Host, Chunk: ans.Chunk + 1, Properties: props}
			size = 0
		}
		ans.Instances = append(ans.Instances, b)
		size += len(b)
		total++
	}
	ans.Last, ans.Total = true, total
	send(ans)
}
