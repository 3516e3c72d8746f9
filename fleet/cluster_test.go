package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/hub"
	"github.com/cimsess/cimsess/fleet/internal/fleettest"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/internal/testenv"
)

// cluster is three of Debian's nats-server on 127.0.0.1, clustered, with
// JetStream and the hub's auth.conf included.
type cluster struct {
	dir   string
	urls  []string
	procs []*exec.Cmd
}

func startCluster(t testing.TB) *cluster {
	t.Helper()
	testenv.RequireTool(t, "nats-server")
	dir := t.TempDir()
	if err := hub.Init(dir); err != nil {
		t.Fatal(err)
	}
	c := &cluster{dir: dir}
	t.Cleanup(func() { c.stop() })
	// A port found free may be taken before nats-server binds it (by
	// another test's connection): a node that does not listen is a
	// cluster started again on other ports.
	for attempt := 1; ; attempt++ {
		err := c.launch(t)
		if err == nil {
			break
		}
		c.stop()
		if attempt == 3 {
			t.Fatalf("starting the cluster: %v", err)
		}
		t.Logf("starting the cluster again: %v", err)
	}
	// The stream and the bucket, three replicas, once the cluster has a
	// JetStream leader.
	admin, err := natsconn.ReadCreds(hub.AdminCreds(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := fleettest.Connect(t, admin, c.URLs(), true)
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hub.Setup(ctx, js, hub.SetupOptions{Replicas: 3, HeartbeatTTL: 5 * time.Second})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("setting up the cluster: %v\n%s", err, c.logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
	return c
}

// launch writes the three servers' configurations on fresh ports and
// starts them; it fails when one of them is not listening within 15 s.
func (c *cluster) launch(t testing.TB) error {
	c.urls, c.procs = nil, nil
	var client, routes []int
	for i := 0; i < 3; i++ {
		client = append(client, fleettest.FreePort(t))
		routes = append(routes, fleettest.FreePort(t))
	}
	var routeURLs []string
	for _, p := range routes {
		routeURLs = append(routeURLs, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	for i := 0; i < 3; i++ {
		// A store of an earlier start may name peers on other ports.
		if err := os.RemoveAll(filepath.Join(c.dir, fmt.Sprintf("store%d", i))); err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf(`server_name: n%d
listen: 127.0.0.1:%d
jetstream { store_dir: %q }
cluster {
  name: cimsess-test
  listen: 127.0.0.1:%d
  routes: [%s]
}
include auth.conf
`, i, client[i], filepath.Join(c.dir, fmt.Sprintf("store%d", i)), routes[i], strings.Join(routeURLs, ", "))
		path := filepath.Join(c.dir, fmt.Sprintf("n%d.conf", i))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
		c.procs = append(c.procs, c.start(t, i))
	}
	for i, port := range client {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for deadline := time.Now().Add(15 * time.Second); !c.answers(addr, i); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("n%d is not listening on %s\n%s", i, addr, c.logs())
			}
		}
	}
	return nil
}

// answers reports whether server i is the one listening on addr: its
// greeting names it (another program may hold the port it could not get).
func (c *cluster) answers(addr string, i int) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.HasPrefix(line, "INFO ") && strings.Contains(line, fmt.Sprintf(`"server_name":"n%d"`, i))
}

// stop kills the servers still running.
func (c *cluster) stop() {
	for _, p := range c.procs {
		if p != nil && p.Process != nil {
			p.Process.Kill()
			p.Wait()
		}
	}
}

// logs returns the last lines of each server's log.
func (c *cluster) logs() string {
	var b strings.Builder
	for i := 0; i < 3; i++ {
		log, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("n%d.log", i)))
		fmt.Fprintf(&b, "n%d log:\n%s\n", i, lastLines(string(log), 20))
	}
	return b.String()
}

