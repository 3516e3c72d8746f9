// Package schema holds the CIM classes cimsess serves and the [Registry]
// that resolves their inheritance, answers questions about the class tree
// and validates instances against it. The classes are written as MOF, the
// single source of truth: schema/mof for namespace root/cimv2 ([Default]),
// schema/interop for root/interop ([Interop]); go generate compiles them
// into Go literals (declared_gen.go), so that no run parses MOF, and a
// test fails when the two differ.
package schema

//go:generate go run ./internal/gendecl

import (
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/mof"
)

// Namespace is the CIM namespace of the schema's session classes, the
// classes of [Default].
const Namespace = "root/cimv2"

// InteropNamespace is the namespace of [Interop]'s classes, where WBEM
// clients look for the server's namespaces and its own description
// (DMTF DSP1033).
const InteropNamespace = "root/interop"

// Registry is a resolved set of classes: each class with every inherited
// property, the tree of subclasses, and lookups by case-insensitive name.
// A Registry is immutable once built and safe for concurrent use.
type Registry struct {
	ns       string                // the namespace its classes are in, for messages
	byName   map[string]*entry     // lower-case name → entry
	byExact  map[string]*entry     // name as declared → entry
	last     atomic.Pointer[entry] // the entry last found by its exact name
	ordered  []string              // class names, parents before children, siblings by name
	children map[string][]string
}

// entry is one class. Its resolved form and checks are made when it is
// first asked for (and its ancestors' before it): a run of the command
// line asks for a few of the schema's classes, and making them all was a
// fortieth of a 10,000-record listing.
type entry struct {
	declared *cim.Class // as the MOF declares it
	parent   *entry     // its superclass's entry; nil for a root class
	once     sync.Once  // makes resolved and info
	resolved *cim.Class // with inherited properties
	info     *compiled  // resolved's checks and keys
}

var (
	defaultOnce sync.Once
	defaultReg  *Registry
	defaultErr  error

	interopOnce sync.Once
	interopReg  *Registry
	interopErr  error
)

// Default returns the registry of the schema compiled into the program,
// building it once.
func Default() (*Registry, error) {
	defaultOnce.Do(func() { defaultReg, defaultErr = New(declared) })
	return defaultReg, defaultErr
}

// Interop returns the registry of root/interop's classes compiled into
// the program (CIM_Namespace, CIM_ObjectManager, CIM_RegisteredProfile),
// building it once.
func Interop() (*Registry, error) {
	interopOnce.Do(func() {
		interopReg, interopErr = New(declaredInterop)
		if interopReg != nil {
			interopReg.ns = InteropNamespace
		}
	})
	return interopReg, interopErr
}

// Namespace returns the namespace of the registry's classes:
// [InteropNamespace] for Interop's, [Namespace] for any other.
func (r *Registry) Namespace() string { return r.ns }

// MustDefault is Default for callers that cannot go on without the schema:
// the compiled-in schema is tested, so an error is a build defect.
func MustDefault() *Registry {
	r, err := Default()
	if err != nil {
		panic("cimsess: the compiled-in schema does not load: " + err.Error())
	}
	return r
}

// Load parses every *.mof file under the root of fsys (or its mof/
// folder) and builds a registry of their classes.
func Load(fsys fs.FS) (*Registry, error) {
	var classes []*cim.Class
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(path.Ext(p), ".mof") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		cs, err := mof.Parse(p, src)
		if err != nil {
			return err
		}
		classes = append(classes, cs...)
		return nil
	})
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	return New(classes)
}

