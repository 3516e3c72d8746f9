package cim

import "strings"

// Qualifier is a named value that describes a class or property
// (DSP0004 §5.6): Key, Abstract, MaxLen(64), ValueMap{…} and so on.
// Boolean qualifiers carry a bool; array qualifiers a []any.
type Qualifier struct {
	Name  string
	Value any
	// Type is the qualifier's declared type; the zero Type means it is
	// inferred from the value (see QualifierType).
	Type Type
}

// Qualifiers is an ordered list of qualifiers with case-insensitive lookup.
type Qualifiers []Qualifier

// Get returns the qualifier named name, case-insensitively.
func (qs Qualifiers) Get(name string) (Qualifier, bool) {
	for _, q := range qs {
		if strings.EqualFold(q.Name, name) {
			return q, true
		}
	}
	return Qualifier{}, false
}

// Bool reports whether the boolean qualifier name is present and true.
func (qs Qualifiers) Bool(name string) bool {
	q, ok := qs.Get(name)
	if !ok {
		return false
	}
	b, isBool := q.Value.(bool)
	return isBool && b
}

// String returns the string value of qualifier name, or "".
func (qs Qualifiers) String(name string) string {
	q, ok := qs.Get(name)
	if !ok {
		return ""
	}
	s, _ := q.Value.(string)
	return s
}

// Strings returns the value of an array qualifier of strings, such as
// ValueMap or Values.
func (qs Qualifiers) Strings(name string) []string {
	q, ok := qs.Get(name)
	if !ok {
		return nil
	}
	arr, _ := q.Value.([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// Int returns the integer value of qualifier name (e.g. MaxLen).
func (qs Qualifiers) Int(name string) (int64, bool) {
	q, ok := qs.Get(name)
	if !ok {
		return 0, false
	}
	return toInt64(q.Value)
}

// QualifierType returns the qualifier's type: its declared one, or one
// inferred from its value.
func QualifierType(q Qualifier) Type {
	if q.Type.Kind != KindInvalid {
		return q.Type
	}
	return TypeOf(q.Value)
}

// Property is a property of a class: its name, type, default value and
// qualifiers. ClassOrigin names the class that declared it; Propagated is
// true in a subclass that inherits it without redeclaring it.
type Property struct {
	Name        string
	Type        Type
	Default     any
	Qualifiers  Qualifiers
	ClassOrigin string
	Propagated  bool
}

// IsKey reports whether the property carries the Key qualifier.
func (p *Property) IsKey() bool { return p.Qualifiers.Bool("Key") }

// Class is a CIM class. A class as declared in MOF has only its own
// properties; a class resolved by a registry has every inherited one too,
// in order from the root class down, with Propagated set on those it
// inherits.
type Class struct {
	Name       string
	SuperClass string
	Qualifiers Qualifiers
	Properties []Property
}

// IsAbstract reports whether the class carries the Abstract qualifier.
func (c *Class) IsAbstract() bool { return c.Qualifiers.Bool("Abstract") }

// IsAssociation reports whether the class carries the Association qualifier.
func (c *Class) IsAssociation() bool { return c.Qualifiers.Bool("Association") }

// Property returns the property named name, case-insensitively, or nil.
func (c *Class) Property(name string) *Property {
	for i := range c.Properties {
		if strings.EqualFold(c.Properties[i].Name, name) {
			return &c.Properties[i]
		}
	}
	return nil
}

// KeyNames returns the names of the key properties, in declaration order.
func (c *Class) KeyNames() []string {
	var keys []string
	for i := range c.Properties {
		if c.Properties[i].IsKey() {
			keys = append(keys, c.Properties[i].Name)
		}
	}
	return keys
}

// Local returns a copy of c with only the properties it declares itself,
// as a MOF declaration shows it.
func (c *Class) Local() *Class {
	out := *c
	out.Properties = nil
	for _, p := range c.Properties {
		if !p.Propagated {
			p.ClassOrigin = ""
			out.Properties = append(out.Properties, p)
		}
	}
	return &out
}

// Object returns the class as WMI's queries return a class (meta_class,
// ClassDefsOnly, SchemaOnly, associations of a class): an object whose
// Path names the class on host in namespace, with no keys, and whose
// properties are its system properties, __CLASS, __SUPERCLASS, __DYNASTY,
// __GENUS (1: a class), __PROPERTY_COUNT, __DERIVATION (its superclasses,
// nearest first) and __RELPATH.
func (c *Class) Object(host, namespace string, derivation []string) *Instance {
	d := make([]any, len(derivation))
	for i, s := range derivation {
		d[i] = s
	}
	dynasty := c.Name
	if len(derivation) > 0 {
		dynasty = derivation[len(derivation)-1]
	}
	var super any
	if c.SuperClass != "" {
		super = c.SuperClass
	}
	in := &Instance{ClassName: c.Name, Path: ObjectPath{Host: host, Namespace: namespace, ClassName: c.Name}}
	in.Set("__CLASS", c.Name).Set("__SUPERCLASS", super).Set("__DYNASTY", dynasty).Set("__GENUS", int32(1)).
		Set("__PROPERTY_COUNT", int32(len(c.Properties))).Set("__DERIVATION", d).Set("__RELPATH", c.Name)
	return in
}
