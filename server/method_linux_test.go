package server

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/schema"
)

// methodCall is a METHODCALL of Win32_Process.Handle=pid.
func methodCall(method string, pid int, params string) string {
	return fmt.Sprintf(`<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="9" PROTOCOLVERSION="1.0"><SIMPLEREQ><METHODCALL NAME="%s"><LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME="Win32_Process"><KEYBINDING NAME="Handle"><KEYVALUE VALUETYPE="string">%d</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH>%s</METHODCALL></SIMPLEREQ></MESSAGE></CIM>`, method, pid, params)
}

// TestMethodCall: Win32_Process's GetOwner and GetOwnerSid over CIM-XML,
// through the object manager's one method path; an unknown method is
// CIM_ERR_METHOD_NOT_FOUND, an unknown parameter
// CIM_ERR_INVALID_PARAMETER, a CIMObject header naming another object a
// header mismatch.
func TestMethodCall(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) {
		om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, newSessionProvider(3),
			process.New(process.Options{Host: testHost, UserName: func(uid uint32) string { return fmt.Sprint("user", uid) }}))
		if err != nil {
			t.Fatal(err)
		}
		c.ObjectManager = om
	}})
	pid := os.Getpid()
	obj := fmt.Sprintf(`root/cimv2:Win32_Process.Handle="%d"`, pid)
	uid := os.Geteuid()
	for _, tc := range []struct {
		method, params, object string
		status                 int
		want                   []string
	}{
		{"GetOwner", "", obj, 200, []string{`<METHODRESPONSE NAME="GetOwner"><RETURNVALUE PARAMTYPE="uint32"><VALUE>0</VALUE></RETURNVALUE>`,
			`<PARAMVALUE NAME="Domain" PARAMTYPE="string"><VALUE>testhost</VALUE></PARAMVALUE>`,
			fmt.Sprintf(`<PARAMVALUE NAME="User" PARAMTYPE="string"><VALUE>user%d</VALUE></PARAMVALUE>`, uid)}},
		{"GetOwnerSid", "", obj, 200, []string{fmt.Sprintf(`<PARAMVALUE NAME="Sid" PARAMTYPE="string"><VALUE>S-1-22-1-%d</VALUE>`, uid)}},
		{"Terminate", `<PARAMVALUE NAME="Reason"><VALUE>0</VALUE></PARAMVALUE>`, obj, 200, []string{`<METHODRESPONSE NAME="Terminate"><ERROR CODE="17"`}},
		{"GetOwner", `<PARAMVALUE NAME="Bogus"><VALUE>1</VALUE></PARAMVALUE>`, obj, 200, []string{`<ERROR CODE="4"`}},
		{"GetOwner", "", `root/cimv2:Win32_Process.Handle="1"`, 400, nil},
	} {
		resp, got := post(t, nil, ts.url, "root", rootPass, tc.method, methodCall(tc.method, pid, tc.params), map[string]string{"CIMObject": tc.object})
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: HTTP %d: %s", tc.method, tc.object, resp.StatusCode, got)
			continue
		}
		if tc.status != 200 {
			if resp.Header.Get("CIMError") != "header-mismatch" {
				t.Errorf("%s: CIMError %q", tc.method, resp.Header.Get("CIMError"))
			}
			continue
		}
		mustValid(t, got)
		for _, w := range tc.want {
			if !bytes.Contains(got, []byte(w)) {
				t.Errorf("%s: lacks %s\n%s", tc.method, w, got)
			}
		}
	}
}
