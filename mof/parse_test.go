package mof

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

func mustDateTime(t testing.TB, s string) cim.DateTime {
	t.Helper()
	d, err := cim.ParseDateTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustPath(t testing.TB, s string) cim.ObjectPath {
	t.Helper()
	p, err := cim.ParseObjectPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// parseCases are the grammar's table tests; they also seed FuzzParse.
var parseCases = []struct {
	name string
	src  string
	want func(t testing.TB) []*cim.Class
}{
	{"empty", ``, func(testing.TB) []*cim.Class { return nil }},
	{"comments only", "// a\n/* b\n * c */\n", func(testing.TB) []*cim.Class { return nil }},
	{"minimal class", `class A_B { };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "A_B"}}
	}},
	{"superclass and case kept", `Class My_Child:My_Parent{string someName;};`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "My_Child", SuperClass: "My_Parent",
			Properties: []cim.Property{{Name: "someName", Type: cim.Type{Kind: cim.KindString}}}}}
	}},
	{"qualifiers of every kind", `
		[Abstract, Key(false), MaxLen(64), Description("a" "b"), ValueMap{"0","2"},
		 Values{"x", "y"}, Units("seconds"): ToSubclass DisableOverride, Ratio(0.5),
		 Neg(-3), Hex(0x1F), Bin(101b), Oct(017), Big(18446744073709551615), Letter('z'),
		 Nothing(null), Empty{}, Mixed{1, "a", true, null}, Paren({1, 2})]
		class X_Y { };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "X_Y", Qualifiers: cim.Qualifiers{
			{Name: "Abstract", Value: true},
			{Name: "Key", Value: false},
			{Name: "MaxLen", Value: int64(64)},
			{Name: "Description", Value: "ab"},
			{Name: "ValueMap", Value: []any{"0", "2"}},
			{Name: "Values", Value: []any{"x", "y"}},
			{Name: "Units", Value: "seconds"},
			{Name: "Ratio", Value: 0.5},
			{Name: "Neg", Value: int64(-3)},
			{Name: "Hex", Value: int64(31)},
			{Name: "Bin", Value: int64(5)},
			{Name: "Oct", Value: int64(15)},
			{Name: "Big", Value: uint64(math.MaxUint64)},
			{Name: "Letter", Value: cim.Char16('z')},
			{Name: "Nothing", Value: nil},
			{Name: "Empty", Value: []any{}},
			{Name: "Mixed", Value: []any{int64(1), "a", true, nil}},
			{Name: "Paren", Value: []any{int64(1), int64(2)}},
		}}}
	}},
	{"microsoft style flavors and pragmas", `
		#pragma namespace("\\\\.\\root\\cimv2")
		#pragma locale("en_US")
		#pragma autorecover
		[Abstract: ToSubclass, Description("d"): Amended ToSubclass, Dynamic, Provider("CIMWin32"), Locale(0x409)]
		class Win32_Thing : CIM_LogicalElement
		{
			[Read: ToSubclass, Key, Override("Name"): ToSubclass] string Name;
			[Write(false)] uint32 Count;
		};`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "Win32_Thing", SuperClass: "CIM_LogicalElement",
			Qualifiers: cim.Qualifiers{{Name: "Abstract", Value: true}, {Name: "Description", Value: "d"},
				{Name: "Dynamic", Value: true}, {Name: "Provider", Value: "CIMWin32"}, {Name: "Locale", Value: int64(0x409)}},
			Properties: []cim.Property{
				{Name: "Name", Type: cim.Type{Kind: cim.KindString}, Qualifiers: cim.Qualifiers{
					{Name: "Read", Value: true}, {Name: "Key", Value: true}, {Name: "Override", Value: "Name"}}},
				{Name: "Count", Type: cim.Type{Kind: cim.KindUint32}, Qualifiers: cim.Qualifiers{{Name: "Write", Value: false}}},
			}}}
	}},
	{"every type and default", `
		class T_All {
			string S = "a\tb\n\"q\" \\ \'" " more";
			char16 C = '\x41';
			boolean B = TRUE;
			uint8 U8 = 255;
			sint8 S8 = -128;
			uint16 U16 = 0xFFFF;
			sint16 S16 = -0x10;
			uint32 U32 = 4294967295;
			sint32 S32 = -2147483648;
			uint64 U64 = 18446744073709551615;
			sint64 S64 = -9223372036854775808;
			real32 R32 = 1.5;
			real64 R64 = -2.5e-3;
			real64 R64i = 3;
			datetime D = "20260102030405.123456+060";
			datetime I = "00000001020304.000000:000";
			uint32 A1[] = {1, 2, null};
			string A2[5] = {};
			string N = null;
			Win32_Account REF Antecedent = "Win32_UserAccount.Domain=\"H\",Name=\"a\"";
			object ref Any;
		};`, func(t testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "T_All", Properties: []cim.Property{
			{Name: "S", Type: cim.Type{Kind: cim.KindString}, Default: "a\tb\n\"q\" \\ ' more"},
			{Name: "C", Type: cim.Type{Kind: cim.KindChar16}, Default: cim.Char16('A')},
			{Name: "B", Type: cim.Type{Kind: cim.KindBoolean}, Default: true},
			{Name: "U8", Type: cim.Type{Kind: cim.KindUint8}, Default: uint8(255)},
			{Name: "S8", Type: cim.Type{Kind: cim.KindSint8}, Default: int8(-128)},
			{Name: "U16", Type: cim.Type{Kind: cim.KindUint16}, Default: uint16(0xFFFF)},
			{Name: "S16", Type: cim.Type{Kind: cim.KindSint16}, Default: int16(-16)},
			{Name: "U32", Type: cim.Type{Kind: cim.KindUint32}, Default: uint32(math.MaxUint32)},
			{Name: "S32", Type: cim.Type{Kind: cim.KindSint32}, Default: int32(math.MinInt32)},
			{Name: "U64", Type: cim.Type{Kind: cim.KindUint64}, Default: uint64(math.MaxUint64)},
			{Name: "S64", Type: cim.Type{Kind: cim.KindSint64}, Default: int64(math.MinInt64)},
			{Name: "R32", Type: cim.Type{Kind: cim.KindReal32}, Default: float32(1.5)},
			{Name: "R64", Type: cim.Type{Kind: cim.KindReal64}, Default: -2.5e-3},
			{Name: "R64i", Type: cim.Type{Kind: cim.KindReal64}, Default: 3.0},
			{Name: "D", Type: cim.Type{Kind: cim.KindDateTime}, Default: mustDateTime(t, "20260102030405.123456+060")},
			{Name: "I", Type: cim.Type{Kind: cim.KindDateTime}, Default: mustDateTime(t, "00000001020304.000000:000")},
			{Name: "A1", Type: cim.Type{Kind: cim.KindUint32, Array: true}, Default: []any{uint32(1), uint32(2), nil}},
			{Name: "A2", Type: cim.Type{Kind: cim.KindString, Array: true}, Default: []any{}},
			{Name: "N", Type: cim.Type{Kind: cim.KindString}},
			{Name: "Antecedent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_Account"},
				Default: mustPath(t, `Win32_UserAccount.Domain="H",Name="a"`)},
			{Name: "Any", Type: cim.Type{Kind: cim.KindReference}},
		}}}
	}},
	{"association with references", `
		[Association, Dynamic, Provider("cimsess")]
		class Win32_LoggedOnUser : CIM_Dependency {
			[Key, Override("Antecedent")] Win32_Account REF Antecedent;
			[Key, Override("Dependent")] Win32_LogonSession Ref Dependent;
		};`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "Win32_LoggedOnUser", SuperClass: "CIM_Dependency",
			Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}, {Name: "Dynamic", Value: true}, {Name: "Provider", Value: "cimsess"}},
			Properties: []cim.Property{
				{Name: "Antecedent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_Account"},
					Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}, {Name: "Override", Value: "Antecedent"}}},
				{Name: "Dependent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_LogonSession"},
					Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}, {Name: "Override", Value: "Dependent"}}},
			}}}
	}},
	{"association keyword", `[Description("x")] association A_B { A REF Left; };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "A_B",
			Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}, {Name: "Description", Value: "x"}},
			Properties: []cim.Property{{Name: "Left", Type: cim.Type{Kind: cim.KindReference, RefClass: "A"}}}}}
	}},
	{"keywords as names", `class A_class { string class; string REF; boolean true; uint8 null; };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "A_class", Properties: []cim.Property{
			{Name: "class", Type: cim.Type{Kind: cim.KindString}},
			{Name: "REF", Type: cim.Type{Kind: cim.KindString}},
			{Name: "true", Type: cim.Type{Kind: cim.KindBoolean}},
			{Name: "null", Type: cim.Type{Kind: cim.KindUint8}},
		}}}
	}},
	{"escapes", `[D("\x41\X0042c\x0\b\f\r\xD83D\xDE00é")] class A_E { };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "A_E", Qualifiers: cim.Qualifiers{{Name: "D", Value: "ABc\x00\b\f\r😀é"}}}}
	}},
	{"reals", `[A(.5), B(-0.25), C(1e3), D(1.5E+2), E(+7)] class R_R { real32 F = 1e-50; };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "R_R", Qualifiers: cim.Qualifiers{
			{Name: "A", Value: 0.5}, {Name: "B", Value: -0.25}, {Name: "C", Value: 1000.0},
			{Name: "D", Value: 150.0}, {Name: "E", Value: int64(7)}},
			Properties: []cim.Property{{Name: "F", Type: cim.Type{Kind: cim.KindReal32}, Default: float32(0)}}}}
	}},
	{"qualifier declaration and two classes", `
		Qualifier MaxLen : uint32 = null, Scope(property, method, parameter);
		qualifier Values : string[], scope(property), flavor(translatable, tosubclass);
		qualifier Key : boolean = false, Scope(property, reference) Flavor(DisableOverride ToSubclass);
		class A_1 { [Key] string K; };
		class A_2 : A_1 { string L = "x"; };`, func(testing.TB) []*cim.Class {
		return []*cim.Class{
			{Name: "A_1", Properties: []cim.Property{{Name: "K", Type: cim.Type{Kind: cim.KindString},
				Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}}}}},
			{Name: "A_2", SuperClass: "A_1", Properties: []cim.Property{{Name: "L", Type: cim.Type{Kind: cim.KindString}, Default: "x"}}},
		}
	}},
	{"utf-8 bom", "\uFEFFclass A_Bom { };", func(testing.TB) []*cim.Class {
		return []*cim.Class{{Name: "A_Bom"}}
	}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("t.mof", []byte(tc.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tc.want(t)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Parse:\n got %s\nwant %s", dump(got), dump(want))
			}
			// And Format gives the same classes back.
			again := formatAndParse(t, got)
			if !reflect.DeepEqual(again, want) {
				t.Fatalf("Parse(Format):\n got %s\nwant %s", dump(again), dump(want))
			}
		})
	}
}