func (c *cluster) start(t testing.TB, i int) *exec.Cmd {
	cmd := exec.Command("nats-server", "-c", filepath.Join(c.dir, fmt.Sprintf("n%d.conf", i)))
	logf, err := os.OpenFile(filepath.Join(c.dir, fmt.Sprintf("n%d.log", i)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// URLs returns the servers' URLs, comma-separated.
func (c *cluster) URLs() string { return strings.Join(c.urls, ",") }

// reload makes the servers read auth.conf again.
func (c *cluster) reload() error {
	for _, p := range c.procs {
		if p != nil {
			if err := p.Process.Signal(syscall.SIGHUP); err != nil {
				return err
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// TestClusterR3 runs agents against a 3-node cluster of Debian's
// nats-server (2.9) with an R3 stream and bucket: a burst of logins
// arrives whole, none twice, and the fleet query answers from every host.
func TestClusterR3(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	f := &fleet{urls: c.URLs(), dir: c.dir, reload: c.reload}
	f.client = newClient(t, f.dir, f.urls, "tester", f.reload)
	for i := 1; i <= 3; i++ {
		f.addHost(t, fmt.Sprintf("c%d", i), 0)
	}
	waitHosts(t, f.client, 3)
	start := time.Now()
	const rounds = 20
	for r := 0; r < rounds; r++ {
		for _, host := range f.hosts {
			host.Login(t, "grace", 1)
		}
		time.Sleep(60 * time.Millisecond)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i := 0; i < 3; i++ {
				b, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("n%d.log", i)))
				t.Logf("n%d log:\n%s", i, lastLines(string(b), 30))
			}
		}
	})
	evs := collect(t, f.client, start, 3*rounds, 30*time.Second)
	byHost := checkEvents(t, evs)
	if len(evs) != 3*rounds {
		for _, a := range f.agents {
			t.Logf("agent log: %s", a.Log.String())
		}
		t.Fatalf("%d events, want %d", len(evs), 3*rounds)
	}
	for _, host := range f.hosts {
		if n := len(byHost[host.Name]); n != rounds {
			t.Errorf("%s: %d events, want %d", host.Name, n, rounds)
		}
	}
	if more := collect(t, f.client, start, 3*rounds+1, 2*time.Second); len(more) != 3*rounds {
		t.Fatalf("%d events in the stream, want %d", len(more), 3*rounds)
	}
	res, err := f.client.Query(context.Background(), "SELECT * FROM Linux_LogonSession", client.QueryOptions{Timeout: 5 * time.Second})
	if err != nil || res.Partial() || len(res.Instances) != 3*rounds {
		t.Fatalf("fleet query on the cluster: %v %v", res, err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// streamLeader returns the index of the server that leads the event
// stream.
func (c *cluster) streamLeader(t *testing.T, js jetstream.JetStream) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := js.Stream(ctx, wire.Stream)
		var info *jetstream.StreamInfo
		if err == nil {
			info, err = s.Info(ctx)
		}
		cancel()
		if err == nil && info.Cluster != nil {
			var i int
			if _, err := fmt.Sscanf(info.Cluster.Leader, "n%d", &i); err == nil && i >= 0 && i < len(c.procs) {
				return i
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no leader of %s: %+v %v", wire.Stream, info, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kill ends server i with SIGKILL: no goodbye to its clients or its
// peers.
func (c *cluster) kill(t *testing.T, i int) {
	t.Helper()
	p := c.procs[i]
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	c.procs[i] = nil
}

// TestClusterKillNode kills (SIGKILL) the server that leads the R3
// stream in the middle of a burst of logins on four hosts: every event
// the agents queued is in the stream once, none lost, none twice, in
// order per host; a watch that follows the stream live through the kill
// sees each once too, and a consumer made after the kill reads them all.
func TestClusterKillNode(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	t.Cleanup(func() {
		if t.Failed() {
			for i := 0; i < 3; i++ {
				b, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("n%d.log", i)))
				t.Logf("n%d log:\n%s", i, lastLines(string(b), 30))
			}
		}
	})
	f := &fleet{urls: c.URLs(), dir: c.dir, reload: c.reload}
	f.client = newClient(t, f.dir, f.urls, "tester", f.reload)
	const hosts, rounds = 4, 40
	for i := 1; i <= hosts; i++ {
		f.addHost(t, fmt.Sprintf("k%d", i), 0)
	}
	waitHosts(t, f.client, hosts)
	admin, err := natsconn.ReadCreds(hub.AdminCreds(c.dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(fleettest.Connect(t, admin, c.URLs(), true))
	start := time.Now()

	// A watch that follows the stream while the leader goes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var live []client.Event
	watching := make(chan error, 1)
	go func() {
		watching <- f.client.Watch(ctx, "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_Session'",
			client.WatchOptions{Since: start}, func(ev client.Event) error {
				mu.Lock()
				live = append(live, ev)
				mu.Unlock()
				return nil
			})
	}()

	killed := -1
	for r := 0; r < rounds; r++ {
		if r == rounds/4 {
			killed = c.streamLeader(t, js)
			t.Logf("killing n%d, the leader of %s, after %d logins a host", killed, wire.Stream, r)
			c.kill(t, killed)
		}
		for _, host := range f.hosts {
			host.Login(t, "ivan", 1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every agent's outbox empties: the stream took all it queued.
	published := 0
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range f.agents {
		for a.Outbox().Len() > 0 || a.Outbox().LastSeq() < rounds {
			if time.Now().After(deadline) {
				t.Fatalf("agent %s: %d events still in the outbox, %d queued; log:\n%s", a.ID(), a.Outbox().Len(), a.Outbox().LastSeq(), a.Log.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		published += int(a.Outbox().LastSeq())
	}
	if published != hosts*rounds {
		t.Fatalf("the agents queued %d events, want %d", published, hosts*rounds)
	}
	if leader := c.streamLeader(t, js); leader == killed {
		t.Fatalf("n%d still leads", leader)
	}

	check := func(what string, evs []client.Event) {
		t.Helper()
		byHost := checkEvents(t, evs)
		if len(evs) != published {
			t.Fatalf("%s: %d events, want the %d published", what, len(evs), published)
		}
		for _, host := range f.hosts {
			if n := len(byHost[host.Name]); n != rounds {
				t.Errorf("%s: %s: %d events, want %d", what, host.Name, n, rounds)
			}
		}
	}
	// The stream holds each event once: as many messages as published.
	ctx5, cancel5 := context.WithTimeout(ctx, 10*time.Second)
	s, err := js.Stream(ctx5, wire.Stream)
	var info *jetstream.StreamInfo
	if err == nil {
		info, err = s.Info(ctx5)
	}
	cancel5()
	if err != nil || info.State.Msgs != uint64(published) {
		t.Fatalf("the stream holds %+v (%v), want %d messages", info, err, published)
	}
	// A consumer made after the kill reads them all, once each.
	check("read after the kill", collect(t, f.client, start, published, 60*time.Second))
	// The live watch has them all too, once each.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(live)
		mu.Unlock()
		if n >= published || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(500 * time.Millisecond) // any repeat would come now
	cancel()
	if err := <-watching; err != nil {
		t.Fatalf("watch: %v", err)
	}
	mu.Lock()
	check("followed live", live)
	mu.Unlock()
}

// cpu returns the processor time the cluster's live servers have used.
func (c *cluster) cpu() time.Duration {
	var d time.Duration
	for _, p := range c.procs {
		if p != nil {
			d += fleettest.ProcCPU(p.Process.Pid)
		}
	}
	return d
}

// memory returns the resident memory of the cluster's live servers,
// summed: now and at their highest.
func (c *cluster) memory() (rss, peak int64) {
	for _, p := range c.procs {
		if p != nil {
			r, h := fleettest.ProcMemory(p.Process.Pid)
			rss, peak = rss+r, peak+h
		}
	}
	return rss, peak
}
