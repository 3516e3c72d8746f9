package server

import (
	"regexp"
	"strings"
	"testing"
)

// nsRequest is request in namespace ns (such as "root/interop").
func nsRequest(ns, method string, params ...string) string {
	var path strings.Builder
	for _, part := range strings.Split(ns, "/") {
		path.WriteString(`<NAMESPACE NAME="` + part + `"/>`)
	}
	return strings.Replace(request(method, params...), `<NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/>`, path.String(), 1)
}

// TestInteropAsPywbem makes the calls pywbem's WBEMServer makes, in its
// order, and checks what it reads of the answers: interop_ns probes
// EnumerateInstanceNames CIM_Namespace in interop, root/interop and
// root/PG_Interop, taking the first namespace that is not
// CIM_ERR_INVALID_NAMESPACE and the Name key of the paths; namespaces
// are the Names of EnumerateInstances CIM_Namespace; brand is the
// ElementName of the one CIM_ObjectManager and version what follows
// "version" in its Description; profiles are the instances of
// CIM_RegisteredProfile. Then what pywbemcli's class and instance
// commands do in that namespace.
func TestInteropAsPywbem(t *testing.T) {
	ts := startServer(t, serverOpts{noAuth: true})
	call := func(ns, method string, params ...string) string {
		t.Helper()
		resp, body := post(t, nil, ts.url, "", "", method, nsRequest(ns, method, params...),
			map[string]string{"CIMObject": strings.ReplaceAll(ns, "/", "%2F")})
		if resp.StatusCode != 200 {
			t.Fatalf("%s in %s: HTTP %d %s", method, ns, resp.StatusCode, resp.Header.Get("CIMError"))
		}
		mustValid(t, body)
		return string(body)
	}
	values := func(body, name string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<PROPERTY NAME="`+name+`" TYPE="string"[^>]*><VALUE>([^<]*)</VALUE>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}

	// _determine_interop_ns
	if b := call("interop", "EnumerateInstanceNames", pClass("ClassName", "CIM_Namespace")); !strings.Contains(b, `<ERROR CODE="3"`) {
		t.Fatalf("namespace interop: %s", b)
	}
	b := call("root/interop", "EnumerateInstanceNames", pClass("ClassName", "CIM_Namespace"))
	names := regexp.MustCompile(`<KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string"[^>]*>([^<]*)</KEYVALUE>`).FindAllStringSubmatch(b, -1)
	if strings.Count(b, "<INSTANCENAME ") != 2 || len(names) != 2 || names[1][1] != "root/interop" {
		t.Fatalf("CIM_Namespace names in root/interop: %s", b)
	}
	for _, k := range []string{"SystemCreationClassName", "SystemName", "ObjectManagerCreationClassName", "ObjectManagerName", "CreationClassName"} {
		if strings.Count(b, `<KEYBINDING NAME="`+k+`">`) != 2 {
			t.Errorf("CIM_Namespace paths lack the key %s: %s", k, b)
		}
	}
	// _determine_namespaces
	b = call("root/interop", "EnumerateInstances", pClass("ClassName", "CIM_Namespace"))
	if got := strings.Join(values(b, "Name"), ","); got != "root/cimv2,root/interop" {
		t.Errorf("namespaces %q: %s", got, b)
	}
	// _determine_brand
	b = call("root/interop", "EnumerateInstances", pClass("ClassName", "CIM_ObjectManager"))
	if strings.Count(b, "<VALUE.NAMEDINSTANCE>") != 1 {
		t.Fatalf("CIM_ObjectManager: %s", b)
	}
	if en := values(b, "ElementName"); len(en) != 1 || en[0] != "cimsess" {
		t.Errorf("brand (ElementName) %v", en)
	}
	desc := values(b, "Description")
	version := regexp.MustCompile(`(?i)^.* (?:version|release) *(.+)?$`) // pywbem's, for a brand it does not know
	if len(desc) != 1 || version.FindStringSubmatch(desc[0]) == nil || version.FindStringSubmatch(desc[0])[1] != "dev" {
		t.Errorf("version from Description %v", desc)
	}
	// _determine_profiles: none registered.
	b = call("root/interop", "EnumerateInstances", pClass("ClassName", "CIM_RegisteredProfile"))
	if !strings.Contains(b, "<IRETURNVALUE>") || strings.Contains(b, "<VALUE.NAMEDINSTANCE>") {
		t.Errorf("CIM_RegisteredProfile: %s", b)
	}

	// The namespace's classes and nothing else.
	b = call("root/interop", "EnumerateClassNames", pBool("DeepInheritance", true))
	for _, c := range []string{"CIM_ManagedElement", "CIM_Namespace", "CIM_RegisteredProfile", "CIM_Service", "CIM_ObjectManager"} {
		if !strings.Contains(b, `<CLASSNAME NAME="`+c+`"/>`) {
			t.Errorf("EnumerateClassNames in root/interop lacks %s: %s", c, b)
		}
	}
	if strings.Contains(b, "Win32_") {
		t.Errorf("root/interop has root/cimv2's classes: %s", b)
	}
	if b = call("root/interop", "GetClass", pClass("ClassName", "CIM_ObjectManager")); !strings.Contains(b, `<CLASS NAME="CIM_ObjectManager" SUPERCLASS="CIM_Service">`) {
		t.Errorf("GetClass CIM_ObjectManager: %s", b)
	}
	if b = call("root/interop", "EnumerateInstances", pClass("ClassName", "Win32_LogonSession")); !strings.Contains(b, `<ERROR CODE="5"`) {
		t.Errorf("Win32_LogonSession in root/interop: %s", b)
	}
	if b = call("root/cimv2", "EnumerateInstances", pClass("ClassName", "CIM_Namespace")); !strings.Contains(b, `<ERROR CODE="5"`) {
		t.Errorf("CIM_Namespace in root/cimv2: %s", b)
	}
	b = call("root/interop", "ExecQuery", pString("QueryLanguage", "WQL"), pString("Query", "SELECT Name FROM CIM_Namespace WHERE Name = 'ROOT/CIMV2'"))
	if strings.Count(b, "<VALUE.OBJECTWITHPATH>") != 1 || !strings.Contains(b, `<NAMESPACE NAME="interop"/>`) {
		t.Errorf("ExecQuery in root/interop: %s", b)
	}
	b = call("root/interop", "GetInstance", pInstance("InstanceName", "CIM_ObjectManager", "SystemCreationClassName", "CIM_ComputerSystem",
		"SystemName", testHost, "CreationClassName", "CIM_ObjectManager", "Name", "cimsess"))
	if !strings.Contains(b, `<INSTANCE CLASSNAME="CIM_ObjectManager">`) {
		t.Errorf("GetInstance CIM_ObjectManager: %s", b)
	}
	if b = call("root/interop", "CreateInstance", `<IPARAMVALUE NAME="NewInstance"><INSTANCE CLASSNAME="CIM_Namespace"/></IPARAMVALUE>`); !strings.Contains(b, `<ERROR CODE="7"`) {
		t.Errorf("CreateInstance CIM_Namespace: %s", b)
	}
}
