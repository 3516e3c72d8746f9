package linux

import (
	"context"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// benchRecords returns n login records like a busy machine's (and like
// utmpgen's, which this package may not import): pts lines, IPv4 and IPv6
// hosts, X displays, one logout in sixteen.
func benchRecords(n int) []utmp.Record {
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	recs := make([]utmp.Record, 0, n)
	for k := range n {
		r := utmp.Record{Type: utmp.UserProcess, PID: int32(4000000 + k), Line: "pts/" + strconv.Itoa(k),
			User: "user" + strconv.Itoa(k%997), Session: int64(k), Time: base.Add(time.Duration(k) * 7 * time.Second)}
		switch k % 4 {
		case 0:
			r.Addr = netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})
			r.Host = r.Addr.String()
		case 1:
			r.Host = "host-" + strconv.Itoa(k) + ".example.org"
		case 2:
			r.Host = ":" + strconv.Itoa(k%10)
			r.Line = "tty" + strconv.Itoa(k%63+1)
		}
		if k%16 == 15 {
			r.Type, r.User, r.Host, r.Addr = utmp.DeadProcess, "", "", netip.Addr{}
		}
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkEnumerateGhosts enumerates a big utmp file whose processes are
// all gone (an empty proc root): every login record is a ghost instance,
// the worst case of scripts/bench-who.sh.
func BenchmarkEnumerateGhosts(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			w := newWorld(b)
			w.records(benchRecords(n)...)
			p := w.provider()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				insts, err := provider.Collect(ctx, p, ClassName, provider.Hint{})
				if err != nil || len(insts) == 0 {
					b.Fatal(len(insts), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			// What the result holds once the sources' transient data is
			// garbage: the memory an enumeration keeps per instance.
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			insts, _ := provider.Collect(ctx, p, ClassName, provider.Hint{})
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(insts)), "held-B/instance")
			runtime.KeepAlive(insts)
		})
	}
}
