// Package fleettest starts the real pieces of a fleet for tests and
// benchmarks: an embedded hub, a cluster of Debian's nats-server, hosts
// whose sessions are generated utmp files, and agents over them.
package fleettest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/agent"
	"github.com/cimsess/cimsess/fleet/hub"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// FreePort returns a TCP port free on 127.0.0.1 at the time of asking.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartHub starts an embedded hub in dir (a new temporary folder when
// empty) on port (a free one when 0) and stops it at the end of the test.
func StartHub(tb testing.TB, dir string, port int) *hub.Hub {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	if port == 0 {
		port = FreePort(tb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h, err := hub.Start(ctx, dir, hub.Options{Listen: "127.0.0.1:" + strconv.Itoa(port), Setup: hub.SetupOptions{HeartbeatTTL: 5 * time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(h.Shutdown)
	return h
}

// Creds makes a user in a hub's data directory and returns its
// credentials; reload, when set, is called so that a running server knows
// the user at once.
func Creds(tb testing.TB, dir, role, name string, reload func() error) *natsconn.Creds {
	tb.Helper()
	p, err := hub.AddUser(dir, role, name, "")
	if err != nil {
		tb.Fatal(err)
	}
	if reload != nil {
		if err := reload(); err != nil {
			tb.Fatal(err)
		}
	}
	c, err := natsconn.ReadCreds(p, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Connect connects as c and closes the connection at the end of the test.
func Connect(tb testing.TB, c *natsconn.Creds, urls string, retryForever bool, extra ...nats.Option) *nats.Conn {
	tb.Helper()
	nc, err := natsconn.Connect(c, natsconn.Options{URLs: urls, RetryForever: retryForever, Name: c.Role + " " + c.Name, Extra: extra})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// Host is a simulated host: its own utmp file, read by the real Linux
// provider through an object manager of its own.
type Host struct {
	Name string
	Dir  string
	OM   *cimom.ObjectManager

	mu   sync.Mutex
	recs []utmp.Record
	pid  int32
}

// NewHost makes a host with no session.
func NewHost(tb testing.TB, name string) *Host {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{"proc", "logind"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	h := &Host{Name: name, Dir: dir, pid: 100000}
	if err := h.write(); err != nil {
		tb.Fatal(err)
	}
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: name}, linux.New(linux.Options{
		UtmpPath: h.utmpPath(), ProcRoot: filepath.Join(dir, "proc"), LogindRoot: filepath.Join(dir, "logind"), StatePath: "-"}))
	if err != nil {
		tb.Fatal(err)
	}
	h.OM = om
	return h
}

func (h *Host) utmpPath() string { return filepath.Join(h.Dir, "utmp") }

func (h *Host) write() error {
	tmp := h.utmpPath() + ".tmp"
	if err := utmp.WriteFile(tmp, h.recs, utmp.LayoutFor("amd64")); err != nil {
		return err
	}
	return os.Rename(tmp, h.utmpPath())
}

// Login adds n sessions of user from a remote host; it returns their
// terminals.
func (h *Host) Login(tb testing.TB, user string, n int) []string {
	tb.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var ttys []string
	for i := 0; i < n; i++ {
		h.pid++
		line := fmt.Sprintf("pts/%d", h.pid)
		h.recs = append(h.recs, utmp.Record{Type: utmp.UserProcess, PID: h.pid, Line: line,
			ID: strconv.Itoa(int(h.pid % 10000)), User: user, Host: "192.0.2.7", Time: time.Now()})
		ttys = append(ttys, line)
	}
	if err := h.write(); err != nil {
		tb.Fatal(err)
	}
	return ttys
}

// Logout ends the session on tty.
func (h *Host) Logout(tb testing.TB, tty string) {
	tb.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	kept := h.recs[:0]
	for _, r := range h.recs {
		if r.Line != tty {
			kept = append(kept, r)
		}
	}
	h.recs = kept
	if err := h.write(); err != nil {
		tb.Fatal(err)
	}
}

// Sessions returns the number of sessions on the host.
func (h *Host) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}

// Agent is a running agent of a host.
type Agent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan error
	Log    *testenv.SyncBuffer
}

// StartAgent starts an agent for host over nc with its state in stateDir
// (a new folder when empty); Stop ends it, and the test's end does too.
func StartAgent(tb testing.TB, host *Host, nc *nats.Conn, stateDir string) *Agent {
	tb.Helper()
	if stateDir == "" {
		stateDir = tb.TempDir()
	}
	log := &testenv.SyncBuffer{}
	a, err := agent.New(agent.Config{OM: host.OM, NC: nc, Host: host.Name, StateDir: stateDir,
		Within: 100 * time.Millisecond, Heartbeat: time.Second, Version: "test",
		Log: func(s string) { fmt.Fprintln(log, s) }})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ag := &Agent{Agent: a, cancel: cancel, done: make(chan error, 1), Log: log}
	go func() { ag.done <- a.Run(ctx) }()
	tb.Cleanup(func() { ag.Stop() })
	return ag
}

// Stop stops the agent and waits for it.
func (a *Agent) Stop() error {
	a.cancel()
	err, ok := <-a.done
	if ok {
		close(a.done)
	}
	return err
}

// CredsMany makes users of one role in a hub's data directory in one
// batch (hub.AddUsers) and returns their credentials.
func CredsMany(tb testing.TB, dir, role string, names []string) []*natsconn.Creds {
	tb.Helper()
	paths, err := hub.AddUsers(dir, role, names)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*natsconn.Creds, len(paths))
	for i, p := range paths {
		if out[i], err = natsconn.ReadCreds(p, nil); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// HubProcessEnv, set to "dir port", makes a test binary's
// TestHubProcess serve a hub (ServeHubProcess).
const HubProcessEnv = "CIMSESS_TEST_HUB_PROCESS"

// HubProcess is a hub in a process of its own, so that its memory and
// CPU are its own.
type HubProcess struct {
	Dir string
	URL string
	cmd *exec.Cmd
}

// StartHubProcess runs a hub on dir (initialised, its users made) and a
// free port in a new process: this test binary again, whose
// TestHubProcess calls ServeHubProcess. It stops at the end of the test.
func StartHubProcess(tb testing.TB, dir string) *HubProcess {
	tb.Helper()
	port := FreePort(tb)
	cmd := StartProcess(tb, "TestHubProcess", fmt.Sprintf("%s=%s %d", HubProcessEnv, dir, port), "hub ready")
	return &HubProcess{Dir: dir, URL: fmt.Sprintf("nats://127.0.0.1:%d", port), cmd: cmd}
}

// StartProcess runs this test binary again in a new process, running only
// the test named test with env added to its environment, and returns once
// it prints the line ready (within 3 minutes). The process is killed at
// the end of the test.
func StartProcess(tb testing.TB, test, env, ready string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.timeout=0")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ok := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == ready {
				ok <- true
			}
		}
		ok <- false
	}()
	select {
	case good := <-ok:
		if !good {
			tb.Fatalf("%s ended before it was ready", test)
		}
	case <-time.After(3 * time.Minute):
		tb.Fatalf("%s is not ready after 3 minutes", test)
	}
	return cmd
}

// Memory returns the hub process's resident memory now and at its
// highest, in bytes.
func (h *HubProcess) Memory() (rss, peak int64) { return ProcMemory(h.cmd.Process.Pid) }

// ProcMemory returns a process's resident memory now and at its highest,
// in bytes (VmRSS and VmHWM of /proc/PID/status; zeros where there is no
// procfs).
func ProcMemory(pid int) (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}

// CPU returns the processor time the hub process has used so far.
func (h *HubProcess) CPU() time.Duration { return ProcCPU(h.cmd.Process.Pid) }

// ProcCPU returns the processor time a process has used so far, user and
// system (/proc/PID/stat through procfs; zero where there is no procfs).
func ProcCPU(pid int) time.Duration {
	p, err := procfs.New("/proc").GetFields(pid, procfs.FieldUsage)
	if err != nil {
		return 0
	}
	return time.Duration(p.UTimeTicks+p.STimeTicks) * time.Second / procfs.ClockTicks
}

// ServeHubProcess is the hub process's side of StartHubProcess: when the
// test binary was started by it, it runs the hub until killed; otherwise
// it skips the test.
func ServeHubProcess(t *testing.T) {
	v := os.Getenv(HubProcessEnv)
	if v == "" {
		t.Skip("runs only as the hub process of a benchmark")
	}
	var dir string
	var port int
	if _, err := fmt.Sscanf(v, "%s %d", &dir, &port); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	// The bucket's TTL and the agents' heartbeat are the defaults.
	h, err := hub.Start(ctx, dir, hub.Options{Listen: "127.0.0.1:" + strconv.Itoa(port)})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("hub ready")
	h.Wait(context.Background())
}
