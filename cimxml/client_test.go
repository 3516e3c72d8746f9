package cimxml

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// TestDecodeResponseRoundTrip encodes instances as the server does and
// reads them back as the client does: the same values, typed.
func TestDecodeResponseRoundTrip(t *testing.T) {
	reg := schema.MustDefault()
	start, _ := cim.ParseDateTime("20260115093000.123456+060")
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "42").Set("UserName", `a <b> & "c"`).
		Set("LogonType", uint32(10)).Set("StartTime", start)
	in.Path, _ = reg.PathOf(in, "h", "root/cimv2")
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.BeginMessage("1")
	e.BeginMethodResponse("EnumerateInstances", true)
	e.BeginReturnValue()
	c, _ := reg.Class(in.ClassName)
	e.NamedInstance(in, c, InstanceOptions{})
	e.EndReturnValue()
	e.EndMethodResponse(true)
	e.EndMessage()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResponse(buf.Bytes(), "remote", reg)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v\n%s", got, err, buf.Bytes())
	}
	for _, p := range in.Properties {
		if !cim.Equal(got[0].Value(p.Name), p.Value) {
			t.Errorf("%s: %#v, want %#v", p.Name, got[0].Value(p.Name), p.Value)
		}
	}
	if got[0].Path.Host != "remote" || got[0].Path.ClassName != "Linux_LogonSession" {
		t.Errorf("path %s", got[0].Path)
	}
	e = NewEncoder(nil)
	e.BeginMessage("1")
	e.BeginMethodResponse("GetInstance", true)
	e.Error(cim.Errorf(cim.ErrNotFound, "no such"))
	e.EndMethodResponse(true)
	e.EndMessage()
	if _, err := DecodeResponse(e.Bytes(), "remote", reg); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("error: %v", err)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`<CIM><MESSAGE><SIMPLERSP><IMETHODRESPONSE NAME="X"><IRETURNVALUE><INSTANCE CLASSNAME="A"><PROPERTY NAME="p" TYPE="uint8"><VALUE>7</VALUE></PROPERTY></INSTANCE></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`))
	f.Add([]byte(`<CIM><MESSAGE><SIMPLERSP><IMETHODRESPONSE NAME="X"><ERROR CODE="0" DESCRIPTION="odd"/></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`))
	f.Add([]byte(`<CIM><MESSAGE><SIMPLERSP><IMETHODRESPONSE NAME="X"><ERROR CODE="6" DESCRIPTION="gone"/></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`))
	reg := schema.MustDefault()
	f.Fuzz(func(t *testing.T, data []byte) {
		insts, err := DecodeResponse(data, "h", reg)
		// An error is a failure, whatever code the server wrote: never
		// one a caller could take for success.
		if err != nil && (cim.CodeOf(err) == cim.StatusOK || insts != nil) {
			t.Fatalf("an error of code %v with %d instances: %v", cim.CodeOf(err), len(insts), err)
		}
		for _, in := range insts {
			if in == nil || in.ClassName == "" {
				t.Fatalf("an instance without a class: %v", in)
			}
		}
	})
}

// TestParseTextCutByComments: text cut into pieces (by comments) is
// gathered in linear time; adding to a string piece by piece took 104 s
// for 3.8 MiB. Comments, attributes and pieces of text count toward the
// limit of items, so that a flood of them is bounded like elements.
func TestParseTextCutByComments(t *testing.T) {
	doc := "<A>" + strings.Repeat("x<!---->", 300_000) + "</A>"
	start := time.Now()
	n, err := Parse([]byte(doc), Limits{MaxElements: 1 << 20})
	if err != nil || len(n.Text) != 300_000 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d bytes of text in %s: %v", len(n.Text), time.Since(start), err)
	}
	if _, err := Parse([]byte(doc), Limits{MaxElements: 100_000}); err == nil {
		t.Error("600,000 comments and pieces of text within a limit of 100,000 items")
	}
	attrs := "<A>" + strings.Repeat(`<B a="1" b="2" c="3"/>`, 30_000) + "</A>"
	if _, err := Parse([]byte(attrs), Limits{MaxElements: 100_000}); err == nil {
		t.Error("30,000 elements of 3 attributes within a limit of 100,000 items")
	}
}

// TestClientNamespace: a client's Namespace is the one its requests name
// (LOCALNAMESPACEPATH and the CIMObject header, '\' read as '/') and the
// one the paths of what comes back name; none is root/cimv2.
func TestClientNamespace(t *testing.T) {
	var gotBody, gotObject string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotObject = string(b), r.Header.Get("CIMObject")
		io.WriteString(w, `<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLERSP>`+
			`<IMETHODRESPONSE NAME="EnumerateInstances"><IRETURNVALUE><VALUE.NAMEDINSTANCE><INSTANCENAME CLASSNAME="CIM_Namespace">`+
			`<KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string">root/interop</KEYVALUE></KEYBINDING></INSTANCENAME>`+
			`<INSTANCE CLASSNAME="CIM_Namespace"><PROPERTY NAME="Name" TYPE="string"><VALUE>root/interop</VALUE></PROPERTY></INSTANCE>`+
			`</VALUE.NAMEDINSTANCE></IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`)
	}))
	defer srv.Close()
	for _, tc := range []struct{ ns, want, object, path string }{
		{"", `<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>`, "root%2Fcimv2", "root/cimv2"},
		{`root\interop`, `<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>`, "root%2Finterop", "root/interop"},
	} {
		c := &Client{URL: srv.URL + "/cimom", Namespace: tc.ns}
		var insts []*cim.Instance
		err := c.EnumerateClass(context.Background(), "CIM_Namespace", func(p []*cim.Instance) error { insts = append(insts, p...); return nil })
		if err != nil || len(insts) != 1 {
			t.Fatalf("%q: %v %v", tc.ns, insts, err)
		}
		if !strings.Contains(gotBody, tc.want) || gotObject != tc.object {
			t.Errorf("%q: CIMObject %q, body %s", tc.ns, gotObject, gotBody)
		}
		if insts[0].Path.Namespace != tc.path {
			t.Errorf("%q: the path names %q, want %q", tc.ns, insts[0].Path.Namespace, tc.path)
		}
	}
}
