package server

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCases are one request per operation and per flag that changes an
// answer; each response is checked against testdata/golden/NAME.xml and
// against the DSP0201 structure.
var goldenCases = []struct {
	name, method string
	params       []string
	contains     []string // fragments the response must hold, whatever the golden file says
}{
	{"EnumerateInstances", "EnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession"), pBool("DeepInheritance", true),
		pBool("LocalOnly", false), pBool("IncludeQualifiers", false), pBool("IncludeClassOrigin", true)},
		[]string{`<VALUE.NAMEDINSTANCE><INSTANCENAME CLASSNAME="Linux_LogonSession"><KEYBINDING NAME="LogonId"><KEYVALUE VALUETYPE="string" TYPE="string">1001</KEYVALUE>`,
			`<PROPERTY NAME="LogonType" TYPE="uint32" CLASSORIGIN="Win32_LogonSession" PROPAGATED="true"><VALUE>10</VALUE></PROPERTY>`,
			`<PROPERTY NAME="StartTime" TYPE="datetime" CLASSORIGIN="Win32_Session" PROPAGATED="true"><VALUE>20260115093000.000000+060</VALUE>`,
			`<PROPERTY NAME="IdleTime" TYPE="datetime" CLASSORIGIN="Linux_LogonSession"><VALUE>00000000000130.000000:000</VALUE>`,
			`<VALUE>quotes " &amp; &lt;angle&gt; 'apos'</VALUE>`}},
	{"EnumerateInstances_shallowprops", "EnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession"), pBool("DeepInheritance", false)},
		[]string{`<INSTANCE CLASSNAME="Linux_LogonSession"><PROPERTY NAME="Caption" TYPE="string">`}},
	{"EnumerateInstances_propertylist", "EnumerateInstances", []string{pClass("ClassName", "Win32_Session"), pList("PropertyList", "LogonId", "UserName")},
		[]string{`<INSTANCE CLASSNAME="Linux_LogonSession"><PROPERTY NAME="LogonId" TYPE="string"><VALUE>1001</VALUE></PROPERTY><PROPERTY NAME="UserName" TYPE="string"><VALUE>alice</VALUE></PROPERTY></INSTANCE>`}},
	{"EnumerateInstances_localonly", "EnumerateInstances", []string{pClass("ClassName", "Linux_LogonSession"), pBool("LocalOnly", true), pList("PropertyList", "LogonId", "TTY")},
		[]string{`<INSTANCE CLASSNAME="Linux_LogonSession"><PROPERTY NAME="TTY" TYPE="string"><VALUE>pts/0</VALUE></PROPERTY></INSTANCE>`}},
	{"EnumerateInstances_qualifiers", "EnumerateInstances", []string{pClass("ClassName", "Win32_UserAccount"), pBool("IncludeQualifiers", true)},
		[]string{`<QUALIFIER NAME="Key" TYPE="boolean" OVERRIDABLE="false"><VALUE>TRUE</VALUE></QUALIFIER>`}},
	{"EnumerateInstances_abstract_empty", "EnumerateInstances", []string{pClass("ClassName", "Win32_ServerSession")},
		[]string{"<IRETURNVALUE>\n</IRETURNVALUE>"}},
	{"EnumerateInstances_invalidclass", "EnumerateInstances", []string{pClass("ClassName", "Win32_Nothing")},
		[]string{`<ERROR CODE="5"`}},
	{"EnumerateInstanceNames", "EnumerateInstanceNames", []string{pClass("ClassName", "Win32_Session")},
		[]string{"<IRETURNVALUE>\n" + `<INSTANCENAME CLASSNAME="Linux_LogonSession"><KEYBINDING NAME="LogonId"><KEYVALUE VALUETYPE="string" TYPE="string">1001</KEYVALUE></KEYBINDING></INSTANCENAME>`}},
	{"GetInstance", "GetInstance", []string{pInstance("InstanceName", "Win32_LogonSession", "LogonId", "1002"), pBool("IncludeClassOrigin", true)},
		[]string{"<IRETURNVALUE>\n" + `<INSTANCE CLASSNAME="Linux_LogonSession">`, `<PROPERTY NAME="Seat" TYPE="string" CLASSORIGIN="Linux_LogonSession"><VALUE>seat0</VALUE>`}},
	{"GetInstance_notfound", "GetInstance", []string{pInstance("InstanceName", "Win32_LogonSession", "LogonId", "9999")},
		[]string{`<ERROR CODE="6"`}},
	{"GetInstance_badkey", "GetInstance", []string{pInstance("InstanceName", "Win32_LogonSession", "Bogus", "1")},
		[]string{`<ERROR CODE="4"`}},
	{"GetInstance_useraccount", "GetInstance", []string{pInstance("InstanceName", "Win32_UserAccount", "Domain", testHost, "Name", "bob")},
		[]string{`<PROPERTY NAME="Domain" TYPE="string"><VALUE>testhost</VALUE>`, `<VALUE>Test User 2</VALUE>`}},
	{"GetProperty", "GetProperty", []string{pInstance("InstanceName", "Win32_LogonSession", "LogonId", "1001"), pString("PropertyName", "RemoteHost")},
		[]string{"<IRETURNVALUE>\n" + `<VALUE>client.example</VALUE></IRETURNVALUE>`}},
	{"GetClass", "GetClass", []string{pClass("ClassName", "Win32_LogonSession"), pBool("LocalOnly", false), pBool("IncludeQualifiers", true), pBool("IncludeClassOrigin", true)},
		[]string{`<CLASS NAME="Win32_LogonSession" SUPERCLASS="Win32_Session">`, `<PROPERTY NAME="LogonId" TYPE="string" CLASSORIGIN="Win32_LogonSession"><QUALIFIER NAME="Key" TYPE="boolean" OVERRIDABLE="false"><VALUE>TRUE</VALUE>`,
			`<PROPERTY NAME="Caption" TYPE="string" CLASSORIGIN="CIM_ManagedSystemElement" PROPAGATED="true">`, `<QUALIFIER NAME="MaxLen" TYPE="uint32"><VALUE>64</VALUE>`}},
	{"GetClass_localonly", "GetClass", []string{pClass("ClassName", "Win32_LoggedOnUser"), pBool("IncludeQualifiers", false)},
		[]string{`<PROPERTY.REFERENCE NAME="Antecedent" REFERENCECLASS="Win32_Account"></PROPERTY.REFERENCE>`}},
	{"GetClass_notfound", "GetClass", []string{pClass("ClassName", "Nope")},
		[]string{`<ERROR CODE="6"`}},
	{"EnumerateClasses", "EnumerateClasses", []string{pClass("ClassName", "Win32_Session"), pBool("DeepInheritance", true), pBool("LocalOnly", false),
		pBool("IncludeQualifiers", false), pBool("IncludeClassOrigin", true)},
		[]string{`<CLASS NAME="Win32_LogonSession" SUPERCLASS="Win32_Session">`, `<CLASS NAME="Linux_LogonSession" SUPERCLASS="Win32_LogonSession">`}},
	{"EnumerateClassNames", "EnumerateClassNames", []string{pBool("DeepInheritance", true)},
		[]string{`<CLASSNAME NAME="Win32_LogonSession"/>`, `<CLASSNAME NAME="CIM_ManagedSystemElement"/>`}},
	{"EnumerateClassNames_roots", "EnumerateClassNames", nil,
		[]string{`<CLASSNAME NAME="CIM_ManagedSystemElement"/>`}},
	{"Associators", "Associators", []string{pInstance("ObjectName", "Linux_LogonSession", "LogonId", "1001"), pBool("IncludeClassOrigin", false)},
		[]string{`<VALUE.OBJECTWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>testhost</HOST><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME="Win32_UserAccount">`}},
	{"AssociatorNames", "AssociatorNames", []string{pInstance("ObjectName", "Win32_UserAccount", "Domain", testHost, "Name", "alice"), pClass("ResultClass", "Win32_LogonSession")},
		[]string{`<OBJECTPATH><INSTANCEPATH>`, `<KEYVALUE VALUETYPE="string" TYPE="string">1003</KEYVALUE>`}},
	{"References", "References", []string{pInstance("ObjectName", "Win32_LogonSession", "LogonId", "1002")},
		[]string{`<PROPERTY.REFERENCE NAME="Antecedent" REFERENCECLASS="Win32_Account"><VALUE.REFERENCE><INSTANCEPATH>`}},
	{"ReferenceNames", "ReferenceNames", []string{pInstance("ObjectName", "Win32_LogonSession", "LogonId", "1002"), pString("Role", "Dependent")},
		[]string{`<INSTANCENAME CLASSNAME="Win32_LoggedOnUser"><KEYBINDING NAME="Antecedent"><VALUE.REFERENCE><INSTANCEPATH>`}},
	// DSP0200: References' ResultClass filters the associations returned;
	// a class that is no association passes none (not an error).
	{"References_resultclass_notassoc", "References", []string{pInstance("ObjectName", "Win32_LogonSession", "LogonId", "1002"), pClass("ResultClass", "Win32_Process")},
		[]string{`<IMETHODRESPONSE NAME="References"><IRETURNVALUE>` + "\n" + `</IRETURNVALUE>`}},
	{"ReferenceNames_class_resultclass_notassoc", "ReferenceNames", []string{pClass("ObjectName", "Win32_UserAccount"), pClass("ResultClass", "Win32_Process")},
		[]string{`<IMETHODRESPONSE NAME="ReferenceNames"><IRETURNVALUE>` + "\n" + `</IRETURNVALUE>`}},
	{"Associators_assocclass_notassoc", "Associators", []string{pInstance("ObjectName", "Win32_LogonSession", "LogonId", "1002"), pClass("AssocClass", "Win32_Process")},
		[]string{`<ERROR CODE="4"`}},
	{"Associators_class", "Associators", []string{pClass("ObjectName", "Win32_LogonSession"), pClass("ResultClass", "Win32_Account")},
		[]string{`<VALUE.OBJECTWITHPATH><CLASSPATH><NAMESPACEPATH><HOST>testhost</HOST>`, `<CLASSNAME NAME="Win32_Account"/></CLASSPATH><CLASS NAME="Win32_Account" SUPERCLASS="CIM_LogicalElement">`}},
	{"AssociatorNames_class", "AssociatorNames", []string{pClass("ObjectName", "Win32_LogonSession")},
		[]string{`<OBJECTPATH><CLASSPATH>`, `<CLASSNAME NAME="Win32_Process"/>`, `<CLASSNAME NAME="Win32_Account"/>`}},
	{"ReferenceNames_class", "ReferenceNames", []string{pClass("ObjectName", "Win32_UserAccount")},
		[]string{`<OBJECTPATH><CLASSPATH>`, `<CLASSNAME NAME="Win32_LoggedOnUser"/>`}},
	{"ExecQuery_metaclass", "ExecQuery", []string{pString("QueryLanguage", "WQL"), pString("Query", "SELECT * FROM meta_class WHERE __CLASS LIKE 'Win32_%Session'")},
		[]string{`<CLASSNAME NAME="Win32_LogonSession"/></CLASSPATH><CLASS NAME="Win32_LogonSession" SUPERCLASS="Win32_Session">`}},
	{"ExecQuery_noquery", "ExecQuery", []string{pString("QueryLanguage", "WQL")}, []string{`<ERROR CODE="4"`}},
	{"EnumerateInstances_unknownparam", "EnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession"), pBool("Frobnicate", true)},
		[]string{`<ERROR CODE="4"`, `has no parameter Frobnicate`}},
	{"EnumerateInstances_duplicateparam", "EnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession"), pBool("DeepInheritance", true), pBool("deepinheritance", false)},
		[]string{`<ERROR CODE="4"`, `given twice`}},
	{"EnumerateQualifiers", "EnumerateQualifiers", nil,
		[]string{`<QUALIFIER.DECLARATION NAME="Key" TYPE="boolean" ISARRAY="false" OVERRIDABLE="false"><SCOPE REFERENCE="true" PROPERTY="true"/></QUALIFIER.DECLARATION>`,
			`<QUALIFIER.DECLARATION NAME="MaxLen" TYPE="uint32" ISARRAY="false" OVERRIDABLE="true">`}},
	{"GetQualifier", "GetQualifier", []string{pString("QualifierName", "association")},
		[]string{`<IRETURNVALUE>` + "\n" + `<QUALIFIER.DECLARATION NAME="Association" TYPE="boolean" ISARRAY="false" OVERRIDABLE="false"><SCOPE ASSOCIATION="true"/>`}},
	{"GetQualifier_notfound", "GetQualifier", []string{pString("QualifierName", "Nope")}, []string{`<ERROR CODE="6"`}},
	{"ExecQuery_language", "ExecQuery", []string{pString("QueryLanguage", "CQL"), pString("Query", "SELECT * FROM Win32_Session")},
		[]string{`<ERROR CODE="14"`}},
	{"ExecQuery", "ExecQuery", []string{pString("QueryLanguage", "WQL"), pString("Query", "SELECT * FROM Win32_Session WHERE Status <> 'OK'")},
		[]string{`<VALUE.OBJECTWITHPATH><INSTANCEPATH>`, `<VALUE>Lost Comm</VALUE>`}},
	{"ExecQuery_invalid", "ExecQuery", []string{pString("QueryLanguage", "WQL"), pString("Query", "SELECT Nope FROM Win32_Session")},
		[]string{`<ERROR CODE="15"`}},
	{"InvalidNamespace", "EnumerateInstances", nil, []string{`<ERROR CODE="3"`}},
	{"CreateInstance", "CreateInstance", []string{`<IPARAMVALUE NAME="NewInstance"><INSTANCE CLASSNAME="Linux_LogonSession"/></IPARAMVALUE>`},
		[]string{`<IMETHODRESPONSE NAME="CreateInstance"><ERROR CODE="7"`}},
	{"OpenEnumerateInstances", "OpenEnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession")},
		[]string{`<ERROR CODE="7"`}},
	{"UnknownMethod", "Frobnicate", nil, []string{`<IMETHODRESPONSE NAME="Frobnicate"><ERROR CODE="7"`}},
	{"MissingClassName", "EnumerateInstances", nil, []string{`<ERROR CODE="4"`}},
	{"BadBoolean", "EnumerateInstances", []string{pClass("ClassName", "Win32_LogonSession"), `<IPARAMVALUE NAME="DeepInheritance"><VALUE>maybe</VALUE></IPARAMVALUE>`},
		[]string{`<ERROR CODE="4"`}},
}

