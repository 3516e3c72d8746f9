package cim

import (
	"strings"
)

// Kind is a CIM intrinsic data type, without arrayness.
type Kind uint8

// The CIM intrinsic data types (DSP0004 §5.2).
const (
	KindInvalid Kind = iota
	KindString
	KindChar16
	KindBoolean
	KindUint8
	KindSint8
	KindUint16
	KindSint16
	KindUint32
	KindSint32
	KindUint64
	KindSint64
	KindReal32
	KindReal64
	KindDateTime
	KindReference
)

var kindNames = [...]string{
	KindInvalid:   "",
	KindString:    "string",
	KindChar16:    "char16",
	KindBoolean:   "boolean",
	KindUint8:     "uint8",
	KindSint8:     "sint8",
	KindUint16:    "uint16",
	KindSint16:    "sint16",
	KindUint32:    "uint32",
	KindSint32:    "sint32",
	KindUint64:    "uint64",
	KindSint64:    "sint64",
	KindReal32:    "real32",
	KindReal64:    "real64",
	KindDateTime:  "datetime",
	KindReference: "reference",
}

// String returns the MOF keyword of the kind ("uint32", "datetime", …).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// ParseKind returns the kind named by a MOF or CIM-XML type keyword,
// case-insensitively ("ref" and "reference" both name KindReference).
func ParseKind(s string) (Kind, bool) {
	s = strings.ToLower(s)
	if s == "ref" {
		return KindReference, true
	}
	for k, n := range kindNames {
		if n != "" && n == s {
			return Kind(k), true
		}
	}
	return KindInvalid, false
}

// IsInteger reports whether k is one of the eight integer kinds.
func (k Kind) IsInteger() bool { return k >= KindUint8 && k <= KindSint64 }

// IsSigned reports whether k is a signed integer kind.
func (k Kind) IsSigned() bool {
	return k == KindSint8 || k == KindSint16 || k == KindSint32 || k == KindSint64
}

// IsReal reports whether k is real32 or real64.
func (k Kind) IsReal() bool { return k == KindReal32 || k == KindReal64 }

// IsNumeric reports whether k is an integer or a real kind.
func (k Kind) IsNumeric() bool { return k.IsInteger() || k.IsReal() }

// Type is the full type of a property, parameter or value: its kind,
// whether it is an array, and for references the class referred to.
type Type struct {
	Kind     Kind
	Array    bool
	RefClass string // for KindReference: the class the reference points to
}

// String renders the type as MOF writes it: "string", "uint32[]",
// "Win32_Account REF".
func (t Type) String() string {
	s := t.Kind.String()
	if t.Kind == KindReference {
		if t.RefClass != "" {
			s = t.RefClass + " REF"
		} else {
			s = "object REF"
		}
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// Scalar returns the type of one element of t.
func (t Type) Scalar() Type { t.Array = false; return t }

// ArrayOf returns the array type whose elements are t.
func (t Type) ArrayOf() Type { t.Array = true; return t }
