package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// soap wraps a body in a SOAP envelope as a WS-Man service answers.
func soap(body string) string {
	return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" ` +
		`xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_LogonSession">` +
		`<s:Header/><s:Body>` + body + `</s:Body></s:Envelope>`
}

// hostile starts a server answering every request with answer.
func hostile(t *testing.T, answer http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(answer)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRemoteAgainstHostileServers: what --remote does with servers that
// lie, never end or try to steal the password, each reproduced from a
// review: no password leaves for a redirect's target or shows in a
// message, nothing a server says reaches the terminal unescaped, an
// enumeration that never ends is given up, and an answer that is not what
// was asked is an error, not a result.
func TestRemoteAgainstHostileServers(t *testing.T) {
	t.Setenv("CIMSESS_PASSWORD", "Hunter2")

	// The password in the URL: refused before anything is sent, and not
	// shown.
	_, stderr, code := runCLI(t, "", "enum", "Win32_LogonSession", "--remote", "http://admin:Hunter2@127.0.0.1:1/wsman")
	if code != ExitUsage || strings.Contains(stderr, "Hunter2") || !strings.Contains(stderr, "--user") {
		t.Errorf("a password in the URL: exit %d, %q", code, stderr)
	}

	// A redirect: not followed, so the password does not go with it.
	var stolen atomic.Bool
	thief := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			stolen.Store(true)
		}
	})
	redirector := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief+"/wsman", http.StatusTemporaryRedirect)
	})
	for _, path := range []string{"/wsman", "/cimom"} {
		_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--remote", redirector+path, "--user", "admin")
		if code == 0 || stolen.Load() || !strings.Contains(stderr, "redirect") {
			t.Errorf("a redirect of %s: exit %d, password sent on %v, %q", path, code, stolen.Load(), stderr)
		}
	}

	// What the server says, escaped.
	escapes := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "\x1b]0;pwned\a\x1b[2J\x1b[31mFAKE: password accepted\u202e")
	})
	for _, path := range []string{"/wsman", "/cimom"} {
		_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--remote", escapes+path)
		if code == 0 || strings.ContainsAny(stderr, "\x1b\a\u202e") || !strings.Contains(stderr, `\x1b]0;pwned`) {
			t.Errorf("a server's escapes over %s: exit %d, %q", path, code, stderr)
		}
	}

	// An enumeration that never ends: given up.
	var pulls atomic.Int64
	endless := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "<wsen:Pull") || strings.Contains(string(b), ":Pull>") || strings.Contains(string(b), "Pull xmlns") {
			pulls.Add(1)
			io.WriteString(w, soap(`<n:PullResponse><n:EnumerationContext>c1</n:EnumerationContext><n:Items/></n:PullResponse>`))
			return
		}
		io.WriteString(w, soap(`<n:EnumerateResponse><n:EnumerationContext>c1</n:EnumerationContext></n:EnumerateResponse>`))
	})
	_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--remote", endless+"/wsman")
	if code == 0 || !strings.Contains(stderr, "in a row") || pulls.Load() > 40 {
		t.Errorf("an endless enumeration: exit %d after %d pulls, %q", code, pulls.Load(), stderr)
	}

	// Another instance than the one asked for, and one without its key.
	other := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, soap(`<p:Win32_LogonSession><p:LogonId>999</p:LogonId><p:AuthenticationPackage>evil</p:AuthenticationPackage></p:Win32_LogonSession>`))
	})
	_, stderr, code = runCLI(t, "", "get", `Win32_LogonSession.LogonId="348"`, "--remote", other+"/wsman")
	if code == 0 || !strings.Contains(stderr, "when asked for") {
		t.Errorf("another instance than asked: exit %d, %q", code, stderr)
	}
	keyless := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, soap(`<n:EnumerateResponse><w:Items><p:Win32_LogonSession><p:Name>x</p:Name></p:Win32_LogonSession></w:Items><w:EndOfSequence/></n:EnumerateResponse>`))
	})
	_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--remote", keyless+"/wsman")
	if code == 0 || !strings.Contains(stderr, "without its key LogonId") {
		t.Errorf("an instance without its key: exit %d, %q", code, stderr)
	}

	// A CIM-XML error whose code is no failure's: still a failure.
	oddCode := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLERSP>`+
			`<IMETHODRESPONSE NAME="EnumerateInstances"><ERROR CODE="0" DESCRIPTION="odd"/></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`)
	})
	_, stderr, code = runCLI(t, "", "enum", "Win32_LogonSession", "--remote", oddCode+"/cimom")
	if code == 0 || !strings.Contains(stderr, "CIM_ERR_FAILED") || !strings.Contains(stderr, `code "0"`) {
		t.Errorf("an ERROR of code 0: exit %d, %q", code, stderr)
	}
}

// TestPlainNATSOffLoopback: the NATS URLs a warning names.
func TestPlainNATSOffLoopback(t *testing.T) {
	got := PlainOffLoopback("nats://127.0.0.1:4222, nats://hub.example.com:4222,tls://hub.example.com:4222,nats://u:secret@[::1]:4222,nats://u:secret@10.0.0.1:4222")
	if strings.Join(got, " ") != "nats://hub.example.com:4222 nats://u:xxxxx@10.0.0.1:4222" {
		t.Errorf("%q", got)
	}
}

// TestRemoteAnswersOfAnotherClass: a host that answers every request
// with logon sessions. An instance of a class this schema knows is
// refused when it is not of the class asked or under it, the class asked
// known here (Win32_Process) or not (Win32_OperatingSystem, which no
// class known here is under), by enum and by a SELECT alike; a projection
// keeps working without its keys; an instance of a class this schema does
// not know, and the rows of ASSOCIATORS OF and meta_class, are taken.
func TestRemoteAnswersOfAnotherClass(t *testing.T) {
	var answer atomic.Value
	answer.Store(`<p:Win32_LogonSession><p:LogonId>999</p:LogonId><p:Name>sess</p:Name></p:Win32_LogonSession>`)
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, soap(`<n:EnumerateResponse><w:Items>`+answer.Load().(string)+`</w:Items><w:EndOfSequence/></n:EnumerateResponse>`))
	}) + "/wsman"
	for _, args := range [][]string{
		{"query", "SELECT * FROM Win32_Process"},
		{"query", "SELECT * FROM Win32_OperatingSystem"},
		{"query", "select Caption from win32_operatingsystem where Caption like '%'"},
		{"enum", "Win32_OperatingSystem"},
		{"enum", "Win32_Process"},
	} {
		stdout, stderr, code := runCLI(t, "", append(args, "--remote", url)...)
		if code == 0 || strings.Contains(stdout, "999") || !strings.Contains(stderr, "sent an instance of Win32_LogonSession for") {
			t.Errorf("%q: exit %d, %q %q", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{
		{"query", "SELECT * FROM Win32_LogonSession"},
		{"query", "SELECT LogonId FROM Win32_Session"},
		{"query", "SELECT * FROM CIM_ManagedSystemElement"},
		{"query", `ASSOCIATORS OF {Win32_Process.Handle="1"}`},
		{"query", "SELECT * FROM meta_class"},
		{"enum", "Win32_Session"},
	} {
		stdout, stderr, code := runCLI(t, "", append(args, "--remote", url)...)
		if code != 0 || !strings.Contains(stdout, "999") {
			t.Errorf("%q: exit %d, %q %q", args, code, stdout, stderr)
		}
	}
	// A projection's rows without their keys, and rows of a class this
	// schema does not know.
	answer.Store(`<p:Win32_LogonSession><p:Name>keyless</p:Name></p:Win32_LogonSession>`)
	if stdout, stderr, code := runCLI(t, "", "query", "SELECT Name FROM Win32_LogonSession", "--remote", url); code != 0 || !strings.Contains(stdout, "keyless") {
		t.Errorf("a projection without keys: exit %d, %q %q", code, stdout, stderr)
	}
	answer.Store(`<p:Win32_OperatingSystem><p:Caption>Windows</p:Caption></p:Win32_OperatingSystem>`)
	for _, args := range [][]string{{"query", "SELECT * FROM Win32_OperatingSystem"}, {"enum", "Win32_OperatingSystem"}} {
		if stdout, stderr, code := runCLI(t, "", append(args, "--remote", url)...); code != 0 || !strings.Contains(stdout, "Windows") {
			t.Errorf("%q, a class this schema does not know: exit %d, %q %q", args, code, stdout, stderr)
		}
	}
}

// TestRemoteNamespace: --remote asks the namespace --namespace names, or
// the one a get's path names, of either protocol (WS-Man in the resource
// URI, as WinRM reads it; CIM-XML in LOCALNAMESPACEPATH), where it used to
// refuse a path naming another namespace than root/cimv2; a path whose
// namespace disagrees with --namespace is refused before anything is
// sent.
func TestRemoteNamespace(t *testing.T) {
	var asked atomic.Value
	asked.Store("")
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		asked.Store(string(b))
		http.Error(w, "no", http.StatusServiceUnavailable)
	})
	om := `CIM_ObjectManager.CreationClassName="CIM_ObjectManager",Name="cimsess",SystemCreationClassName="CIM_ComputerSystem",SystemName="h"`
	for _, tc := range []struct {
		path string
		args []string
		want string
	}{
		{"/wsman", []string{"enum", "CIM_Namespace", "-n", `ROOT\Interop`}, "wmi/root/interop/CIM_Namespace<"},
		{"/wsman", []string{"get", "root/interop:" + om}, "wmi/root/interop/CIM_ObjectManager<"},
		{"/wsman", []string{"query", "SELECT * FROM CIM_Namespace", "--namespace", "root/interop"}, "wmi/root/interop/*<"},
		{"/cimom", []string{"enum", "CIM_Namespace", "-n", "root/interop"}, `<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/>`},
		{"/cimom", []string{"get", "//h/root/interop:" + om}, `<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/>`},
		{"/cimom", []string{"enum", "Win32_Session"}, `<NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/>`},
	} {
		asked.Store("")
		_, stderr, code := runCLI(t, "", append(tc.args, "--remote", url+tc.path)...)
		if code == 0 || !strings.Contains(asked.Load().(string), tc.want) {
			t.Errorf("%q over %s: exit %d, %s; asked %s, want %s in it", tc.args, tc.path, code, stderr, asked.Load(), tc.want)
		}
	}
	asked.Store("")
	_, stderr, code := runCLI(t, "", "get", "root/interop:"+om, "-n", "root/cimv2", "--remote", url+"/wsman")
	if code != ExitUsage || asked.Load() != "" || !strings.Contains(stderr, "names namespace root/interop, --namespace root/cimv2") {
		t.Errorf("a path of another namespace than --namespace: exit %d, %s (sent: %q)", code, stderr, asked.Load())
	}
}

// TestRemoteUnservedNamespace: a namespace this program does not serve
// goes to the --remote host as written, and what it answers is printed,
// untyped and unchecked (no schema here knows its classes). No schema
// here names the keys of its classes (nor of a class of root/cimv2 this
// schema lacks): a WS-Man enumeration asks each instance's path with it
// (EnumerateObjectAndEPR), and the instances have their keys. A host that
// sends the objects alone (as the first server here) gives paths without
// keys, which MOF still writes as instances, not as classes.
func TestRemoteUnservedNamespace(t *testing.T) {
	var asked atomic.Value
	asked.Store("")
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		asked.Store(string(b))
		io.WriteString(w, soap(`<n:EnumerateResponse><w:Items><p:MSFT_NetAdapter><p:Name>eth0</p:Name><p:Speed>1000</p:Speed></p:MSFT_NetAdapter></w:Items><w:EndOfSequence/></n:EnumerateResponse>`))
	}) + "/wsman"
	for _, f := range []string{"table", "list", "json", "csv", "xml", "mof"} {
		stdout, stderr, code := runCLI(t, "", "enum", "MSFT_NetAdapter", "-n", `root\StandardCimv2`, "-o", f, "--remote", url)
		if code != 0 || !strings.Contains(stdout, "eth0") || !strings.Contains(asked.Load().(string), "wmi/root/StandardCimv2/MSFT_NetAdapter<") ||
			!strings.Contains(asked.Load().(string), "<w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode>") {
			t.Errorf("-o %s: exit %d, %s%s; asked %s", f, code, stdout, stderr, asked.Load())
		}
		if f == "mof" && (!strings.Contains(stdout, "instance of MSFT_NetAdapter\n{\n\tName = \"eth0\";") || strings.Contains(stdout, "declaration is not")) {
			t.Errorf("-o mof: %s", stdout)
		}
	}

	// A host that sends each object with its reference (the first page
	// object first, the page pulled after it reference first).
	epr := func(ns, class, id string) string {
		return `<a:EndpointReference xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>` +
			`<a:ReferenceParameters><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/` + ns + `/` + class + `</w:ResourceURI><w:SelectorSet>` +
			`<w:Selector Name="CreationClassName">` + class + `</w:Selector><w:Selector Name="DeviceID">` + id + `</w:Selector></w:SelectorSet></a:ReferenceParameters></a:EndpointReference>`
	}
	url = hostile(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := string(b)
		ns, class := "root/StandardCimv2", "MSFT_NetAdapter"
		if strings.Contains(req, "root/cimv2/Win32_OperatingSystem<") {
			ns, class = "root/cimv2", "Win32_OperatingSystem"
		}
		obj := func(name, id string) string {
			return `<p:` + class + `><p:DeviceID>` + id + `</p:DeviceID><p:Name>` + name + `</p:Name><p:Speed>1000</p:Speed></p:` + class + `>`
		}
		switch {
		case strings.Contains(req, "enumeration/Pull<"):
			io.WriteString(w, soap(`<n:PullResponse><n:Items><w:Item>`+epr(ns, class, "{2}")+obj("eth1", "{2}")+`</w:Item></n:Items><n:EndOfSequence/></n:PullResponse>`))
		case strings.Contains(req, "EnumerateObjectAndEPR"):
			io.WriteString(w, soap(`<n:EnumerateResponse><n:EnumerationContext>ctx</n:EnumerationContext><w:Items><w:Item>`+obj("eth0", "{1}")+epr(ns, class, "{1}")+`</w:Item></w:Items></n:EnumerateResponse>`))
		default:
			http.Error(w, "not asked with EnumerateObjectAndEPR", http.StatusBadRequest)
		}
	}) + "/wsman"
	for _, args := range [][]string{{"enum", "MSFT_NetAdapter", "-n", `root\StandardCimv2`}, {"enum", "Win32_OperatingSystem"}} {
		class := args[1]
		for _, f := range []string{"mof", "json", "xml"} {
			stdout, stderr, code := runCLI(t, "", append(args, "-o", f, "--remote", url)...)
			var want []string
			switch f {
			case "mof":
				want = []string{"instance of " + class + "\n{\n\tDeviceID = \"{1}\";\n\tName = \"eth0\";\n\tSpeed = \"1000\";\n};", "instance of " + class + "\n{\n\tDeviceID = \"{2}\";\n\tName = \"eth1\";"}
			case "json":
				want = []string{`:` + class + `.CreationClassName=\"` + class + `\",DeviceID=\"{1}\"`, `DeviceID=\"{2}\"`}
			case "xml":
				want = []string{`<INSTANCENAME CLASSNAME="` + class + `"><KEYBINDING NAME="CreationClassName">`, `<KEYBINDING NAME="DeviceID"><KEYVALUE VALUETYPE="string" TYPE="string">{1}</KEYVALUE>`, `{2}</KEYVALUE>`}
			}
			for _, wnt := range want {
				if code != 0 || !strings.Contains(stdout, wnt) || strings.Contains(stdout, "declaration is not") {
					t.Errorf("%q -o %s: exit %d, lacks %s:\n%s%s", args, f, code, wnt, stdout, stderr)
				}
			}
		}
	}
}

