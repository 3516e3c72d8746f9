package cimom

import (
	"context"
	"sort"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/wql"
)

// ClassObjectProperties are the properties of a class object (see
// [ObjectManager.ClassObject]), in the order they are shown.
var ClassObjectProperties = []string{"__CLASS", "__SUPERCLASS", "__DYNASTY", "__GENUS", "__PROPERTY_COUNT", "__DERIVATION", "__RELPATH"}

// ClassObject returns class c as WMI's queries return a class (meta_class,
// ClassDefsOnly, SchemaOnly, associations of a class): see
// [cim.Class.Object]; its derivation is the schema's.
func (om *ObjectManager) ClassObject(c *cim.Class) *cim.Instance {
	return c.Object(om.host, om.ns, om.reg.Derivation(c.Name))
}

// IsClassObject reports whether in is a class object (see ClassObject).
func IsClassObject(in *cim.Instance) bool { return in.Path.ClassName != "" && in.Path.IsClass() }

// classObjects returns the class objects of classes, each once, in order.
func (om *ObjectManager) classObjects(names []string) []*cim.Instance {
	var out []*cim.Instance
	seen := map[string]bool{}
	for _, n := range names {
		c, err := om.reg.Class(n)
		if err != nil || seen[strings.ToLower(c.Name)] {
			continue
		}
		seen[strings.ToLower(c.Name)] = true
		out = append(out, om.ClassObject(c))
	}
	return out
}

// metaClass answers SELECT … FROM meta_class: every class of the schema
// that matches, as class objects.
func (om *ObjectManager) metaClass(q *wql.Query) []*cim.Instance {
	var out []*cim.Instance
	for _, in := range om.classObjects(om.reg.Names()) {
		if q.Match(in) {
			out = append(out, q.Project(in))
		}
	}
	return out
}

// AssociatorClasses returns the classes associated with class className
// in the schema (DSP0200's Associators of a class, WQL's SchemaOnly): for
// each concrete association class with a reference to className or one of
// its superclasses, the classes its other references name. opts narrows
// as for Associators.
func (om *ObjectManager) AssociatorClasses(className string, opts AssocOptions) ([]*cim.Class, error) {
	return om.schemaAssoc(className, opts, false)
}

// ReferenceClasses returns the association classes that refer to class
// className or one of its superclasses in the schema (DSP0200's
// References of a class); opts.ResultClass narrows the association class.
func (om *ObjectManager) ReferenceClasses(className string, opts AssocOptions) ([]*cim.Class, error) {
	return om.schemaAssoc(className, opts, true)
}

