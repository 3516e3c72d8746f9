//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// watchEvent is one line of `cimsess watch --output json`.
type watchEvent struct {
	Class            string         `json:"__CLASS"`
	TimeCreated      uint64         `json:"TIME_CREATED"`
	TargetInstance   map[string]any `json:"TargetInstance"`
	PreviousInstance map[string]any `json:"PreviousInstance"`
}

// timeOf converts TIME_CREATED back to a time.
func timeOf(tc uint64) time.Time {
	const ticks1601 = 116444736000000000
	v := int64(tc) - ticks1601
	return time.Unix(v/1e7, (v%1e7)*100)
}

func (ev watchEvent) prop(name string) string {
	v := ev.TargetInstance[name]
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// watcher runs `cimsess watch` and collects its events.
type watcher struct {
	mu     sync.Mutex
	events []watchEvent
	stderr strings.Builder
	cmd    *exec.Cmd
	done   chan struct{}
}

func startWatch(t *testing.T, bin string, args ...string) *watcher {
	t.Helper()
	w := &watcher{done: make(chan struct{})}
	w.cmd = exec.Command(bin, append([]string{"watch", "--output", "json"}, args...)...)
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.done
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			w.mu.Lock()
			w.stderr.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			if strings.Contains(sc.Text(), "watching") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev watchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("watch printed a line that is not JSON: %q", sc.Text())
				continue
			}
			w.mu.Lock()
			w.events = append(w.events, ev)
			w.mu.Unlock()
		}
		_ = w.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-w.done:
		t.Fatalf("cimsess watch ended: %s", w.stderrText())
	case <-time.After(15 * time.Second):
		t.Fatalf("cimsess watch not ready: %s", w.stderrText())
	}
	return w
}

func (w *watcher) stderrText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

// wait returns the first event that match accepts, waiting up to 10 s.
func (w *watcher) wait(t *testing.T, what string, match func(watchEvent) bool) watchEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, ev := range w.events {
			if match(ev) {
				w.mu.Unlock()
				return ev
			}
		}
		w.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Fatalf("no %s event within 10s; events: %+v\nstderr: %s", what, w.events, w.stderr.String())
	return watchEvent{}
}

// loginTime returns the time sshd wrote into the login's utmp record.
func loginTime(t testing.TB, l *testenv.Login) time.Time {
	t.Helper()
	var at time.Time
	_, err := utmp.ReadFile(context.Background(), utmp.DefaultPath, utmp.Native, func(r utmp.Record) error {
		if r.Type == utmp.UserProcess && int(r.PID) == l.MonitorPID() || (l.Line() != "" && r.Line == l.Line() && r.Type == utmp.UserProcess) {
			at = r.Time
		}
		return nil
	})
	if err != nil || at.IsZero() {
		t.Fatalf("no utmp record of the login (pid %d, %s): %v", l.MonitorPID(), l.Line(), err)
	}
	return at
}

// sameSession reports whether an event's instance is the login's
// session: by its audit session id (the LogonId) where it has one, else
// by terminal.
func sameSession(ev watchEvent, l *testenv.Login) bool {
	if l.SessionID() != 0 && l.SessionID() != 4294967295 {
		return ev.prop("LogonId") == strconv.FormatUint(uint64(l.SessionID()), 10)
	}
	return l.Line() != "" && ev.prop("TTY") == l.Line()
}

