package cim

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestKinds(t *testing.T) {
	for k := KindString; k <= KindReference; k++ {
		name := k.String()
		got, ok := ParseKind(strings.ToUpper(name))
		if !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", name, got, ok)
		}
	}
	if k, ok := ParseKind("ref"); !ok || k != KindReference {
		t.Error("ParseKind(ref)")
	}
	for _, s := range []string{"", "int", "object", "string[]"} {
		if _, ok := ParseKind(s); ok {
			t.Errorf("ParseKind(%q) ok", s)
		}
	}
	if Kind(200).String() != "" {
		t.Error("Kind(200) has a name")
	}
	types := map[Type]string{
		{Kind: KindString}:                                "string",
		{Kind: KindUint32, Array: true}:                   "uint32[]",
		{Kind: KindReference, RefClass: "Win32_Account"}:  "Win32_Account REF",
		{Kind: KindReference}:                             "object REF",
		{Kind: KindReference, RefClass: "C", Array: true}: "C REF[]",
	}
	for ty, want := range types {
		if ty.String() != want {
			t.Errorf("%#v.String() = %q, want %q", ty, ty.String(), want)
		}
		if ty.ArrayOf().Scalar() != ty.Scalar() || !ty.ArrayOf().Array {
			t.Errorf("ArrayOf/Scalar of %s", ty)
		}
	}
	for _, k := range []Kind{KindUint8, KindSint8, KindUint16, KindSint16, KindUint32, KindSint32, KindUint64, KindSint64} {
		if !k.IsInteger() || !k.IsNumeric() || k.IsReal() {
			t.Errorf("%s is not an integer kind", k)
		}
		if k.IsSigned() != strings.HasPrefix(k.String(), "sint") {
			t.Errorf("%s.IsSigned() = %v", k, k.IsSigned())
		}
	}
	for _, k := range []Kind{KindString, KindChar16, KindBoolean, KindDateTime, KindReference} {
		if k.IsNumeric() {
			t.Errorf("%s is numeric", k)
		}
	}
	if !KindReal32.IsReal() || !KindReal64.IsNumeric() {
		t.Error("reals")
	}
}

// sampleValues holds a value of every scalar kind, with its text form.
var sampleValues = []struct {
	kind Kind
	v    any
	text string
}{
	{KindString, "héllo, \"world\"", "héllo, \"world\""},
	{KindString, "", ""},
	{KindChar16, Char16('é'), "é"},
	{KindBoolean, true, "true"},
	{KindBoolean, false, "false"},
	{KindUint8, uint8(255), "255"},
	{KindSint8, int8(-128), "-128"},
	{KindUint16, uint16(65535), "65535"},
	{KindSint16, int16(-32768), "-32768"},
	{KindUint32, uint32(4294967295), "4294967295"},
	{KindSint32, int32(-2147483648), "-2147483648"},
	{KindUint64, uint64(math.MaxUint64), "18446744073709551615"},
	{KindSint64, int64(math.MinInt64), "-9223372036854775808"},
	{KindSint64, int64(math.MaxInt64), "9223372036854775807"},
	{KindReal32, float32(0.1), "0.1"},
	{KindReal32, float32(math.MaxFloat32), "3.4028235e+38"},
	{KindReal32, float32(math.SmallestNonzeroFloat32), "1e-45"},
	{KindReal64, 0.1, "0.1"},
	{KindReal64, -1e300, "-1e+300"},
	{KindReal64, math.SmallestNonzeroFloat64, "5e-324"},
}

