package cimxml

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

const nsPath = `<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>`

func req(call string) string {
	return `<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="42" PROTOCOLVERSION="1.0"><SIMPLEREQ>` + call + `</SIMPLEREQ></MESSAGE></CIM>`
}

// decodeCases are requests as real clients send them and malformed ones.
var decodeCases = []struct {
	name     string
	body     string
	cimError string // "" when the request decodes
	check    func(t *testing.T, r *Request)
}{
	{name: "wbemcli ei", body: `<?xml version="1.0" encoding="utf-8" ?>
<CIM CIMVERSION="2.0" DTDVERSION="2.0">
<MESSAGE ID="4711" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"></NAMESPACE><NAMESPACE NAME="cimv2"></NAMESPACE></LOCALNAMESPACEPATH>
<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="Win32_LogonSession"/></IPARAMVALUE>
<IPARAMVALUE NAME="DeepInheritance"><VALUE>TRUE</VALUE></IPARAMVALUE>
<IPARAMVALUE NAME="LocalOnly"><VALUE>FALSE</VALUE></IPARAMVALUE>
<IPARAMVALUE NAME="IncludeQualifiers"><VALUE>FALSE</VALUE></IPARAMVALUE>
<IPARAMVALUE NAME="IncludeClassOrigin"><VALUE>TRUE</VALUE></IPARAMVALUE>
</IMETHODCALL></SIMPLEREQ>
</MESSAGE></CIM>`, check: func(t *testing.T, r *Request) {
		c := r.Calls[0]
		if r.ID != "4711" || c.Method != "EnumerateInstances" || !c.Intrinsic || c.Namespace != "root/cimv2" {
			t.Errorf("got %+v %+v", r, c)
		}
		if cn, _ := c.ClassName("ClassName"); cn != "Win32_LogonSession" {
			t.Errorf("ClassName %q", cn)
		}
		if b, _ := c.Bool("deepinheritance", false); !b {
			t.Errorf("DeepInheritance false")
		}
		if b, _ := c.Bool("LocalOnly", true); b {
			t.Errorf("LocalOnly true")
		}
		if b, _ := c.Bool("Absent", true); !b {
			t.Errorf("default not used")
		}
		if pl, _ := c.PropertyList(); pl != nil {
			t.Errorf("PropertyList %v", pl)
		}
	}},
	{name: "wbemcli gi", body: req(`<IMETHODCALL NAME="GetInstance">` + nsPath + `<IPARAMVALUE NAME="InstanceName"><INSTANCENAME CLASSNAME="Win32_UserAccount"><KEYBINDING NAME="Domain"><KEYVALUE VALUETYPE="string">HOST</KEYVALUE></KEYBINDING><KEYBINDING NAME="Name"><KEYVALUE>a&amp;b</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE></IMETHODCALL>`),
		check: func(t *testing.T, r *Request) {
			v, _ := r.Calls[0].Param("InstanceName")
			p, ok := v.(cim.ObjectPath)
			if !ok || p.ClassName != "Win32_UserAccount" || len(p.Keys) != 2 || p.Keys[1].Value != "a&b" {
				t.Errorf("InstanceName %#v", v)
			}
		}},
	{name: "typed keys and reference", body: req(`<IMETHODCALL NAME="GetInstance">` + nsPath + `<IPARAMVALUE NAME="InstanceName"><INSTANCENAME CLASSNAME="X"><KEYBINDING NAME="N"><KEYVALUE VALUETYPE="numeric">-5</KEYVALUE></KEYBINDING><KEYBINDING NAME="B"><KEYVALUE VALUETYPE="boolean">true</KEYVALUE></KEYBINDING><KEYBINDING NAME="R"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>h</HOST>` + nsPath + `</NAMESPACEPATH><INSTANCENAME CLASSNAME="Y"><KEYBINDING NAME="K"><KEYVALUE VALUETYPE="numeric">18446744073709551615</KEYVALUE></KEYBINDING></INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></KEYBINDING></INSTANCENAME></IPARAMVALUE></IMETHODCALL>`),
		check: func(t *testing.T, r *Request) {
			v, _ := r.Calls[0].Param("InstanceName")
			p := v.(cim.ObjectPath)
			ref, _ := p.Key("R")
			rp, ok := ref.(cim.ObjectPath)
			if n, _ := p.Key("N"); n != int64(-5) {
				t.Errorf("N %#v", n)
			}
			if b, _ := p.Key("B"); b != true {
				t.Errorf("B %#v", b)
			}
			if !ok || rp.Host != "h" || rp.Namespace != "root/cimv2" || rp.Keys[0].Value != uint64(18446744073709551615) {
				t.Errorf("R %#v", ref)
			}
		}},
	{name: "property list", body: req(`<IMETHODCALL NAME="GetClass">` + nsPath + `<IPARAMVALUE NAME="PropertyList"><VALUE.ARRAY><VALUE>A</VALUE><VALUE>B</VALUE></VALUE.ARRAY></IPARAMVALUE><IPARAMVALUE NAME="Empty"/></IMETHODCALL>`),
		check: func(t *testing.T, r *Request) {
			pl, err := r.Calls[0].PropertyList()
			if err != nil || len(pl) != 2 || pl[1] != "B" {
				t.Errorf("PropertyList %v %v", pl, err)
			}
			if v, ok := r.Calls[0].Param("Empty"); !ok || v != nil {
				t.Errorf("Empty %v %v", v, ok)
			}
		}},
	{name: "empty property list", body: req(`<IMETHODCALL NAME="GetClass">` + nsPath + `<IPARAMVALUE NAME="PropertyList"><VALUE.ARRAY></VALUE.ARRAY></IPARAMVALUE></IMETHODCALL>`),
		check: func(t *testing.T, r *Request) {
			pl, err := r.Calls[0].PropertyList()
			if err != nil || pl == nil || len(pl) != 0 {
				t.Errorf("PropertyList %#v %v", pl, err)
			}
		}},
	{name: "methodcall", body: req(`<METHODCALL NAME="Reboot"><LOCALINSTANCEPATH>` + nsPath + `<INSTANCENAME CLASSNAME="X"><KEYBINDING NAME="K"><KEYVALUE>1</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH><PARAMVALUE NAME="Force"><VALUE>true</VALUE></PARAMVALUE></METHODCALL>`),
		check: func(t *testing.T, r *Request) {
			c := r.Calls[0]
			if c.Intrinsic || c.Object.ClassName != "X" || c.Namespace != "root/cimv2" {
				t.Errorf("%+v", c)
			}
		}},
	{name: "multireq", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><MULTIREQ><SIMPLEREQ><IMETHODCALL NAME="A">` + nsPath + `</IMETHODCALL></SIMPLEREQ><SIMPLEREQ><IMETHODCALL NAME="B">` + nsPath + `</IMETHODCALL></SIMPLEREQ></MULTIREQ></MESSAGE></CIM>`,
		check: func(t *testing.T, r *Request) {
			if !r.Multi || len(r.Calls) != 2 || r.Calls[1].Method != "B" {
				t.Errorf("%+v", r)
			}
		}},
	{name: "not well-formed", body: `<CIM>`, cimError: CIMErrorRequestNotWellFormed},
	{name: "doctype", body: `<!DOCTYPE CIM SYSTEM "CIM_DTD_V20.dtd"><CIM CIMVERSION="2.0" DTDVERSION="2.0"/>`, cimError: CIMErrorRequestNotValid},
	{name: "undefined entity", body: req(`<IMETHODCALL NAME="&x;">` + nsPath + `</IMETHODCALL>`), cimError: CIMErrorRequestNotWellFormed},
	{name: "bad utf-8", body: req("<IMETHODCALL NAME=\"\xc3\x28\">" + nsPath + `</IMETHODCALL>`), cimError: CIMErrorRequestNotWellFormed},
	{name: "latin-1", body: `<?xml version="1.0" encoding="ISO-8859-1"?><CIM CIMVERSION="2.0" DTDVERSION="2.0"/>`, cimError: CIMErrorRequestNotWellFormed},
	{name: "no message", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0"/>`, cimError: CIMErrorRequestNotValid},
	{name: "no id", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE PROTOCOLVERSION="1.0"><SIMPLEREQ/></MESSAGE></CIM>`, cimError: CIMErrorRequestNotValid},
	{name: "no call", body: req(``), cimError: CIMErrorRequestNotValid},
	{name: "two calls", body: req(`<IMETHODCALL NAME="A">` + nsPath + `</IMETHODCALL><IMETHODCALL NAME="B">` + nsPath + `</IMETHODCALL>`), cimError: CIMErrorRequestNotValid},
	{name: "no namespace", body: req(`<IMETHODCALL NAME="A"></IMETHODCALL>`), cimError: CIMErrorRequestNotValid},
	{name: "empty namespace", body: req(`<IMETHODCALL NAME="A"><LOCALNAMESPACEPATH/></IMETHODCALL>`), cimError: CIMErrorRequestNotValid},
	{name: "dtd version malformed", body: strings.Replace(req(`<IMETHODCALL NAME="A">`+nsPath+`</IMETHODCALL>`), `DTDVERSION="2.0"`, `DTDVERSION="2.x"`, 1), cimError: CIMErrorUnsupportedDTDVersion},
	{name: "protocol version malformed", body: strings.Replace(req(`<IMETHODCALL NAME="A">`+nsPath+`</IMETHODCALL>`), `PROTOCOLVERSION="1.0"`, `PROTOCOLVERSION="1."`, 1), cimError: CIMErrorUnsupportedProtocolVersion},
	{name: "two values", body: req(`<IMETHODCALL NAME="A">` + nsPath + `<IPARAMVALUE NAME="X"><VALUE/><VALUE/></IPARAMVALUE></IMETHODCALL>`), cimError: CIMErrorRequestNotValid},
	{name: "bad keyvalue type", body: req(`<IMETHODCALL NAME="A">` + nsPath + `<IPARAMVALUE NAME="X"><INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="K"><KEYVALUE VALUETYPE="numeric">x</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE></IMETHODCALL>`), cimError: CIMErrorRequestNotValid},
	{name: "protocol 2", body: strings.Replace(req(`<IMETHODCALL NAME="A">`+nsPath+`</IMETHODCALL>`), `PROTOCOLVERSION="1.0"`, `PROTOCOLVERSION="2.0"`, 1), cimError: CIMErrorUnsupportedProtocolVersion},
	{name: "deep", body: `<CIM CIMVERSION="2.0" DTDVERSION="2.0">` + strings.Repeat("<X>", 100) + strings.Repeat("</X>", 100) + `</CIM>`, cimError: CIMErrorRequestNotValid},
}

// TestDecodeDuplicateParam: a parameter given twice is the call's
// CIM_ERR_INVALID_PARAMETER (Call.Duplicate), not a malformed request.
func TestDecodeDuplicateParam(t *testing.T) {
	r, err := DecodeRequest([]byte(req(`<IMETHODCALL NAME="A">`+nsPath+`<IPARAMVALUE NAME="X"><VALUE>1</VALUE></IPARAMVALUE><IPARAMVALUE NAME="x"/></IMETHODCALL>`)), Limits{})
	if err != nil || r.Calls[0].Duplicate != "x" || len(r.Calls[0].Params) != 1 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tc.body), Limits{})
			if tc.cimError != "" {
				pe, ok := IsProtocolError(err)
				if !ok || pe.CIMError != tc.cimError {
					t.Fatalf("error %v, want CIMError %s", err, tc.cimError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestCallParamErrors(t *testing.T) {
	r, err := DecodeRequest([]byte(req(`<IMETHODCALL NAME="A">`+nsPath+`<IPARAMVALUE NAME="B"><VALUE>yes</VALUE></IPARAMVALUE><IPARAMVALUE NAME="C"><VALUE>x</VALUE></IPARAMVALUE><IPARAMVALUE NAME="PropertyList"><CLASSNAME NAME="X"/></IPARAMVALUE></IMETHODCALL>`)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Calls[0]
	if _, err := c.Bool("B", false); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("Bool: %v", err)
	}
	if _, err := c.ClassName("C"); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("ClassName: %v", err)
	}
	if _, err := c.PropertyList(); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("PropertyList: %v", err)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`a<b>&"c'`:      `a&lt;b&gt;&amp;"c'`,
		"tab\tnl\ncr\r": "tab\tnl\ncr&#13;",
		"bell\x07":      "bell\uFFFD",
		"bad\xffutf8":   "bad\uFFFDutf8",
		"ünïcødé ☃":     "ünïcødé ☃",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEncodeInstancesValid renders every kind of value and checks the
// document against the validator and by parsing it back.
func TestEncodeInstancesValid(t *testing.T) {
	reg := schema.MustDefault()
	start, _ := cim.ParseDateTime("20260101120000.000000+000")
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "7").Set("Caption", "a\"<&>\r\n\x01").
		Set("LogonType", uint32(2)).Set("StartTime", start).Set("UserId", uint32(0))
	in.Path, _ = reg.PathOf(in, "h", schema.Namespace)
	link := cim.NewInstance("Win32_LoggedOnUser").
		Set("Antecedent", cim.ObjectPath{Namespace: "root/cimv2", ClassName: "Win32_UserAccount", Keys: []cim.KeyBinding{{Name: "Domain", Value: "h"}, {Name: "Name", Value: "u"}}}).
		Set("Dependent", cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "7"}}})
	link.Path, _ = reg.PathOf(link, "", "")
	free := cim.NewInstance("Free").Set("Arr", []any{uint8(1), nil, uint8(3)}).Set("R", 1.5).Set("NaN", float32(0)).Set("B", true).Set("C", cim.Char16('x'))
	var b bytes.Buffer
	if err := EncodeInstances(&b, []*cim.Instance{in, link, free}, reg); err != nil {
		t.Fatal(err)
	}
	if err := Validate(b.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	for _, want := range []string{`<VALUE.OBJECTWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>h</HOST>`, `<VALUE.OBJECTWITHLOCALPATH><LOCALINSTANCEPATH>`,
		`<VALUE>a"&lt;&amp;&gt;&#13;` + "\n\uFFFD</VALUE>", `<VALUE.ARRAY><VALUE>1</VALUE><VALUE.NULL/><VALUE>3</VALUE></VALUE.ARRAY>`,
		`<PROPERTY NAME="B" TYPE="boolean"><VALUE>TRUE</VALUE>`, `<PROPERTY.REFERENCE NAME="Dependent" REFERENCECLASS="Win32_LogonSession"><VALUE.REFERENCE><INSTANCENAME CLASSNAME="Linux_LogonSession">`,
		`<PROPERTY NAME="C" TYPE="char16"><VALUE>x</VALUE>`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %s\n%s", want, b.String())
		}
	}
	root, err := Parse(b.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := root.Child("DECLARATION").Child("DECLGROUP.WITHPATH").Children[0].Children[1].Children[0].Child("VALUE").Text; got != "a\"<&>\r\n\uFFFD" {
		t.Errorf("Caption round trip %q", got)
	}
}