// TestWatchEndToEnd runs `cimsess watch` and makes real ssh logins: a
// login is a creation event, a logout a deletion event, and a session
// whose sshd is killed with SIGKILL a modification to Status 'Lost Comm'.
func TestWatchEndToEnd(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh")
	sshd := testenv.StartSSHD(t)
	bin := buildCimsess(t)
	w := startWatch(t, bin, "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = '"+testenv.TestUser+"'")

	// A second watcher stops by itself after one event.
	one := exec.Command(bin, "watch", "--output", "json", "--count", "1", "--timeout", "60s",
		"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = '"+testenv.TestUser+"'")
	var oneOut strings.Builder
	one.Stdout = &oneOut
	if err := one.Start(); err != nil {
		t.Fatal(err)
	}
	oneDone := make(chan error, 1)
	go func() { oneDone <- one.Wait() }()
	t.Cleanup(func() { _ = one.Process.Kill() })

	l := sshd.Login(t, testenv.LoginOpts{TTY: true})
	select {
	case err := <-oneDone:
		if err != nil || strings.Count(oneOut.String(), "\n") != 1 {
			t.Errorf("watch --count 1: %v, printed %q", err, oneOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("watch --count 1 did not stop after a login")
	}
	created := w.wait(t, "creation", func(ev watchEvent) bool {
		return ev.Class == cimom.InstanceCreationEvent && sameSession(ev, l)
	})
	if created.PreviousInstance != nil || created.TargetInstance["__CLASS"] != "Linux_LogonSession" {
		t.Errorf("creation event: %+v", created)
	}
	// A tty session has its terminal in the creation event, or in a
	// modification right after it when a rescan saw its processes before
	// sshd wrote the utmp record.
	full := w.wait(t, "session with its terminal", func(ev watchEvent) bool {
		return sameSession(ev, l) && ev.prop("TTY") == l.Line() && ev.Class != cimom.InstanceDeletionEvent
	})
	t.Logf("login-to-event delay (utmp record to the TIME_CREATED of the first event with the terminal; the watch binary, polling unless the provider notifies): %v",
		timeOf(full.TimeCreated).Sub(loginTime(t, l)))

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	w.wait(t, "deletion", func(ev watchEvent) bool {
		return ev.Class == cimom.InstanceDeletionEvent && sameSession(ev, l)
	})

	g := sshd.Login(t, testenv.LoginOpts{TTY: true})
	w.wait(t, "creation of the second login", func(ev watchEvent) bool {
		return ev.Class == cimom.InstanceCreationEvent && sameSession(ev, g)
	})
	g.HoldTerminal(t) // so that no other test's login takes the ghost's line
	if err := g.KillSSHD9(); err != nil {
		t.Fatal(err)
	}
	ghost := w.wait(t, "modification to Lost Comm", func(ev watchEvent) bool {
		return ev.Class == cimom.InstanceModificationEvent && sameSession(ev, g) && ev.prop("Status") == "Lost Comm"
	})
	if ghost.PreviousInstance == nil || fmt.Sprint(ghost.PreviousInstance["Status"]) == "Lost Comm" {
		t.Errorf("ghost event's PreviousInstance: %+v", ghost.PreviousInstance)
	}
}

// TestWatchCountTimeout checks that watch stops by itself.
func TestWatchCountTimeout(t *testing.T) {
	bin := buildCimsess(t)
	start := time.Now()
	cmd := exec.Command(bin, "watch", "--timeout", "300ms", "SELECT * FROM __InstanceCreationEvent WITHIN 0.1 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = 'no such user here'")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("watch --timeout: %v: %s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("watch --timeout 300ms took %v", d)
	}
	cmd = exec.Command(bin, "watch", "SELECT * FROM Win32_LogonSession")
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(string(out), "not an event query") {
		t.Fatalf("data query: %v: %s", err, out)
	}
}

// BenchmarkEventLatency measures login-to-event delay over 20 real ssh
// logins per run, through inotify notifications and through polling alone
// (WITHIN 1 and WITHIN 0.1), with the engine in-process, and reports p50
// and p95 in milliseconds:
//
//	go test -run '^$' -bench EventLatency -benchtime 1x ./e2e/
func BenchmarkEventLatency(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireTool(b, "sshd", "ssh")
	sshd := testenv.StartSSHD(b)
	const n = 20
	for _, mode := range []struct {
		name     string
		within   string
		noNotify bool
	}{{"notify", "1", false}, {"poll-1s", "1", true}, {"poll-100ms", "0.1", true}} {
		b.Run(mode.name, func(b *testing.B) {
			t := b
			var p provider.Provider = linux.New(linux.Options{StatePath: "-"})
			if _, ok := p.(provider.Notifier); !ok {
				t.Fatal("the Linux provider does not notify changes (provider.Notifier)")
			}
			om, err := cimom.New(schema.MustDefault(), cimom.Options{}, p)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// A login is known once an event shows its session with its
			// terminal: the creation event, or the modification that adds
			// the terminal when a rescan saw the session's processes before
			// sshd wrote its utmp record.
			ch, err := om.Subscribe(ctx, "SELECT * FROM __InstanceOperationEvent WITHIN "+mode.within+" WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = '"+testenv.TestUser+"'",
				cimom.SubscribeOptions{NoNotify: mode.noNotify})
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(1, 2))
			var delays []time.Duration
			for i := 0; i < n*b.N; i++ {
				// Out of step with the rescans, as real logins are.
				time.Sleep(time.Duration(rnd.Int64N(int64(time.Second))))
				l := sshd.Login(t, testenv.LoginOpts{TTY: true})
				var seen time.Time
				timeout := time.After(10 * time.Second)
				for seen.IsZero() {
					select {
					case ev := <-ch:
						if ev.Class != cimom.InstanceDeletionEvent && ev.Target.String("TTY") == l.Line() &&
							ev.Target.String("LogonId") == strconv.FormatUint(uint64(l.SessionID()), 10) {
							seen = ev.Time
						}
					case <-timeout:
						t.Fatalf("login %d: no event with its terminal", i)
					}
				}
				d := seen.Sub(loginTime(t, l))
				if testing.Verbose() {
					t.Logf("login %d: %v", i, d)
				}
				delays = append(delays, d)
				l.Close()
				drain(ch)
			}
			sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
			m := len(delays)
			p50, p95 := delays[m/2], delays[(m*95+99)/100-1]
			b.Logf("%s: login-to-event delay over %d logins: p50 %v, p95 %v, min %v, max %v", mode.name, m, p50, p95, delays[0], delays[m-1])
			b.ReportMetric(float64(p50)/float64(time.Millisecond), "p50-ms")
			b.ReportMetric(float64(p95)/float64(time.Millisecond), "p95-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func drain(ch <-chan cimom.Event) {
	for {
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}