func TestValueRoundTrip(t *testing.T) {
	dt, _ := ParseDateTime("20260101120000.000000-060")
	iv := NewInterval(90e9)
	op, _ := ParseObjectPath(`\\H\root\cimv2:Win32_LogonSession.LogonId="42"`)
	cases := append([]struct {
		kind Kind
		v    any
		text string
	}{
		{KindDateTime, dt, "20260101120000.000000-060"},
		{KindDateTime, iv, "00000000000130.000000:000"},
		{KindReference, op, `\\H\root\cimv2:Win32_LogonSession.LogonId="42"`},
	}, sampleValues...)
	for _, tc := range cases {
		ty := Type{Kind: tc.kind}
		if got := TypeOf(tc.v); got.Kind != tc.kind || got.Array {
			t.Errorf("TypeOf(%#v) = %v, want %s", tc.v, got, tc.kind)
		}
		if got := FormatValue(tc.v); got != tc.text {
			t.Errorf("FormatValue(%#v) = %q, want %q", tc.v, got, tc.text)
		}
		got, err := ParseValue(ty, tc.text)
		if err != nil || !reflect.DeepEqual(got, tc.v) {
			t.Errorf("ParseValue(%s, %q) = %#v, %v; want %#v", ty, tc.text, got, err, tc.v)
		}
		got, err = Convert(ty, tc.v)
		if err != nil || !reflect.DeepEqual(got, tc.v) {
			t.Errorf("Convert(%s, %#v) = %#v, %v", ty, tc.v, got, err)
		}
		if tc.kind != KindString {
			got, err = Convert(ty, tc.text)
			if err != nil || !reflect.DeepEqual(got, tc.v) {
				t.Errorf("Convert(%s, %q) = %#v, %v", ty, tc.text, got, err)
			}
		}
		if !Equal(tc.v, tc.v) {
			t.Errorf("Equal(%#v, itself) is false", tc.v)
		}
		// An array of it.
		arr, err := Convert(ty.ArrayOf(), []any{tc.v, nil})
		if err != nil || !reflect.DeepEqual(arr, []any{tc.v, nil}) {
			t.Errorf("Convert(%s[], ...) = %#v, %v", ty, arr, err)
		}
		if TypeOf(arr) != TypeOf(tc.v).ArrayOf() {
			t.Errorf("TypeOf(%#v) = %v", arr, TypeOf(arr))
		}
	}
}