func (om *ObjectManager) schemaAssoc(className string, opts AssocOptions, refs bool) ([]*cim.Class, error) {
	src, err := om.reg.Class(className)
	if err != nil {
		return nil, err
	}
	if err := om.checkAssocOptions(opts, refs); err != nil {
		return nil, err
	}
	assocClass := opts.AssocClass
	if refs {
		assocClass = opts.ResultClass
	}
	var out []*cim.Class
	seen := map[string]bool{}
	add := func(c *cim.Class) {
		if k := strings.ToLower(c.Name); !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	for _, name := range om.reg.Names() {
		a, _ := om.reg.Class(name)
		if !a.IsAssociation() || a.IsAbstract() {
			continue
		}
		if assocClass != "" && !om.reg.IsA(a.Name, assocClass) {
			continue
		}
		if opts.RequiredAssocQualifier != "" {
			if _, ok := a.Qualifiers.Get(opts.RequiredAssocQualifier); !ok {
				continue
			}
		}
		for i := range a.Properties {
			p := &a.Properties[i]
			if p.Type.Kind != cim.KindReference || (opts.Role != "" && !strings.EqualFold(p.Name, opts.Role)) ||
				(p.Type.RefClass != "" && !om.reg.IsA(src.Name, p.Type.RefClass)) {
				continue
			}
			if refs {
				if opts.RequiredQualifier != "" {
					if _, ok := a.Qualifiers.Get(opts.RequiredQualifier); !ok {
						continue
					}
				}
				add(a)
				continue
			}
			for j := range a.Properties {
				far := &a.Properties[j]
				if j == i || far.Type.Kind != cim.KindReference || far.Type.RefClass == "" ||
					(opts.ResultRole != "" && !strings.EqualFold(far.Name, opts.ResultRole)) {
					continue
				}
				fc, err := om.reg.Class(far.Type.RefClass)
				if err != nil || (opts.ResultClass != "" && !om.reg.IsA(fc.Name, opts.ResultClass)) {
					continue
				}
				if opts.RequiredQualifier != "" {
					if _, ok := fc.Qualifiers.Get(opts.RequiredQualifier); !ok {
						continue
					}
				}
				add(fc)
			}
		}
	}
	return out, nil
}

// runAssoc answers ASSOCIATORS OF and REFERENCES OF: instances for an
// instance path; classes (as class objects) for a class path, for
// SchemaOnly, and for ClassDefsOnly (the classes of the instances found).
func (om *ObjectManager) runAssoc(ctx context.Context, path cim.ObjectPath, opts AssocOptions, refs, keysOnly, classDefsOnly, schemaOnly bool) ([]*cim.Instance, error) {
	if t := om.route(path.Namespace); t != om {
		return t.runAssoc(ctx, path, opts, refs, keysOnly, classDefsOnly, schemaOnly)
	}
	if path.IsClass() || schemaOnly {
		if err := om.CheckHost(path.Host); err != nil {
			return nil, err
		}
		if err := om.CheckNamespace(path.Namespace); err != nil {
			return nil, err
		}
		var classes []*cim.Class
		var err error
		if refs {
			classes, err = om.ReferenceClasses(path.ClassName, opts)
		} else {
			classes, err = om.AssociatorClasses(path.ClassName, opts)
		}
		if err != nil {
			return nil, err
		}
		names := make([]string, len(classes))
		for i, c := range classes {
			names[i] = c.Name
		}
		return om.classObjects(names), nil
	}
	var insts []*cim.Instance
	var err error
	if refs {
		insts, err = om.References(ctx, path, opts)
	} else {
		insts, err = om.Associators(ctx, path, opts)
	}
	if err != nil {
		return nil, err
	}
	if classDefsOnly {
		names := make([]string, len(insts))
		for i, in := range insts {
			names[i] = in.ClassName
		}
		return om.classObjects(names), nil
	}
	return om.keysOnly(insts, keysOnly), nil
}

// QualifierDeclarations returns the declarations of the qualifiers the
// schema uses, by name: each with the type its values have and the
// kinds of element it is found on (what EnumerateQualifiers answers).
func (om *ObjectManager) QualifierDeclarations() []cim.QualifierDecl {
	byName := map[string]*cim.QualifierDecl{}
	var order []string
	note := func(q cim.Qualifier, scope string) {
		k := strings.ToLower(q.Name)
		d := byName[k]
		if d == nil {
			d = &cim.QualifierDecl{Name: q.Name, Type: cim.QualifierType(q),
				Overridable: k != "key" && k != "abstract" && k != "association"}
			byName[k] = d
			order = append(order, k)
		}
		for _, s := range d.Scopes {
			if s == scope {
				return
			}
		}
		d.Scopes = append(d.Scopes, scope)
	}
	for _, name := range om.reg.Names() {
		c, err := om.reg.Declared(name)
		if err != nil {
			continue
		}
		scope := "CLASS"
		if rc, _ := om.reg.Class(name); rc != nil && rc.IsAssociation() {
			scope = "ASSOCIATION"
		}
		for _, q := range c.Qualifiers {
			note(q, scope)
		}
		for i := range c.Properties {
			p := &c.Properties[i]
			scope := "PROPERTY"
			if p.Type.Kind == cim.KindReference {
				scope = "REFERENCE"
			}
			for _, q := range p.Qualifiers {
				note(q, scope)
			}
		}
	}
	sort.Strings(order)
	out := make([]cim.QualifierDecl, len(order))
	for i, k := range order {
		out[i] = *byName[k]
	}
	return out
}
