package history

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// benchRecords is the size of the benchmarks' wtmp file.
const benchRecords = 20000

// benchWtmp writes the benchmarks' busy wtmp file into a new folder and
// returns the folder and the file.
func benchWtmp(b *testing.B) (dir, wtmp string) {
	dir = b.TempDir()
	wtmp = filepath.Join(dir, "wtmp")
	if err := utmp.WriteFile(wtmp, busyWtmp(benchRecords), utmp.Native); err != nil {
		b.Fatal(err)
	}
	return dir, wtmp
}

// BenchmarkMergeFile merges a busy wtmp file of benchRecords records into
// a new history: what `cimsess history --wtmp F --db NEW` does first.
func BenchmarkMergeFile(b *testing.B) {
	ctx := context.Background()
	dir, wtmp := benchWtmp(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(dir, "h", strconv.Itoa(i), "history.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.MergeFile(ctx, wtmp, MergeOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRecords, "ns/record")
}

// BenchmarkEachSession lists every session of a history filled from a
// busy wtmp file of benchRecords records: what a second `cimsess history`
// on an unchanged file does.
func BenchmarkEachSession(b *testing.B) {
	ctx := context.Background()
	dir, wtmp := benchWtmp(b)
	s, err := Open(ctx, filepath.Join(dir, "history.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MergeFile(ctx, wtmp, MergeOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		if err := s.EachSession(ctx, Filter{}, func(s Session) error {
			n += len(s.User) + len(s.TTY)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing listed")
	}
}
