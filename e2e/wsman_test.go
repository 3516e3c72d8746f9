//go:build linux

package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/server"
)

const (
	wsAdmin     = "wsadmin"
	wsAdminPass = "ws-secret-1"
	winrmURI    = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
)

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// requirePyWinRM makes sure Debian's python3-winrm imports with Debian's
// own interpreter: the test fails in CI and is skipped elsewhere without.
func requirePyWinRM(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import winrm, xmltodict").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("python3-winrm does not import with /usr/bin/python3: %v %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// startWSManServer runs 'cimsess serve' with a users file holding one
// administrator, on an HTTP and an HTTPS address, the latter with a
// certificate for 127.0.0.1 made for the test, whose PEM file it returns
// for the clients to verify it with.
func startWSManServer(t *testing.T) (httpAddr, httpsAddr, certFile string) {
	t.Helper()
	dir := t.TempDir()
	cert, certPEM, err := server.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	add := exec.Command(cimsessBin, "user", "add", "--users", users, wsAdmin, "--admin")
	add.Stdin = strings.NewReader(wsAdminPass + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	httpAddr, httpsAddr = freeAddr(t), freeAddr(t)
	logs := &testenv.SyncBuffer{}
	srv := exec.Command(cimsessBin, "serve", "--users", users, "--listen", httpAddr, "--listen-tls", httpsAddr,
		"--cert", certFile, "--key", keyFile, "--listen-winrm", "", "--listen-winrm-tls", "", "--db", "")
	srv.Stderr = logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	for _, a := range []string{httpAddr, httpsAddr} {
		waitFor(t, 10*time.Second, "cimsess serve to listen on "+a, func() bool {
			c, err := net.Dial("tcp", a)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return httpAddr, httpsAddr, certFile
}

// TestWSManClients serves real ssh logins with 'cimsess serve' and reads
// them with clients others wrote — Debian's wsl and python3-winrm — and
// with 'cimsess --remote', over HTTP and HTTPS: every one must see the
// sessions the local command sees, with the same values; CIM-XML
// (wbemcli) too.
func TestWSManClients(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "wsl", "curl", "xmllint", "wbemcli")
	requirePyWinRM(t)
	sshd := testenv.StartSSHD(t)
	login := sshd.Login(t, testenv.LoginOpts{TTY: true})
	id := fmt.Sprint(login.SessionID())
	httpAddr, httpsAddr, certFile := startWSManServer(t)

	path := `Win32_LogonSession.LogonId="` + id + `"`
	local := cimsessJSON(t, "get", path)
	if len(local) != 1 {
		t.Fatalf("local get: %v", local)
	}
	want := local[0]
	localIDs := logonIDs(cimsessJSON(t, "enum", "Win32_LogonSession"))

	for _, c := range []struct{ name, url string }{{"http", "http://" + httpAddr + "/wsman"}, {"https", "https://" + httpsAddr + "/wsman"}} {
		t.Run(c.name, func(t *testing.T) {
			checkRemoteCLI(t, c.url, certFile, path, want, localIDs)

			// wsl: identify, an optimized enumeration pulled in pages of 2, a Get.
			ws := runWSL(t, certFile, c.name == "http", hostPort(c.url), "identify", "check")
			if !strings.Contains(ws, "<wsmid:ProductVendor>cimsess</wsmid:ProductVendor>") {
				t.Errorf("wsl identify:\n%s", ws)
			}
			ws = runWSL(t, certFile, c.name == "http", hostPort(c.url), "enum", winrmURI+"Win32_LogonSession", "-opti", "2")
			if ids := xmlValues(ws, "p:LogonId"); !slices.Equal(sorted(ids), localIDs) {
				t.Errorf("wsl enum: %v, local %v", ids, localIDs)
			}
			ws = runWSL(t, certFile, c.name == "http", hostPort(c.url), "get", winrmURI+"Win32_LogonSession", "LogonId="+id)
			if u := xmlValues(ws, "p:UserName"); len(u) != 1 || u[0] != want.Str("UserName") {
				t.Errorf("wsl get: %v\n%s", u, ws)
			}

			// pywinrm, with the envelopes of its own headers.
			py3 := exec.Command("/usr/bin/python3", "-c", pyWinRM, c.url, wsAdmin, wsAdminPass, id, certFile)
			// requests would take the system's CA bundle from these over
			// the one given.
			for _, e := range os.Environ() {
				if !strings.HasPrefix(e, "REQUESTS_CA_BUNDLE=") && !strings.HasPrefix(e, "CURL_CA_BUNDLE=") {
					py3.Env = append(py3.Env, e)
				}
			}
			out, err := py3.CombinedOutput()
			if err != nil {
				t.Fatalf("pywinrm: %v\n%s", err, out)
			}
			var py struct {
				IDs      []string `json:"ids"`
				User     string   `json:"user"`
				Fault    string   `json:"fault"`
				Identify string   `json:"identify"`
			}
			if err := json.Unmarshal(out, &py); err != nil {
				t.Fatalf("pywinrm output: %v\n%s", err, out)
			}
			if !slices.Equal(sorted(py.IDs), localIDs) || py.User != want.Str("UserName") || !strings.Contains(py.Fault, "2150858843") ||
				py.Identify != "cimsess" {
				t.Errorf("pywinrm: %+v", py)
			}
		})
	}

	// CIM-XML, the same session: cimsess --remote …/cimom, and wbemcli.
	for _, u := range []string{"http://" + httpAddr + "/cimom", "https://" + httpsAddr + "/cimom"} {
		t.Run("cimxml-"+u[:strings.Index(u, ":")], func(t *testing.T) { checkRemoteCLI(t, u, certFile, path, want, localIDs) })
	}
	out, err := exec.Command("wbemcli", "gi", "http://"+wsAdmin+":"+wsAdminPass+"@"+httpAddr+"/root/cimv2:"+path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `UserName="`+want.Str("UserName")+`"`) || !strings.Contains(string(out), `TTY="`+want.Str("TTY")+`"`) {
		t.Errorf("wbemcli gi: %v\n%s", err, out)
	}
}

// checkRemoteCLI reads the session at path and every logon session with
// cimsess --remote url and compares them with what the local command saw.
func checkRemoteCLI(t *testing.T, url, certFile, path string, want jsonInstance, localIDs []string) {
	t.Helper()
	env := []string{"CIMSESS_PASSWORD=" + wsAdminPass}
	remote := []string{"--remote", url, "--user", wsAdmin, "--cacert", certFile}
	// The same instance, value for value (but IdleTime, which moves),
	// named on the remote host.
	got := cimsessJSONEnv(t, env, append([]string{"get", path}, remote...)...)
	if len(got) != 1 {
		t.Fatalf("remote get: %v", got)
	}
	for k, v := range want {
		if k == "IdleTime" || strings.HasPrefix(k, "__") {
			continue
		}
		if fmt.Sprint(got[0][k]) != fmt.Sprint(v) {
			t.Errorf("%s: remote %v, local %v", k, got[0][k], v)
		}
	}
	if p := fmt.Sprint(got[0]["__PATH"]); !strings.HasPrefix(p, `\\127.0.0.1\root\cimv2:Linux_LogonSession`) {
		t.Errorf("__PATH %s", p)
	}
	if ids := logonIDs(cimsessJSONEnv(t, env, append([]string{"enum", "Win32_LogonSession"}, remote...)...)); !slices.Equal(ids, localIDs) {
		t.Errorf("remote enum %v, local %v", ids, localIDs)
	}
	q := cimsessJSONEnv(t, env, append([]string{"query", `ASSOCIATORS OF {` + path + `} WHERE ResultClass = Win32_UserAccount`}, remote...)...)
	if len(q) != 1 || q[0].Str("Name") != testenv.TestUser {
		t.Errorf("remote ASSOCIATORS OF: %v", q)
	}
	// The shorthand Class=value names the key for the protocol, and a
	// query whose results are classes comes back as class objects.
	id := want.Str("LogonId")
	if got := cimsessJSONEnv(t, env, append([]string{"get", `Win32_LogonSession="` + id + `"`}, remote...)...); len(got) != 1 || got[0].Str("LogonId") != id {
		t.Errorf("remote get by the shorthand: %v", got)
	}
	// A select list carries __RELPATH and __PATH, as it does locally.
	for _, in := range cimsessJSONEnv(t, env, append([]string{"query", "SELECT UserName FROM Linux_LogonSession"}, remote...)...) {
		if !strings.HasPrefix(in.Str("__RELPATH"), "Linux_LogonSession.LogonId=") || !strings.Contains(in.Str("__PATH"), `\root\cimv2:Linux_LogonSession`) {
			t.Errorf("remote select list: %v", in)
		}
	}
	var classes []string
	for _, c := range cimsessJSONEnv(t, env, append([]string{"query", "SELECT * FROM meta_class WHERE __CLASS LIKE 'Win32_%Session'"}, remote...)...) {
		classes = append(classes, c.Str("__CLASS"))
	}
	if !slices.Equal(sorted(classes), []string{"Win32_LogonSession", "Win32_ServerSession", "Win32_Session"}) {
		t.Errorf("remote meta_class: %v", classes)
	}
}

func hostPort(url string) string {
	url = strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	return strings.TrimSuffix(url, "/wsman")
}

func logonIDs(insts []jsonInstance) []string {
	var ids []string
	for _, in := range insts {
		ids = append(ids, in.Str("LogonId"))
	}
	return sorted(ids)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// xmlValues returns the text of every element named tag (a prefixed name,
// as wsl prints the response) in s.
func xmlValues(s, tag string) []string {
	var out []string
	for {
		i := strings.Index(s, "<"+tag+">")
		if i < 0 {
			return out
		}
		s = s[i+len(tag)+2:]
		j := strings.Index(s, "</"+tag+">")
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
	}
}

// runWSL runs Debian's wsl in a folder of its own (its config, history
// and response file live there) against endpoint and returns the response
// it saved.
func runWSL(t *testing.T, certFile string, plain bool, endpoint string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	// wsl verifies the server with ENDPOINT.crt when there is one.
	if crt, err := os.ReadFile(certFile); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(filepath.Join(dir, endpoint+".crt"), crt, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := "OUTLEVEL=1\nKEEPHISTORY=0\n"
	if plain {
		conf += "WSNOSSL=true\n"
	}
	if err := os.WriteFile(filepath.Join(dir, ".wsl-config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("wsl", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "WSENDPOINT="+endpoint, "WSUSER="+wsAdmin, "WSPASS="+wsAdminPass, "WSAUTOMATED=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("wsl %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	resp, err := os.ReadFile(filepath.Join(dir, "response.xml"))
	if err != nil {
		t.Fatalf("wsl %s saved no response: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return string(resp)
}

// pyWinRM drives python3-winrm's Protocol: its own SOAP headers
// (_get_soap_header, as its shell commands send them) around an
// optimized Enumerate pulled in pages of 2, an Identify, and a Get with a
// wrong selector whose WSManFault code it reports.
const pyWinRM = `
import json, sys, xmltodict
from winrm.protocol import Protocol
from winrm.exceptions import WinRMError
ep, user, pw, sid, ca = sys.argv[1:6]
p = Protocol(endpoint=ep, transport='basic', username=user, password=pw, server_cert_validation='validate', ca_trust_path=ca)
uri = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_LogonSession'
EN = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/'
def send(action, body, selectors=None):
    env = p._get_soap_header(resource_uri=uri, action=action)
    if selectors:
        env['env:Header']['w:SelectorSet'] = {'w:Selector': [{'@Name': k, '#text': v} for k, v in selectors.items()]}
    env['env:Body'] = body
    return xmltodict.parse(p.send_message(xmltodict.unparse({'env:Envelope': env})))['s:Envelope']['s:Body']
def items(node, key):
    if not node or key not in node:
        return []
    v = node[key]
    return v if isinstance(v, list) else [v]
out = {'ids': []}
r = send(EN + 'Enumerate', {'n:Enumerate': {'w:OptimizeEnumeration': None, 'w:MaxElements': '2'}})['n:EnumerateResponse']
out['ids'] += [i['p:LogonId'] for i in items(r.get('w:Items'), 'p:Linux_LogonSession')]
end, ctx = 'w:EndOfSequence' in r, r['n:EnumerationContext']
while not end:
    r = send(EN + 'Pull', {'n:Pull': {'n:EnumerationContext': ctx, 'n:MaxElements': '2'}})['n:PullResponse']
    out['ids'] += [i['p:LogonId'] for i in items(r.get('n:Items'), 'p:Linux_LogonSession')]
    end, ctx = 'n:EndOfSequence' in r, r.get('n:EnumerationContext', ctx)
r = send('http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', None, {'LogonId': sid})
out['user'] = r['p:Linux_LogonSession']['p:UserName']
try:
    send('http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', None, {'NoSuchKey': '1'})
except WinRMError as e:
    out['fault'] = str(e)
env = {'env:Envelope': {'@xmlns:env': 'http://www.w3.org/2003/05/soap-envelope', '@xmlns:wsmid': 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd', 'env:Header': None, 'env:Body': {'wsmid:Identify': None}}}
r = xmltodict.parse(p.send_message(xmltodict.unparse(env)))
out['identify'] = r['s:Envelope']['s:Body']['wsmid:IdentifyResponse']['wsmid:ProductVendor']
print(json.dumps(out))
`
