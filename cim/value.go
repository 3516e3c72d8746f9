package cim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Char16 is a CIM char16 value: one UCS-2 code unit.
type Char16 uint16

// String returns the character.
func (c Char16) String() string { return string(rune(c)) }

// TypeOf returns the CIM type of a Go value of the documented mapping. A
// nil value, or a value of no CIM type, has the zero Type. The element type
// of an []any is that of its first non-nil element.
func TypeOf(v any) Type {
	switch x := v.(type) {
	case string:
		return Type{Kind: KindString}
	case Char16:
		return Type{Kind: KindChar16}
	case bool:
		return Type{Kind: KindBoolean}
	case uint8:
		return Type{Kind: KindUint8}
	case int8:
		return Type{Kind: KindSint8}
	case uint16:
		return Type{Kind: KindUint16}
	case int16:
		return Type{Kind: KindSint16}
	case uint32:
		return Type{Kind: KindUint32}
	case int32:
		return Type{Kind: KindSint32}
	case uint64:
		return Type{Kind: KindUint64}
	case int64:
		return Type{Kind: KindSint64}
	case float32:
		return Type{Kind: KindReal32}
	case float64:
		return Type{Kind: KindReal64}
	case DateTime:
		return Type{Kind: KindDateTime}
	case ObjectPath:
		return Type{Kind: KindReference, RefClass: x.ClassName}
	case []any:
		for _, e := range x {
			if e != nil {
				return TypeOf(e).ArrayOf()
			}
		}
		return Type{Kind: KindString, Array: true}
	}
	return Type{}
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// AsInt64 returns an integer value of any integer kind as an int64.
func AsInt64(v any) (int64, bool) { return toInt64(v) }

// AsUint64 returns a non-negative integer value as a uint64.
func AsUint64(v any) (uint64, bool) {
	if u, ok := v.(uint64); ok {
		return u, true
	}
	if u, ok := v.(uint); ok {
		return uint64(u), true
	}
	i, ok := toInt64(v)
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// AsFloat64 returns a numeric value of any kind as a float64.
func AsFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case uint64:
		return float64(x), true
	case uint:
		return float64(x), true
	}
	i, ok := toInt64(v)
	return float64(i), ok
}

var intRanges = map[Kind][2]float64{
	KindUint8:  {0, math.MaxUint8},
	KindSint8:  {math.MinInt8, math.MaxInt8},
	KindUint16: {0, math.MaxUint16},
	KindSint16: {math.MinInt16, math.MaxInt16},
	KindUint32: {0, math.MaxUint32},
	KindSint32: {math.MinInt32, math.MaxInt32},
	KindSint64: {math.MinInt64, math.MaxInt64},
}

