package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
)

func startHub(t *testing.T) *Hub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Start(ctx, t.TempDir(), Options{Listen: "127.0.0.1:-1", Log: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	return h
}

func connectAs(t *testing.T, h *Hub, role, name string) (*nats.Conn, chan error) {
	t.Helper()
	path, err := AddUser(h.Dir(), role, name, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := natsconn.ReadCreds(path, func(s string) { t.Error(s) })
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	var nc *nats.Conn
	// The hub reloads auth.conf within a second or two.
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err = natsconn.Connect(c, natsconn.Options{URLs: h.ClientURL(), Extra: []nats.Option{
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }),
		}})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

func TestPermissions(t *testing.T) {
	h := startHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	agent, agentErrs := connectAs(t, h, natsconn.RoleAgent, "web-1.example.com")
	js, _ := jetstream.New(agent)
	tok := wire.HostToken("web-1.example.com")
	if _, err := js.Publish(ctx, wire.EventSubject(tok, "Linux_LogonSession"), []byte("{}")); err != nil {
		t.Fatalf("an agent cannot publish its own event: %v", err)
	}
	if _, err := js.Publish(ctx, "$KV."+wire.Bucket+"."+tok, []byte("{}")); err != nil {
		t.Fatalf("an agent cannot write its heartbeat: %v", err)
	}
	// Another host's subject: the server refuses the publish and tells
	// the connection so.
	other := wire.EventSubject(wire.HostToken("db-1"), "Linux_LogonSession")
	if err := agent.Publish(other, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	agent.Flush()
	select {
	case err := <-agentErrs:
		if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("publishing as another host: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server took an event on another host's subject")
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if _, err := js.Publish(short, "$KV."+wire.Bucket+"."+wire.HostToken("db-1"), []byte("{}"), jetstream.WithRetryAttempts(0)); err == nil {
		t.Fatal("an agent wrote another host's heartbeat")
	}
	// A client may not publish events.
	client, clientErrs := connectAs(t, h, natsconn.RoleClient, "alice")
	client.Publish(wire.EventSubject(tok, "Linux_LogonSession"), []byte("{}"))
	client.Flush()
	select {
	case err := <-clientErrs:
		for len(agentErrs) > 0 {
			<-agentErrs
		}
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("a client publishing an event: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server took an event from a client")
	}
	// The stream has the one event the agent was allowed.
	cjs, _ := jetstream.New(client)
	st, err := cjs.Stream(ctx, wire.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
	// The client reads the hosts bucket.
	kv, err := cjs.KeyValue(ctx, wire.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, tok); err != nil {
		t.Fatalf("client reading a heartbeat: %v", err)
	}
	// Wrong credentials: a key the hub does not know.
	stranger, _ := natsconn.NewCreds(natsconn.RoleAgent, "web-1.example.com")
	if nc, err := natsconn.Connect(stranger, natsconn.Options{URLs: h.ClientURL()}); err == nil {
		nc.Close()
		t.Fatal("a stranger's key was let in")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("a stranger's key: %v", err)
	}
}

// TestAddUsers adds users in one batch: each gets its credentials and its
// block in auth.conf; a name taken already, or twice in the batch, adds
// no one.
func TestAddUsers(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir); err != nil {
		t.Fatal(err)
	}
	paths, err := AddUsers(dir, natsconn.RoleAgent, []string{"a1", "a2", "a3"})
	if err != nil || len(paths) != 3 {
		t.Fatalf("%v %v", paths, err)
	}
	for i, p := range paths {
		c, err := natsconn.ReadCreds(p, nil)
		if err != nil || c.Name != []string{"a1", "a2", "a3"}[i] || c.Role != natsconn.RoleAgent {
			t.Fatalf("%s: %+v %v", p, c, err)
		}
	}
	for _, names := range [][]string{{"a4", "A2"}, {"a5", "a5"}} {
		if _, err := AddUsers(dir, natsconn.RoleAgent, names); cim.CodeOf(err) != cim.ErrAlreadyExists {
			t.Fatalf("%v: %v", names, err)
		}
	}
	users, err := LoadUsers(dir)
	if err != nil || len(users) != 4 { // the hub's admin and a1..a3
		t.Fatalf("%+v %v", users, err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, authFile))
	if err != nil || strings.Count(string(conf), "nkey:") != 4 {
		t.Fatalf("auth.conf:\n%s %v", conf, err)
	}
}

// TestConsumerPermissions: a client reads the stream through a consumer
// of its own but may delete no consumer (a name is anyone's: another
// client's watch, say); a collector works through the shared durable
// consumer and can neither read the stream otherwise nor the hosts
// bucket.
func TestConsumerPermissions(t *testing.T) {
	h := startHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, aliceErrs := connectAs(t, h, natsconn.RoleClient, "alice")
	ajs, _ := jetstream.New(alice)
	// cimsess hosts: a watcher of the hosts bucket, stopped, deletes its
	// consumer; no permissions violation.
	kv, err := ajs.KeyValue(ctx, wire.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for e := range w.Updates() {
		if e == nil {
			break
		}
	}
	w.Stop()
	alice.Flush()
	select {
	case err := <-aliceErrs:
		t.Fatalf("stopping a watch of the hosts bucket: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	mine, err := ajs.CreateConsumer(ctx, wire.Stream, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true, InactiveThreshold: time.Minute})
	if err != nil {
		t.Fatalf("a client making a consumer of its own: %v", err)
	}
	bob, _ := connectAs(t, h, natsconn.RoleClient, "bob")
	bjs, _ := jetstream.New(bob)
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if err := bjs.DeleteConsumer(short, wire.Stream, mine.CachedInfo().Name); err == nil {
		t.Fatal("a client deleted another client's consumer")
	}

	coll, _ := connectAs(t, h, natsconn.RoleCollector, "history")
	cjs, _ := jetstream.New(coll)
	durable, err := cjs.CreateOrUpdateConsumer(ctx, wire.Stream, jetstream.ConsumerConfig{Durable: wire.CollectConsumer,
		AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: wire.EventSubjects})
	if err != nil {
		t.Fatalf("a collector making the durable consumer: %v", err)
	}
	if _, err := durable.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond)); err != nil {
		t.Fatalf("a collector fetching from the durable consumer: %v", err)
	}
	short2, cancelShort2 := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort2()
	if _, err := cjs.CreateConsumer(short2, wire.Stream, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy}); err == nil {
		t.Fatal("a collector made an ephemeral consumer")
	}
	short3, cancelShort3 := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort3()
	if kv, err := cjs.KeyValue(short3, wire.Bucket); err == nil {
		if _, err := kv.Keys(short3); err == nil {
			t.Fatal("a collector read the hosts bucket")
		}
	}
}