func TestGolden(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			body := request(tc.method, tc.params...)
			extra := map[string]string{}
			if tc.name == "InvalidNamespace" {
				body = strings.Replace(request(tc.method, pClass("ClassName", "Win32_LogonSession")), `<NAMESPACE NAME="cimv2"/>`, `<NAMESPACE NAME="default"/>`, 1)
				extra["CIMObject"] = "root/default"
			}
			resp, got := post(t, nil, ts.url, "root", rootPass, tc.method, body, extra)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d: %s", resp.StatusCode, got)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
				t.Errorf("Content-Type %q", ct)
			}
			if op := resp.Header.Get("CIMOperation"); op != "MethodResponse" {
				t.Errorf("CIMOperation %q", op)
			}
			mustValid(t, got)
			for _, c := range tc.contains {
				if !bytes.Contains(got, []byte(c)) {
					t.Errorf("response lacks %s\n%s", c, got)
				}
			}
			checkGolden(t, tc.name, got)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".xml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s (run with -update if the change is right)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestExecQuery(t *testing.T) {
	ts := startServer(t, serverOpts{})
	if ts.srv.query == nil {
		t.Skip("the object manager has no ExecQuery")
	}
	body := request("ExecQuery", pString("QueryLanguage", "WQL"), pString("Query", "SELECT LogonId, UserName FROM Linux_LogonSession"))
	resp, got := post(t, nil, ts.url, "bob", bobPass, "ExecQuery", body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	mustValid(t, got)
	for _, want := range []string{`<VALUE.OBJECTWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>testhost</HOST>`,
		`<INSTANCE CLASSNAME="Linux_LogonSession"><PROPERTY NAME="LogonId" TYPE="string"><VALUE>1002</VALUE></PROPERTY><PROPERTY NAME="UserName" TYPE="string"><VALUE>bob</VALUE></PROPERTY></INSTANCE>`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("response lacks %s\n%s", want, got)
		}
	}
	if bytes.Contains(got, []byte("alice")) {
		t.Errorf("bob sees alice's sessions:\n%s", got)
	}
}
