package cimom_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
)

// BenchmarkStream measures what a whole enumeration and a WQL WHERE cost
// through the object manager's streaming path, over the Linux provider's
// ghost sessions of a 100,000-record utmp (an empty /proc): the bytes and
// allocations per instance (provider, schema check, paths, filter and
// projection; nothing is written), and the time. "lent" takes each batch
// as enum's writers do (provider.Hint.Lent), "held" as a caller that keeps
// the instances; the queries are lent, as query's writers take them.
func BenchmarkStream(b *testing.B) {
	const n = 100000
	path := testenv.GhostUtmp(b, n)
	om, err := cimom.New(schema.MustDefault(), cimom.Options{},
		linux.New(linux.Options{UtmpPath: path, ProcRoot: b.TempDir(), LogindRoot: b.TempDir(), StatePath: "-"}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	count := func(got *int) provider.Emit {
		return func(batch []*cim.Instance) error { *got += len(batch); return nil }
	}
	query := func(wql string) func(*int) error {
		q, err := om.Compile(wql)
		if err != nil {
			b.Fatal(err)
		}
		return func(got *int) error { return om.StreamQueryWith(ctx, q, cimom.QueryOptions{Lent: true}, count(got)) }
	}
	for _, c := range []struct {
		name string
		want int // instances that come out
		run  func(*int) error
	}{
		{"enum/lent", n, func(got *int) error {
			return om.StreamInstances(ctx, "Win32_LogonSession", cimom.EnumOptions{Hint: provider.Hint{Lent: true}}, count(got))
		}},
		{"enum/held", n, func(got *int) error {
			return om.StreamInstances(ctx, "Win32_LogonSession", cimom.EnumOptions{}, count(got))
		}},
		// One user in 997 logged in after the third day; the users whose names begin "user1".
		{"where", 67, query("SELECT * FROM Linux_LogonSession WHERE UserName = 'user7' AND StartTime > '20260304'")},
		{"where-like-select", 11211, query("SELECT LogonId, UserName, RemoteHost FROM Linux_LogonSession WHERE UserName LIKE 'user1%'")},
	} {
		b.Run(c.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for b.Loop() {
				got := 0
				if err := c.run(&got); err != nil || got != c.want {
					b.Fatalf("%d instances, want %d: %v", got, c.want, err)
				}
			}
			runtime.ReadMemStats(&after)
			per := float64(b.N) * n
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/per, "alloc-B/instance")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/per, "allocs/instance")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/instance")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// TestLentQuery: a query whose caller lends its batches says, batch by
// batch, what one whose caller keeps them says (the Linux provider makes
// each batch in the memory of the last when lent).
func TestLentQuery(t *testing.T) {
	path := testenv.GhostUtmp(t, 3000)
	om, err := cimom.New(schema.MustDefault(), cimom.Options{},
		linux.New(linux.Options{UtmpPath: path, ProcRoot: t.TempDir(), LogindRoot: t.TempDir(), StatePath: "-"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, wql := range []string{"SELECT * FROM Linux_LogonSession WHERE UserName LIKE 'user1%'",
		"SELECT LogonId, RemoteHost FROM Linux_LogonSession WHERE LogonId > 'utmp:pts/5'"} {
		q, err := om.Compile(wql)
		if err != nil {
			t.Fatal(err)
		}
		var held []*cim.Instance
		if err := om.StreamQuery(ctx, q, func(b []*cim.Instance) error { held = append(held, b...); return nil }); err != nil {
			t.Fatal(err)
		}
		var lent []string
		err = om.StreamQueryWith(ctx, q, cimom.QueryOptions{Lent: true}, func(b []*cim.Instance) error {
			for _, in := range b {
				lent = append(lent, in.Path.String()+" "+fmt.Sprint(in.Properties))
			}
			return nil
		})
		if err != nil || len(lent) != len(held) || len(held) < 300 {
			t.Fatalf("%s: %d lent, %d held: %v", wql, len(lent), len(held), err)
		}
		for i, in := range held {
			if want := in.Path.String() + " " + fmt.Sprint(in.Properties); lent[i] != want {
				t.Fatalf("%s: instance %d lent %s, held %s", wql, i, lent[i], want)
			}
		}
	}
}
