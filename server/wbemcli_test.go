package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
)

// wbemcli runs the real sblim client and returns its output and error.
func wbemcli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wbemcli", args...)
	cmd.Env = append(os.Environ(), "WBEMCLI_IND=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustWbemcli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := wbemcli(t, args...)
	if err != nil {
		t.Fatalf("wbemcli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func wantAll(t *testing.T, out string, frags ...string) {
	t.Helper()
	for _, f := range frags {
		if !strings.Contains(out, f) {
			t.Errorf("output lacks %q:\n%s", f, out)
		}
	}
}

// TestWbemcli drives the server with the real client over HTTP and over
// HTTPS, checking the values it prints.
func TestWbemcli(t *testing.T) {
	testenv.RequireTool(t, "wbemcli")
	ts := startServer(t, serverOpts{tls: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, ts.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	transports := []struct {
		name   string
		base   string
		global []string
	}{
		{"http", "http://root:" + rootPass + "@" + ts.addr, nil},
		{"https-noverify", "https://root:" + rootPass + "@" + ts.tlsAddr, []string{"-noverify"}},
		{"https-cacert", "https://root:" + rootPass + "@" + ts.tlsAddr, []string{"-cacert", ca}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			run := func(op string, args ...string) string {
				return mustWbemcli(t, append(append([]string{op}, tr.global...), args...)...)
			}
			// ei: every session, with its values.
			out := run("ei", "-nl", tr.base+"/root/cimv2:Win32_LogonSession")
			wantAll(t, out, `:Linux_LogonSession.LogonId="1001"`, `-UserName="alice"`, `-LogonType=10`,
				`-StartTime=20260115093000.000000+060`, `-TTY="pts/0"`, `-RemoteAddress="192.0.2.7"`,
				`:Linux_LogonSession.LogonId="1003"`, `-Status="Lost Comm"`)
			if n := strings.Count(out, "Linux_LogonSession.LogonId="); n != 3 {
				t.Errorf("ei gave %d instances, want 3:\n%s", n, out)
			}
			// ei with -cte: chunked response with trailers.
			out = run("ei", "-cte", tr.base+"/root/cimv2:Linux_LogonSession")
			wantAll(t, out, `LogonId="1002"`, `UserName="bob"`)
			// ein
			out = run("ein", tr.base+"/root/cimv2:Win32_Session")
			wantAll(t, out, `/root/cimv2:Linux_LogonSession.LogonId="1001"`, `Linux_LogonSession.LogonId="1002"`, `Linux_LogonSession.LogonId="1003"`)
			// gi
			out = run("gi", "-nl", tr.base+`/root/cimv2:Win32_LogonSession.LogonId="1002"`)
			wantAll(t, out, `-Seat="seat0"`, `-UserName="bob"`, `-Service="login"`)
			// gc
			out = run("gc", tr.base+"/root/cimv2:Linux_LogonSession")
			wantAll(t, out, "Linux_LogonSession", "LogonId", "AuditSessionId", "IdleTime")
			// ec
			out = run("ec", tr.base+"/root/cimv2:Win32_Session")
			wantAll(t, out, ":Win32_LogonSession ", ":Linux_LogonSession ")
			// ecn
			out = run("ecn", tr.base+"/root/cimv2")
			wantAll(t, out, ":CIM_ManagedSystemElement", ":Win32_LogonSession", ":Linux_LogonSession", ":Win32_LoggedOnUser")
			// ai and ri
			out = run("ai", tr.base+`/root/cimv2:Win32_LogonSession.LogonId="1001"`)
			wantAll(t, out, `Win32_UserAccount.Domain="testhost",Name="alice"`, `FullName="Test User 1"`)
			out = run("rin", tr.base+`/root/cimv2:Win32_LogonSession.LogonId="1002"`)
			wantAll(t, out, "Win32_LoggedOnUser")
		})
	}
}

// TestWbemcliAuth checks what the client sees for a wrong password, and
// that a user who is not an administrator sees only their own sessions.
func TestWbemcliAuth(t *testing.T) {
	testenv.RequireTool(t, "wbemcli")
	ts := startServer(t, serverOpts{})
	out, err := wbemcli(t, "ei", "http://root:wrong@"+ts.addr+"/root/cimv2:Win32_LogonSession")
	if err == nil {
		t.Fatalf("wbemcli with a wrong password succeeded:\n%s", out)
	}
	if !strings.Contains(out, "Invalid username/password") {
		t.Errorf("wbemcli's error is not its authentication error:\n%s", out)
	}
	out, err = wbemcli(t, "ei", "http://"+ts.addr+"/root/cimv2:Win32_LogonSession")
	if err == nil || !strings.Contains(out, "Username/password required") {
		t.Errorf("wbemcli without credentials: %v\n%s", err, out)
	}

	out = mustWbemcli(t, "ei", "-nl", "http://bob:"+bobPass+"@"+ts.addr+"/root/cimv2:Win32_LogonSession")
	wantAll(t, out, `LogonId="1002"`, `-UserName="bob"`)
	if strings.Contains(out, "alice") {
		t.Errorf("bob sees alice's sessions:\n%s", out)
	}
	out = mustWbemcli(t, "ein", "http://alice:"+alicePass+"@"+ts.addr+"/root/cimv2:Win32_LogonSession")
	wantAll(t, out, `LogonId="1001"`, `LogonId="1003"`)
	if strings.Contains(out, `LogonId="1002"`) {
		t.Errorf("alice sees bob's session:\n%s", out)
	}
	out, err = wbemcli(t, "gi", "http://alice:"+alicePass+"@"+ts.addr+`/root/cimv2:Win32_LogonSession.LogonId="1002"`)
	if err == nil || !strings.Contains(out, "CIM_ERR_NOT_FOUND") {
		t.Errorf("alice's gi of bob's session: %v\n%s", err, out)
	}
}
