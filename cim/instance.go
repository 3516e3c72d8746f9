package cim

import (
	"strings"
	"unsafe"
)

// PropertyValue is one property's value in an instance.
type PropertyValue struct {
	Name  string
	Value any
}

// Instance is an instance of a CIM class: the class's name and the values
// of its properties, in the order they were set. Property names are matched
// case-insensitively. Path is the instance's object path; the object
// manager sets it from the class's key properties.
//
// Owner names the local user an instance belongs to (the user of a
// session, of a process, the account itself), for access control: a user
// who is not an administrator sees only the instances they own. Providers
// set it; an empty Owner means the instance is for administrators only.
// It is not a property and never leaves the program.
type Instance struct {
	ClassName  string
	Properties []PropertyValue
	Path       ObjectPath
	Owner      string
}

// NewInstance returns an empty instance of the named class.
func NewInstance(className string) *Instance {
	return &Instance{ClassName: className}
}

func (in *Instance) index(name string) int {
	for i := range in.Properties {
		if in.Properties[i].Name == name {
			return i
		}
	}
	for i := range in.Properties {
		if strings.EqualFold(in.Properties[i].Name, name) {
			return i
		}
	}
	return -1
}

// Get returns the value of property name and whether the instance has it.
// A property that is present with a NULL value returns (nil, true).
func (in *Instance) Get(name string) (any, bool) {
	if i := in.index(name); i >= 0 {
		return in.Properties[i].Value, true
	}
	return nil, false
}

// HasNames reports whether the instance's properties are named names, in
// that order and spelt alike: the layout by which the validator and the
// renderers keep the work they do per property, since a provider's
// instances mostly share a few layouts.
func (in *Instance) HasNames(names []string) bool {
	if len(names) != len(in.Properties) {
		return false
	}
	for k := range in.Properties {
		// A provider names its properties with the constants the layout
		// was learnt from: the same bytes, told at once, without the
		// call a comparison of their contents makes (a twentieth of the
		// check of an instance).
		a, b := in.Properties[k].Name, names[k]
		if len(a) != len(b) || unsafe.StringData(a) != unsafe.StringData(b) && a != b {
			return false
		}
	}
	return true
}

// Value returns the value of property name, or nil when it is absent or NULL.
func (in *Instance) Value(name string) any {
	v, _ := in.Get(name)
	return v
}

// String returns the value of a string property, or "" when it is absent,
// NULL or not a string.
func (in *Instance) String(name string) string {
	s, _ := in.Value(name).(string)
	return s
}

// Set sets property name to v (nil for NULL) and returns the instance, so
// that calls can be chained.
func (in *Instance) Set(name string, v any) *Instance {
	if i := in.index(name); i >= 0 {
		in.Properties[i].Value = v
		return in
	}
	in.Properties = append(in.Properties, PropertyValue{Name: name, Value: v})
	return in
}

// Delete removes property name from the instance.
func (in *Instance) Delete(name string) {
	if i := in.index(name); i >= 0 {
		in.Properties = append(in.Properties[:i], in.Properties[i+1:]...)
	}
}

// Clone returns a copy of the instance that shares no property slice
// with it (values themselves are immutable and shared).
func (in *Instance) Clone() *Instance {
	out := *in
	out.Properties = append([]PropertyValue(nil), in.Properties...)
	out.Path.Keys = append([]KeyBinding(nil), in.Path.Keys...)
	return &out
}

// Equal reports whether two instances are of the same class and have the
// same property values (in any order).
func (in *Instance) Equal(other *Instance) bool {
	if !strings.EqualFold(in.ClassName, other.ClassName) || len(in.Properties) != len(other.Properties) {
		return false
	}
	for _, p := range in.Properties {
		v, ok := other.Get(p.Name)
		if !ok || !Equal(p.Value, v) {
			return false
		}
	}
	return true
}