// TestRemoteGetUnknownClass: neither a WS-Man GetResponse nor a CIM-XML
// GetInstance answer (a plain INSTANCE, as DSP0200 has it) carries a
// path, and no schema here tells the keys of a class of a namespace this
// program does not serve, or of one of root/cimv2 it lacks: the instance
// takes the path asked, and only its class is compared with the one
// asked, where every such get used to fail ("sent MSFT_NetAdapter when
// asked for MSFT_NetAdapter.CreationClassName=…").
func TestRemoteGetUnknownClass(t *testing.T) {
	var class atomic.Value
	class.Store("MSFT_NetAdapter")
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := class.Load().(string)
		if strings.HasSuffix(r.URL.Path, "/cimom") {
			if !strings.Contains(string(b), `IMETHODCALL NAME="GetInstance"`) {
				http.Error(w, "not a GetInstance", http.StatusBadRequest)
				return
			}
			io.WriteString(w, `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLERSP>`+
				`<IMETHODRESPONSE NAME="GetInstance"><IRETURNVALUE><INSTANCE CLASSNAME="`+c+`">`+
				`<PROPERTY NAME="DeviceID" TYPE="string"><VALUE>{1234}</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>eth0</VALUE></PROPERTY>`+
				`</INSTANCE></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`)
			return
		}
		if !strings.Contains(string(b), "transfer/Get<") {
			http.Error(w, "not a Get", http.StatusBadRequest)
			return
		}
		io.WriteString(w, soap(`<p:`+c+`><p:DeviceID>{1234}</p:DeviceID><p:Name>eth0</p:Name></p:`+c+`>`))
	})
	adapter := `MSFT_NetAdapter.CreationClassName="MSFT_NetAdapter",DeviceID="{1234}",SystemCreationClassName="CIM_NetworkPort",SystemName="win1"`
	for _, proto := range []string{"/wsman", "/cimom"} {
		for _, args := range [][]string{
			{"get", "root/StandardCimv2:" + adapter, "-o", "json"},
			{"get", adapter, "-n", `root\StandardCimv2`, "-o", "json"},
			{"get", adapter, "-o", "json"}, // root/cimv2, which lacks it
		} {
			class.Store("MSFT_NetAdapter")
			stdout, stderr, code := runCLI(t, "", append(args, "--remote", url+proto)...)
			if code != 0 || !strings.Contains(stdout, `"Name": "eth0"`) || !strings.Contains(stdout, `DeviceID=\"{1234}\"`) {
				t.Errorf("%q over %s: exit %d, %s%s", args, proto, code, stdout, stderr)
			}
			// Another class than asked, which no schema here relates to it.
			class.Store("MSFT_Other")
			stdout, stderr, code = runCLI(t, "", append(args, "--remote", url+proto)...)
			if code == 0 || strings.Contains(stdout, "eth0") || !strings.Contains(stderr, "when asked for") {
				t.Errorf("%q over %s, another class: exit %d, %s%s", args, proto, code, stdout, stderr)
			}
		}
	}
}
