package cim

import "strings"

// Method declares an extrinsic method of a class: its name, the type of
// its return value, and its parameters, in and out.
type Method struct {
	Name        string
	ReturnType  Type
	In, Out     []Property // parameters: Name and Type (Description optional)
	Description string
}

// Param returns the in (out false) or out parameter named name,
// case-insensitively, or nil.
func (m *Method) Param(name string, out bool) *Property {
	ps := m.In
	if out {
		ps = m.Out
	}
	for i := range ps {
		if strings.EqualFold(ps[i].Name, name) {
			return &ps[i]
		}
	}
	return nil
}

// MethodResult is what a method call returns: its return value and its
// out parameters, in declaration order.
type MethodResult struct {
	ReturnValue any
	Out         []PropertyValue
}
