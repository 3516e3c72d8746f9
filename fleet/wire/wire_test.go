package wire

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// testMOF declares a class with a property of every CIM type, for the
// types the compiled-in schema does not use (reals, arrays, signed).
const testMOF = `
class Test_All {
    [Key] string Id;
    uint8 U8; sint8 S8; uint16 U16; sint16 S16; uint32 U32; sint32 S32;
    uint64 U64; sint64 S64; real32 R32; real64 R64; boolean B; char16 C;
    datetime D; [SubType("interval")] datetime I;
    string SA[]; uint64 UA[]; real64 RA[];
    Test_All REF Other;
};
`

func testRegistry(t testing.TB) *schema.Registry {
	t.Helper()
	reg, err := schema.Load(fstest.MapFS{"t.mof": {Data: []byte(testMOF)}})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func roundTrip(t *testing.T, reg *schema.Registry, in *cim.Instance) *cim.Instance {
	t.Helper()
	w, err := EncodeInstance(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var back Instance
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, err := DecodeInstance(reg, back)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if !out.Equal(in) {
		t.Fatalf("round trip changed the instance:\n in  %#v\n out %#v\n via %s", in.Properties, out.Properties, b)
	}
	for i := range in.Properties {
		if in.Properties[i].Name != out.Properties[i].Name {
			t.Fatalf("order changed: %s at %d, now %s", in.Properties[i].Name, i, out.Properties[i].Name)
		}
		if got, want := cim.TypeOf(out.Properties[i].Value), cim.TypeOf(in.Properties[i].Value); got != want {
			t.Fatalf("%s: type %s, want %s", in.Properties[i].Name, got, want)
		}
	}
	return out
}

func TestRoundTripEveryType(t *testing.T) {
	reg := testRegistry(t)
	start := cim.NewDateTime(time.Date(2026, 12, 5, 8, 30, 1, 123456000, time.FixedZone("", 3600)))
	other := cim.ObjectPath{ClassName: "Test_All", Keys: []cim.KeyBinding{{Name: "Id", Value: `a "quoted" \ id`}}}
	in := cim.NewInstance("Test_All").
		Set("Id", "x\x01 ü \u2028 \"q\"").
		Set("U8", uint8(255)).Set("S8", int8(-128)).
		Set("U16", uint16(65535)).Set("S16", int16(-32768)).
		Set("U32", uint32(math.MaxUint32)).Set("S32", int32(math.MinInt32)).
		Set("U64", uint64(math.MaxUint64)).Set("S64", int64(math.MinInt64)).
		Set("R32", float32(1.1)).Set("R64", 1e300).
		Set("B", false).Set("C", cim.Char16('é')).
		Set("D", start).Set("I", cim.NewInterval(90*time.Minute+5*time.Millisecond)).
		Set("SA", []any{"a", nil, ""}).Set("UA", []any{uint64(math.MaxUint64), uint64(0)}).
		Set("RA", []any{math.NaN(), math.Inf(1), math.Inf(-1), -0.5}).
		Set("Other", other)
	// NaN is not equal to itself: compare that one by hand.
	nan := in.Clone()
	nan.Set("RA", []any{1.0, math.Inf(1), math.Inf(-1), -0.5})
	roundTrip(t, reg, nan)
	w, _ := EncodeInstance(in)
	out, err := DecodeInstance(reg, w)
	if err != nil {
		t.Fatal(err)
	}
	if f := out.Value("RA").([]any)[0].(float64); !math.IsNaN(f) {
		t.Fatalf("NaN came back as %v", f)
	}
	if p, err := cim.ParseObjectPath(out.Path.String()); err != nil || !p.Equal(out.Path) {
		t.Fatalf("path %s does not read back: %v", out.Path, err)
	}
	// A NULL of every kind.
	nulls := cim.NewInstance("Test_All").Set("Id", "n").Set("U64", nil).Set("D", nil).Set("SA", nil).Set("Other", nil)
	roundTrip(t, reg, nulls)
}

func TestRoundTripSessionClasses(t *testing.T) {
	reg := schema.MustDefault()
	st := cim.NewDateTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	sess := cim.NewInstance("Linux_LogonSession").
		Set("LogonId", "42").Set("LogonType", uint32(10)).Set("StartTime", st).
		Set("UserName", "alice").Set("TTY", "pts/3").Set("RemoteHost", "10.1.2.3").
		Set("IdleTime", cim.NewInterval(3*time.Second)).Set("AuditSessionId", uint32(4294967295))
	out := roundTrip(t, reg, sess)
	if got := out.Path.String(); got != `Linux_LogonSession.LogonId="42"` {
		t.Fatalf("path %s", got)
	}
	ref := cim.NewInstance("Win32_SessionProcess").
		Set("Antecedent", cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "42"}}}).
		Set("Dependent", cim.ObjectPath{ClassName: "Win32_Process", Keys: []cim.KeyBinding{{Name: "Handle", Value: "77"}}})
	roundTrip(t, reg, ref)
}

