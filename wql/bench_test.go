package wql

import (
	"strconv"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// BenchmarkWhereLikeDatetime evaluates a WHERE with LIKE and a datetime
// comparison over 100,000 instances per operation.
func BenchmarkWhereLikeDatetime(b *testing.B) {
	const n = 100000
	base := time.Date(2026, 1, 15, 0, 0, 0, 0, time.FixedZone("", 3600))
	insts := make([]*cim.Instance, n)
	for i := range insts {
		id := strconv.Itoa(i)
		in := cim.NewInstance("Linux_LogonSession").
			Set("Caption", "session "+id).Set("Name", "session "+id).Set("Status", "OK").
			Set("StartTime", cim.NewDateTime(base.Add(time.Duration(i)*time.Second))).
			Set("LogonId", id).Set("AuthenticationPackage", "PAM").Set("LogonType", uint32(2+i%9)).
			Set("UserName", "user"+id).Set("UserId", uint32(1000+i)).Set("TTY", "pts/"+id).
			Set("IdleTime", cim.NewInterval(time.Duration(i)*time.Millisecond))
		in.Path = cim.ObjectPath{Namespace: "root/cimv2", ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: id}}}
		insts[i] = in
	}
	q, err := Compile("SELECT * FROM Win32_LogonSession WHERE __CLASS ISA 'Linux_LogonSession' AND "+
		"Name LIKE '%1_3%' AND StartTime >= '20260115000000.000000-060' AND Status = 'ok'", newFakeSchema())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for i := 0; i < b.N; i++ {
		matched = 0
		for _, in := range insts {
			if q.Match(in) {
				matched++
			}
		}
	}
	b.StopTimer()
	if matched == 0 || matched == n {
		b.Fatalf("matched %d of %d: the benchmark does not discriminate", matched, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/instance")
}
