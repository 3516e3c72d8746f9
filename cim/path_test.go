package cim

import (
	"reflect"
	"strings"
	"testing"
)

// pathCases are the object path table tests; they also seed FuzzParseObjectPath.
var pathCases = []struct {
	in   string
	want ObjectPath
	out  string // String() of the parse; "" means the input itself
}{
	{`\\HOST\root\cimv2:Win32_LogonSession.LogonId="42"`,
		ObjectPath{Host: "HOST", Namespace: "root/cimv2", ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"LogonId", "42"}}}, ""},
	{`//HOST/root/cimv2:Win32_LogonSession.LogonId="42"`,
		ObjectPath{Host: "HOST", Namespace: "root/cimv2", ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"LogonId", "42"}}},
		`\\HOST\root\cimv2:Win32_LogonSession.LogonId="42"`},
	{`\\.\root\cimv2:Win32_Session`,
		ObjectPath{Host: ".", Namespace: "root/cimv2", ClassName: "Win32_Session"}, ""},
	{`root/cimv2:Win32_UserAccount.Domain="HOST",Name="alice"`,
		ObjectPath{Namespace: "root/cimv2", ClassName: "Win32_UserAccount", Keys: []KeyBinding{{"Domain", "HOST"}, {"Name", "alice"}}}, ""},
	{`root\cimv2:Win32_UserAccount.Domain="HOST",Name="alice"`,
		ObjectPath{Namespace: "root/cimv2", ClassName: "Win32_UserAccount", Keys: []KeyBinding{{"Domain", "HOST"}, {"Name", "alice"}}},
		`root/cimv2:Win32_UserAccount.Domain="HOST",Name="alice"`},
	{`Win32_UserAccount.Name="alice",Domain="HOST"`,
		ObjectPath{ClassName: "Win32_UserAccount", Keys: []KeyBinding{{"Name", "alice"}, {"Domain", "HOST"}}}, ""},
	{`Win32_LogonSession.LogonId="42"`,
		ObjectPath{ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"LogonId", "42"}}}, ""},
	{`Win32_Session`, ObjectPath{ClassName: "Win32_Session"}, ""},
	{`root/cimv2:Win32_Session`, ObjectPath{Namespace: "root/cimv2", ClassName: "Win32_Session"}, ""},
	{`Win32_Singleton=@`, ObjectPath{ClassName: "Win32_Singleton", Singleton: true}, ""},
	{`\\h\root\cimv2:Win32_Singleton=@`, ObjectPath{Host: "h", Namespace: "root/cimv2", ClassName: "Win32_Singleton", Singleton: true}, ""},
	{`C.K="a \"quoted\" and a \\ backslash"`,
		ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", `a "quoted" and a \ backslash`}}}, ""},
	{`C.K='single "quotes"'`,
		ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", `single "quotes"`}}}, `C.K="single \"quotes\""`},
	{`C.K=""`, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", ""}}}, ""},
	{`C.K="a,b.c=d:e"`, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", "a,b.c=d:e"}}}, ""},
	{`Win32_Process.Handle=123`, ObjectPath{ClassName: "Win32_Process", Keys: []KeyBinding{{"Handle", int64(123)}}}, ""},
	{`C.I=-5,U=18446744073709551615,B=TRUE,F=false`,
		ObjectPath{ClassName: "C", Keys: []KeyBinding{{"I", int64(-5)}, {"U", uint64(18446744073709551615)}, {"B", true}, {"F", false}}},
		`C.I=-5,U=18446744073709551615,B=TRUE,F=FALSE`},
	{`C.H=0x1F`, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"H", int64(31)}}}, `C.H=31`},
	{`C.R=1.5`, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"R", 1.5}}}, ""},
	{`C.R=2.0`, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"R", 2.0}}}, `C.R=2.0`},
	{`  C.K=1  `, ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", int64(1)}}}, `C.K=1`},
	{`Win32_LoggedOnUser.Antecedent="\\\\H\\root\\cimv2:Win32_UserAccount.Domain=\"H\",Name=\"alice\"",Dependent="\\\\H\\root\\cimv2:Win32_LogonSession.LogonId=\"42\""`,
		ObjectPath{ClassName: "Win32_LoggedOnUser", Keys: []KeyBinding{
			{"Antecedent", `\\H\root\cimv2:Win32_UserAccount.Domain="H",Name="alice"`},
			{"Dependent", `\\H\root\cimv2:Win32_LogonSession.LogonId="42"`}}}, ""},
	{`//ho:st/interop:X`, ObjectPath{Host: "ho:st", Namespace: "interop", ClassName: "X"}, `\\ho:st\interop:X`},
	{`\\H\\root\cimv2\:X`, ObjectPath{Host: "H", Namespace: "root/cimv2", ClassName: "X"}, `\\H\root\cimv2:X`},
	{`/root/:X`, ObjectPath{Namespace: "root", ClassName: "X"}, `root:X`},
	{`Klasse_Ü.Schlüssel="wert"`, ObjectPath{ClassName: "Klasse_Ü", Keys: []KeyBinding{{"Schlüssel", "wert"}}}, ""},
	// WMI's shorthand for a class of one key.
	{`Win32_Process=1234`, ObjectPath{ClassName: "Win32_Process", Keys: []KeyBinding{{"", int64(1234)}}}, ""},
	{`Win32_LogonSession="501"`, ObjectPath{ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"", "501"}}}, ""},
	{`\\.\root\cimv2:Win32_LogonSession='501'`, ObjectPath{Host: ".", Namespace: "root/cimv2", ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"", "501"}}},
		`\\.\root\cimv2:Win32_LogonSession="501"`},
}

