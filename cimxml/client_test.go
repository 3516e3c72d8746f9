package cimxml

import (
	"bytes"
	"testing"

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