// dump shows classes in full for failure messages.
func dump(cs []*cim.Class) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n%#v", *c)
	}
	return b.String()
}

func formatAndParse(t testing.TB, classes []*cim.Class) []*cim.Class {
	t.Helper()
	var b strings.Builder
	for _, c := range classes {
		b.WriteString(Format(c))
	}
	got, err := Parse("formatted.mof", []byte(b.String()))
	if err != nil {
		t.Fatalf("Parse(Format(…)): %v\n%s", err, b.String())
	}
	return got
}

func TestParseFile(t *testing.T) {
	src := "#pragma namespace(\"\\\\\\\\.\\\\root\\\\cimv2\")\n" +
		"#pragma include(\"other.mof\")\n#pragma deleteclass(\"X_Y\", NOFAIL)\n" +
		"qualifier Key : boolean = false, scope(property, reference);\n" +
		"class A_B { };\n"
	f, err := ParseFile("t.mof", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Namespace != "root/cimv2" {
		t.Errorf("Namespace = %q, want root/cimv2", f.Namespace)
	}
	wantPragmas := []Pragma{
		{Name: "namespace", Args: []string{`\\.\root\cimv2`}},
		{Name: "include", Args: []string{"other.mof"}},
		{Name: "deleteclass", Args: []string{"X_Y", "NOFAIL"}},
	}
	if !reflect.DeepEqual(f.Pragmas, wantPragmas) {
		t.Errorf("Pragmas = %#v", f.Pragmas)
	}
	if f.Pragmas[1].Value() != "other.mof" || (Pragma{}).Value() != "" {
		t.Errorf("Pragma.Value is wrong")
	}
	wantQ := []QualifierDecl{{Name: "Key", Type: cim.Type{Kind: cim.KindBoolean}, Default: false, Scopes: []string{"property", "reference"}}}
	if !reflect.DeepEqual(f.Qualifiers, wantQ) {
		t.Errorf("Qualifiers = %#v", f.Qualifiers)
	}
	if len(f.Classes) != 1 || f.Classes[0].Name != "A_B" {
		t.Errorf("Classes = %v", f.Classes)
	}
	// FormatFile writes the namespace back.
	f2, err := ParseFile("again.mof", []byte(FormatFile(f)))
	if err != nil || f2.Namespace != "root/cimv2" || !reflect.DeepEqual(f2.Classes, f.Classes) {
		t.Errorf("FormatFile round trip: %v %+v", err, f2)
	}
}

func TestNamespaceForms(t *testing.T) {
	for in, want := range map[string]string{
		`"root/cimv2"`:                 "root/cimv2",
		`"root\\cimv2"`:                "root/cimv2",
		`"\\\\.\\root\\cimv2"`:         "root/cimv2",
		`"//host/root/cimv2"`:          "root/cimv2",
		`"/root/interop/"`:             "root/interop",
		`"root" "/" "cimv2"`:           "root/cimv2",
		`"\\\\HOST\\Root\\CIMV2"`:      "Root/CIMV2",
		`"\\\\nothing-after-the-host"`: "",
	} {
		f, err := ParseFile("ns.mof", []byte("#pragma namespace("+in+")"))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if f.Namespace != want {
			t.Errorf("%s: Namespace = %q, want %q", in, f.Namespace, want)
		}
	}
}

func TestUTF16(t *testing.T) {
	src := `[Description("é")] class A_U { string S; };`
	le := []byte{0xFF, 0xFE}
	be := []byte{0xFE, 0xFF}
	for _, r := range src {
		le = append(le, byte(r), byte(r>>8))
		be = append(be, byte(r>>8), byte(r))
	}
	for name, b := range map[string][]byte{"le": le, "be": be} {
		got, err := Parse(name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 1 || got[0].Qualifiers.String("description") != "é" {
			t.Errorf("%s: got %#v", name, got)
		}
	}
	if _, err := Parse("odd", []byte{0xFF, 0xFE, 'a'}); err == nil {
		t.Error("odd-length UTF-16 parsed")
	}
}

// errorCases are inputs that must fail, with the start of the message
// after the CIM_ERR_INVALID_PARAMETER prefix; they also seed FuzzParse.
var errorCases = []struct {
	src  string
	want string
}{
	{`class`, `e.mof:1:6: expected class name, found end of file`},
	{`class A_B`, `e.mof:1:10: expected "{", found end of file`},
	{`class A_B { }`, `e.mof:1:14: expected ";", found end of file`},
	{"class A_B {\n  string;\n};", `e.mof:2:9: expected property name, found ";"`},
	{"class A_B {\n  strin X;\n};", `e.mof:2:3: expected data type, found "strin"`},
	{"class A_B {\n  string X\n};", `e.mof:3:1: expected ";", found "}"`},
	{`class A_B : { };`, `e.mof:1:13: expected superclass name, found "{"`},
	{`[Key class A_B { };`, `e.mof:1:6: expected "," or "]", found "class"`},
	{`[] class A_B { };`, `e.mof:1:2: expected qualifier name, found "]"`},
	{`[Key: Sometimes] class A_B { };`, `e.mof:1:7: expected qualifier flavor, found "Sometimes"`},
	{`[D(] class A_B { };`, `e.mof:1:4: expected value, found "]"`},
	{`[D({1, {2}})] class A_B { };`, `e.mof:1:8: expected value, found "{"`},
	{`[D({1 2})] class A_B { };`, `e.mof:1:7: expected ",", found number 2`},
	{`[D(1] class A_B { };`, `e.mof:1:5: expected ")", found "]"`},
	{`[Key, key] class A_B { };`, `e.mof:1:7: duplicate qualifier key`},
	{`[Key]`, `e.mof:1:6: expected "class", found end of file`},
	{`string X;`, `e.mof:1:1: expected class declaration, qualifier declaration or #pragma, found "string"`},
	{`;`, `e.mof:1:1: expected class declaration, qualifier declaration or #pragma, found ";"`},
	{`instance of A_B { X = 1; };`, `e.mof:1:1: instance declarations are not supported`},
	{`class A_B { uint32 Run([in] uint32 X); };`, `e.mof:1:23: method Run: methods are not supported`},
	{"class A_B { string X; string x; };", `e.mof:1:30: duplicate property x in class A_B`},
	{"class A_B { };\nclass a_b { };", `e.mof:2:7: class a_b is already declared at line 1`},
	{`class A_B : a_b { };`, `e.mof:1:13: class A_B cannot be its own superclass`},
	{`class A_B { uint8 X = 256; };`, `e.mof:1:23: 256 is out of range for uint8`},
	{`class A_B { sint8 X = -129; };`, `e.mof:1:23: -129 is out of range for sint8`},
	{`class A_B { uint32 X = -1; };`, `e.mof:1:24: -1 is out of range for uint32`},
	{`class A_B { uint32 X = "1"; };`, `e.mof:1:24: string value is not of type uint32`},
	{`class A_B { uint32 X = 1.5; };`, `e.mof:1:24: real value is not of type uint32`},
	{`class A_B { string X = 1; };`, `e.mof:1:24: integer value is not of type string`},
	{`class A_B { boolean X = 1; };`, `e.mof:1:25: integer value is not of type boolean`},
	{`class A_B { char16 X = "a"; };`, `e.mof:1:24: string value is not of type char16`},
	{`class A_B { uint32 X[] = 1; };`, `e.mof:1:26: uint32[] needs an array value {…}`},
	{`class A_B { uint32 X = {1}; };`, `e.mof:1:24: uint32 is not an array type`},
	{`class A_B { uint32 X[] = {1, "a"}; };`, `e.mof:1:30: string value is not of type uint32`},
	{`class A_B { datetime X = "2026"; };`, `e.mof:1:26: CIM datetime "2026"`},
	{`class A_B { datetime X = 5; };`, `e.mof:1:26: integer value is not of type datetime`},
	{`class A_B { A_C REF X = "!"; };`, `e.mof:1:25: object path "!"`},
	{`class A_B { real32 X = 1e39; };`, `e.mof:1:24: 1e39 is out of range for real32`},
	{`class A_B { uint32 X[0]; };`, `e.mof:1:22: array size must be positive, not 0`},
	{`class A_B { uint32 X[; };`, `e.mof:1:22: expected "]", found ";"`},
	{`class A_B { reference X; };`, `e.mof:1:13: expected data type, found "reference"`},
	{"class A_B {\n  string X = \"abc\n};", `e.mof:2:14: unterminated string literal`},
	{`[D("\q")] class A_B { };`, `e.mof:1:5: invalid escape sequence \q`},
	{`[D("\x")] class A_B { };`, `e.mof:1:5: \x escape needs 1 to 4 hexadecimal digits`},
	{`[D("\xD800")] class A_B { };`, `e.mof:1:5: lone UTF-16 surrogate \xD800 in a string`},
	{`[D("\xDC00")] class A_B { };`, `e.mof:1:5: lone UTF-16 surrogate \xDC00 in a string`},
	{`[D('ab')] class A_B { };`, `e.mof:1:4: unterminated char16 literal`},
	{`[D('')] class A_B { };`, `e.mof:1:4: invalid char16 literal`},
	{`[D('😀')] class A_B { };`, `e.mof:1:4: character '😀' does not fit in a char16`},
	{`[D(08)] class A_B { };`, `e.mof:1:4: invalid number "08"`},
	{`[D(1.)] class A_B { };`, `e.mof:1:4: invalid number "1."`},
	{`[D(0x)] class A_B { };`, `e.mof:1:4: invalid number "0x"`},
	{`[D(12ab)] class A_B { };`, `e.mof:1:4: invalid number "12ab"`},
	{`[D(18446744073709551616)] class A_B { };`, `e.mof:1:4: integer out of range: "18446744073709551616"`},
	{`[D(-9223372036854775809)] class A_B { };`, `e.mof:1:4: integer out of range: "-9223372036854775809"`},
	{`[D(1e400)] class A_B { };`, `e.mof:1:4: real out of range: "1e400"`},
	{"/* never\nends", `e.mof:1:1: unterminated /* comment`},
	{"class A_B { $x };", `e.mof:1:13: unexpected character '$'`},
	{"#include \"x\"", `e.mof:1:1: expected "#pragma", found "#include"`},
	{"#pragma namespace", `e.mof:1:1: #pragma namespace needs one string argument`},
	{"#pragma locale(\"a\" \"b\"", `e.mof:1:23: expected ",", found end of file`},
	{"#pragma x({})", `e.mof:1:11: expected pragma argument, found "{"`},
	{"#pragma namespace(\"root/a\")\nclass A_B { };\n#pragma namespace(\"root/b\")",
		`e.mof:3:1: #pragma namespace("root/b") after classes of namespace "root/a": one namespace per file`},
	{`[Association(false)] association A_B { };`, `e.mof:1:34: A_B declared with the association keyword but Association(false)`},
	{`[Key] qualifier Key : boolean;`, `e.mof:1:1: a qualifier declaration takes no qualifier list`},
	{`qualifier Key : boolean, shape(class);`, `e.mof:1:26: expected "scope" or "flavor", found "shape"`},
	{`qualifier Key : boolean, scope(class;`, `e.mof:1:37: expected "," or ")", found ";"`},
	{`qualifier Key boolean;`, `e.mof:1:15: expected ":", found "boolean"`},
	{`structure A_B { };`, `e.mof:1:1: structure declarations are not supported`},
	{"class A_B { string X = \"\xff\"; };", `e.mof:1:25: invalid UTF-8 text`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errorCases {
		_, err := Parse("e.mof", []byte(tc.src))
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.src, tc.want)
			continue
		}
		var ce *cim.Error
		if !errors.As(err, &ce) || ce.Code != cim.ErrInvalidParameter {
			t.Errorf("%q: error %v is not a CIM_ERR_INVALID_PARAMETER *cim.Error", tc.src, err)
			continue
		}
		if !strings.HasPrefix(ce.Description, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.src, ce.Description, tc.want)
		}
		// The position is data too.
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.HasPrefix(tc.want, fmt.Sprintf("e.mof:%d:%d: ", se.Line, se.Column)) || se.File != "e.mof" {
			t.Errorf("%q: SyntaxError %+v", tc.src, se)
		}
	}
}

func TestErrorWithoutFileName(t *testing.T) {
	_, err := Parse("", []byte("class"))
	if err == nil || !strings.Contains(err.Error(), ": 1:6: expected class name") {
		t.Errorf("err = %v", err)
	}
}
