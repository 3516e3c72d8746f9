//go:build linux

package fleetdb

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/schema"
)

// TestRealLoginsTwoAgents runs two `cimsess agent` processes on 127.0.0.1
// as two hosts, each over a utmp file of its own that an sshd of its own
// writes (a mount namespace each), against `cimsess hub`. A real login
// (ssh -tt, through PAM) on one host is a creation event of that host on
// the stream (its audit session), then carries its terminal from that
// host's utmp record; `cimsess query --fleet` lists it with its terminal
// under that host's __SERVER only. Both agents read the one kernel's
// processes, so the other host sees the session too, but without the
// terminal its utmp does not have.
func TestRealLoginsTwoAgents(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "unshare")
	hosts := []string{"alpha", "beta"}
	var sshds []*testenv.SSHD
	for _, h := range hosts {
		sshds = append(sshds, testenv.StartSSHDUtmp(t, filepath.Join(t.TempDir(), h+".utmp")))
	}

	hubDir := filepath.Join(t.TempDir(), "hub")
	natsAddr := freeAddr(t)
	natsURL := "nats://" + natsAddr
	clientCreds := hubAdd(t, hubDir, "client", "tester")
	var agentCreds []string
	for _, h := range hosts {
		agentCreds = append(agentCreds, hubAdd(t, hubDir, "agent", h))
	}
	daemonProc(t, "hub", "hub: NATS with JetStream", "hub", "--data", hubDir, "--listen", natsAddr)
	for i, h := range hosts {
		daemonProc(t, "agent "+h, "publishing to", "agent", "--nats", natsURL, "--creds", agentCreds[i],
			"--utmp", sshds[i].Utmp(), "--state", filepath.Join(t.TempDir(), h), "--within", "500ms")
	}

	// The stream, followed from now on.
	creds, err := natsconn.ReadCreds(clientCreds, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsconn.Connect(creds, natsconn.Options{URLs: natsURL})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(nc, schema.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan client.Event, 100)
	go c.Watch(ctx, "SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Linux_LogonSession'",
		client.WatchOptions{Since: time.Now()}, func(ev client.Event) error {
			events <- ev
			return nil
		})

	for i, h := range hosts {
		l := sshds[i].Login(t, testenv.LoginOpts{TTY: true})
		if _, err := l.WaitUtmp(testenv.UtmpUserProcess, 5*time.Second); err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		id := strconv.FormatUint(uint64(l.SessionID()), 10)
		// Its creation event, from its host, and its terminal.
		created, withTTY := false, false
		var seen []string
		for deadline := time.After(30 * time.Second); !created || !withTTY; {
			select {
			case ev := <-events:
				seen = append(seen, ev.Host+" "+ev.Class+" "+ev.Target.Path.String()+" tty="+ev.Target.String("TTY"))
				if ev.Target.String("UserName") != testenv.TestUser || ev.Target.String("LogonId") != id {
					continue
				}
				tty := ev.Target.String("TTY")
				if tty != "" && tty == l.Line() && ev.Host != h {
					t.Fatalf("the login on %s's sshd (%s) has its terminal on %s: %v", h, l.Line(), ev.Host, seen)
				}
				if ev.Host != h {
					continue // the other host sees the same kernel's session
				}
				created = created || ev.Class == "__InstanceCreationEvent"
				withTTY = withTTY || tty == l.Line()
				if created && withTTY {
					t.Logf("%s: login %s on %s: %s", h, id, l.Line(), seen)
				}
			case <-deadline:
				out, _ := exec.Command(cimsessBin, "enum", "Linux_LogonSession", "--utmp", sshds[i].Utmp()).CombinedOutput()
				t.Fatalf("%s's login %s on %s: creation event %v, terminal %v after 30 s; events: %v; cimsess enum over its utmp:\n%s",
					h, id, l.Line(), created, withTTY, seen, out)
			}
		}
		// The fleet query lists it under its host only.
		out, err := exec.Command(cimsessBin, "query", "--fleet", "--nats", natsURL, "--creds", clientCreds, "-o", "json",
			"SELECT * FROM Linux_LogonSession WHERE UserName = '"+testenv.TestUser+"'").Output()
		if err != nil {
			t.Fatalf("cimsess query --fleet: %v: %s", err, out)
		}
		var rows []map[string]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		found := 0
		for _, r := range rows {
			server, tty := fmt.Sprint(r["__SERVER"]), fmt.Sprint(r["TTY"])
			if tty == l.Line() && !strings.EqualFold(server, h) {
				t.Errorf("the login on %s's sshd (%s) is listed with its terminal under %s: %v", h, l.Line(), server, r)
			}
			if tty == l.Line() && strings.EqualFold(server, h) && fmt.Sprint(r["LogonId"]) == id {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("query --fleet lists %s's login on %s %d times:\n%s", h, l.Line(), found, out)
		}
	}
}
