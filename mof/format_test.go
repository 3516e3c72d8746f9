package mof

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// richClasses are classes that exercise everything Format writes.
func richClasses(t testing.TB) []*cim.Class {
	long := strings.Repeat("The quick brown fox jumps over the \"lazy\" dog. ", 8)
	statuses := []any{"OK", "Error", "Degraded", "Unknown", "Pred Fail", "Starting", "Stopping",
		"Service", "Stressed", "NonRecover", "No Contact", "Lost Comm"}
	str := cim.Type{Kind: cim.KindString}
	return []*cim.Class{
		{
			Name: "CIM_ManagedSystemElement",
			Qualifiers: cim.Qualifiers{
				{Name: "Abstract", Value: true},
				{Name: "Description", Value: long},
				{Name: "UUID", Value: "{8502C517-5FBB-11D2-AAC1-006008C78BC7}"},
			},
			Properties: []cim.Property{
				{Name: "Caption", Type: str, Qualifiers: cim.Qualifiers{{Name: "MaxLen", Value: int64(64)}}},
				{Name: "Status", Type: str, Qualifiers: cim.Qualifiers{
					{Name: "MaxLen", Value: int64(10)}, {Name: "ValueMap", Value: statuses}, {Name: "Values", Value: statuses}}},
				{Name: "InstallDate", Type: cim.Type{Kind: cim.KindDateTime}},
			},
		},
		{
			Name: "Linux_LogonSession", SuperClass: "Win32_LogonSession",
			Qualifiers: cim.Qualifiers{
				{Name: "Dynamic", Value: true},
				{Name: "Provider", Value: "cimsess"},
				{Name: "Description", Value: strings.Repeat("unbroken", 30)},
				{Name: "Odd", Value: "tab\there\nnl\r\x00\x1f\x7f\u0085 \u2028 quote\" back\\ é😀 \ufeff"},
				{Name: "Nums", Value: []any{int64(math.MinInt64), int64(math.MaxInt64), uint64(math.MaxUint64), int64(0)}},
				{Name: "Reals", Value: []any{0.1, math.Copysign(0, -1), 5e-324, math.MaxFloat64, 1e21, 1e-7, 123456789.0}},
				{Name: "Chars", Value: []any{cim.Char16(0), cim.Char16('\''), cim.Char16('\\'), cim.Char16(0xD800), cim.Char16(0xFFFF), cim.Char16('é'), cim.Char16('a')}},
				{Name: "Nothing", Value: nil},
				{Name: "Empty", Value: []any{}},
				{Name: "Off", Value: false},
				{Name: "Ratio", Value: 0.75},
				{Name: "Letter", Value: cim.Char16('"')},
			},
			Properties: []cim.Property{
				{Name: "LogonId", Type: str, Propagated: true, ClassOrigin: "Win32_LogonSession",
					Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}}},
				{Name: "UserName", Type: str, ClassOrigin: "Linux_LogonSession",
					Qualifiers: cim.Qualifiers{{Name: "MaxLen", Value: int64(256)}, {Name: "Description", Value: "The user."}}},
				{Name: "UserId", Type: cim.Type{Kind: cim.KindUint32}, Default: uint32(math.MaxUint32)},
				{Name: "IdleTime", Type: cim.Type{Kind: cim.KindDateTime}, Default: cim.NewInterval(90*time.Minute + 1500*time.Microsecond),
					Qualifiers: cim.Qualifiers{{Name: "SubType", Value: "interval"}}},
				{Name: "Seen", Type: cim.Type{Kind: cim.KindDateTime}, Default: mustDateTime(t, "2026****030405.12****-***")},
				{Name: "When", Type: cim.Type{Kind: cim.KindDateTime}, Default: cim.NewDateTime(time.Date(2026, 3, 4, 5, 6, 7, 8000, time.FixedZone("", -150*60)))},
				{Name: "U8", Type: cim.Type{Kind: cim.KindUint8}, Default: uint8(7)},
				{Name: "S8", Type: cim.Type{Kind: cim.KindSint8}, Default: int8(math.MinInt8)},
				{Name: "U16", Type: cim.Type{Kind: cim.KindUint16}, Default: uint16(math.MaxUint16)},
				{Name: "S16", Type: cim.Type{Kind: cim.KindSint16}, Default: int16(math.MinInt16)},
				{Name: "S32", Type: cim.Type{Kind: cim.KindSint32}, Default: int32(math.MinInt32)},
				{Name: "U64", Type: cim.Type{Kind: cim.KindUint64}, Default: uint64(math.MaxUint64)},
				{Name: "S64", Type: cim.Type{Kind: cim.KindSint64}, Default: int64(math.MinInt64)},
				{Name: "R32", Type: cim.Type{Kind: cim.KindReal32}, Default: float32(0.1)},
				{Name: "R32s", Type: cim.Type{Kind: cim.KindReal32, Array: true},
					Default: []any{float32(math.MaxFloat32), float32(math.SmallestNonzeroFloat32), float32(16777217), nil}},
				{Name: "R64", Type: cim.Type{Kind: cim.KindReal64}, Default: 1.0 / 3},
				{Name: "B", Type: cim.Type{Kind: cim.KindBoolean}, Default: false},
				{Name: "C", Type: cim.Type{Kind: cim.KindChar16}, Default: cim.Char16('\n')},
				{Name: "Tags", Type: cim.Type{Kind: cim.KindString, Array: true}, Default: []any{"a", "", "b\"c", nil}},
				{Name: "None", Type: cim.Type{Kind: cim.KindUint32, Array: true}, Default: []any{}},
				{Name: "Host", Type: str, Default: "héllo wörld 😀"},
			},
		},
		{
			Name: "Win32_LoggedOnUser", SuperClass: "CIM_Dependency",
			Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}, {Name: "Dynamic", Value: true}},
			Properties: []cim.Property{
				{Name: "Antecedent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_Account"},
					Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}, {Name: "Override", Value: "Antecedent"}}},
				{Name: "Dependent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_LogonSession"},
					Default:    mustPath(t, `Win32_LogonSession.LogonId="42"`),
					Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}}},
				{Name: "Anything", Type: cim.Type{Kind: cim.KindReference}},
			},
		},
		{Name: "Empty_Class"},
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, c := range richClasses(t) {
		out := Format(c)
		got, err := Parse(c.Name+".mof", []byte(out))
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.Name, err, out)
		}
		want := []*cim.Class{c.Local()}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parse(Format(c)) differs:\n got %s\nwant %s\n%s", c.Name, dump(got), dump(want), out)
		}
		// Canonical: formatting the parsed class writes the same text.
		if again := Format(got[0]); again != out {
			t.Errorf("%s: Format is not stable:\n%s\n---\n%s", c.Name, out, again)
		}
		for i, line := range strings.Split(out, "\n") {
			if len(line) > lineWidth+30 && !strings.Contains(line, "unbroken") {
				t.Errorf("%s: line %d is %d bytes long: %s", c.Name, i+1, len(line), line)
			}
		}
	}
}