func TestEventJSON(t *testing.T) {
	reg := schema.MustDefault()
	sess := cim.NewInstance("Linux_LogonSession").Set("LogonId", "7").Set("UserName", "bob")
	prev := sess.Clone().Set("UserName", "carol")
	wi, _ := EncodeInstance(sess)
	wp, _ := EncodeInstance(prev)
	tok := HostToken("Web-1.example.com")
	ev := Event{ID: EventID(tok, "a1b2", 9), Host: "Web-1.example.com", Seq: 9, Kind: KindModification,
		Time: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), Class: "Linux_LogonSession",
		Path: `linux_logonsession.logonid="7"`, Instance: wi, Previous: &wp}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"web-1_example_com.a1b2.9","host":"Web-1.example.com","seq":9,"kind":"modification","time":"2026-12-05T08:00:00Z","class":"Linux_LogonSession","path":"linux_logonsession.logonid=\"7\"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":"bob"}},"previous":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":"carol"}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	back, err := ParseEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Subject() != "cimsess.ev.web-1_example_com.Linux_LogonSession" || back.CIMClass() != "__InstanceModificationEvent" {
		t.Fatalf("subject %s class %s", back.Subject(), back.CIMClass())
	}
	p, err := DecodeInstance(reg, *back.Previous)
	if err != nil || p.String("UserName") != "carol" {
		t.Fatalf("previous %v %v", p, err)
	}
	for _, bad := range []string{
		`{}`, `[]`, `{"id":"x","host":"h","seq":1,"kind":"creation","class":"C","instance":{"class":"C","properties":{}},"extra":1}`,
		`{"id":"x","host":"h","seq":1,"kind":"made","class":"C","instance":{"class":"C","properties":{}}}`,
		`{"id":"x","host":"h","seq":1,"kind":"creation","class":"C","instance":{"class":"D","properties":{}}}`,
		`{"id":"x","host":"h","seq":1,"kind":"modification","class":"C","instance":{"class":"C","properties":{}}}`,
	} {
		if _, err := ParseEvent([]byte(bad)); err == nil {
			t.Errorf("ParseEvent(%s) took it", bad)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	reg := testRegistry(t)
	for _, c := range []struct{ json, want string }{
		{`{"class":"Nope","properties":{}}`, "no class"},
		{`{"class":"Test_All","properties":{"Id":"a","U8":256}}`, "out of range"},
		{`{"class":"Test_All","properties":{"Id":"a","U8":1.5}}`, "not a valid"},
		{`{"class":"Test_All","properties":{"Id":"a","B":"yes"}}`, "not a valid"},
		{`{"class":"Test_All","properties":{"Id":"a","U32":true}}`, "cannot be"},
		{`{"class":"Test_All","properties":{"Id":"a","SA":"x"}}`, "needs an array"},
		{`{"class":"Test_All","properties":{"Id":"a","D":"yesterday"}}`, "datetime"},
		{`{"class":"Test_All","properties":{"U8":1}}`, "key"},
		{`{"class":"Test_All","properties":{"Id":"a","Id":"b"}}`, "twice"},
		{`{"class":"Test_All","properties":{"Id":"a","id":"b"}}`, "twice"},
		{`{"class":"Test_All","properties":{"Id":"a","I":"20260101000000.000000+000"}}`, "interval"},
		{`{"class":"Test_All","properties":{"Id":{}}}`, "cannot be"},
	} {
		var w Instance
		err := json.Unmarshal([]byte(c.json), &w)
		if err == nil {
			_, err = DecodeInstance(reg, w)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.json, err, c.want)
		}
		if cim.CodeOf(err) == cim.StatusOK {
			t.Errorf("%s: untyped error %v", c.json, err)
		}
	}
	// A property the schema does not know is left out, not an error.
	var w Instance
	if err := json.Unmarshal([]byte(`{"class":"Test_All","properties":{"Id":"a","Future":[1,2]}}`), &w); err != nil {
		t.Fatal(err)
	}
	in, err := DecodeInstance(reg, w)
	if err != nil || len(in.Properties) != 1 {
		t.Fatalf("%v %v", in, err)
	}
}

