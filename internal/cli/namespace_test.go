package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// omPath is the path of the CIM_ObjectManager of host testhost, without
// its namespace.
const omPath = `CIM_ObjectManager.CreationClassName="CIM_ObjectManager",Name="cimsess",SystemCreationClassName="CIM_ComputerSystem",SystemName="testhost"`

// TestNamespaceLocal: --namespace reaches root/interop on this machine
// through every verb that reads classes or instances, in each of WMI's
// spellings, and the rows carry paths of that namespace.
func TestNamespaceLocal(t *testing.T) {
	for _, ns := range []string{"root/interop", `root\interop`, "ROOT/Interop", "/root/interop/"} {
		stdout, stderr, code := runCLI(t, "", "enum", "CIM_Namespace", "-n", ns, "--host", "testhost", "-o", "json")
		var rows []map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 2 {
			t.Fatalf("enum -n %s: exit %d, %s%s", ns, code, stdout, stderr)
		}
		if rows[1]["Name"] != "root/interop" || !strings.HasPrefix(rows[1]["__PATH"].(string), `\\testhost\root\interop:CIM_Namespace.`) {
			t.Errorf("enum -n %s: %v", ns, rows[1])
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enum", "CIM_ObjectManager", "--namespace", "root/interop", "-o", "list"}, "Name=cimsess\n"},
		{[]string{"enum", "CIM_ObjectManager", "--namespace", "root/interop", "-o", "csv"}, "CIM_ObjectManager,"},
		{[]string{"enum", "CIM_ObjectManager", "--namespace", "root/interop", "-o", "xml"}, `<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/>`},
		{[]string{"query", "SELECT Name FROM CIM_Namespace", "-n", "root/interop", "-o", "list"}, `__PATH=\\testhost\root\interop:CIM_Namespace.`},
		{[]string{"query", "SELECT __NAMESPACE, Name FROM CIM_ObjectManager", "-n", "root/interop", "-o", "csv"}, `root\interop,cimsess`},
		{[]string{"query", "SELECT Name FROM CIM_Namespace", "-n", "root/interop", "-o", "mof"}, `// __PATH = "\\\\testhost\\root\\interop:CIM_Namespace.`},
		{[]string{"get", omPath, "-n", "root/interop", "-o", "json"}, `"__PATH": "\\\\testhost\\root\\interop:CIM_ObjectManager.`},
		{[]string{"get", "root/interop:" + omPath}, "Started=true"},
		{[]string{"get", `//testhost/root/interop:` + omPath, "-n", "Root/Interop"}, "Started=true"},
		{[]string{"get", `\\.\ROOT\INTEROP:` + omPath}, "Started=true"},
		{[]string{"classes", "-n", "root/interop"}, "CIM_Namespace\n"},
		{[]string{"classes", "-n", `root\interop`, "-o", "json"}, `"name": "CIM_ObjectManager"`},
		{[]string{"class", "CIM_Namespace", "-n", "root/interop"}, "class CIM_Namespace : CIM_ManagedElement"},
		{[]string{"classes", "-n", "root/cimv2"}, "Win32_LogonSession"},
	} {
		stdout, stderr, code := runCLI(t, "", append(tc.args, "--host", "testhost")...)
		if tc.args[0] == "classes" || tc.args[0] == "class" {
			stdout, stderr, code = runCLI(t, "", tc.args...)
		}
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%q: exit %d, %s%s; want %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	// The classes of one namespace are not the other's.
	if stdout, _, _ := runCLI(t, "", "classes", "-n", "root/interop"); strings.Contains(stdout, "Win32_") {
		t.Errorf("classes of root/interop:\n%s", stdout)
	}
}

// TestNamespaceErrors: an unknown or malformed namespace is
// CIM_ERR_INVALID_NAMESPACE (exit 3) for every verb; a path naming
// another namespace than --namespace is a usage error; --fleet asks
// root/cimv2 only; a class asked in the namespace that lacks it names the
// one that has it.
func TestNamespaceErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"enum", "CIM_Namespace", "-n", "root/nothere"}, ExitInvalid, `CIM_ERR_INVALID_NAMESPACE: namespace "root/nothere" is not served`},
		{[]string{"query", "SELECT * FROM CIM_Namespace", "-n", "interop"}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"get", "root/default:" + omPath}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"classes", "-n", "root/nothere"}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"class", "CIM_Namespace", "-n", "root/nothere"}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"call", "Win32_Process=1", "GetOwner", "-n", "root/nothere"}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"watch", "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'CIM_Namespace'", "-n", "root/nothere"}, ExitInvalid, "CIM_ERR_INVALID_NAMESPACE"},
		{[]string{"enum", "CIM_Namespace", "-n", "root//interop"}, ExitInvalid, `"root//interop" is not a namespace`},
		{[]string{"enum", "CIM_Namespace", "-n", ""}, ExitInvalid, `"" is not a namespace`},
		{[]string{"enum", "CIM_Namespace", "-n", "root/inter op", "--remote", "http://127.0.0.1:1/wsman"}, ExitInvalid, `"root/inter op" is not a namespace`},
		{[]string{"get", "root/interop:" + omPath, "-n", "root/cimv2"}, ExitUsage, "names namespace root/interop, --namespace root/cimv2"},
		{[]string{"get", `\\testhost\root\cimv2:Win32_Process=1`, "-n", "root/interop"}, ExitUsage, "names namespace root/cimv2, --namespace root/interop"},
		{[]string{"call", "root/interop:" + omPath, "GetOwner", "-n", "root/cimv2"}, ExitUsage, "names namespace root/interop"},
		{[]string{"query", "SELECT * FROM CIM_Namespace", "-n", "root/interop", "--fleet"}, ExitUsage, "CIM_ERR_NOT_SUPPORTED: --fleet asks root/cimv2 only"},
		{[]string{"watch", "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'CIM_Namespace'", "-n", "root/interop", "--fleet"}, ExitUsage, "--fleet asks root/cimv2 only"},
		{[]string{"enum", "CIM_Namespace"}, ExitInvalid, `no class named "CIM_Namespace" in root/cimv2 (CIM_Namespace is a class of root/interop: --namespace root/interop)`},
		{[]string{"class", "cim_objectmanager"}, ExitInvalid, "(CIM_ObjectManager is a class of root/interop: --namespace root/interop)"},
		{[]string{"enum", "Win32_LogonSession", "-n", "root/interop"}, ExitInvalid, "(Win32_LogonSession is a class of root/cimv2: --namespace root/cimv2)"},
		// A path that names its namespace is moved by writing it again,
		// not by --namespace, which must agree with it.
		{[]string{"get", `root/interop:Linux_LogonSession.LogonId="x"`}, ExitInvalid, `(Linux_LogonSession is a class of root/cimv2: write root/cimv2:Linux_LogonSession.LogonId="x")`},
		{[]string{"get", `root/interop:Linux_LogonSession.LogonId="x"`, "-n", "root/interop"}, ExitInvalid, `(Linux_LogonSession is a class of root/cimv2: write root/cimv2:Linux_LogonSession.LogonId="x" with --namespace root/cimv2 or without --namespace)`},
		{[]string{"get", `Linux_LogonSession.LogonId="x"`, "-n", "root/interop"}, ExitInvalid, "(Linux_LogonSession is a class of root/cimv2: --namespace root/cimv2)"},
	} {
		_, stderr, code := runCLI(t, "", append(tc.args, "--host", "testhost")...)
		if tc.args[0] == "classes" || tc.args[0] == "class" {
			_, stderr, code = runCLI(t, "", tc.args...)
		}
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