func TestFormatGolden(t *testing.T) {
	c := &cim.Class{
		Name: "Win32_LogonSession", SuperClass: "Win32_Session",
		Qualifiers: cim.Qualifiers{{Name: "Dynamic", Value: true}, {Name: "Provider", Value: "cimsess"}},
		Properties: []cim.Property{
			{Name: "Caption", Type: cim.Type{Kind: cim.KindString}, Propagated: true},
			{Name: "LogonId", Type: cim.Type{Kind: cim.KindString},
				Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}, {Name: "MaxLen", Value: int64(64)}}},
			{Name: "AuthenticationPackage", Type: cim.Type{Kind: cim.KindString}},
			{Name: "LogonType", Type: cim.Type{Kind: cim.KindUint32}, Default: uint32(2),
				Qualifiers: cim.Qualifiers{{Name: "ValueMap", Value: []any{"0", "2"}}, {Name: "Values", Value: []any{"System", "Interactive"}}}},
			{Name: "Flags", Type: cim.Type{Kind: cim.KindUint8, Array: true}, Default: []any{uint8(1), uint8(2)}},
		},
	}
	want := `[Dynamic, Provider("cimsess")]
class Win32_LogonSession : Win32_Session {
    [Key, MaxLen(64)]
    string LogonId;

    string AuthenticationPackage;

    [ValueMap{"0", "2"}, Values{"System", "Interactive"}]
    uint32 LogonType = 2;

    uint8 Flags[] = {1, 2};
};
`
	if got := Format(c); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
	if got := FormatQualifiers(nil); got != "" {
		t.Errorf("FormatQualifiers(nil) = %q", got)
	}
	if got := FormatQualifiers(cim.Qualifiers{{Name: "Key", Value: true}, {Name: "Write", Value: false}, {Name: "N", Value: uint32(3)}}); got != "[Key, Write(false), N(3)]" {
		t.Errorf("FormatQualifiers = %q", got)
	}
}

func TestFormatOtherGoValues(t *testing.T) {
	// Values outside the canonical mapping still format as MOF and come
	// back in canonical form.
	c := &cim.Class{Name: "A_B", Qualifiers: cim.Qualifiers{
		{Name: "U", Value: uint16(5)},
		{Name: "I", Value: 7},
		{Name: "S", Value: []string{"x", "y"}},
		{Name: "D", Value: mustDateTime(t, "20260101000000.000000+000")},
		{Name: "F", Value: float32(0.5)},
		{Name: "W", Value: struct{ A int }{1}},
	}}
	got, err := Parse("x.mof", []byte(Format(c)))
	if err != nil {
		t.Fatal(err)
	}
	want := cim.Qualifiers{
		{Name: "U", Value: int64(5)},
		{Name: "I", Value: int64(7)},
		{Name: "S", Value: []any{"x", "y"}},
		{Name: "D", Value: "20260101000000.000000+000"},
		{Name: "F", Value: 0.5},
		{Name: "W", Value: "{1}"},
	}
	if !reflect.DeepEqual(got[0].Qualifiers, want) {
		t.Errorf("got %#v", got[0].Qualifiers)
	}
	// NaN has no literal: the output must not parse into something else.
	bad := &cim.Class{Name: "A_B", Qualifiers: cim.Qualifiers{{Name: "X", Value: math.NaN()}}}
	if _, err := Parse("nan.mof", []byte(Format(bad))); err == nil {
		t.Error("a NaN qualifier formatted into MOF that parses")
	}
}

func TestSplitString(t *testing.T) {
	for _, s := range []string{"", "short", strings.Repeat("a", 200), strings.Repeat("word ", 50), strings.Repeat("é😀 ", 60)} {
		parts := splitString(s, 20)
		if strings.Join(parts, "") != s {
			t.Errorf("splitString(%q) lost text: %q", s, parts)
		}
		for _, p := range parts {
			if len([]rune(p)) > 20 {
				t.Errorf("piece %q is longer than 20", p)
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	var src strings.Builder
	for _, c := range richClasses(b) {
		src.WriteString(Format(c))
	}
	data := []byte(src.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("bench.mof", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	classes := richClasses(b)
	for b.Loop() {
		for _, c := range classes {
			_ = Format(c)
		}
	}
}