// New builds a registry from class declarations (each with only its own
// properties). Every superclass must be among them, and no name may repeat.
func New(decls []*cim.Class) (*Registry, error) {
	r := &Registry{ns: Namespace, byName: map[string]*entry{}, byExact: map[string]*entry{}, children: map[string][]string{}}
	for _, c := range decls {
		k := strings.ToLower(c.Name)
		if _, dup := r.byName[k]; dup {
			return nil, cim.Errorf(cim.ErrAlreadyExists, "class %s is declared twice", c.Name)
		}
		e := &entry{declared: c}
		r.byName[k] = e
		r.byExact[c.Name] = e
	}
	for _, c := range decls {
		if c.SuperClass == "" {
			continue
		}
		sk := strings.ToLower(c.SuperClass)
		sup, ok := r.byName[sk]
		if !ok {
			return nil, cim.Errorf(cim.ErrInvalidSuperclass, "class %s derives from %s, which is not in the schema", c.Name, c.SuperClass)
		}
		r.byExact[c.Name].parent = sup
		r.children[sk] = append(r.children[sk], c.Name)
	}
	for _, kids := range r.children {
		sort.Slice(kids, func(i, j int) bool { return strings.ToLower(kids[i]) < strings.ToLower(kids[j]) })
	}
	// Every chain of superclasses ends, so that a class can be resolved
	// when it is asked for: nothing else about resolving can fail.
	for _, c := range decls {
		e := r.byExact[c.Name]
		for depth := 0; e != nil; depth++ {
			if depth > len(decls) {
				return nil, cim.Errorf(cim.ErrInvalidSuperclass, "class %s is its own ancestor", c.Name)
			}
			e = e.parent
		}
	}
	var roots []string
	for _, c := range decls {
		if c.SuperClass == "" {
			roots = append(roots, c.Name)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return strings.ToLower(roots[i]) < strings.ToLower(roots[j]) })
	var walk func(string)
	walk = func(n string) {
		r.ordered = append(r.ordered, n)
		for _, k := range r.children[strings.ToLower(n)] {
			walk(k)
		}
	}
	for _, root := range roots {
		walk(root)
	}
	return r, nil
}

// ready makes e's resolved class and its checks, once: its ancestors'
// first, then its own.
func ready(e *entry) *entry {
	e.once.Do(func() {
		e.resolved = resolve(e)
		e.info = compile(e.resolved)
	})
	return e
}

// resolve returns e's class with its inherited properties.
func resolve(e *entry) *cim.Class {
	d := e.declared
	out := &cim.Class{Name: d.Name, SuperClass: d.SuperClass, Qualifiers: d.Qualifiers}
	if e.parent != nil {
		sup := ready(e.parent).resolved
		if sup.IsAssociation() && !d.IsAssociation() {
			out.Qualifiers = append(append(cim.Qualifiers(nil), d.Qualifiers...), cim.Qualifier{Name: "Association", Value: true})
		}
		for _, p := range sup.Properties {
			p.Propagated = true
			out.Properties = append(out.Properties, p)
		}
	}
	for _, p := range d.Properties {
		p.ClassOrigin = d.Name
		p.Propagated = false
		if old := out.Property(p.Name); old != nil {
			p.Qualifiers = mergeQualifiers(old.Qualifiers, p.Qualifiers)
			*old = p
			continue
		}
		out.Properties = append(out.Properties, p)
	}
	return out
}

// mergeQualifiers keeps the inherited qualifiers a redeclared property
// does not set itself (the ToSubclass flavor every qualifier here has),
// except Override, which belongs to the declaration alone.
func mergeQualifiers(inherited, own cim.Qualifiers) cim.Qualifiers {
	out := append(cim.Qualifiers(nil), own...)
	for _, q := range inherited {
		if _, set := own.Get(q.Name); !set && !strings.EqualFold(q.Name, "Override") {
			out = append(out, q)
		}
	}
	return out
}

// Class returns the resolved class named name (case-insensitive): every
// property, inherited ones first. An unknown name is CIM_ERR_INVALID_CLASS.
// The class is shared: callers must not modify it.
func (r *Registry) Class(name string) (*cim.Class, error) {
	e, err := r.entry(name)
	if err != nil {
		return nil, err
	}
	return e.resolved, nil
}

// Knows reports whether r has a class named name (case-insensitive). A
// nil registry knows none.
func (r *Registry) Knows(name string) bool {
	if r == nil {
		return false
	}
	_, err := r.entry(name)
	return err == nil
}

// KeepAskedKeys gives in, the answer to a GetInstance of asked, the keys
// asked when r cannot tell its own: neither a CIM-XML GetInstance nor a
// WS-Man Get answer carries the instance's path, and without its class
// (a nil r, another namespace's class) in's path has no keys. Its class
// name stays the one sent, for the caller to compare with asked's.
func (r *Registry) KeepAskedKeys(in *cim.Instance, asked cim.ObjectPath) {
	if in.Path.IsClass() && !r.Knows(in.ClassName) {
		in.Path.Keys, in.Path.Singleton = asked.Keys, asked.Singleton
	}
}

// entry returns the entry of the class named name (case-insensitive); a
// name spelt as declared is found without allocating.
func (r *Registry) entry(name string) (*entry, error) {
	// An enumeration asks for one class many times over, usually with
	// the very string the registry holds, which compares at once.
	if e := r.last.Load(); e != nil && e.declared.Name == name {
		return e, nil // made ready before it was stored
	}
	if e, ok := r.byExact[name]; ok {
		ready(e)
		if r.last.Load() != e {
			r.last.Store(e)
		}
		return e, nil
	}
	e, ok := r.byName[strings.ToLower(name)]
	if !ok {
		return nil, cim.Errorf(cim.ErrInvalidClass, "no class named %q in %s", name, r.ns)
	}
	return ready(e), nil
}

