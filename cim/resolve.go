package cim

import "strings"

// KeySchema is what ResolvePath and SameObject need of a schema: classes
// by name (case-insensitively), resolved with what they inherit, and
// their lineage. The class registry implements it.
type KeySchema interface {
	Class(name string) (*Class, error)
	IsA(class, ancestor string) bool
}

// ResolvePath returns p as its class reads it, the way WMI takes a path
// a person wrote: the shorthand Class=value given the name of the class's
// one key, key names spelt as the class spells them, and each value of
// its key's type (a quoted number for a numeric key, an unquoted number
// for a string key as its text), the paths in reference keys resolved in
// turn when the schema knows their class. An unknown class is
// CIM_ERR_INVALID_CLASS; a path with no keys, an unknown, missing or
// repeated key, or a value its key cannot take is
// CIM_ERR_INVALID_PARAMETER.
func ResolvePath(s KeySchema, p ObjectPath) (ObjectPath, error) {
	c, err := s.Class(p.ClassName)
	if err != nil {
		return p, err
	}
	keyNames := c.KeyNames()
	if len(p.Keys) == 0 {
		return p, Errorf(ErrInvalidParameter, "%s names a class, not an instance: give its keys %s", p, strings.Join(keyNames, ", "))
	}
	in := p.Keys
	if len(in) == 1 && in[0].Name == "" {
		// WMI's shorthand Class=value names the class's only key.
		if len(keyNames) != 1 {
			return p, Errorf(ErrInvalidParameter, "%s: the shorthand Class=value needs a class of one key, and %s has %d: %s", p, c.Name, len(keyNames), strings.Join(keyNames, ", "))
		}
		in = []KeyBinding{{Name: keyNames[0], Value: in[0].Value}}
	}
	out := p
	out.Keys = make([]KeyBinding, 0, len(in))
	for _, kb := range in {
		prop := c.Property(kb.Name)
		if prop == nil || !prop.IsKey() {
			return p, Errorf(ErrInvalidParameter, "%s is not a key of %s (its keys: %s)", kb.Name, c.Name, strings.Join(keyNames, ", "))
		}
		if _, dup := out.Key(prop.Name); dup {
			return p, Errorf(ErrInvalidParameter, "%s gives key %s twice", p, prop.Name)
		}
		v, err := KeyValue(s, prop, kb.Value)
		if err != nil {
			return p, err
		}
		out.Keys = append(out.Keys, KeyBinding{Name: prop.Name, Value: v})
	}
	if len(out.Keys) != len(keyNames) {
		return p, Errorf(ErrInvalidParameter, "%s needs every key of %s: %s", p, c.Name, strings.Join(keyNames, ", "))
	}
	return out, nil
}

// KeyValue converts the value of key prop, as a person wrote it, to the
// key's type, as ResolvePath does for each key of a path.
func KeyValue(s KeySchema, prop *Property, v any) (any, error) {
	if prop.Type.Kind == KindReference {
		ref, isPath := v.(ObjectPath)
		if !isPath {
			str, isStr := v.(string)
			if !isStr {
				return nil, Errorf(ErrInvalidParameter, "key %s is a reference: give it an object path in quotes", prop.Name)
			}
			var err error
			if ref, err = ParseObjectPath(str); err != nil {
				return nil, Errorf(ErrInvalidParameter, "key %s is a reference, and %s is not an object path: %s", prop.Name, QuoteString(str), Wrap(ErrInvalidParameter, err).Description)
			}
		}
		if _, err := s.Class(ref.ClassName); err != nil {
			return ref, nil // a class this schema lacks: compared as written
		}
		resolved, err := ResolvePath(s, ref)
		if err != nil {
			return nil, Wrapf(ErrInvalidParameter, err, "key %s", prop.Name)
		}
		return resolved, nil
	}
	if str, isStr := v.(string); isStr && prop.Type.Kind != KindString {
		cv, err := ParseValue(prop.Type, str)
		if err != nil {
			return nil, Errorf(ErrInvalidParameter, "key %s: %v", prop.Name, err)
		}
		return cv, nil
	}
	// An unquoted number for a string key (Win32_Process.Handle=123)
	// means its text, as WMI takes it.
	if prop.Type.Kind == KindString {
		switch v.(type) {
		case int64, uint64:
			return FormatValue(v), nil
		}
	}
	return v, nil
}

// SameObject reports whether a and b name the same object, as Equal does,
// except that a class and its subclasses name one object when their keys
// agree, at every level of references: the keys are the ancestor's, so
// Win32_LogonSession.LogonId="42" names the Linux_LogonSession of LogonId
// 42. Resolve a path a person wrote with ResolvePath first.
func SameObject(s KeySchema, a, b ObjectPath) bool {
	return a.equal(b, func(x, y string) bool {
		return strings.EqualFold(x, y) || s.IsA(x, y) || s.IsA(y, x)
	})
}
