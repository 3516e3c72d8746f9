package output

import (
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// sessions returns n logon sessions as the Linux provider makes them,
// with paths.
func sessions(tb testing.TB, n int) []*cim.Instance {
	reg := schema.MustDefault()
	start := cim.NewDateTime(time.Date(2026, 11, 25, 20, 45, 11, 0, time.UTC))
	out := make([]*cim.Instance, n)
	for i := range out {
		id := strconv.Itoa(i)
		in := cim.NewInstance("Linux_LogonSession").Set("Caption", "alice on pts/"+id+" from 192.0.2.10").
			Set("Description", "Logon session "+id+" of alice (uid 1000) on pts/"+id+" from 192.0.2.10 via sshd").
			Set("Name", "alice@pts/"+id).Set("Status", "OK").Set("StartTime", start).
			Set("AuthenticationPackage", "sshd").Set("LogonId", id).Set("LogonType", uint32(10)).
			Set("UserName", "alice").Set("UserId", uint32(1000)).Set("TTY", "pts/"+id).
			Set("RemoteHost", "192.0.2.10").Set("RemoteAddress", "192.0.2.10").Set("LeaderProcessId", uint32(4000+i)).
			Set("IdleTime", cim.NewInterval(90*time.Second)).Set("Service", "sshd").Set("AuditSessionId", uint32(i))
		p, err := reg.PathOf(in, "host", schema.Namespace)
		if err != nil {
			tb.Fatal(err)
		}
		in.Path = p
		out[i] = in
	}
	return out
}

// BenchmarkFormat writes 10,000 logon sessions in each format, in the
// provider's batches of 256, and reports the bytes allocated per instance
// (heap allocations of the writer, not the instances'):
//
//	go test ./output -run '^$' -bench BenchmarkFormat -benchtime 20x
func BenchmarkFormat(b *testing.B) {
	const n, batch = 10000, 256
	insts := sessions(b, n)
	r := Renderer{Schema: schema.MustDefault(), Classes: []string{"Linux_LogonSession"}, Location: time.UTC}
	XMLWriter = nil // the CIM-XML writer is cimxml's, measured there
	for _, f := range []Format{Table, List, JSON, CSV, MOF} {
		b.Run(string(f), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				w, err := r.NewWriter(io.Discard, f)
				if err != nil {
					b.Fatal(err)
				}
				for lo := 0; lo < n; lo += batch {
					if err := w.Write(insts[lo:min(lo+batch, n)]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*n), "bytes/instance")
		})
	}
}

// TestStreamingMemoryFlat: writing 100,000 instances, made batch by batch
// and dropped after, leaves the heap where 1,000 leave it, in every
// format: no writer keeps what it wrote.
func TestStreamingMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 instances per format")
	}
	r := Renderer{Schema: schema.MustDefault(), Classes: []string{"Linux_LogonSession"}, Location: time.UTC}
	batch := sessions(t, 256)
	for _, f := range []Format{Table, List, JSON, CSV, MOF} {
		heap := func(n int) uint64 {
			w, err := r.NewWriter(io.Discard, f)
			if err != nil {
				t.Fatal(err)
			}
			var m runtime.MemStats
			for done := 0; done < n; done += len(batch) {
				fresh := make([]*cim.Instance, len(batch))
				for i, in := range batch {
					fresh[i] = in.Clone() // a new batch each time, as a provider makes
				}
				if err := w.Write(fresh); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&m)
			runtime.KeepAlive(w)
			return m.HeapAlloc
		}
		small, big := heap(1000), heap(100000)
		if big > small+2<<20 {
			t.Errorf("%s: heap %d KiB after 100,000 instances, %d KiB after 1,000", f, big>>10, small>>10)
		}
	}
}
