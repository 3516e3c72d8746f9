package fleethistory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/internal/testenv"
)

// BenchmarkApply measures the ingest rate: batches of 1,000 events (each
// session's creation, Status change and end, of 100 hosts) written by
// Store.Apply, one transaction a batch, as a collector writes them.
//
//	go test -run '^$' -bench BenchmarkApply -benchtime 60x ./fleethistory/
func BenchmarkApply(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	const perBatch = 1000
	batches := make([][]Change, b.N)
	n := 0
	for i := range batches {
		for len(batches[i]) < perBatch {
			n++
			host := fmt.Sprintf("host-%03d", n%100)
			ss := sess(host, strconv.Itoa(n), fmt.Sprintf("user%d", n%500), base.Add(time.Duration(n)*time.Millisecond))
			id := fmt.Sprintf("%s.a.%d", host, n)
			batches[i] = append(batches[i], begin(id+".1", ss), status(id+".2", ss, ss.Start.Add(time.Second), "OK", "Degraded"),
				finish(id+".3", ss, ss.Start.Add(time.Minute), history.EndLogout))
		}
	}
	if err := s.EnsurePartitions(ctx, base, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	pg0, _ := pg.CPUTime()
	self0 := testenv.ProcessCPU()
	start := time.Now()
	events := 0
	for i := 0; i < b.N; i++ {
		st, err := s.Apply(ctx, batches[i], 0)
		if err != nil {
			b.Fatal(err)
		}
		events += st.Applied
	}
	el := time.Since(start)
	self := testenv.ProcessCPU() - self0
	pg1, _ := pg.CPUTime()
	b.ReportMetric(float64(events)/el.Seconds(), "events/s")
	b.ReportMetric(float64(self.Microseconds())/float64(events), "proc-cpu-µs/event")
	b.ReportMetric(float64((pg1-pg0).Microseconds())/float64(events), "pg-cpu-µs/event")
}

// fleetRows is how many session rows BenchmarkFleetQueries loads:
// $CIMSESS_BENCH_ROWS, default 200,000 (the figures in
// docs/benchmarks.md are of 10,000,000).
func fleetRows(b *testing.B) int {
	if v := os.Getenv("CIMSESS_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("CIMSESS_BENCH_ROWS=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 200_000
}

const (
	benchHosts = 1000
	benchUsers = 5000
	benchDays  = 365
)

// loadFleet bulk-loads rows sessions of benchHosts hosts and benchUsers
// users over the last benchDays days with COPY (into the monthly
// partitions), then analyzes the tables.
func loadFleet(b *testing.B, s *Store, now time.Time, rows int) {
	ctx := context.Background()
	first := now.AddDate(0, 0, -benchDays)
	for m := MonthOf(first); !m.After(now); m = m.AddDate(0, 1, 0) {
		if err := s.ensureMonths(ctx, []time.Time{m}); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	span := now.Sub(first)
	perHost := rows / benchHosts
	seen := now
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= perHost*benchHosts {
			return nil, nil
		}
		h, k := i%benchHosts, i/benchHosts
		i++
		// Sessions of a host spread evenly over the period, with jitter;
		// 1 minute to 10 hours long; one in a thousand still open.
		start := first.Add(time.Duration(float64(span) * (float64(k) + rng.Float64()) / float64(perHost))).Truncate(time.Microsecond)
		var end *time.Time
		how := ""
		if rng.IntN(1000) != 0 {
			e := start.Add(time.Minute + time.Duration(rng.Int64N(int64(10*time.Hour))))
			if e.After(now) {
				e = now
			}
			end, how = &e, "logout"
		}
		user := "u" + strconv.Itoa(rng.IntN(benchUsers))
		addr := netip.AddrFrom4([4]byte{10, byte(h >> 8), byte(h), byte(rng.IntN(250) + 1)})
		return []any{fmt.Sprintf("h%04d.example.com", h), "Linux_LogonSession", strconv.Itoa(k), start,
			`Linux_LogonSession.LogonId="` + strconv.Itoa(k) + `"`, user, int64(1000 + rng.IntN(benchUsers)), int32(10),
			"pts/" + strconv.Itoa(rng.IntN(20)), addr.String(), addr, int64(1000 + k), end, how, "OK", seen}, nil
	})
	t0 := time.Now()
	n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"sessions"}, []string{"host", "class", "logon_id", "start_at", "path", "user_name",
		"uid", "logon_type", "tty", "remote_host", "remote_addr", "pid", "end_at", "how", "status", "seen_at"}, src)
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	if _, err := s.pool.Exec(ctx, "ANALYZE sessions"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d sessions of %d hosts and %d users over %d days with COPY in %v (%.0f rows/s), analyzed in %v",
		n, benchHosts, benchUsers, benchDays, load.Round(time.Second), float64(n)/load.Seconds(), (time.Since(t0) - load).Round(time.Second))
}

// BenchmarkFleetQueries loads a fleet's history (CIMSESS_BENCH_ROWS
// sessions of 1,000 hosts) and measures the two questions of an incident:
// who was on one host at an instant (history --host H --at T) and every
// session of one user in the last 30 days across the fleet (history
// --user U --since 30d). It reports their p50 and p99 latencies over
// random hosts, users and instants, and logs each query's plan.
//
//	CIMSESS_BENCH_ROWS=10000000 go test -run '^$' -bench BenchmarkFleetQueries -benchtime 1x -timeout 60m ./fleethistory/
func BenchmarkFleetQueries(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	rows := fleetRows(b)
	loadFleet(b, s, now, rows)
	rng := rand.New(rand.NewPCG(3, 4))
	const samples = 500
	queries := []struct {
		name   string
		filter func() Filter
	}{
		{"at-one-host", func() Filter {
			return Filter{Host: fmt.Sprintf("h%04d.example.com", rng.IntN(benchHosts)),
				At: now.Add(-time.Duration(rng.Int64N(int64(benchDays * 24 * time.Hour))))}
		}},
		{"user-since-30d", func() Filter {
			return Filter{User: "u" + strconv.Itoa(rng.IntN(benchUsers)), Since: now.AddDate(0, 0, -30)}
		}},
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, q := range queries {
			// The plan of one, for the record.
			where, args, err := q.filter().where()
			if err != nil {
				b.Fatal(err)
			}
			plan, err := explain(ctx, s, "SELECT "+sessionCols+" FROM sessions"+where+" ORDER BY start_at, host, class, logon_id", args)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: EXPLAIN ANALYZE\n%s", q.name, plan)
			lat := make([]time.Duration, 0, samples)
			total := 0
			for i := 0; i < samples; i++ {
				f := q.filter()
				t0 := time.Now()
				got, err := s.SessionList(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				total += len(got)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			b.ReportMetric(float64(p50.Microseconds())/1000, q.name+"-p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, q.name+"-p99-ms")
			b.Logf("%s over %d sessions: %d queries, %.1f rows each, p50 %v, p99 %v, max %v", q.name, rows, samples,
				float64(total)/samples, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
		}
	}
}

// explain returns the plan of a query as it runs (EXPLAIN ANALYZE).
func explain(ctx context.Context, s *Store, q string, args []any) (string, error) {
	rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) "+q, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}
