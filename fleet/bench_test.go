package fleet_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/fleet/agent"
	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/internal/fleettest"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
)

// benchAgents is how many simulated agents the benchmarks run:
// CIMSESS_FLEET_AGENTS, default 100 (docs/benchmarks.md quotes 1,000).
func benchAgents() int {
	if n, err := strconv.Atoi(os.Getenv("CIMSESS_FLEET_AGENTS")); err == nil && n > 0 {
		return n
	}
	return 100
}

// BenchmarkPublishR1 publishes b.N events from many agents, each with its
// own connection and outbox, into the embedded hub's R1 stream.
func BenchmarkPublishR1(b *testing.B) {
	h := fleettest.StartHub(b, "", 0)
	n := benchAgents()
	pubs := make([]*agent.Publisher, n)
	creds := make([]*natsconn.Creds, n)
	for i := range creds {
		creds[i] = fleettest.Creds(b, h.Dir(), natsconn.RoleAgent, fmt.Sprintf("bench-%04d", i), nil)
	}
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	for i := range pubs {
		name := creds[i].Name
		nc := fleettest.Connect(b, creds[i], h.ClientURL(), true)
		box, err := outbox.Open(b.TempDir(), outbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		pubs[i] = &agent.Publisher{Host: name, Agent: "bench", Box: box, JS: js}
	}
	if err := h.Reload(); err != nil {
		b.Fatal(err)
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
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-process")
}

// BenchmarkFleetQuery asks many agents, each with its own connection and
// its own host's sessions, the same query, and reports the latency of
// the whole fleet's answer.
func BenchmarkFleetQuery(b *testing.B) {
	h := fleettest.StartHub(b, "", 0)
	n := benchAgents()
	creds := make([]*natsconn.Creds, n)
	for i := range creds {
		creds[i] = fleettest.Creds(b, h.Dir(), natsconn.RoleAgent, fmt.Sprintf("q-%04d", i), nil)
	}
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		name := creds[i].Name
		host := fleettest.NewHost(b, name)
		host.Login(b, "alice", 2)
		nc := fleettest.Connect(b, creds[i], h.ClientURL(), true)
		a, err := agent.New(agent.Config{OM: host.OM, NC: nc, Host: name, StateDir: b.TempDir(), Within: time.Hour, Heartbeat: 2 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		go a.Run(ctx)
	}
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	c := newClient(b, h.Dir(), h.ClientURL(), "bench", h.Reload)
	// Wait for every heartbeat.
	for deadline := time.Now().Add(60 * time.Second); ; {
		hbs, _ := c.Hosts(context.Background(), "")
		if len(hbs) == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d hosts live", len(hbs), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The hub's own reload of auth.conf (the client just added) resets
	// the agents' response permissions in flight: let it pass first.
	time.Sleep(2500 * time.Millisecond)
	var lat []time.Duration
	partial := 0
	b.ResetTimer()
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
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-process")
}