func TestEncodeClassValid(t *testing.T) {
	reg := schema.MustDefault()
	for _, n := range reg.Names() {
		c, _ := reg.Class(n)
		var b bytes.Buffer
		if err := EncodeClass(&b, c); err != nil {
			t.Fatal(err)
		}
		if err := Validate(b.Bytes()); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// TestValidateRejects makes sure the validator is not a yes-man.
func TestValidateRejects(t *testing.T) {
	wrap := func(s string) string {
		return `<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLERSP><IMETHODRESPONSE NAME="X"><IRETURNVALUE>` + s + `</IRETURNVALUE></IMETHODRESPONSE></SIMPLERSP></MESSAGE></CIM>`
	}
	good := `<INSTANCE CLASSNAME="C"><PROPERTY NAME="P" TYPE="uint8"><VALUE>5</VALUE></PROPERTY></INSTANCE>`
	if err := Validate([]byte(wrap(good))); err != nil {
		t.Fatalf("good document: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown element":   wrap(`<FOO/>`),
		"bad TYPE":          wrap(`<INSTANCE CLASSNAME="C"><PROPERTY NAME="P" TYPE="int"/></INSTANCE>`),
		"bad value":         wrap(`<INSTANCE CLASSNAME="C"><PROPERTY NAME="P" TYPE="uint8"><VALUE>300</VALUE></PROPERTY></INSTANCE>`),
		"bad VALUETYPE":     wrap(`<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="K"><KEYVALUE VALUETYPE="int">1</KEYVALUE></KEYBINDING></INSTANCENAME>`),
		"missing attribute": wrap(`<INSTANCE><PROPERTY NAME="P" TYPE="uint8"/></INSTANCE>`),
		"extra attribute":   wrap(`<INSTANCE CLASSNAME="C" FOO="1"/>`),
		"wrong order":       wrap(`<VALUE.NAMEDINSTANCE>` + good + `<INSTANCENAME CLASSNAME="C"/></VALUE.NAMEDINSTANCE>`),
		"wrong parent":      wrap(`<PROPERTY NAME="P" TYPE="uint8"/>`),
		"text in element":   wrap(`<INSTANCE CLASSNAME="C">hello</INSTANCE>`),
		"mixed pair":        wrap(`<VALUE.OBJECTWITHPATH><CLASSPATH><NAMESPACEPATH><HOST>h</HOST>` + nsPath + `</NAMESPACEPATH><CLASSNAME NAME="C"/></CLASSPATH>` + good + `</VALUE.OBJECTWITHPATH>`),
		"bad PROPAGATED":    wrap(`<INSTANCE CLASSNAME="C"><PROPERTY NAME="P" TYPE="uint8" PROPAGATED="yes"/></INSTANCE>`),
		"not CIM":           `<MESSAGE ID="1" PROTOCOLVERSION="1.0"/>`,
	} {
		if err := Validate([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeRequest feeds the request decoder arbitrary bytes: it must
// never panic, must answer within its limits, and whatever it accepts must
// hold at least one call with a method name and a target.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRequest(data, Limits{MaxElements: 10_000})
		if err != nil {
			if _, ok := IsProtocolError(err); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(r.Calls) == 0 {
			t.Fatal("accepted a request with no calls")
		}
		for _, c := range r.Calls {
			if c.Method == "" || c.Namespace == "" && c.Object.ClassName == "" {
				t.Fatalf("accepted call %+v", c)
			}
			_, _ = c.PropertyList()
			_, _ = c.Bool("DeepInheritance", true)
		}
	})
}

// FuzzEscape checks that any string, escaped into an element and an
// attribute, parses back to itself with the characters XML cannot carry
// replaced.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `a<b>&"c'`, "tab\tnl\ncr\r", "bell\x07", "bad\xffutf8", "☃\uFFFE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := NewEncoder(nil)
		e.start("A")
		e.attr("V", s)
		e.endStart()
		e.text(s)
		e.buf = append(e.buf, "</A>"...)
		doc := append([]byte(nil), e.buf...)
		n, err := Parse(doc, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		want := sanitizeForTest(s)
		if n.Text != want {
			t.Errorf("text %q, want %q", n.Text, want)
		}
		if v, _ := n.Attr("V"); v != want {
			t.Errorf("attribute %q, want %q", v, want)
		}
	})
}

// sanitizeForTest is what XML can carry of s: each invalid UTF-8 byte
// and each character XML 1.0 excludes becomes U+FFFD.
func sanitizeForTest(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
