package wql

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// numKind says which field of a num holds its value.
type numKind uint8

const (
	numInt   numKind = iota // i
	numUint                 // u, always above MaxInt64
	numFloat                // f
)

// num is a number of any CIM numeric kind, compared by value.
type num struct {
	k numKind
	i int64
	u uint64
	f float64
}

// toNum converts a numeric Go value; ok is false for anything else.
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int64:
		return num{i: x}, true
	case uint32:
		return num{i: int64(x)}, true
	case int32:
		return num{i: int64(x)}, true
	case uint64:
		if x > math.MaxInt64 {
			return num{k: numUint, u: x}, true
		}
		return num{i: int64(x)}, true
	case uint8:
		return num{i: int64(x)}, true
	case int8:
		return num{i: int64(x)}, true
	case uint16:
		return num{i: int64(x)}, true
	case int16:
		return num{i: int64(x)}, true
	case int:
		return num{i: int64(x)}, true
	case uint:
		return toNum(uint64(x))
	case float64:
		return num{k: numFloat, f: x}, true
	case float32:
		return num{k: numFloat, f: float64(x)}, true
	}
	return num{}, false
}

func (n num) float() float64 {
	switch n.k {
	case numUint:
		return float64(n.u)
	case numFloat:
		return n.f
	}
	return float64(n.i)
}

// cmpNum orders two numbers; ok is false when either is NaN.
func cmpNum(a, b num) (c int, ok bool) {
	if a.k == numFloat || b.k == numFloat {
		x, y := a.float(), b.float()
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		case x == y:
			return 0, true
		}
		return 0, false
	}
	switch {
	case a.k == numInt && b.k == numInt:
		return cmp3(a.i < b.i, a.i > b.i), true
	case a.k == numUint && b.k == numUint:
		return cmp3(a.u < b.u, a.u > b.u), true
	case a.k == numUint:
		return 1, true
	}
	return -1, true
}

func cmp3(less, more bool) int {
	if less {
		return -1
	}
	if more {
		return 1
	}
	return 0
}

// holds reports whether cmp (-1, 0, +1) satisfies op.
func holds(op CompareOp, cmp int) bool {
	switch op {
	case EQ:
		return cmp == 0
	case NE:
		return cmp != 0
	case LT:
		return cmp < 0
	case GT:
		return cmp > 0
	case LE:
		return cmp <= 0
	case GE:
		return cmp >= 0
	}
	return false
}

// compareFold orders two strings case-insensitively, character by
// character after lower-casing, without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			ra, rb = rune(a[0]), rune(b[0])
			if 'A' <= ra && ra <= 'Z' {
				ra += 'a' - 'A'
			}
			if 'A' <= rb && rb <= 'Z' {
				rb += 'a' - 'A'
			}
			a, b = a[1:], b[1:]
		} else {
			var wa, wb int
			ra, wa = utf8.DecodeRuneInString(a)
			rb, wb = utf8.DecodeRuneInString(b)
			ra, rb = unicode.ToLower(ra), unicode.ToLower(rb)
			a, b = a[wa:], b[wb:]
		}
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
	}
	return cmp3(a == "" && b != "", a != "" && b == "")
}

// numberFromString reads a number written in a string constant, for
// comparisons such as LogonType = '2'.
func numberFromString(s string) (num, bool) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	body := strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	if body == "" {
		return num{}, false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isHex(c) && c != '.' && c != 'x' && c != 'X' && c != '+' && c != '-' {
			return num{}, false
		}
	}
	if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
		u, err := strconv.ParseUint(body[2:], 16, 64)
		if err != nil {
			return num{}, false
		}
		return signed(u, neg)
	}
	if u, err := strconv.ParseUint(body, 10, 64); err == nil {
		return signed(u, neg)
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return num{}, false
	}
	if neg {
		f = -f
	}
	return num{k: numFloat, f: f}, true
}

func signed(u uint64, neg bool) (num, bool) {
	if neg {
		if u > 1<<63 {
			return num{k: numFloat, f: -float64(u)}, true
		}
		return num{i: -int64(u)}, true
	}
	return toNum(u)
}

// numValue returns the Go value of n for KeyFilter: an int64, a uint64
// or a float64.
func (n num) value() any {
	switch n.k {
	case numUint:
		return n.u
	case numFloat:
		return n.f
	}
	return n.i
}

// isInterval reports whether a datetime property holds intervals, as
// its SubType("interval") qualifier says.
func isInterval(p *cim.Property) bool {
	return strings.EqualFold(p.Qualifiers.String("SubType"), "interval")
}