// Declared returns the class named name as its MOF declares it, with only
// its own properties.
func (r *Registry) Declared(name string) (*cim.Class, error) {
	e, ok := r.byName[strings.ToLower(name)]
	if !ok {
		return nil, cim.Errorf(cim.ErrInvalidClass, "no class named %q in %s", name, r.ns)
	}
	return e.declared, nil
}

// Names returns every class name, each parent before its children.
func (r *Registry) Names() []string { return append([]string(nil), r.ordered...) }

// Children returns the direct subclasses of name ("" for the root classes).
func (r *Registry) Children(name string) []string {
	if name == "" {
		var roots []string
		for _, n := range r.ordered {
			if r.byExact[n].parent == nil {
				roots = append(roots, n)
			}
		}
		return roots
	}
	return append([]string(nil), r.children[strings.ToLower(name)]...)
}

// Subclasses returns the classes derived from name, directly or (deep)
// through any number of generations, parents before children.
func (r *Registry) Subclasses(name string, deep bool) []string {
	if !deep {
		return r.Children(name)
	}
	var out []string
	var walk func(string)
	walk = func(n string) {
		for _, k := range r.children[strings.ToLower(n)] {
			out = append(out, k)
			walk(k)
		}
	}
	walk(name)
	return out
}

// Derivation returns the superclasses of name, nearest first (WMI's
// __DERIVATION). It is empty for a root class or an unknown name.
func (r *Registry) Derivation(name string) []string {
	var out []string
	for i := 0; i < 64; i++ {
		c, err := r.Class(name)
		if err != nil || c.SuperClass == "" {
			return out
		}
		sup, _ := r.Class(c.SuperClass)
		out = append(out, sup.Name)
		name = sup.Name
	}
	return out
}

// IsA reports whether class is ancestor or derives from it.
func (r *Registry) IsA(class, ancestor string) bool {
	if strings.EqualFold(class, ancestor) {
		_, err := r.Class(class)
		return err == nil
	}
	for _, s := range r.Derivation(class) {
		if strings.EqualFold(s, ancestor) {
			return true
		}
	}
	return false
}

// PathOf returns the object path of inst from its class's key properties,
// with the given host and namespace (either may be empty). Keys are in
// alphabetical order, as WMI writes them (Domain="HOST",Name="alice").
func (r *Registry) PathOf(inst *cim.Instance, host, namespace string) (cim.ObjectPath, error) {
	p, _, err := r.PathOfBuf(inst, host, namespace, nil)
	return p, err
}

// PathOfBuf is PathOf taking the path's key bindings from the front of
// buf when it has room for them (else from a new slice), so that a caller
// finding the paths of many instances can allocate their keys at once. It
// returns the rest of buf. Each path's Keys has no spare capacity, so
// appending to it never writes over another's.
func (r *Registry) PathOfBuf(inst *cim.Instance, host, namespace string, buf []cim.KeyBinding) (cim.ObjectPath, []cim.KeyBinding, error) {
	e, err := r.entry(inst.ClassName)
	if err != nil {
		return cim.ObjectPath{}, buf, err
	}
	c := e.resolved
	// The first missing key in declaration order is the one reported.
	for _, k := range e.info.keys {
		if inst.Value(k) == nil {
			return cim.ObjectPath{}, buf, cim.Errorf(cim.ErrFailed, "%s instance has no value for key %s", c.Name, k)
		}
	}
	p := cim.ObjectPath{Host: host, Namespace: namespace, ClassName: c.Name}
	if n := len(e.info.pathKeys); n > 0 {
		if len(buf) >= n {
			p.Keys, buf = buf[:n:n], buf[n:]
		} else {
			p.Keys = make([]cim.KeyBinding, n)
		}
		for i, k := range e.info.pathKeys {
			p.Keys[i] = cim.KeyBinding{Name: k, Value: inst.Value(k)}
		}
	}
	return p, buf, nil
}

// KeyCount returns the number of key properties of the class named name
// (case-insensitive), or 0 for an unknown class.
func (r *Registry) KeyCount(name string) int {
	e, err := r.entry(name)
	if err != nil {
		return 0
	}
	return len(e.info.keys)
}
