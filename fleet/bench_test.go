package fleet_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleet/agent"
	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/hub"
	"github.com/cimsess/cimsess/fleet/internal/fleettest"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/schema"
)

// benchAgents is how many simulated agents the benchmarks run:
// CIMSESS_FLEET_AGENTS, default 100 (docs/benchmarks.md quotes 1,000).
func benchAgents() int {
	if n, err := strconv.Atoi(os.Getenv("CIMSESS_FLEET_AGENTS")); err == nil && n > 0 {
		return n
	}
	return 100
}

// TestHubProcess is the hub process of the benchmarks
// (fleettest.StartHubProcess), not a test: TestMain leaves it out of an
// ordinary run.
func TestHubProcess(t *testing.T) { fleettest.ServeHubProcess(t) }

// TestMain leaves the benchmarks' helper processes (TestHubProcess,
// TestAgentsProcess) out of every run but the processes a benchmark
// starts for them (their environment variable set), so that they are
// neither run nor counted as skipped tests.
func TestMain(m *testing.M) {
	flag.Parse()
	helper := os.Getenv(fleettest.HubProcessEnv) != "" || os.Getenv(agentsProcessEnv) != ""
	if f := flag.Lookup("test.skip"); !helper && f != nil && f.Value.String() == "" {
		_ = f.Value.Set("^(TestHubProcess|TestAgentsProcess)$")
	}
	os.Exit(m.Run())
}

// benchHub makes a hub's data directory with n agent users named
// prefix-NNNN (in one batch) and a client user, and starts the hub in a
// process of its own.
func benchHub(b *testing.B, prefix string, n int) (*fleettest.HubProcess, []*natsconn.Creds, *natsconn.Creds) {
	dir := b.TempDir()
	if err := hub.Init(dir); err != nil {
		b.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	creds := fleettest.CredsMany(b, dir, natsconn.RoleAgent, names)
	cl := fleettest.CredsMany(b, dir, natsconn.RoleClient, []string{"bench"})[0]
	return fleettest.StartHubProcess(b, dir), creds, cl
}

// reportHub reports the hub process's memory.
func reportHub(b *testing.B, h *fleettest.HubProcess) {
	rss, peak := h.Memory()
	b.ReportMetric(float64(rss)/(1<<20), "MiB-hub-rss")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-hub-peak")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-agents")
}

// BenchmarkPublishR1 publishes b.N events from many agents, each with its
// own connection and outbox, into the R1 stream of a hub in its own
// process: once waiting for each acknowledgement before the next publish
// (window=1) and once with the publisher's window of events on their way.
func BenchmarkPublishR1(b *testing.B) {
	for _, w := range []int{1, agent.DefaultWindow} {
		b.Run(fmt.Sprintf("window=%d", w), func(b *testing.B) { benchPublish(b, w) })
	}
}

func benchPublish(b *testing.B, window int) {
	h, creds, _ := benchHub(b, "bench", benchAgents())
	cpu0 := h.CPU()
	n := runPublish(b, h.URL, creds, window)
	b.ReportMetric(float64((h.CPU()-cpu0).Microseconds())/float64(n), "hub-cpu-µs/event")
	reportHub(b, h)
}

