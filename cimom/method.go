package cimom

import (
	"context"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// Methods returns the extrinsic methods of class className: those of the
// providers that serve it or, for an abstract class, of none. An unknown
// class is CIM_ERR_INVALID_CLASS.
func (om *ObjectManager) Methods(className string) ([]cim.Method, error) {
	c, err := om.reg.Class(className)
	if err != nil {
		return nil, err
	}
	if inv, ok := om.byClass[strings.ToLower(c.Name)].(provider.Invoker); ok {
		return inv.Methods(c.Name), nil
	}
	return nil, nil
}

// InvokeMethod calls the extrinsic method named method of the instance
// that path names, with the in parameters in (by name, values as CIM
// values or their text), for every front end alike: the CLI's call,
// CIM-XML's METHODCALL, WS-Man's custom actions. The instance must exist
// and be visible to the context's viewer (GetInstance's errors); a method
// the instance's class does not have is CIM_ERR_METHOD_NOT_FOUND; an
// unknown or ill-typed parameter, or a class path (no static methods are
// served), CIM_ERR_INVALID_PARAMETER.
func (om *ObjectManager) InvokeMethod(ctx context.Context, path cim.ObjectPath, method string, in []cim.PropertyValue) (cim.MethodResult, error) {
	if t := om.route(path.Namespace); t != om {
		return t.InvokeMethod(ctx, path, method, in)
	}
	if path.IsClass() {
		if _, err := om.reg.Class(path.ClassName); err != nil {
			return cim.MethodResult{}, err
		}
		return cim.MethodResult{}, cim.Errorf(cim.ErrInvalidParameter, "%s names a class: the methods served are of instances; give the keys", path)
	}
	target, err := om.GetInstance(ctx, path)
	if err != nil {
		return cim.MethodResult{}, err
	}
	p := om.byClass[strings.ToLower(target.ClassName)]
	inv, ok := p.(provider.Invoker)
	var m *cim.Method
	if ok {
		ms := inv.Methods(target.ClassName)
		for i := range ms {
			if strings.EqualFold(ms[i].Name, method) {
				m = &ms[i]
				break
			}
		}
	}
	if m == nil {
		return cim.MethodResult{}, cim.Errorf(cim.ErrMethodNotFound, "class %s has no method %s", target.ClassName, method)
	}
	args := make(map[string]any, len(in))
	for _, pv := range in {
		decl := m.Param(pv.Name, false)
		if decl == nil {
			return cim.MethodResult{}, cim.Errorf(cim.ErrInvalidParameter, "method %s has no parameter %s", m.Name, pv.Name)
		}
		if _, dup := args[decl.Name]; dup {
			return cim.MethodResult{}, cim.Errorf(cim.ErrInvalidParameter, "parameter %s of %s is given twice", decl.Name, m.Name)
		}
		v := pv.Value
		if s, isText := v.(string); isText && decl.Type.Kind != cim.KindString {
			if v, err = cim.ParseValue(decl.Type, s); err != nil {
				return cim.MethodResult{}, cim.Errorf(cim.ErrInvalidParameter, "parameter %s of %s: %v", decl.Name, m.Name, err)
			}
		} else if v, err = cim.Convert(decl.Type, v); err != nil {
			return cim.MethodResult{}, cim.Errorf(cim.ErrInvalidParameter, "parameter %s of %s: %v", decl.Name, m.Name, err)
		}
		args[decl.Name] = v
	}
	res, err := inv.Invoke(ctx, target, m, args)
	if err != nil {
		return cim.MethodResult{}, cim.Wrap(cim.ErrFailed, err)
	}
	return res, nil
}