var badPaths = []string{
	``,
	`   `,
	`\\`,
	`\\HOST`,
	`\\HOST\`,
	`\\HOST\Win32_Session`, // a host needs a namespace
	`//HOST/:X`,
	`:X`,
	`root/cimv2:`,
	`root/cimv2:.K=1`,
	`1Class`,
	`C.`,
	`C.K`,
	`C.K=`,
	`C.K="unterminated`,
	`C.K="a"b`,
	`C.K="a",`,
	`C.K=1,,L=2`,
	`C.K=abc`,
	`C.K=1 2`,
	`C.K=NaN`,
	`C.K=Inf`,
	`C.K=0x1p4`,
	`C=@x`,
	`C=1,2`,
	`C="a"b`,
	`C=`,
	`C K=1`,
	`C.K=1.L=2`,
	`C.=1`,
	`C.1K=1`,
	`/:X`,
	`C.K=1,k=2`, // a key given twice
}

func TestParseObjectPath(t *testing.T) {
	for _, tc := range pathCases {
		p, err := ParseObjectPath(tc.in)
		if err != nil {
			t.Errorf("ParseObjectPath(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(p, tc.want) {
			t.Errorf("ParseObjectPath(%q) =\n %#v, want\n %#v", tc.in, p, tc.want)
		}
		want := tc.out
		if want == "" {
			want = tc.in
		}
		if got := p.String(); got != want {
			t.Errorf("ParseObjectPath(%q).String() = %q, want %q", tc.in, got, want)
		}
		again, err := ParseObjectPath(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Errorf("ParseObjectPath(%q) = %#v, %v", p.String(), again, err)
		}
		if !p.Equal(again) {
			t.Errorf("%s does not Equal its own reparse", p)
		}
		if p.IsClass() != (len(tc.want.Keys) == 0 && !tc.want.Singleton) {
			t.Errorf("%s.IsClass() = %v", p, p.IsClass())
		}
	}
	for _, s := range badPaths {
		p, err := ParseObjectPath(s)
		if err == nil {
			t.Errorf("ParseObjectPath(%q) = %#v, want an error", s, p)
			continue
		}
		if CodeOf(err) != ErrInvalidParameter {
			t.Errorf("ParseObjectPath(%q) error code %v", s, CodeOf(err))
		}
	}
}

func TestObjectPathReferenceKey(t *testing.T) {
	acct := ObjectPath{Host: "H", Namespace: "root/cimv2", ClassName: "Win32_UserAccount",
		Keys: []KeyBinding{{"Domain", `D"Q`}, {"Name", `a\b`}}}
	sess := ObjectPath{Namespace: "root/cimv2", ClassName: "Win32_LogonSession", Keys: []KeyBinding{{"LogonId", "42"}}}
	assoc := ObjectPath{ClassName: "Win32_LoggedOnUser", Keys: []KeyBinding{{"Antecedent", acct}, {"Dependent", sess}}}
	s := assoc.String()
	p, err := ParseObjectPath(s)
	if err != nil {
		t.Fatalf("ParseObjectPath(%q): %v", s, err)
	}
	// A reference key comes back as the string of the path; it still
	// compares equal to the path it names.
	if !p.Equal(assoc) || !assoc.Equal(p) {
		t.Errorf("%s does not Equal %s", p, assoc)
	}
	v, _ := p.Key("antecedent")
	inner, err := ParseObjectPath(v.(string))
	if err != nil || !reflect.DeepEqual(inner, acct) {
		t.Errorf("inner path %q = %#v, %v", v, inner, err)
	}
	other := assoc
	other.Keys = []KeyBinding{{"Antecedent", acct}, {"Dependent", "Win32_LogonSession.LogonId=\"43\""}}
	if assoc.Equal(other) {
		t.Errorf("%s Equal %s", assoc, other)
	}
	bad := assoc
	bad.Keys = []KeyBinding{{"Antecedent", acct}, {"Dependent", "not a path!"}}
	if assoc.Equal(bad) || bad.Equal(assoc) {
		t.Error("a reference equals an unparsable string")
	}
	if assoc.Canonical() == other.Canonical() {
		t.Error("different references have the same Canonical")
	}
}

func TestObjectPathEqual(t *testing.T) {
	mk := func(s string) ObjectPath {
		p, err := ParseObjectPath(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	eq := [][2]string{
		{`Win32_UserAccount.Domain="H",Name="a"`, `win32_useraccount.name="a",DOMAIN="H"`},
		{`\\H\root\cimv2:C.K=1`, `//h/ROOT/CIMV2:C.K=1`},
		{`\\H\root\cimv2:C.K=1`, `C.K=1`}, // an empty host and namespace match any
		{`root/cimv2:C.K=1`, `\\H\root\cimv2:C.K=1`},
		{`C=@`, `c=@`},
		{`C`, `c`},
		{`C.K="a"`, `C.K="A"`}, // string values compare whatever their case, as WMI's
		{`\\.\root\cimv2:C.K=1`, `\\H\root\cimv2:C.K=1`}, // "." is this host
	}
	for _, e := range eq {
		a, b := mk(e[0]), mk(e[1])
		if !a.Equal(b) || !b.Equal(a) {
			t.Errorf("%s and %s are not Equal", e[0], e[1])
		}
	}
	ne := [][2]string{
		{`C.K=1`, `D.K=1`},
		{`C.K=1`, `C.K=2`},
		{`C.K=1`, `C.L=1`},
		{`C.K=1`, `C.K=1,L=2`},
		{`\\H\root\cimv2:C.K=1`, `\\G\root\cimv2:C.K=1`},
		{`root/cimv2:C.K=1`, `root/default:C.K=1`},
		{`C=@`, `C`},
		{`C.K="1"`, `C.K=1`},
	}
	for _, e := range ne {
		a, b := mk(e[0]), mk(e[1])
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("%s and %s are Equal", e[0], e[1])
		}
	}
	// Integer keys compare by value across Go types.
	a := ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", uint32(7)}}}
	b := ObjectPath{ClassName: "C", Keys: []KeyBinding{{"K", int64(7)}}}
	if !a.Equal(b) || a.Canonical() != b.Canonical() {
		t.Errorf("uint32 7 and int64 7 differ: %s %s", a.Canonical(), b.Canonical())
	}
}

func TestObjectPathCanonicalAndRelative(t *testing.T) {
	p, _ := ParseObjectPath(`\\HOST\Root\CIMV2:Win32_UserAccount.Name="alice",Domain="HOST"`)
	if got, want := p.Canonical(), `\\host\root\cimv2:win32_useraccount.domain="HOST",name="alice"`; got != want {
		t.Errorf("Canonical() = %s, want %s", got, want)
	}
	if p.Keys[0].Name != "Name" {
		t.Error("Canonical changed the path's own keys")
	}
	if got := p.Relative().String(); got != `Win32_UserAccount.Name="alice",Domain="HOST"` {
		t.Errorf("Relative() = %s", got)
	}
	if v, ok := p.Key("DOMAIN"); !ok || v != "HOST" {
		t.Errorf("Key(DOMAIN) = %v, %v", v, ok)
	}
	if _, ok := p.Key("nope"); ok {
		t.Error("Key(nope) found")
	}
}

func TestQuoteString(t *testing.T) {
	for in, want := range map[string]string{
		``:        `""`,
		`a`:       `"a"`,
		`"`:       `"\""`,
		`\`:       `"\\"`,
		`a\"b`:    `"a\\\"b"`,
		"new\nln": "\"new\nln\"",
	} {
		if got := QuoteString(in); got != want {
			t.Errorf("QuoteString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestObjectPathStringOfValues(t *testing.T) {
	dt, _ := ParseDateTime("20260101120000.000000+000")
	p := ObjectPath{ClassName: "C", Keys: []KeyBinding{{"D", dt}, {"C", Char16('x')}, {"U", uint32(9)}}}
	want := `C.D="20260101120000.000000+000",C="x",U=9`
	if got := p.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func FuzzParseObjectPath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.in)
	}
	for _, s := range badPaths {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseObjectPath(s)
		if err != nil {
			if CodeOf(err) != ErrInvalidParameter {
				t.Fatalf("ParseObjectPath(%q) error %v has the wrong code", s, err)
			}
			return
		}
		out := p.String()
		again, err := ParseObjectPath(out)
		if err != nil {
			t.Fatalf("ParseObjectPath(%q) parsed, but its String %q does not: %v", s, out, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("ParseObjectPath(%q) = %#v\nreparse of %q = %#v", s, p, out, again)
		}
		if again.String() != out {
			t.Fatalf("String() not stable: %q then %q", out, again.String())
		}
		if !p.Equal(again) {
			t.Fatalf("%q does not Equal its reparse", out)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("String() %q has surrounding space", out)
		}
		_ = p.Canonical()
	})
}