// BenchmarkPublishR3 is BenchmarkPublishR1 into the R3 stream of a
// cluster of three of Debian's nats-server, the agents' connections spread
// over the three; the servers' memory and CPU are the three's sums.
func BenchmarkPublishR3(b *testing.B) {
	c := startCluster(b)
	names := make([]string, benchAgents())
	for i := range names {
		names[i] = fmt.Sprintf("r3-%04d", i)
	}
	creds := fleettest.CredsMany(b, c.dir, natsconn.RoleAgent, names)
	if err := c.reload(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	cpu0 := c.cpu()
	n := runPublish(b, c.URLs(), creds, agent.DefaultWindow)
	b.ReportMetric(float64((c.cpu()-cpu0).Microseconds())/float64(n), "servers-cpu-µs/event")
	rss, peak := c.memory()
	b.ReportMetric(float64(rss)/(1<<20), "MiB-servers-rss")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-servers-peak")
}

// runPublish has an agent's publisher for each of creds, each with its
// own connection to urls and its own outbox, publish b.N events in all,
// queued before the clock starts; it reports the rate and the agents'
// CPU per event, and returns the number of events.
func runPublish(b *testing.B, urls string, creds []*natsconn.Creds, window int) int {
	n := len(creds)
	pubs := make([]*agent.Publisher, n)
	for i := range pubs {
		nc := fleettest.Connect(b, creds[i], urls, true)
		box, err := outbox.Open(b.TempDir(), outbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		pubs[i] = &agent.Publisher{Host: creds[i].Name, Agent: "bench", Box: box, NC: nc, Window: window}
	}
	ev := wire.Event{Kind: wire.KindCreation, Class: "Linux_LogonSession", Path: `linux_logonsession.logonid="1"`,
		Instance: wire.Instance{Class: "Linux_LogonSession", Properties: []wire.Property{{Name: "LogonId", Value: []byte(`"1"`)}, {Name: "UserName", Value: []byte(`"alice"`)}}}}
	per := b.N/n + 1
	for _, p := range pubs {
		for j := 0; j < per; j++ {
			e := ev
			e.Time = time.Now()
			p.Add(&e)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	self0 := testenv.ProcessCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			go p.Run(ctx)
			for p.Published() < uint64(per) {
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(per*n)/el.Seconds(), "events/s")
	b.ReportMetric(float64((testenv.ProcessCPU()-self0).Microseconds())/float64(per*n), "agents-cpu-µs/event")
	return per * n
}

// agentsProcessEnv, set to "URL DIR PREFIX N", makes TestAgentsProcess
// run the agents of BenchmarkFleetQuery.
const agentsProcessEnv = "CIMSESS_TEST_AGENTS_PROCESS"

// TestAgentsProcess is the agents' process of BenchmarkFleetQuery: N
// agents named PREFIX-NNNN, each with its own host (2 sessions), its own
// connection to URL as the user made in the hub's DIR. It skips in a
// normal test run.
func TestAgentsProcess(t *testing.T) {
	v := os.Getenv(agentsProcessEnv)
	if v == "" {
		t.Skip("runs only as the agents' process of a benchmark")
	}
	var url, dir, prefix string
	var n int
	if _, err := fmt.Sscanf(v, "%s %s %s %d", &url, &dir, &prefix, &n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%04d", prefix, i)
		creds, err := natsconn.ReadCreds(hub.CredsPath(dir, natsconn.RoleAgent, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		host := fleettest.NewHost(t, name)
		host.Login(t, "alice", 2)
		nc := fleettest.Connect(t, creds, url, true)
		a, err := agent.New(agent.Config{OM: host.OM, NC: nc, Host: name, StateDir: t.TempDir(), Within: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		go a.Run(context.Background())
	}
	fmt.Println("agents ready")
	select {}
}

// BenchmarkFleetQuery asks many agents, each with its own connection and
// its own host's sessions, the same query, and reports the latency of
// the whole fleet's answer. The hub, the agents and the asking client are
// three processes, as they are three kinds of machine.
func BenchmarkFleetQuery(b *testing.B) {
	n := benchAgents()
	h, _, cl := benchHub(b, "q", n)
	agents := fleettest.StartProcess(b, "TestAgentsProcess", fmt.Sprintf("%s=%s %s %s %d", agentsProcessEnv, h.URL, h.Dir, "q", n), "agents ready")
	c, err := client.New(fleettest.Connect(b, cl, h.URL, false), schema.MustDefault())
	if err != nil {
		b.Fatal(err)
	}
	// Wait for every heartbeat.
	for deadline := time.Now().Add(120 * time.Second); ; {
		live, _ := c.Live(context.Background(), "")
		if len(live) == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d hosts live", len(live), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var lat []time.Duration
	partial := 0
	b.ResetTimer()
	cpu0, agentsCPU0, self0 := h.CPU(), fleettest.ProcCPU(agents.Process.Pid), testenv.ProcessCPU()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := c.Query(context.Background(), "SELECT * FROM Linux_LogonSession", client.QueryOptions{Timeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if res.Partial() || len(res.Instances) != 2*n {
			// Counted, not hidden: the timeout's wait is in the latency.
			partial++
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(partial), "partial-answers")
	b.ReportMetric(float64((h.CPU()-cpu0).Milliseconds())/float64(b.N), "hub-cpu-ms/query")
	b.ReportMetric(float64((fleettest.ProcCPU(agents.Process.Pid)-agentsCPU0).Milliseconds())/float64(b.N), "agents-cpu-ms/query")
	b.ReportMetric(float64((testenv.ProcessCPU()-self0).Milliseconds())/float64(b.N), "client-cpu-ms/query")
	_, agentsPeak := fleettest.ProcMemory(agents.Process.Pid)
	b.ReportMetric(float64(agentsPeak)/(1<<20), "MiB-agents-peak")
	rss, peak := h.Memory()
	b.ReportMetric(float64(rss)/(1<<20), "MiB-hub-rss")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-hub-peak")
}