func TestHostToken(t *testing.T) {
	for host, want := range map[string]string{
		"web-1":             "web-1",
		"Web-1.Example.COM": "web-1_example_com",
		"all":               "=61ll",
		"ALL":               "=61ll",
		"allo":              "allo",
		"":                  "=",
		"a_b":               "a=5fb",
		"a b*>.":            "a=20b=2a=3e_",
		"ünï":               "=c3=bcn=c3=af",
	} {
		got := HostToken(host)
		if got != want {
			t.Errorf("HostToken(%q) = %q, want %q", host, got, want)
		}
		back, err := ParseHostToken(got)
		if err != nil || back != strings.ToLower(host) {
			t.Errorf("ParseHostToken(%q) = %q, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "A", "a.b", "=61", "=6", "=zz", "a=5F", "a*", ">"} {
		if h, err := ParseHostToken(bad); err == nil {
			t.Errorf("ParseHostToken(%q) = %q", bad, h)
		}
	}
	if QuerySubject(HostToken("all")) == QueryAll {
		t.Fatal("a host named all answers every query")
	}
}

func FuzzHostToken(f *testing.F) {
	for _, s := range []string{"web-1.example.com", "all", "", "a_b", "=61", "ÜÖ.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		tok := HostToken(host)
		if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n") || tok == "all" {
			t.Fatalf("HostToken(%q) = %q is not a subject token", host, tok)
		}
		back, err := ParseHostToken(tok)
		if err != nil || back != strings.ToLower(host) && HostToken(back) != tok {
			t.Fatalf("ParseHostToken(HostToken(%q)) = %q, %v", host, back, err)
		}
		// Any string ParseHostToken takes is a token HostToken writes.
		if h, err := ParseHostToken(host); err == nil && HostToken(h) != host {
			t.Fatalf("ParseHostToken(%q) = %q, whose token is %q", host, h, HostToken(h))
		}
	})
}

// FuzzDecode feeds arbitrary bytes to what a receiver runs on a message
// from the wire: ParseEvent, then DecodeInstance of its instances. It must
// return an error or a valid instance, never panic, and what it decodes
// must encode and decode again to the same instance.
func FuzzDecode(f *testing.F) {
	reg := schema.MustDefault()
	for _, s := range []string{
		`{"id":"h.a.1","host":"h","seq":1,"kind":"creation","time":"2026-12-05T08:00:00Z","class":"Linux_LogonSession","path":"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","LogonType":10,"StartTime":"20260102030405.000000+000","IdleTime":"00000000000003.000000:000"}}}`,
		`{"id":"h.a.2","host":"h","seq":2,"kind":"modification","time":"2026-12-05T08:00:00Z","class":"Linux_LogonSession","path":"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7"}},"previous":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":null}}}`,
		`{"id":"h.a.3","host":"h","seq":3,"kind":"deletion","time":"2026-12-05T08:00:00Z","class":"Win32_SessionProcess","path":"","instance":{"class":"Win32_SessionProcess","properties":{"Antecedent":"Linux_LogonSession.LogonId=\"7\"","Dependent":"Win32_Process.Handle=\"9\""}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			return
		}
		for _, w := range []*Instance{&ev.Instance, ev.Previous} {
			if w == nil {
				continue
			}
			in, err := DecodeInstance(reg, *w)
			if err != nil {
				continue
			}
			w2, err := EncodeInstance(in)
			if err != nil {
				t.Fatalf("decoded %v does not encode: %v", in, err)
			}
			again, err := DecodeInstance(reg, w2)
			if err != nil || !again.Equal(in) {
				t.Fatalf("decoded %v comes back as %v, %v", in, again, err)
			}
		}
	})
}

func TestProjectionCarriesItsPath(t *testing.T) {
	reg := schema.MustDefault()
	in := cim.NewInstance("Linux_LogonSession").Set("UserName", "bob")
	in.Path = cim.ObjectPath{Host: "h", Namespace: "root/cimv2", ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "9"}}}
	w, err := EncodeInstance(in)
	if err != nil || w.Path != `Linux_LogonSession.LogonId="9"` {
		t.Fatalf("%+v %v", w, err)
	}
	b, _ := json.Marshal(w)
	var back Instance
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	out, err := DecodeInstance(reg, back)
	if err != nil || out.Path.String() != `Linux_LogonSession.LogonId="9"` || len(out.Properties) != 1 {
		t.Fatalf("%s: %v %v", b, out, err)
	}
	for _, bad := range []string{`Win32_Process.Handle="1"`, `Linux_LogonSession.UserName="x"`, `Linux_LogonSession`, `\\h\root:Linux_LogonSession.LogonId="1"`} {
		back.Path = bad
		if _, err := DecodeInstance(reg, back); err == nil {
			t.Errorf("path %s taken", bad)
		}
	}
}
