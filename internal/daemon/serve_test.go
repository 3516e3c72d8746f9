package daemon

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/cli"
)

func TestCheckServeFlags(t *testing.T) {
	base := func() serveFlags {
		return serveFlags{listen: "127.0.0.1:5988", listenTLS: "127.0.0.1:5989", users: "u"}
	}
	cases := []struct {
		name  string
		mod   func(*serveFlags)
		ok    bool
		tlsOn bool
	}{
		{"defaults", func(f *serveFlags) {}, true, false},
		{"self-signed", func(f *serveFlags) { f.selfSigned = true }, true, true},
		{"cert without key", func(f *serveFlags) { f.cert = "c" }, false, false},
		{"cert and self-signed", func(f *serveFlags) { f.cert, f.key, f.selfSigned = "c", "k", true }, false, false},
		{"nothing to listen on", func(f *serveFlags) { f.listen = "" }, false, false},
		{"https only", func(f *serveFlags) { f.listen, f.cert, f.key = "", "c", "k" }, true, true},
		{"plain http off loopback", func(f *serveFlags) { f.listen = "0.0.0.0:5988" }, false, false},
		{"plain http off loopback allowed", func(f *serveFlags) { f.listen, f.allowPlainHTTP = ":5988", true }, true, false},
		{"https off loopback", func(f *serveFlags) { f.listen, f.listenTLS, f.selfSigned = "", "0.0.0.0:5989", true }, true, true},
		{"no-auth loopback", func(f *serveFlags) { f.noAuth = true; f.listen = "localhost:5988" }, true, false},
		{"no-auth ipv6 loopback", func(f *serveFlags) { f.noAuth = true; f.listen = "[::1]:5988" }, true, false},
		{"no-auth off loopback", func(f *serveFlags) { f.noAuth, f.listen = true, ":5988" }, false, false},
		{"no-auth tls off loopback", func(f *serveFlags) { f.noAuth, f.selfSigned, f.listenTLS = true, true, "10.0.0.1:5989" }, false, false},
		{"no-auth plain-http flag does not help", func(f *serveFlags) { f.noAuth, f.allowPlainHTTP, f.listen = true, true, "0.0.0.0:1" }, false, false},
		{"winrm defaults", func(f *serveFlags) { f.winrm, f.winrmTLS = "127.0.0.1:5985", "127.0.0.1:5986" }, true, false},
		{"winrm plain http off loopback", func(f *serveFlags) { f.winrm = "0.0.0.0:5985" }, false, false},
		{"winrm plain http off loopback allowed", func(f *serveFlags) { f.winrm, f.allowPlainHTTP = "0.0.0.0:5985", true }, true, false},
		{"winrm https off loopback", func(f *serveFlags) { f.winrmTLS, f.selfSigned = "0.0.0.0:5986", true }, true, true},
		{"no-auth winrm off loopback", func(f *serveFlags) { f.noAuth, f.winrm = true, "0.0.0.0:5985" }, false, false},
		{"no-auth winrm tls off loopback", func(f *serveFlags) { f.noAuth, f.selfSigned, f.winrmTLS = true, true, "10.0.0.1:5986" }, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.mod(&f)
			tlsOn, err := checkServeFlags(&f)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err != nil && cli.ExitCode(err) != cli.ExitUsage {
				t.Errorf("exit code %d for %v", cli.ExitCode(err), err)
			}
			if err == nil && tlsOn != tc.tlsOn {
				t.Errorf("tls %v", tlsOn)
			}
		})
	}
}

// TestServeCommand runs `cimsess serve` on a free loopback port with a
// users file and talks to it.
func TestServeCommand(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if _, stderr, code := runCLI(t, "pw\n", "user", "add", "--users", users, "admin", "--admin"); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	stderr, _ := runServe(t, "--users", users, "--listen", addr, "--log-format", "json", "--listen-winrm", "",
		"--utmp", filepath.Join(t.TempDir(), "utmp"), "--smbstatus", filepath.Join(t.TempDir(), "none"))
	body := `<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="EnumerateClassNames"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>`
	var resp *http.Response
	// Until it listens: it first makes a bcrypt hash of the users file's
	// cost, seconds on a loaded machine or under -race.
	for deadline := time.Now().Add(30 * time.Second); ; {
		req, _ := http.NewRequest("POST", "http://"+addr+"/cimom", strings.NewReader(body))
		req.SetBasicAuth("admin", "pw")
		req.Header.Set("CIMOperation", "MethodCall")
		req.Header.Set("CIMMethod", "EnumerateClassNames")
		req.Header.Set("CIMObject", "root/cimv2")
		if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server never answered in 30 s: %v; log: %s", err, stderr.String())
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(got, []byte(`<CLASSNAME NAME="CIM_ManagedSystemElement"/>`)) {
		t.Errorf("HTTP %d: %s", resp.StatusCode, got)
	}
	// WS-Management on the same listener.
	req, _ := http.NewRequest("POST", "http://"+addr+"/wsman", strings.NewReader(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><i:Identify xmlns:i="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"/></s:Body></s:Envelope>`))
	req.SetBasicAuth("admin", "pw")
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(got, []byte("<wsmid:ProductVendor>cimsess</wsmid:ProductVendor>")) {
		t.Errorf("/wsman Identify: HTTP %d: %s", resp.StatusCode, got)
	}
	time.Sleep(50 * time.Millisecond)
	if log := stderr.String(); !strings.Contains(log, `"operation":"EnumerateClassNames"`) || !strings.Contains(log, `"user":"admin"`) {
		t.Errorf("request log: %s", log)
	}
	// Its sessions come from another utmp than this machine's, so they
	// are not recorded into this machine's history (no --db was given).
	if log := stderr.String(); !strings.Contains(log, `"msg":"not recording the session history: the sources are not this machine's own`) ||
		!strings.Contains(log, `"flags":"--utmp"`) || strings.Contains(log, `"msg":"recording the session history"`) {
		t.Errorf("recorded a fixture's sessions into the default history: %s", log)
	}
}

// TestWinRMListeners: WinRM's default ports are opened when free and left
// out with a warning when taken; a port given on the command line must open.
func TestWinRMListeners(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	f := &serveFlags{winrm: busy.Addr().String(), winrmTLS: "127.0.0.1:0"}
	plain, secure, err := f.winrmListeners(true, logger)
	if err != nil || plain != nil || secure == nil {
		t.Fatalf("defaults with HTTP taken: %v %v %v", plain, secure, err)
	}
	secure.Close()
	if !strings.Contains(logs.String(), "not served") {
		t.Errorf("no warning: %s", logs.String())
	}
	f.winrmSet = true
	if _, _, err := f.winrmListeners(true, logger); err == nil {
		t.Error("a port given on the command line that cannot open is not an error")
	}
}

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}