// Convert returns v as the Go value of type t, converting between
// numeric kinds when the value fits, and parsing strings for datetimes,
// references and (from text) every scalar kind. It returns a
// CIM_ERR_TYPE_MISMATCH error when v cannot be of type t.
func Convert(t Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.Array {
		arr, ok := v.([]any)
		if !ok {
			return nil, Errorf(ErrTypeMismatch, "%s needs an array, not %v", t, v)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			c, err := Convert(t.Scalar(), e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	if _, isArr := v.([]any); isArr {
		return nil, Errorf(ErrTypeMismatch, "%s is not an array type", t)
	}
	if s, ok := v.(string); ok && t.Kind != KindString {
		return ParseValue(t, s)
	}
	mismatch := func() error { return Errorf(ErrTypeMismatch, "%s value %v (%T) is not of type %s", TypeOf(v), v, v, t) }
	switch t.Kind {
	case KindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case KindChar16:
		switch x := v.(type) {
		case Char16:
			return x, nil
		}
	case KindBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case KindDateTime:
		if d, ok := v.(DateTime); ok {
			return d, nil
		}
	case KindReference:
		if p, ok := v.(ObjectPath); ok {
			return p, nil
		}
	case KindUint64:
		if u, ok := AsUint64(v); ok {
			return u, nil
		}
		if f, ok := v.(float64); ok && f >= 0 && f == math.Trunc(f) && f < math.MaxUint64 {
			return uint64(f), nil
		}
	case KindReal32:
		if f, ok := AsFloat64(v); ok {
			if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
				return nil, Errorf(ErrTypeMismatch, "%v is out of range for %s", v, t)
			}
			return float32(f), nil
		}
	case KindReal64:
		if f, ok := AsFloat64(v); ok {
			return f, nil
		}
	default:
		if t.Kind.IsInteger() {
			var f float64
			if i, ok := toInt64(v); ok {
				f = float64(i)
				r := intRanges[t.Kind]
				if f < r[0] || f > r[1] {
					return nil, Errorf(ErrTypeMismatch, "%v is out of range for %s", v, t)
				}
				return castInt(t.Kind, i), nil
			}
			if fv, ok := v.(float64); ok && fv == math.Trunc(fv) {
				r := intRanges[t.Kind]
				// r[1]+1, not r[1]: MaxInt64 rounds up to 2^63 as a float64,
				// which int64() cannot hold.
				if fv < r[0] || fv >= r[1]+1 {
					return nil, Errorf(ErrTypeMismatch, "%v is out of range for %s", v, t)
				}
				return castInt(t.Kind, int64(fv)), nil
			}
		}
	}
	return nil, mismatch()
}

func castInt(k Kind, i int64) any {
	switch k {
	case KindUint8:
		return uint8(i)
	case KindSint8:
		return int8(i)
	case KindUint16:
		return uint16(i)
	case KindSint16:
		return int16(i)
	case KindUint32:
		return uint32(i)
	case KindSint32:
		return int32(i)
	case KindUint64:
		return uint64(i)
	}
	return i
}

// ParseValue parses the text form of a scalar value of type t, as
// CIM-XML's VALUE element carries it: decimal (or 0x hex) integers, reals,
// "true"/"false", CIM datetimes, object paths, and strings as they are.
func ParseValue(t Type, s string) (any, error) {
	if t.Array {
		return nil, Errorf(ErrTypeMismatch, "cannot parse an array of %s from one string", t.Scalar())
	}
	bad := func(err error) error {
		return Errorf(ErrTypeMismatch, "%q is not a valid %s value", s, t)
	}
	ts := strings.TrimSpace(s)
	switch t.Kind {
	case KindString:
		return s, nil
	case KindChar16:
		r := []rune(s)
		if len(r) != 1 || r[0] > 0xFFFF {
			return nil, bad(nil)
		}
		return Char16(r[0]), nil
	case KindBoolean:
		switch strings.ToLower(ts) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, bad(nil)
	case KindReal32, KindReal64:
		// Parsed at the kind's own precision: a real32 out of range is an
		// error, and the shortest text of a float32 reads back exactly.
		bits := 64
		if t.Kind == KindReal32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(ts, bits)
		if err != nil {
			return nil, bad(err)
		}
		if t.Kind == KindReal32 {
			return float32(f), nil
		}
		return f, nil
	case KindDateTime:
		d, err := ParseDateTime(ts)
		if err != nil {
			return nil, err
		}
		return d, nil
	case KindReference:
		p, err := ParseObjectPath(ts)
		if err != nil {
			return nil, err
		}
		return p, nil
	case KindUint64:
		u, err := parseUint(ts)
		if err != nil {
			return nil, bad(err)
		}
		return u, nil
	}
	if t.Kind.IsInteger() {
		var i int64
		if strings.HasPrefix(ts, "-") {
			v, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			i = v
		} else {
			u, err := parseUint(strings.TrimPrefix(ts, "+"))
			if err != nil || u > math.MaxInt64 {
				return nil, bad(err)
			}
			i = int64(u)
		}
		return Convert(t, i)
	}
	return nil, Errorf(ErrTypeMismatch, "unknown type %v", t)
}

func parseUint(s string) (uint64, error) {
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// FormatValue renders a scalar value in its text form, the inverse of
// ParseValue: what CIM-XML puts in a VALUE element. Arrays are rendered
// as "{a, b}" for people; nil renders as "".
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case Char16:
		return x.String()
	case DateTime:
		return x.String()
	case ObjectPath:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if i, ok := toInt64(v); ok {
		return strconv.FormatInt(i, 10)
	}
	if u, ok := v.(uint64); ok {
		return strconv.FormatUint(u, 10)
	}
	return fmt.Sprint(v)
}

// AppendPlain appends FormatValue's text of v to dst when v is an
// integer, a boolean or a datetime: text of digits, letters and '.', '*',
// ':', '+' or '-', which no rendering needs to quote or escape. It is the
// renderers' way around a string per value. Other values are not appended
// and ok is false.
func AppendPlain(dst []byte, v any) (out []byte, ok bool) {
	switch x := v.(type) {
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case DateTime:
		out, _ = x.AppendText(dst)
		return out, true
	}
	return dst, false
}

// Equal reports whether two values are equal: same kind family and same
// value. Integers compare by value across kinds; strings case-sensitively;
// datetimes as instants; references by their canonical form.
func Equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case DateTime:
		y, ok := b.(DateTime)
		return ok && x.Compare(y) == 0
	case ObjectPath:
		y, ok := b.(ObjectPath)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	ka, kb := TypeOf(a).Kind, TypeOf(b).Kind
	if ka.IsNumeric() && kb.IsNumeric() {
		if ka.IsInteger() && kb.IsInteger() {
			ia, oka := toInt64(a)
			ib, okb := toInt64(b)
			if oka && okb {
				return ia == ib
			}
			ua, oka := AsUint64(a)
			ub, okb := AsUint64(b)
			return oka && okb && ua == ub
		}
		fa, _ := AsFloat64(a)
		fb, _ := AsFloat64(b)
		return fa == fb
	}
	return a == b
}
