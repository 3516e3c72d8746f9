package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/cli"
	"github.com/cimsess/cimsess/internal/testenv"
)

// startServe runs `cimsess serve --no-auth` on a free loopback port of
// 47300-47399 over the CLI's fixture machine (host "fixture"), and returns
// its address once it answers; the test's end stops it.
func startServe(t *testing.T) string {
	t.Helper()
	var addr string
	for port := 47300; port < 47400 && addr == ""; port++ {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			addr = l.Addr().String()
			l.Close()
		}
	}
	if addr == "" {
		t.Skip("no free port in 127.0.0.1:47300-47399")
	}
	machine, err := filepath.Abs(filepath.Join("..", "cli", "testdata", "machine"))
	if err != nil {
		t.Fatal(err)
	}
	stderr, done := runServe(t, "--no-auth", "--listen", addr, "--listen-winrm", "", "--log-format", "json",
		"--utmp", filepath.Join(machine, "utmp"), "--layout", "384", "--proc", filepath.Join(machine, "proc"),
		"--logind", filepath.Join(machine, "sessions"), "--smbstatus", filepath.Join(t.TempDir(), "none"), "--host", "fixture")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v; log: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened on %s: %v; log: %s", addr, err, stderr.String())
		}
	}
}

// TestRemoteNamespace asks a real `cimsess serve` for root/interop with
// `cimsess --remote --namespace`, over CIM-XML (…/cimom) and WS-Man
// (…/wsman): the same instances each way, with paths naming the remote
// host and root/interop; a get of a path naming root/interop; an unknown
// namespace is CIM_ERR_INVALID_NAMESPACE (exit 3) from either server; and
// root/cimv2 stays the default.
func TestRemoteNamespace(t *testing.T) {
	addr := startServe(t)
	om := `root/interop:CIM_ObjectManager.CreationClassName="CIM_ObjectManager",Name="cimsess",SystemCreationClassName="CIM_ComputerSystem",SystemName="fixture"`
	rows := func(args ...string) []map[string]any {
		t.Helper()
		stdout, stderr, code := runCLI(t, "", append(args, "-o", "json")...)
		var out []map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil {
			t.Fatalf("%q: exit %d, %s%s", args, code, stdout, stderr)
		}
		return out
	}
	for _, path := range []string{"/cimom", "/wsman"} {
		remote := "http://" + addr + path
		for _, ns := range []string{"root/interop", `root\interop`, "ROOT/Interop"} {
			got := rows("enum", "CIM_Namespace", "-n", ns, "--remote", remote)
			if len(got) != 2 || got[0]["Name"] != "root/cimv2" || got[1]["Name"] != "root/interop" ||
				!strings.HasPrefix(got[1]["__PATH"].(string), `\\127.0.0.1\root\interop:CIM_Namespace.`) {
				t.Errorf("%s: enum CIM_Namespace -n %s: %v", path, ns, got)
			}
		}
		if got := rows("query", "SELECT Name FROM CIM_Namespace WHERE Name = 'root/interop'", "-n", "root/interop", "--remote", remote); len(got) != 1 ||
			got[0]["Name"] != "root/interop" || !strings.HasPrefix(got[0]["__PATH"].(string), `\\127.0.0.1\root\interop:`) {
			t.Errorf("%s: query: %v", path, got)
		}
		for _, args := range [][]string{{"get", om}, {"get", om, "-n", "root/interop"}, {"get", strings.TrimPrefix(om, "root/interop:"), "-n", "root/interop"}} {
			if got := rows(append(args, "--remote", remote)...); len(got) != 1 || got[0]["Started"] != true || got[0]["ElementName"] != "cimsess" {
				t.Errorf("%s: %q: %v", path, args, got)
			}
		}
		if got := rows("enum", "Win32_LogonSession", "--remote", remote); len(got) == 0 || !strings.Contains(got[0]["__PATH"].(string), `\root\cimv2:`) {
			t.Errorf("%s: root/cimv2 by default: %v", path, got)
		}
		_, stderr, code := runCLI(t, "", "enum", "CIM_Namespace", "-n", "root/nothere", "--remote", remote)
		if code != cli.ExitInvalid || !strings.Contains(stderr, "CIM_ERR_INVALID_NAMESPACE") || !strings.Contains(stderr, "root/nothere") {
			t.Errorf("%s: an unknown namespace: exit %d, %s", path, code, stderr)
		}
		_, stderr, code = runCLI(t, "", "enum", "CIM_Namespace", "--remote", remote)
		if code != cli.ExitInvalid || !strings.Contains(stderr, "CIM_ERR_INVALID_CLASS") {
			t.Errorf("%s: CIM_Namespace in root/cimv2: exit %d, %s", path, code, stderr)
		}
	}
}

// runServe runs serve with args in this process until the test ends,
// when it is stopped and must end within 10 s without an error. It
// returns serve's log and the channel that gets serve's error should it
// end before.
func runServe(t *testing.T, args ...string) (*testenv.SyncBuffer, <-chan error) {
	t.Helper()
	stderr := new(testenv.SyncBuffer)
	cmd := newServeCmd(cli.NewEnv(strings.NewReader(""), io.Discard, stderr))
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return stderr, done
}
