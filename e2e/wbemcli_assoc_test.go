//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
)

// normPath reduces an object path, as wbemcli prints it or as cimsess's
// __PATH holds it, to a form both share: no host or namespace, and no
// quoting (wbemcli prints reference keys without their quotes).
func normPath(p, host string) string {
	p = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`\"/:`, r) {
			return -1
		}
		return r
	}, p)
	p = strings.ReplaceAll(p, host+"rootcimv2", "")
	return strings.ReplaceAll(p, "rootcimv2", "")
}

// wbemPaths returns the normalised paths of the objects in wbemcli's
// output: on each line, what follows the namespace up to the first space.
func wbemPaths(out, host string) []string {
	var paths []string
	for _, line := range strings.Split(out, "\n") {
		i := strings.Index(line, "root/cimv2:")
		if i < 0 {
			continue
		}
		p, _, _ := strings.Cut(line[i+len("root/cimv2:"):], " ")
		paths = append(paths, normPath(p, host))
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// TestWbemcliAssociationsAgreeWithQuery serves a real ssh login with
// 'cimsess serve' and checks that wbemcli's ai, ain, ri and rin give the
// same objects as 'cimsess query' ASSOCIATORS OF / REFERENCES OF.
func TestWbemcliAssociationsAgreeWithQuery(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "wbemcli")
	sshd := testenv.StartSSHD(t)
	login := sshd.Login(t, testenv.LoginOpts{Command: "sleep 60; true"})
	id := fmt.Sprint(login.SessionID())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	srv := exec.Command(cimsessBin, "serve", "--no-auth", "--listen", addr, "--db", "")
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitFor(t, 10*time.Second, "cimsess serve to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	session := `Win32_LogonSession.LogonId="` + id + `"`
	wbem := func(op string) string {
		out, err := exec.Command("wbemcli", op, "http://"+addr+"/root/cimv2:"+session).CombinedOutput()
		if err != nil {
			t.Fatalf("wbemcli %s: %v\n%s\nserver log:\n%s", op, err, out, logs.String())
		}
		return string(out)
	}
	host, _ := os.Hostname()
	query := func(q string) []string {
		insts := cimsessJSON(t, "query", q, "-o", "json")
		var paths []string
		for _, in := range insts {
			paths = append(paths, normPath(in.Str("__PATH"), host))
		}
		slices.Sort(paths)
		return paths
	}
	for _, c := range []struct{ op, query string }{
		{"ai", "ASSOCIATORS OF {" + session + "}"},
		{"ain", "ASSOCIATORS OF {" + session + "}"},
		{"ri", "REFERENCES OF {" + session + "}"},
		{"rin", "REFERENCES OF {" + session + "}"},
	} {
		// The session's processes may change between the two reads only
		// if the login does; it is asleep, so both must agree exactly.
		got, want := wbemPaths(wbem(c.op), host), query(c.query)
		if len(want) < 3 || !slices.Equal(got, want) {
			t.Errorf("wbemcli %s gives %d objects, cimsess query %d:\nwbemcli: %q\nquery:   %q", c.op, len(got), len(want), got, want)
		}
	}
}
