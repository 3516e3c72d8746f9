package cimom

import (
	"context"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// AssocOptions narrows Associators and References as WQL's ASSOCIATORS OF
// and REFERENCES OF and the CIM-XML operations do. Empty fields do not
// narrow. For References, ResultClass names the association class.
type AssocOptions struct {
	AssocClass             string // associations of this class (or a subclass) only
	ResultClass            string // results of this class (or a subclass) only
	Role                   string // the source object plays this role (reference property name)
	ResultRole             string // the result plays this role
	RequiredQualifier      string // the result's class carries this qualifier
	RequiredAssocQualifier string // the association's class carries this qualifier
}

// References returns the association instances that refer to the object
// named by path, as REFERENCES OF does. The object must exist
// (CIM_ERR_NOT_FOUND otherwise).
func (om *ObjectManager) References(ctx context.Context, path cim.ObjectPath, opts AssocOptions) ([]*cim.Instance, error) {
	if t := om.route(path.Namespace); t != om {
		return t.References(ctx, path, opts)
	}
	src, err := om.GetInstance(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := om.checkAssocOptions(opts, true); err != nil {
		return nil, err
	}
	refs, _, err := om.references(ctx, src, opts, opts.ResultClass)
	if err != nil {
		return nil, err
	}
	var out []*cim.Instance
	for _, r := range refs {
		if opts.RequiredQualifier != "" {
			c, _ := om.reg.Class(r.ClassName)
			if _, ok := c.Qualifiers.Get(opts.RequiredQualifier); !ok {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Associators returns the objects associated with the object named by
// path, as ASSOCIATORS OF does: for every association that refers to it,
// the objects at its other ends. Each result appears once.
func (om *ObjectManager) Associators(ctx context.Context, path cim.ObjectPath, opts AssocOptions) ([]*cim.Instance, error) {
	if t := om.route(path.Namespace); t != om {
		return t.Associators(ctx, path, opts)
	}
	src, err := om.GetInstance(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := om.checkAssocOptions(opts, false); err != nil {
		return nil, err
	}
	refs, roles, err := om.references(ctx, src, opts, opts.AssocClass)
	if err != nil {
		return nil, err
	}
	// The far ends, in the order found, each once.
	var targets []cim.ObjectPath
	seen := map[string]bool{}
	for i, r := range refs {
		for _, pv := range r.Properties {
			far, ok := pv.Value.(cim.ObjectPath)
			if !ok || strings.EqualFold(pv.Name, roles[i]) {
				continue
			}
			if opts.ResultRole != "" && !strings.EqualFold(pv.Name, opts.ResultRole) {
				continue
			}
			k := far.Canonical()
			if !seen[k] {
				seen[k] = true
				targets = append(targets, far)
			}
		}
	}
	results, err := om.resolve(ctx, targets)
	if err != nil {
		return nil, err
	}
	var out []*cim.Instance
	for _, in := range results {
		if opts.ResultClass != "" && !om.reg.IsA(in.ClassName, opts.ResultClass) {
			continue
		}
		if opts.RequiredQualifier != "" {
			c, _ := om.reg.Class(in.ClassName)
			if _, ok := c.Qualifiers.Get(opts.RequiredQualifier); !ok {
				continue
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// checkAssocOptions checks that the classes opts names exist and that an
// AssocClass is an association (DSP0200: "a valid Association Class
// name"). A References ResultClass that is no association is not refused:
// it is a filter that no association instance passes (DSP0200: each
// returned Object "MUST be an Instance of this Class"; WMI's REFERENCES
// OF: they "must belong to or be derived from" it), so the answer is
// empty.
func (om *ObjectManager) checkAssocOptions(opts AssocOptions, refs bool) error {
	for _, cn := range []string{opts.AssocClass, opts.ResultClass} {
		if cn == "" {
			continue
		}
		if _, err := om.reg.Class(cn); err != nil {
			return err
		}
	}
	if !refs && opts.AssocClass != "" {
		if c, _ := om.reg.Class(opts.AssocClass); !c.IsAssociation() {
			return cim.Errorf(cim.ErrInvalidParameter, "AssocClass %s is not an association class", c.Name)
		}
	}
	return nil
}

// references returns the association instances (of assocClass, if set)
// that refer to src, and for each the role through which they do.
func (om *ObjectManager) references(ctx context.Context, src *cim.Instance, opts AssocOptions, assocClass string) ([]*cim.Instance, []string, error) {
	var out []*cim.Instance
	var roles []string
	for _, name := range om.reg.Names() {
		c, _ := om.reg.Class(name)
		if !c.IsAssociation() || c.IsAbstract() || om.byClass[strings.ToLower(c.Name)] == nil {
			continue
		}
		if assocClass != "" && !om.reg.IsA(c.Name, assocClass) {
			continue
		}
		if opts.RequiredAssocQualifier != "" {
			if _, ok := c.Qualifiers.Get(opts.RequiredAssocQualifier); !ok {
				continue
			}
		}
		// Only associations with a reference that can point at src.
		var canRefer bool
		for _, p := range c.Properties {
			if p.Type.Kind == cim.KindReference && (opts.Role == "" || strings.EqualFold(p.Name, opts.Role)) &&
				(p.Type.RefClass == "" || om.reg.IsA(src.ClassName, p.Type.RefClass)) {
				canRefer = true
			}
		}
		if !canRefer {
			continue
		}
		target := src.Path
		// A join: bounded by MaxCollected.
		insts, err := collect(func(emit provider.Emit) error {
			return om.StreamInstances(ctx, c.Name, EnumOptions{Shallow: true, Hint: provider.Hint{RefersTo: &target}}, emit)
		}, MaxCollected)
		if err != nil {
			return nil, nil, err
		}
		for _, in := range insts {
			for _, pv := range in.Properties {
				ref, ok := pv.Value.(cim.ObjectPath)
				if !ok || (opts.Role != "" && !strings.EqualFold(pv.Name, opts.Role)) {
					continue
				}
				if om.samePath(ref, src.Path) {
					out = append(out, in)
					roles = append(roles, pv.Name)
					break
				}
			}
		}
	}
	return out, roles, nil
}

// samePath reports whether a reference names the instance at path: the
// same keys, and classes on one line of descent (a reference to
// Win32_LogonSession.LogonId="5" names the Linux_LogonSession with that key).
func (om *ObjectManager) samePath(ref, path cim.ObjectPath) bool {
	if !om.reg.IsA(ref.ClassName, path.ClassName) && !om.reg.IsA(path.ClassName, ref.ClassName) {
		return false
	}
	ref.ClassName = path.ClassName
	ref.Host, ref.Namespace = "", ""
	path.Host, path.Namespace = "", ""
	return ref.Equal(path)
}

// resolve fetches the instances that paths name, enumerating each class
// once when several paths share it, and skipping paths whose object is
// gone (a process that ended between the two reads).
func (om *ObjectManager) resolve(ctx context.Context, paths []cim.ObjectPath) ([]*cim.Instance, error) {
	byClass := map[string][]int{}
	var order []string
	for i, p := range paths {
		k := strings.ToLower(p.ClassName)
		if _, ok := byClass[k]; !ok {
			order = append(order, k)
		}
		byClass[k] = append(byClass[k], i)
	}
	found := make([]*cim.Instance, len(paths))
	for _, k := range order {
		idx := byClass[k]
		if len(idx) <= 4 {
			for _, i := range idx {
				in, err := om.GetInstance(ctx, paths[i])
				if cim.CodeOf(err) == cim.ErrNotFound {
					continue
				}
				if err != nil {
					return nil, err
				}
				found[i] = in
			}
			continue
		}
		// A join: the class's instances are held, bounded by MaxCollected.
		all, err := collect(func(emit provider.Emit) error {
			return om.StreamInstances(ctx, paths[idx[0]].ClassName, EnumOptions{}, emit)
		}, MaxCollected)
		if err != nil {
			return nil, err
		}
		index := make(map[string]*cim.Instance, len(all))
		for _, in := range all {
			index[keysOnly(in.Path)] = in
		}
		for _, i := range idx {
			if in := index[keysOnly(paths[i])]; in != nil && om.samePath(paths[i], in.Path) {
				found[i] = in
			}
		}
	}
	var out []*cim.Instance
	for _, in := range found {
		if in != nil {
			out = append(out, in)
		}
	}
	return out, nil
}

// keysOnly returns a map key for a path's key bindings alone, so that paths
// that differ only in class (along one line of descent), host or
// namespace meet.
func keysOnly(p cim.ObjectPath) string {
	p.ClassName, p.Host, p.Namespace = "_", "", ""
	return p.Canonical()
}