func TestConvertNumbers(t *testing.T) {
	cases := []struct {
		kind Kind
		in   any
		want any // nil: a type mismatch
	}{
		{KindUint8, int64(255), uint8(255)},
		{KindUint8, int64(256), nil},
		{KindUint8, int64(-1), nil},
		{KindUint8, 3.0, uint8(3)},
		{KindUint8, 3.5, nil},
		{KindSint8, int64(-129), nil},
		{KindSint8, uint64(127), int8(127)},
		{KindUint16, int64(65536), nil},
		{KindSint16, int32(-32769), nil},
		{KindUint32, uint64(1 << 32), nil},
		{KindUint32, int(42), uint32(42)},
		{KindUint32, uint(42), uint32(42)},
		{KindSint32, int64(math.MaxInt32 + 1), nil},
		{KindSint64, uint64(math.MaxInt64), int64(math.MaxInt64)},
		{KindSint64, uint64(math.MaxInt64 + 1), nil},
		{KindSint64, float64(1 << 63), nil}, // 2^63 does not fit
		{KindSint64, -float64(1 << 63), int64(math.MinInt64)},
		{KindSint64, float64(1 << 62), int64(1 << 62)},
		{KindUint64, int64(-1), nil},
		{KindUint64, uint8(7), uint64(7)},
		{KindUint64, float64(1 << 63), uint64(1 << 63)},
		{KindUint64, float64(1 << 64), nil},
		{KindUint64, -1.0, nil},
		{KindUint64, math.NaN(), nil},
		{KindSint32, math.NaN(), nil},
		{KindSint32, math.Inf(1), nil},
		{KindReal32, int64(3), float32(3)},
		{KindReal32, 1e39, nil}, // too large for a real32
		{KindReal32, -1e39, nil},
		{KindReal64, uint64(math.MaxUint64), float64(math.MaxUint64)},
		{KindReal64, float32(0.5), 0.5},
		{KindReal64, true, nil},
		{KindBoolean, int64(1), nil},
		{KindString, int64(1), nil},
		{KindChar16, int64(65), nil},
		{KindDateTime, int64(1), nil},
		{KindReference, int64(1), nil},
		{KindUint8, "0x10", uint8(16)},
		{KindUint8, " 7 ", uint8(7)},
		{KindUint8, "+7", uint8(7)},
		{KindUint8, "256", nil},
		{KindSint8, "-128", int8(-128)},
		{KindSint8, "-129", nil},
		{KindSint64, "9223372036854775808", nil},
		{KindSint64, "-9223372036854775809", nil},
		{KindUint64, "18446744073709551616", nil},
		{KindUint64, "-1", nil},
		{KindUint32, "1.0", nil},
		{KindUint32, "", nil},
		{KindUint32, "abc", nil},
		{KindReal64, "1e999", nil},
		{KindReal32, "1e39", nil},
		{KindReal32, "3.4028235e+38", float32(math.MaxFloat32)},
		{KindReal64, "NaN-ish", nil},
		{KindBoolean, "TRUE", true},
		{KindBoolean, "yes", nil},
		{KindChar16, "ab", nil},
		{KindChar16, "", nil},
		{KindChar16, "😀", nil}, // beyond UCS-2
		{KindDateTime, "2026", nil},
		{KindReference, "1bad", nil},
	}
	for _, tc := range cases {
		got, err := Convert(Type{Kind: tc.kind}, tc.in)
		if tc.want == nil {
			if err == nil {
				t.Errorf("Convert(%s, %#v) = %#v, want an error", tc.kind, tc.in, got)
			} else if c := CodeOf(err); c != ErrTypeMismatch && c != ErrInvalidParameter {
				t.Errorf("Convert(%s, %#v) error %v has code %v", tc.kind, tc.in, err, c)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Convert(%s, %#v) = %#v, %v; want %#v", tc.kind, tc.in, got, err, tc.want)
		}
	}
}

func TestConvertArraysAndNil(t *testing.T) {
	if v, err := Convert(Type{Kind: KindUint8}, nil); v != nil || err != nil {
		t.Errorf("Convert(nil) = %v, %v", v, err)
	}
	if _, err := Convert(Type{Kind: KindUint8, Array: true}, uint8(1)); CodeOf(err) != ErrTypeMismatch {
		t.Errorf("scalar for an array: %v", err)
	}
	if _, err := Convert(Type{Kind: KindUint8}, []any{uint8(1)}); CodeOf(err) != ErrTypeMismatch {
		t.Errorf("array for a scalar: %v", err)
	}
	if _, err := Convert(Type{Kind: KindUint8, Array: true}, []any{int64(1), int64(300)}); CodeOf(err) != ErrTypeMismatch {
		t.Errorf("array with an out-of-range element: %v", err)
	}
	got, err := Convert(Type{Kind: KindUint16, Array: true}, []any{int64(1), "2", 3.0})
	if err != nil || !reflect.DeepEqual(got, []any{uint16(1), uint16(2), uint16(3)}) {
		t.Errorf("Convert(uint16[]) = %#v, %v", got, err)
	}
	if _, err := ParseValue(Type{Kind: KindString, Array: true}, "x"); CodeOf(err) != ErrTypeMismatch {
		t.Errorf("ParseValue of an array: %v", err)
	}
	if _, err := ParseValue(Type{}, "x"); CodeOf(err) != ErrTypeMismatch {
		t.Errorf("ParseValue of an invalid type: %v", err)
	}
	if TypeOf(nil) != (Type{}) || TypeOf(struct{}{}) != (Type{}) || TypeOf(1) != (Type{}) {
		t.Error("TypeOf of a non-CIM value is not the zero Type")
	}
	if TypeOf([]any{nil}) != (Type{Kind: KindString, Array: true}) {
		t.Errorf("TypeOf([]any{nil}) = %v", TypeOf([]any{nil}))
	}
	if got := FormatValue([]any{int64(1), "a", nil, true}); got != "{1, a, , true}" {
		t.Errorf("FormatValue(array) = %q", got)
	}
	if FormatValue(nil) != "" || FormatValue(7) != "7" || FormatValue(struct{ A int }{3}) != "{3}" {
		t.Error("FormatValue of nil, int or struct")
	}
}

func TestAsNumbers(t *testing.T) {
	if i, ok := AsInt64(uint64(math.MaxUint64)); ok {
		t.Errorf("AsInt64(MaxUint64) = %d", i)
	}
	if i, ok := AsInt64(uint(5)); !ok || i != 5 {
		t.Error("AsInt64(uint)")
	}
	if _, ok := AsInt64(uint(math.MaxUint64)); ok {
		t.Error("AsInt64(MaxUint)")
	}
	if _, ok := AsInt64("5"); ok {
		t.Error("AsInt64(string)")
	}
	if u, ok := AsUint64(int8(-1)); ok {
		t.Errorf("AsUint64(-1) = %d", u)
	}
	if u, ok := AsUint64(uint(9)); !ok || u != 9 {
		t.Error("AsUint64(uint)")
	}
	if f, ok := AsFloat64(uint(9)); !ok || f != 9 {
		t.Error("AsFloat64(uint)")
	}
	if f, ok := AsFloat64(int16(-9)); !ok || f != -9 {
		t.Error("AsFloat64(int16)")
	}
	if _, ok := AsFloat64("x"); ok {
		t.Error("AsFloat64(string)")
	}
}

func TestEqual(t *testing.T) {
	d1, _ := ParseDateTime("20260101120000.000000+000")
	d2, _ := ParseDateTime("20260101130000.000000+060")
	p1, _ := ParseObjectPath(`C.K="a"`)
	p2, _ := ParseObjectPath(`c.k="a"`)
	eq := [][2]any{
		{nil, nil},
		{uint8(5), int64(5)},
		{uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{int32(-1), int64(-1)},
		{float32(0.5), 0.5},
		{int64(2), 2.0},
		{"a", "a"},
		{d1, d2},
		{p1, p2},
		{[]any{int64(1), "a"}, []any{uint8(1), "a"}},
		{Char16('x'), Char16('x')},
	}
	for _, e := range eq {
		if !Equal(e[0], e[1]) || !Equal(e[1], e[0]) {
			t.Errorf("Equal(%#v, %#v) is false", e[0], e[1])
		}
	}
	ne := [][2]any{
		{nil, int64(0)},
		{"a", "A"},
		{int64(-1), uint64(math.MaxUint64)},
		{uint64(math.MaxUint64), int64(-1)},
		{"1", int64(1)},
		{true, int64(1)},
		{d1, "20260101120000.000000+000"},
		{p1, `C.K="a"`},
		{[]any{int64(1)}, []any{int64(1), int64(2)}},
		{[]any{int64(1)}, int64(1)},
	}
	for _, e := range ne {
		if Equal(e[0], e[1]) || Equal(e[1], e[0]) {
			t.Errorf("Equal(%#v, %#v) is true", e[0], e[1])
		}
	}
}

func TestChar16(t *testing.T) {
	if Char16('A').String() != "A" {
		t.Error("Char16 String")
	}
}

func TestStatusNames(t *testing.T) {
	want := map[Status]string{
		0: "CIM_ERR_OK", 1: "CIM_ERR_FAILED", 2: "CIM_ERR_ACCESS_DENIED", 3: "CIM_ERR_INVALID_NAMESPACE",
		4: "CIM_ERR_INVALID_PARAMETER", 5: "CIM_ERR_INVALID_CLASS", 6: "CIM_ERR_NOT_FOUND",
		7: "CIM_ERR_NOT_SUPPORTED", 8: "CIM_ERR_CLASS_HAS_CHILDREN", 9: "CIM_ERR_CLASS_HAS_INSTANCES",
		10: "CIM_ERR_INVALID_SUPERCLASS", 11: "CIM_ERR_ALREADY_EXISTS", 12: "CIM_ERR_NO_SUCH_PROPERTY",
		13: "CIM_ERR_TYPE_MISMATCH", 14: "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED", 15: "CIM_ERR_INVALID_QUERY",
		16: "CIM_ERR_METHOD_NOT_AVAILABLE", 17: "CIM_ERR_METHOD_NOT_FOUND",
		18: "CIM_ERR_18", 19: "CIM_ERR_19", // DSP0200 leaves 18 and 19 unassigned
		20: "CIM_ERR_NAMESPACE_NOT_EMPTY", 21: "CIM_ERR_INVALID_ENUMERATION_CONTEXT",
		22: "CIM_ERR_INVALID_OPERATION_TIMEOUT", 23: "CIM_ERR_PULL_HAS_BEEN_ABANDONED",
		24: "CIM_ERR_PULL_CANNOT_BE_ABANDONED", 25: "CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED",
		26: "CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED", 27: "CIM_ERR_SERVER_LIMITS_EXCEEDED",
		28: "CIM_ERR_SERVER_IS_SHUTTING_DOWN", 29: "CIM_ERR_29",
	}
	for code, name := range want {
		if got := code.String(); got != name {
			t.Errorf("Status(%d).String() = %q, want %q", int(code), got, name)
		}
	}
}

func TestError(t *testing.T) {
	e := Errorf(ErrNotFound, "no instance %s", "X")
	if e.Error() != "CIM_ERR_NOT_FOUND: no instance X" {
		t.Errorf("Error() = %q", e.Error())
	}
	if (&Error{Code: ErrFailed}).Error() != "CIM_ERR_FAILED" {
		t.Error("Error() without description")
	}
	wrapped := fmt.Errorf("outer: %w", e)
	var ce *Error
	if !errors.As(wrapped, &ce) || ce != e {
		t.Error("errors.As through %w")
	}
	if !errors.Is(wrapped, &Error{Code: ErrNotFound}) {
		t.Error("errors.Is by code")
	}
	if !errors.Is(wrapped, &Error{Code: ErrNotFound, Description: "no instance X"}) {
		t.Error("errors.Is by code and description")
	}
	if errors.Is(wrapped, &Error{Code: ErrNotFound, Description: "other"}) {
		t.Error("errors.Is with another description")
	}
	if errors.Is(wrapped, &Error{Code: ErrFailed}) {
		t.Error("errors.Is with another code")
	}
	if errors.Is(wrapped, errors.New("CIM_ERR_NOT_FOUND: no instance X")) {
		t.Error("errors.Is with a plain error")
	}
	if CodeOf(nil) != StatusOK || CodeOf(wrapped) != ErrNotFound || CodeOf(errors.New("x")) != ErrFailed {
		t.Error("CodeOf")
	}
	if Wrap(ErrFailed, nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	if Wrap(ErrFailed, e) != e {
		t.Error("Wrap does not return a *Error as it is")
	}
	// Wrapping keeps the inner code, the context around it and the cause.
	if w := Wrap(ErrFailed, wrapped); w.Code != ErrNotFound || !errors.Is(w, e) || !strings.Contains(w.Error(), "no instance X") {
		t.Errorf("Wrap(wrapped *Error) = %v", w)
	}
	ctxErr := fmt.Errorf("provider p, class C: %w", e)
	if w := Wrap(ErrFailed, ctxErr); w.Error() != "CIM_ERR_NOT_FOUND: provider p, class C: no instance X" {
		t.Errorf("Wrap keeps the context once: %q", w.Error())
	}
	if w := Wrapf(ErrFailed, e, "provider %s", "p"); w.Code != ErrNotFound || w.Error() != "CIM_ERR_NOT_FOUND: provider p: no instance X" || !errors.Is(w, e) {
		t.Errorf("Wrapf(*Error) = %q", w.Error())
	}
	osErr := Wrapf(ErrFailed, fmt.Errorf("utmp: %w", fs.ErrNotExist), "provider linux")
	if !errors.Is(osErr, fs.ErrNotExist) || osErr.Code != ErrFailed {
		t.Errorf("errors.Is through Wrapf: %v", osErr)
	}
	if ef := Errorf(ErrNotFound, "reading: %w", fs.ErrNotExist); !errors.Is(ef, fs.ErrNotExist) || ef.Error() != "CIM_ERR_NOT_FOUND: reading: file does not exist" {
		t.Errorf("Errorf with %%w: %v", ef)
	}
	// The readers' plain errors map by their cause, once.
	for cause, code := range map[error]Status{fs.ErrNotExist: ErrNotFound, fs.ErrPermission: ErrAccessDenied,
		fs.ErrInvalid: ErrInvalidParameter, io.ErrUnexpectedEOF: ErrFailed} {
		m := Map(fmt.Errorf("utmp: %w", cause))
		if m.Code != code || !errors.Is(m, cause) || m.Error() != code.String()+": utmp: "+cause.Error() {
			t.Errorf("Map(%v) = %v", cause, m)
		}
	}
	w := Wrap(ErrAccessDenied, errors.New("permission denied"))
	if w.Code != ErrAccessDenied || w.Description != "permission denied" {
		t.Errorf("Wrap(plain) = %#v", w)
	}
	if ErrNotImplementedLike := (&Error{Code: ErrNotSupported}); CodeOf(ErrNotImplementedLike) != ErrNotSupported {
		t.Error("CodeOf a bare *Error")
	}
}

func FuzzParseValue(f *testing.F) {
	for _, tc := range sampleValues {
		f.Add(uint8(tc.kind), tc.text)
	}
	f.Add(uint8(KindDateTime), "20260101120000.000000+000")
	f.Add(uint8(KindReference), `C.K="a"`)
	f.Add(uint8(KindSint8), "0x7f")
	f.Fuzz(func(t *testing.T, k uint8, s string) {
		ty := Type{Kind: Kind(k % 16)}
		v, err := ParseValue(ty, s)
		if err != nil {
			if c := CodeOf(err); c != ErrTypeMismatch && c != ErrInvalidParameter {
				t.Fatalf("ParseValue(%s, %q) error %v", ty, s, err)
			}
			return
		}
		if got := TypeOf(v); got.Kind != ty.Kind {
			t.Fatalf("ParseValue(%s, %q) = %#v of type %s", ty, s, v, got)
		}
		text := FormatValue(v)
		again, err := ParseValue(ty, text)
		if err != nil {
			t.Fatalf("ParseValue(%s, %q) = %#v, but its text %q does not parse: %v", ty, s, v, text, err)
		}
		if f, isF := v.(float64); isF && math.IsNaN(f) {
			return
		}
		if f, isF := v.(float32); isF && math.IsNaN(float64(f)) {
			return
		}
		if c, isC := v.(Char16); isC && c >= 0xD800 && c < 0xE000 {
			return // a lone surrogate has no UTF-8 form
		}
		if !Equal(again, v) {
			t.Fatalf("ParseValue(%s, %q) = %#v; its text %q parses to %#v", ty, s, v, text, again)
		}
	})
}

// TestAppendPlain checks that AppendPlain writes what FormatValue does,
// for the kinds it takes, and takes no other.
func TestAppendPlain(t *testing.T) {
	dt, _ := ParseDateTime("20260301080000.000000+060")
	for _, v := range []any{uint8(255), uint16(65535), uint32(4000000000), uint64(1 << 63), int8(-128), int16(-1),
		int32(-2147483648), int64(-9), true, false, dt} {
		got, ok := AppendPlain([]byte("x="), v)
		if !ok || string(got) != "x="+FormatValue(v) {
			t.Errorf("AppendPlain(%T %v) = %q, %v; want %q", v, v, got, ok, "x="+FormatValue(v))
		}
	}
	for _, v := range []any{"s", 1.5, float32(2), Char16('c'), nil, []any{uint8(1)}} {
		if got, ok := AppendPlain([]byte("x="), v); ok || string(got) != "x=" {
			t.Errorf("AppendPlain(%T %v) = %q, %v; want nothing", v, v, got, ok)
		}
	}
}
