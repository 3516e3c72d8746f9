package utmp_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/sysfile/utmp/internal/utmpgen"
)

func benchRead(b *testing.B, n int) {
	var buf bytes.Buffer
	w := utmp.NewWriter(&buf, utmp.Native)
	for _, r := range utmpgen.Records(n, 4000000) {
		w.Write(r)
	}
	data := buf.Bytes()
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			rd := utmp.NewReader(bytes.NewReader(data), utmp.Native)
			for {
				if _, err := rd.Next(); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	})
	b.Run("file", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "utmp")
		if err := utmp.WriteFile(path, utmpgen.Records(n, 4000000), utmp.Native); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		users := 0
		for b.Loop() {
			_, err := utmp.ReadFile(context.Background(), path, utmp.Native, func(r utmp.Record) error {
				if r.UserProcess() {
					users++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRead10k(b *testing.B)  { benchRead(b, 10000) }
func BenchmarkRead100k(b *testing.B) { benchRead(b, 100000) }
