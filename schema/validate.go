package schema

import (
	"math"
	"slices"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// Validate checks an instance against its class: the class exists and is
// concrete, every property is one of the class's with a value of its
// type, keys are set, strings are within MaxLen, values are among the
// ValueMap where one is declared, and datetimes are intervals exactly
// where the property has SubType("interval"). A provider whose instances
// fail this has a bug; the error says which property and why.
func (r *Registry) Validate(inst *cim.Instance) error {
	e, err := r.entry(inst.ClassName)
	if err != nil {
		return err
	}
	c, x := e.resolved, e.info
	if x.abstract {
		return cim.Errorf(cim.ErrInvalidClass, "%s is abstract and can have no instances of its own", c.Name)
	}
	idx := x.layoutOf(c, inst)
	for k, pv := range inst.Properties {
		var i int
		if idx != nil {
			i = idx[k]
		} else {
			i = x.find(c, pv.Name)
		}
		if i < 0 {
			return cim.Errorf(cim.ErrNoSuchProperty, "%s has no property %s", c.Name, pv.Name)
		}
		p := &c.Properties[i]
		if err := checkValue(c.Name, p, &x.props[i], pv.Value); err != nil {
			return err
		}
		if p.Type.Kind == cim.KindReference {
			if err := r.checkRefClass(c.Name, p, pv.Value); err != nil {
				return err
			}
		}
	}
	for _, k := range x.keys {
		if inst.Value(k) == nil {
			return cim.Errorf(cim.ErrFailed, "%s instance has no value for its key %s", c.Name, k)
		}
	}
	return nil
}

// checkRefClass checks that a reference names an object of the class the
// property refers to, or of a class derived from it.
func (r *Registry) checkRefClass(class string, p *cim.Property, v any) error {
	if p.Type.Kind != cim.KindReference || p.Type.RefClass == "" {
		return nil
	}
	refs := []any{v}
	if arr, ok := v.([]any); ok {
		refs = arr
	}
	for _, e := range refs {
		if ref, ok := e.(cim.ObjectPath); ok && !r.IsA(ref.ClassName, p.Type.RefClass) {
			return cim.Errorf(cim.ErrTypeMismatch, "%s.%s refers to a %s, which is not a %s", class, p.Name, ref.ClassName, p.Type.RefClass)
		}
	}
	return nil
}

func checkValue(class string, p *cim.Property, pc *propCheck, v any) error {
	if v == nil {
		return nil
	}
	if p.Type.Array {
		arr, ok := v.([]any)
		if !ok {
			return cim.Errorf(cim.ErrTypeMismatch, "%s.%s is %s but holds %T", class, p.Name, p.Type, v)
		}
		for _, e := range arr {
			if err := checkScalar(class, p, pc, e); err != nil {
				return err
			}
		}
		return nil
	}
	return checkScalar(class, p, pc, v)
}

func checkScalar(class string, p *cim.Property, pc *propCheck, v any) error {
	if v == nil {
		return nil
	}
	if k, scalar := scalarKind(v); !scalar || k != p.Type.Kind {
		got := cim.TypeOf(v)
		return cim.Errorf(cim.ErrTypeMismatch, "%s.%s is %s but holds %s (%T)", class, p.Name, p.Type.Scalar(), got, v)
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return cim.Errorf(cim.ErrFailed, "%s.%s holds a string that is not UTF-8", class, p.Name)
		}
		if pc.hasMaxLen && int64(len(x)) > pc.maxLen {
			if n := utf8.RuneCountInString(x); int64(n) > pc.maxLen {
				return cim.Errorf(cim.ErrFailed, "%s.%s is %d characters long, more than its MaxLen(%d)", class, p.Name, n, pc.maxLen)
			}
		}
	case cim.DateTime:
		if x.IsInterval() != pc.interval {
			what := "a point in time"
			if pc.interval {
				what = "an interval"
			}
			return cim.Errorf(cim.ErrTypeMismatch, "%s.%s must hold %s, not %s", class, p.Name, what, x)
		}
	}
	if pc.hasValueMap && !pc.anyValue {
		if inValueMap(pc, v) {
			return nil
		}
		return cim.Errorf(cim.ErrFailed, "%s.%s = %q is not one of its ValueMap %v", class, p.Name, cim.FormatValue(v), pc.valueList)
	}
	return nil
}

// inValueMap reports whether the text form of v (cim.FormatValue's) is
// in the property's ValueMap, comparing integers as integers.
func inValueMap(pc *propCheck, v any) bool {
	var i int64
	switch x := v.(type) {
	case string:
		_, ok := pc.valueMap[x]
		return ok
	case uint8:
		i = int64(x)
	case uint16:
		i = int64(x)
	case uint32:
		i = int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return slices.Contains(pc.uints, x)
		}
		i = int64(x)
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	default:
		_, ok := pc.valueMap[cim.FormatValue(v)]
		return ok
	}
	return slices.Contains(pc.ints, i)
}

// scalarKind returns the CIM kind of a scalar value as cim.TypeOf does,
// and false for an array.
func scalarKind(v any) (cim.Kind, bool) {
	switch v.(type) {
	case string:
		return cim.KindString, true
	case uint32:
		return cim.KindUint32, true
	case cim.DateTime:
		return cim.KindDateTime, true
	case bool:
		return cim.KindBoolean, true
	case uint16:
		return cim.KindUint16, true
	case uint64:
		return cim.KindUint64, true
	case uint8:
		return cim.KindUint8, true
	case []any:
		return cim.KindInvalid, false
	}
	t := cim.TypeOf(v)
	return t.Kind, !t.Array
}

// Truncate shortens s to at most max characters, for properties with a
// MaxLen qualifier such as Caption (64); it never splits a character.
func Truncate(s string, max int) string {
	// No longer in bytes is no longer in characters, and needs no count.
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max])
}
