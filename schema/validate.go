package schema

import (
	"strings"
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
	c, err := r.Class(inst.ClassName)
	if err != nil {
		return err
	}
	if c.IsAbstract() {
		return cim.Errorf(cim.ErrInvalidClass, "%s is abstract and can have no instances of its own", c.Name)
	}
	for _, pv := range inst.Properties {
		p := c.Property(pv.Name)
		if p == nil {
			return cim.Errorf(cim.ErrNoSuchProperty, "%s has no property %s", c.Name, pv.Name)
		}
		if err := checkValue(c.Name, p, pv.Value); err != nil {
			return err
		}
		if err := r.checkRefClass(c.Name, p, pv.Value); err != nil {
			return err
		}
	}
	for _, k := range c.KeyNames() {
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

func checkValue(class string, p *cim.Property, v any) error {
	if v == nil {
		return nil
	}
	if p.Type.Array {
		arr, ok := v.([]any)
		if !ok {
			return cim.Errorf(cim.ErrTypeMismatch, "%s.%s is %s but holds %T", class, p.Name, p.Type, v)
		}
		for _, e := range arr {
			if err := checkScalar(class, p, e); err != nil {
				return err
			}
		}
		return nil
	}
	return checkScalar(class, p, v)
}

func checkScalar(class string, p *cim.Property, v any) error {
	if v == nil {
		return nil
	}
	got := cim.TypeOf(v)
	if got.Kind != p.Type.Kind || got.Array {
		return cim.Errorf(cim.ErrTypeMismatch, "%s.%s is %s but holds %s (%T)", class, p.Name, p.Type.Scalar(), got, v)
	}
	switch x := v.(type) {
	case string:
		if !utf8.ValidString(x) {
			return cim.Errorf(cim.ErrFailed, "%s.%s holds a string that is not UTF-8", class, p.Name)
		}
		if max, ok := p.Qualifiers.Int("MaxLen"); ok && int64(utf8.RuneCountInString(x)) > max {
			return cim.Errorf(cim.ErrFailed, "%s.%s is %d characters long, more than its MaxLen(%d)", class, p.Name, utf8.RuneCountInString(x), max)
		}
	case cim.DateTime:
		wantInterval := strings.EqualFold(p.Qualifiers.String("SubType"), "interval")
		if x.IsInterval() != wantInterval {
			what := "a point in time"
			if wantInterval {
				what = "an interval"
			}
			return cim.Errorf(cim.ErrTypeMismatch, "%s.%s must hold %s, not %s", class, p.Name, what, x)
		}
	}
	if vm := p.Qualifiers.Strings("ValueMap"); len(vm) > 0 {
		s := cim.FormatValue(v)
		for _, allowed := range vm {
			if allowed == s || allowed == ".." {
				return nil
			}
		}
		return cim.Errorf(cim.ErrFailed, "%s.%s = %q is not one of its ValueMap %v", class, p.Name, s, vm)
	}
	return nil
}

// Truncate shortens s to at most max characters, for properties with a
// MaxLen qualifier such as Caption (64); it never splits a character.
func Truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max])
}
