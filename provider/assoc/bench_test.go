//go:build linux

package assoc

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/schema"
)

// maxChildren bounds the sleep processes a benchmark starts.
const maxChildren = 2000

// startSleeps starts n `sleep` children (at most maxChildren) and kills
// them when the benchmark ends.
func startSleeps(b *testing.B, n int) {
	b.Helper()
	if n > maxChildren {
		n = maxChildren
	}
	var cmds []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	})
	for i := 0; i < n; i++ {
		c := exec.Command("sleep", "600")
		if err := c.Start(); err != nil {
			b.Fatalf("starting sleep %d of %d: %v", i+1, n, err)
		}
		cmds = append(cmds, c)
	}
}

// startLogin starts a shell that opens a new kernel audit session (by
// writing its loginuid, as pam_loginuid does) with two sleep children, so
// three processes in it, and returns the session id.
func startLogin(b *testing.B) uint32 {
	b.Helper()
	c := exec.Command("sh", "-c", "echo "+strconv.Itoa(os.Getuid())+" > /proc/self/loginuid && { sleep 600 & sleep 600 & wait; }")
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		kids, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/task/" + strconv.Itoa(c.Process.Pid) + "/children")
		for _, k := range strings.Fields(string(kids)) {
			if pid, err := strconv.Atoi(k); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/sessionid")
		v, perr := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
		kids, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/task/" + strconv.Itoa(c.Process.Pid) + "/children")
		if err == nil && perr == nil && v != process.UnsetSessionID && len(strings.Fields(string(kids))) == 2 {
			return uint32(v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Skip("cannot open an audit session here (writing /proc/self/loginuid needs root and CAP_AUDIT_CONTROL)")
	return 0
}

func countProcs(b *testing.B) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}

// BenchmarkAssociatorsOfSession measures ASSOCIATORS OF one logon session
// with ResultClass Win32_Process on a machine with 1,000 and 2,000
// processes, of which the session owns a few: the cost should grow
// linearly with the process count (one small read per process), and far
// below building every Win32_Process (BenchmarkEnumerateProcesses).
func BenchmarkAssociatorsOfSession(b *testing.B) {
	for _, total := range []int{1000, 2000} {
		b.Run("procs="+strconv.Itoa(total), func(b *testing.B) {
			om, sid, n := benchWorld(b, total)
			path := cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: strconv.FormatUint(uint64(sid), 10)}}}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := om.Associators(ctx, path, cimom.AssocOptions{ResultClass: "Win32_Process"})
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != 3 {
					b.Fatalf("the session has %d processes, want its shell and two sleeps", len(got))
				}
			}
			b.ReportMetric(float64(n), "procs")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/proc")
		})
	}
}

// BenchmarkEnumerateProcesses is the cost of building every Win32_Process,
// for comparison.
func BenchmarkEnumerateProcesses(b *testing.B) {
	for _, total := range []int{1000, 2000} {
		b.Run("procs="+strconv.Itoa(total), func(b *testing.B) {
			om, _, n := benchWorld(b, total)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := om.EnumerateInstances(ctx, "Win32_Process", cimom.EnumOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "procs")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/proc")
		})
	}
}

// benchWorld brings the machine to total processes, opens one audit
// session, and returns an object manager over the real /proc and passwd.
func benchWorld(b *testing.B, total int) (*cimom.ObjectManager, uint32, int) {
	b.Helper()
	if runtime.GOOS != "linux" {
		b.Skip("needs Linux's /proc")
	}
	sid := startLogin(b)
	if more := total - countProcs(b); more > 0 {
		startSleeps(b, more)
	}
	n := countProcs(b)
	accts := accounts.New(accounts.Options{Domain: "H1", Host: "h1"})
	procs := process.New(process.Options{Host: "h1"})
	sessions := &sessionList{insts: []*cim.Instance{session(strconv.FormatUint(uint64(sid), 10), sid, "root", 0)}}
	ap := New(Options{
		Sessions: func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			return provider.Collect(ctx, sessions, "", h)
		},
		Accounts: accts, Processes: procs, Host: "h1",
	})
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, sessions, procs, accts, ap)
	if err != nil {
		b.Fatal(err)
	}
	return om, sid, n
}
