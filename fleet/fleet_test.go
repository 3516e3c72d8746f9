// Tests of the whole fleet on an embedded hub: agents over generated utmp
// files, the stream, the bucket and the clients.
package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/hub"
	"github.com/cimsess/cimsess/fleet/internal/fleettest"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/schema"
)

// fleet is a hub with a client and some hosts with agents.
type fleet struct {
	urls   string
	dir    string
	reload func() error
	client *client.Client
	hosts  []*fleettest.Host
	agents []*fleettest.Agent
}

func newClient(t testing.TB, dir, urls, name string, reload func() error) *client.Client {
	nc := fleettest.Connect(t, fleettest.Creds(t, dir, natsconn.RoleClient, name, reload), urls, false)
	c, err := client.New(nc, schema.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fleet) addHost(t *testing.T, name string, sessions int) {
	h := fleettest.NewHost(t, name)
	h.Login(t, "alice", sessions)
	nc := fleettest.Connect(t, fleettest.Creds(t, f.dir, natsconn.RoleAgent, name, f.reload), f.urls, true)
	f.hosts = append(f.hosts, h)
	f.agents = append(f.agents, fleettest.StartAgent(t, h, nc, ""))
}

// waitHosts waits until the bucket lists n live hosts.
func waitHosts(t *testing.T, c *client.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hbs, err := c.Hosts(ctx, "")
		cancel()
		if err == nil && len(hbs) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bucket lists %d hosts, want %d (%v)", len(hbs), n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// collect follows the stream from since until want events came or the
// timeout passed, and returns them.
func collect(t *testing.T, c *client.Client, since time.Time, want int, timeout time.Duration) []client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var evs []client.Event
	err := c.Watch(ctx, "SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_Session'",
		client.WatchOptions{Since: since}, func(ev client.Event) error {
			evs = append(evs, ev)
			if len(evs) >= want {
				cancel()
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// checkEvents checks that no event came twice and each host's sequence
// numbers increase, and returns the events by host.
func checkEvents(t *testing.T, evs []client.Event) map[string][]client.Event {
	t.Helper()
	ids := map[string]bool{}
	byHost := map[string][]client.Event{}
	seen := map[string]bool{}
	for _, ev := range evs {
		if ids[ev.ID] {
			t.Errorf("event %s came twice", ev.ID)
		}
		ids[ev.ID] = true
		k := ev.Host + " " + ev.Kind + " " + ev.Path
		if seen[k] {
			t.Errorf("the same change came twice under two IDs: %s", k)
		}
		seen[k] = true
		if prev := byHost[ev.Host]; len(prev) > 0 && prev[len(prev)-1].Seq >= ev.Seq {
			t.Errorf("%s: event %d after %d", ev.Host, ev.Seq, prev[len(prev)-1].Seq)
		}
		byHost[ev.Host] = append(byHost[ev.Host], ev)
	}
	return byHost
}

func rowKey(in *cim.Instance) string {
	var props []string
	for _, p := range in.Properties {
		if strings.EqualFold(p.Name, "IdleTime") {
			continue
		}
		props = append(props, p.Name+"="+cim.FormatValue(p.Value))
	}
	sort.Strings(props)
	return strings.ToLower(in.Path.Host) + " " + in.Path.Relative().Canonical() + " " + strings.Join(props, ",")
}

func TestFleetOnEmbeddedHub(t *testing.T) {
	t.Parallel()
	h := fleettest.StartHub(t, "", 0)
	f := &fleet{urls: h.ClientURL(), dir: h.Dir(), reload: h.Reload}
	f.client = newClient(t, f.dir, f.urls, "tester", f.reload)
	for i := 1; i <= 3; i++ {
		f.addHost(t, fmt.Sprintf("h%d.example.com", i), i)
	}
	waitHosts(t, f.client, 3)
	start := time.Now()

	// Logins and a logout on every host: 3 creations and a deletion each.
	for _, host := range f.hosts {
		ttys := host.Login(t, "bob", 3)
		// A session that comes and goes between two scans is never seen.
		time.Sleep(300 * time.Millisecond)
		host.Logout(t, ttys[0])
	}
	evs := collect(t, f.client, start, 12, 20*time.Second)
	byHost := checkEvents(t, evs)
	if len(evs) != 12 || len(byHost) != 3 {
		t.Fatalf("%d events from %d hosts, want 12 from 3", len(evs), len(byHost))
	}
	// Let the rescans settle, then check that none came late.
	time.Sleep(500 * time.Millisecond)
	if more := collect(t, f.client, start, 13, 2*time.Second); len(more) != 12 {
		t.Fatalf("%d events in the stream, want 12", len(more))
	}

	// A fleet query is the union of the hosts' own answers.
	ctx := context.Background()
	const q = "SELECT * FROM Linux_LogonSession"
	res, err := f.client.Query(ctx, q, client.QueryOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial() {
		t.Fatalf("missing %v, failed %v", res.Missing, res.Failed)
	}
	var want, got []string
	for _, host := range f.hosts {
		local, _, err := host.OM.ExecQuery(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range local {
			want = append(want, rowKey(in))
		}
	}
	for _, in := range res.Instances {
		got = append(got, rowKey(in))
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fleet answer:\n%s\nunion of the hosts' answers:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 1+2+3+3*2 {
		t.Fatalf("%d sessions", len(got))
	}
	// A select list and a host glob.
	res, err = f.client.Query(ctx, "SELECT UserName FROM Linux_LogonSession WHERE UserName = 'bob'", client.QueryOptions{Hosts: "H2.*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 2 || res.Partial() || strings.Join(res.Answered, ",") != "h2.example.com" {
		t.Fatalf("h2 bob: %+v", res)
	}
	// Associations are answered too.
	res, err = f.client.Query(ctx, `REFERENCES OF {Linux_LogonSession.LogonId="none"}`, client.QueryOptions{Timeout: 3 * time.Second})
	if err != nil || len(res.Answered)+len(res.Failed) != 3 {
		t.Fatalf("references: %v %v", res, err)
	}

	// Queries learn the live hosts from the bucket's stream info: no
	// consumer is made on it (watching the bucket would make one each).
	admin, err := natsconn.ReadCreds(hub.AdminCreds(f.dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(fleettest.Connect(t, admin, f.urls, false))
	kvs, err := js.Stream(ctx, "KV_"+wire.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := kvs.Info(ctx); err != nil || info.State.Consumers != 0 {
		t.Fatalf("consumers on the hosts bucket after queries: %+v %v", info, err)
	}

	// A stopped agent is named as not answering.
	f.agents[2].Stop()
	res, err = f.client.Query(ctx, q, client.QueryOptions{Timeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Missing, ",") != "h3.example.com" || len(res.Answered) != 2 || !res.Partial() {
		t.Fatalf("answered %v, missing %v", res.Answered, res.Missing)
	}
}

// oneHost starts a hub with a client, and readies a host of the name with
// an agent's connection and a state directory, for a test to start its
// agent on (and start again).
func oneHost(t *testing.T, name string) (f *fleet, host *fleettest.Host, nc *nats.Conn, state string) {
	t.Helper()
	h := fleettest.StartHub(t, "", 0)
	f = &fleet{urls: h.ClientURL(), dir: h.Dir(), reload: h.Reload}
	f.client = newClient(t, f.dir, f.urls, "tester", f.reload)
	host = fleettest.NewHost(t, name)
	nc = fleettest.Connect(t, fleettest.Creds(t, f.dir, natsconn.RoleAgent, name, f.reload), f.urls, true)
	return f, host, nc, t.TempDir()
}

// TestAgentFirstStart: the sessions open when an agent first starts
// (no snapshot yet) reach the fleet as creations, or its history would
// not know them until they end; a later login comes after them.
func TestAgentFirstStart(t *testing.T) {
	t.Parallel()
	f, host, nc, state := oneHost(t, "f1")
	start := time.Now()
	host.Login(t, "carol", 2)
	fleettest.StartAgent(t, host, nc, state)
	waitHosts(t, f.client, 1)
	host.Login(t, "dave", 1)
	evs := collect(t, f.client, start, 3, 20*time.Second)
	checkEvents(t, evs)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3 (2 open at the first start, 1 after)", len(evs))
	}
	for i, want := range []string{"carol", "carol", "dave"} {
		if u, _ := evs[i].Target.Get("UserName"); evs[i].Kind != wire.KindCreation || u != want {
			t.Errorf("event %d: %s of %v's session, want a creation of %s's", i+1, evs[i].Kind, u, want)
		}
	}
}

// TestAgentRestart stops an agent while logins go on and starts it again
// on the same state: the changes made meanwhile arrive once, none twice.
func TestAgentRestart(t *testing.T) {
	t.Parallel()
	f, host, nc, state := oneHost(t, "r1")
	start := time.Now()
	a := fleettest.StartAgent(t, host, nc, state)
	waitHosts(t, f.client, 1)
	for i := 0; i < 5; i++ {
		host.Login(t, "carol", 1)
		time.Sleep(30 * time.Millisecond)
	}
	a.Stop()
	ttys := host.Login(t, "dave", 3) // while the agent is down
	host.Logout(t, ttys[1])
	time.Sleep(100 * time.Millisecond)
	fleettest.StartAgent(t, host, nc, state)
	for i := 0; i < 3; i++ {
		host.Login(t, "erin", 1)
		time.Sleep(30 * time.Millisecond)
	}
	evs := collect(t, f.client, start, 10, 20*time.Second)
	checkEvents(t, evs)
	if more := collect(t, f.client, start, 11, 2*time.Second); len(more) != 10 {
		t.Fatalf("%d events, want 10 (5 + 2 made while stopped + 3)", len(more))
	}
	if got := evs[len(evs)-1].Seq; got != 10 {
		t.Fatalf("last sequence number %d, want 10", got)
	}
}

// TestAgentHeadLost: an agent whose outbox lost its head (the last
// sequence number) while its log was empty numbers its events anew under
// a new agent id, so that no new event takes the id of one sent before
// and is dropped by the stream as a repeat.
func TestAgentHeadLost(t *testing.T) {
	t.Parallel()
	f, host, nc, state := oneHost(t, "l1")
	start := time.Now()
	a := fleettest.StartAgent(t, host, nc, state)
	waitHosts(t, f.client, 1)
	host.Login(t, "carol", 3)
	collect(t, f.client, start, 3, 20*time.Second)
	for deadline := time.Now().Add(10 * time.Second); a.Outbox().Len() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not empty")
		}
		time.Sleep(50 * time.Millisecond)
	}
	first := a.ID()
	a.Stop()
	if err := os.Truncate(filepath.Join(state, "outbox", "outbox.head"), 0); err != nil {
		t.Fatal(err)
	}
	b := fleettest.StartAgent(t, host, nc, state)
	host.Login(t, "dave", 2)
	evs := collect(t, f.client, start, 5, 20*time.Second)
	if len(evs) != 5 {
		t.Fatalf("%d events, want 5 (3, then 2 after the head was lost)", len(evs))
	}
	if b.ID() == first || !strings.Contains(evs[4].ID, b.ID()) || evs[4].Seq != 2 {
		t.Errorf("after the head was lost: agent %s (was %s), last event %s", b.ID(), first, evs[4].ID)
	}
	if !strings.Contains(b.Log.String(), "numbered anew") {
		t.Errorf("the agent did not say so: %s", b.Log.String())
	}
}

// TestHubOutage stops the hub for 30 s while logins happen: every event
// arrives after it is back, in order per host.
func TestHubOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 30 s")
	}
	t.Parallel()
	dir, port := t.TempDir(), fleettest.FreePort(t)
	h := fleettest.StartHub(t, dir, port)
	f := &fleet{urls: h.ClientURL(), dir: dir, reload: h.Reload}
	for i := 1; i <= 2; i++ {
		f.addHost(t, fmt.Sprintf("o%d", i), 0)
	}
	c := newClient(t, dir, f.urls, "tester", f.reload)
	waitHosts(t, c, 2)
	start := time.Now()
	h.Shutdown()
	var order []string
	for i := 0; i < 10; i++ {
		for _, host := range f.hosts {
			ttys := host.Login(t, "frank", 1)
			order = append(order, host.Name+" "+ttys[0])
		}
		time.Sleep(3 * time.Second)
	}
	for _, a := range f.agents {
		if n := a.Outbox().Len(); n != 10 {
			t.Errorf("outbox of %d events while the hub is away, want 10", n)
		}
	}
	h = fleettest.StartHub(t, dir, port)
	c = newClient(t, dir, f.urls, "tester2", h.Reload)
	evs := collect(t, c, start, 20, 30*time.Second)
	byHost := checkEvents(t, evs)
	if len(evs) != 20 {
		t.Fatalf("%d events after the outage, want 20", len(evs))
	}
	for _, host := range f.hosts {
		var got, want []string
		for _, ev := range byHost[host.Name] {
			got = append(got, host.Name+" "+ev.Target.String("TTY"))
		}
		for _, o := range order {
			if strings.HasPrefix(o, host.Name+" ") {
				want = append(want, o)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: events in the order\n%v\nlogins in the order\n%v", host.Name, got, want)
		}
	}
	_ = jetstream.DeliverAllPolicy
	_ = wire.Stream
}

// TestNoHostSpeaksForAnother: a rogue agent, with an agent's credentials
// of its own, answers queries and publishes events in another host's name
// on the subjects it may use; neither a fleet query nor a watch takes them,
// and the reply subject of another host's query is closed to it.
func TestNoHostSpeaksForAnother(t *testing.T) {
	t.Parallel()
	h := fleettest.StartHub(t, "", 0)
	f := &fleet{urls: h.ClientURL(), dir: h.Dir(), reload: h.Reload}
	f.client = newClient(t, f.dir, f.urls, "tester", f.reload)
	f.addHost(t, "victim.example.com", 2)
	rogue := fleettest.Connect(t, fleettest.Creds(t, f.dir, natsconn.RoleAgent, "rogue", f.reload), f.urls, true)
	victim := wire.HostToken("victim.example.com")
	forged := wire.Answer{Host: "victim.example.com", Last: true, Total: 1, Instances: []wire.Instance{{Class: "Linux_LogonSession",
		Properties: []wire.Property{{Name: "LogonId", Value: json.RawMessage(`"666"`)}, {Name: "UserName", Value: json.RawMessage(`"mallory"`)}}}}}
	answer, _ := json.Marshal(forged)
	for _, subj := range []string{wire.QuerySubject(wire.HostToken("rogue")), wire.QueryAll} {
		if _, err := rogue.Subscribe(subj, func(m *nats.Msg) {
			_ = m.Respond(answer) // its own reply subject, another host's name
			// The victim's reply subject, guessed from its own.
			_ = rogue.Publish(m.Reply[:strings.LastIndexByte(m.Reply, '.')+1]+victim, answer)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Live in the bucket, as any agent may make itself.
	hb, _ := json.Marshal(wire.Heartbeat{Host: "rogue", Agent: "r", Start: time.Now(), LastSeen: time.Now()})
	if err := rogue.Publish("$KV."+wire.Bucket+"."+wire.HostToken("rogue"), hb); err != nil {
		t.Fatal(err)
	}
	waitHosts(t, f.client, 2)
	res, err := f.client.Query(context.Background(), "SELECT * FROM Linux_LogonSession", client.QueryOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range res.Instances {
		if in.String("UserName") == "mallory" {
			t.Errorf("a forged answer was taken: %v", in)
		}
	}
	if len(res.Instances) != 2 || strings.Join(res.Answered, ",") != "victim.example.com" || strings.Join(res.Missing, ",") != "rogue" {
		t.Errorf("answered %v (%d instances), missing %v", res.Answered, len(res.Instances), res.Missing)
	}

	// An event in the victim's name on the rogue's own subject.
	start := time.Now()
	ev := wire.Event{ID: "victim.forged.1", Host: "victim.example.com", Seq: 1, Kind: wire.KindCreation, Time: time.Now(),
		Class: "Linux_LogonSession", Path: `Linux_LogonSession.LogonId="666"`, Instance: forged.Instances[0]}
	data, _ := json.Marshal(ev)
	js, _ := jetstream.New(rogue)
	if _, err := js.Publish(context.Background(), wire.EventSubject(wire.HostToken("rogue"), "Linux_LogonSession"), data); err != nil {
		t.Fatal(err)
	}
	f.hosts[0].Login(t, "bob", 1) // a real event after it
	for _, e := range collect(t, f.client, start, 1, 10*time.Second) {
		if e.ID == ev.ID || e.Target.String("UserName") == "mallory" {
			t.Errorf("a forged event was delivered: %+v", e.Event)
		}
	}
}

// TestClientCannotTakeTheCollectorsEvents: a client reads the stream
// through consumers of its own; the collectors' durable consumer is closed
// to it, so it can neither take nor acknowledge its messages (which would
// then never reach the fleet history) nor delete it.
func TestClientCannotTakeTheCollectorsEvents(t *testing.T) {
	t.Parallel()
	h := fleettest.StartHub(t, "", 0)
	ctx := context.Background()
	admin, err := natsconn.ReadCreds(hub.AdminCreds(h.Dir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	ajs, _ := jetstream.New(fleettest.Connect(t, admin, h.ClientURL(), false))
	if _, err := ajs.CreateOrUpdateConsumer(ctx, wire.Stream, jetstream.ConsumerConfig{Durable: wire.CollectConsumer, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := ajs.Publish(ctx, wire.EventSubject("h1", "Linux_LogonSession"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	cjs, _ := jetstream.New(fleettest.Connect(t, fleettest.Creds(t, h.Dir(), natsconn.RoleClient, "alice", h.Reload), h.ClientURL(), false))
	tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if cons, err := cjs.Consumer(tctx, wire.Stream, wire.CollectConsumer); err == nil {
		if b, err := cons.FetchNoWait(1); err == nil {
			for m := range b.Messages() {
				t.Errorf("a client took the collectors' message %d", len(m.Data()))
				_ = m.Ack()
			}
		}
	}
	_ = cjs.DeleteConsumer(tctx, wire.Stream, wire.CollectConsumer)
	info, err := ajs.Consumer(ctx, wire.Stream, wire.CollectConsumer)
	if err != nil {
		t.Fatalf("the collectors' consumer is gone: %v", err)
	}
	if ci, err := info.Info(ctx); err != nil || ci.NumPending != 1 || ci.NumAckPending != 0 {
		t.Fatalf("the collectors' consumer: %+v %v", ci, err)
	}
}
