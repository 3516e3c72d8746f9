// Package cimom is the CIM object manager: the one path every front end
// (CLI, CIM-XML server, history recorder) takes to the data. It dispatches
// operations to the providers that serve each concrete class, enumerates
// abstract classes deeply through their concrete subclasses, looks up
// instances by key, traverses associations, checks every instance against
// the schema and hides from each viewer what is not theirs to see.
package cimom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/panicsite"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// Options configures an ObjectManager.
type Options struct {
	// Host is the name put in instance paths (__SERVER); default os.Hostname.
	Host string
	// SkipValidation turns off the schema check of every instance that
	// providers return. Tests keep it on; it costs little.
	SkipValidation bool
	// Version is the product version the object manager gives of itself
	// in root/interop (CIM_ObjectManager's Description); default "dev".
	Version string
}

// ObjectManager answers CIM operations for the namespace of its
// registry's classes from its providers: root/cimv2's session classes,
// and beside them (see [ObjectManager.In]) root/interop, where the object
// manager describes itself and its namespaces. It is safe for concurrent
// use.
type ObjectManager struct {
	reg       *schema.Registry
	host      string
	ns        string         // the namespace served, the registry's
	interop   *ObjectManager // root/interop, beside root/cimv2; nil in root/interop itself
	public    bool           // every viewer sees every instance (root/interop's describe the server)
	validate  bool
	providers []provider.Provider
	byClass   map[string]provider.Provider // lower-case concrete class → provider

	mu      sync.Mutex
	sources map[string][]provider.Source // provider name → what its last run read
}

// New returns an object manager over the registry's classes, served by
// the given providers. Two providers may not serve the same class, and
// each class a provider names must be a concrete class of the schema.
// An object manager of root/cimv2 serves root/interop too, with
// instances of its own (see [ObjectManager.In]).
func New(reg *schema.Registry, opts Options, providers ...provider.Provider) (*ObjectManager, error) {
	host := opts.Host
	if host == "" {
		host, _ = os.Hostname()
		if host == "" {
			host = "localhost"
		}
	}
	om := &ObjectManager{reg: reg, host: host, ns: reg.Namespace(), validate: !opts.SkipValidation, providers: providers,
		byClass: map[string]provider.Provider{}, sources: map[string][]provider.Source{}}
	for _, p := range providers {
		for _, cn := range p.Classes() {
			// As declared: being abstract is not inherited, and the
			// registry resolves a class only once it is asked for.
			c, err := reg.Declared(cn)
			if err != nil {
				return nil, fmt.Errorf("provider %s: %w", p.Name(), err)
			}
			if c.IsAbstract() {
				return nil, cim.Errorf(cim.ErrInvalidClass, "provider %s serves abstract class %s", p.Name(), c.Name)
			}
			k := strings.ToLower(c.Name)
			if other, dup := om.byClass[k]; dup {
				return nil, cim.Errorf(cim.ErrAlreadyExists, "providers %s and %s both serve %s", other.Name(), p.Name(), c.Name)
			}
			om.byClass[k] = p
		}
	}
	if om.ns == schema.Namespace {
		ireg, err := schema.Interop()
		if err != nil {
			return nil, err
		}
		version := opts.Version
		if version == "" {
			version = "dev"
		}
		opts.Host = host
		if om.interop, err = New(ireg, opts, &interopProvider{host: host, version: version,
			namespaces: []string{om.ns, ireg.Namespace()}}); err != nil {
			return nil, err
		}
		om.interop.public = true
	}
	return om, nil
}

// Schema returns the class registry.
func (om *ObjectManager) Schema() *schema.Registry { return om.reg }

// Host returns the host name that instance paths carry.
func (om *ObjectManager) Host() string { return om.host }

// Namespace returns the namespace whose classes the object manager
// serves: root/cimv2, or root/interop for the one [ObjectManager.In]
// returns for it.
func (om *ObjectManager) Namespace() string { return om.ns }

// Namespaces returns the names of the namespaces served through om:
// root/cimv2 and root/interop.
func (om *ObjectManager) Namespaces() []string {
	if om.interop == nil {
		return []string{om.ns}
	}
	return []string{om.ns, om.interop.ns}
}

// In returns the object manager of namespace ns (any case, '/' or '\'
// separators): om itself for its own namespace or an empty ns, the
// object manager of root/interop for that one. Any other namespace is
// CIM_ERR_INVALID_NAMESPACE.
func (om *ObjectManager) In(ns string) (*ObjectManager, error) {
	if ns == "" {
		return om, nil
	}
	n := strings.Trim(strings.ReplaceAll(ns, `\`, "/"), "/")
	if strings.EqualFold(n, om.ns) {
		return om, nil
	}
	if om.interop != nil && strings.EqualFold(n, om.interop.ns) {
		return om.interop, nil
	}
	return nil, cim.Errorf(cim.ErrInvalidNamespace, "namespace %q is not served here; the namespaces are %s", ns, strings.Join(om.Namespaces(), " and "))
}

// route returns the object manager of namespace ns when it is another
// one that om serves, else om (whose own checks then refuse an unknown
// namespace).
func (om *ObjectManager) route(ns string) *ObjectManager {
	if t, err := om.In(ns); err == nil {
		return t
	}
	return om
}

// Providers returns the providers, in the order given to New.
func (om *ObjectManager) Providers() []provider.Provider {
	return append([]provider.Provider(nil), om.providers...)
}

// CheckNamespace returns CIM_ERR_INVALID_NAMESPACE unless ns names the
// object manager's own namespace (any case, '/' or '\' separators). An
// empty ns is accepted. Front ends that serve every namespace ask
// [ObjectManager.In] instead.
func (om *ObjectManager) CheckNamespace(ns string) error {
	if ns == "" || strings.EqualFold(strings.Trim(strings.ReplaceAll(ns, `\`, "/"), "/"), om.ns) {
		return nil
	}
	if _, err := om.In(ns); err != nil {
		return err
	}
	return cim.Errorf(cim.ErrInvalidNamespace, "namespace %q is not %s, the namespace of this operation", ns, om.ns)
}

// CheckHost returns CIM_ERR_NOT_SUPPORTED unless host names this machine:
// empty, ".", "localhost", a loopback address, or the host name instance paths carry (or its
// first label), whatever their case, as WMI takes \\.\ and \\HOSTNAME\. A
// path naming another host never gets this host's data.
func (om *ObjectManager) CheckHost(host string) error {
	if host == "" || host == "." || strings.EqualFold(host, "localhost") || strings.EqualFold(host, om.host) {
		return nil
	}
	if short, _, _ := strings.Cut(om.host, "."); strings.EqualFold(host, short) {
		return nil
	}
	if short, _, _ := strings.Cut(host, "."); strings.EqualFold(short, om.host) {
		return nil
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.IsLoopback() {
		return nil
	}
	return cim.Errorf(cim.ErrNotSupported, "the path names host %q: this object manager answers only for %s (use \\\\.\\ or no host)", host, om.host)
}

// EnumOptions narrows an enumeration.
type EnumOptions struct {
	// Shallow returns only instances of exactly the class named, as WMI's
	// shallow enumeration does; otherwise subclasses' instances come too.
	Shallow bool
	// Hint is passed on to providers (key lookups, association ends); the
	// result is filtered by its Keys again whatever providers do.
	Hint provider.Hint
}

// Classes returns the concrete classes an enumeration of className visits.
func (om *ObjectManager) concreteClasses(className string, shallow bool) ([]*cim.Class, error) {
	c, err := om.reg.Class(className)
	if err != nil {
		return nil, err
	}
	names := []string{c.Name}
	if !shallow {
		names = append(names, om.reg.Subclasses(c.Name, true)...)
	}
	var out []*cim.Class
	for _, n := range names {
		cc, _ := om.reg.Class(n)
		if !cc.IsAbstract() {
			out = append(out, cc)
		}
	}
	return out, nil
}

// EnumerateInstances returns the instances of className and, unless
// opts.Shallow, of every class derived from it, each with its Path set,
// checked against the schema and visible to the context's viewer. An
// unknown class is CIM_ERR_INVALID_CLASS; a class no provider serves has
// no instances. It holds the whole result: front ends that write what they
// get use [ObjectManager.StreamInstances], whose memory does not grow with
// the number of instances.
func (om *ObjectManager) EnumerateInstances(ctx context.Context, className string, opts EnumOptions) ([]*cim.Instance, error) {
	return collect(func(emit provider.Emit) error { return om.StreamInstances(ctx, className, opts, emit) }, 0)
}

// StreamInstances is EnumerateInstances that hands the instances to emit
// as they come, in batches of at most [provider.MaxBatch], each instance
// already checked, with its Path set and visible to the viewer; a batch
// is never empty. The batch slice is lent for the call (the instances
// are the caller's). An error from emit stops the provider within one
// batch and is returned unchanged, as is the context's error when ctx
// ends; a provider's own error is returned wrapped as
// "provider P, class C: …" with its CIM code.
func (om *ObjectManager) StreamInstances(ctx context.Context, className string, opts EnumOptions, emit provider.Emit) error {
	classes, err := om.concreteClasses(className, opts.Shallow)
	if err != nil {
		return err
	}
	viewer := ViewerFrom(ctx)
	var kept []*cim.Instance // the batch passed on, reused
	served := 0              // classes a provider serves; one failing of several is a warning
	for _, c := range classes {
		if om.byClass[strings.ToLower(c.Name)] != nil {
			served++
		}
	}
	for _, c := range classes {
		p := om.byClass[strings.ToLower(c.Name)]
		if p == nil {
			continue
		}
		kc := om.reg.KeyCount(c.Name)
		// stop is the error of our own side (a check, emit), which the
		// provider returns as it got it and which goes back unchanged.
		var stop error
		var keyBuf []cim.KeyBinding // the paths' keys; a lent batch's are made in the last one's
		err := guardedEnumerate(ctx, p, c.Name, opts.Hint, func(batch []*cim.Instance) error {
			if n := len(batch) * kc; !opts.Hint.Lent || cap(keyBuf) < n {
				keyBuf = make([]cim.KeyBinding, n)
			}
			if stop = om.check(p, c.Name, batch, keyBuf[:len(batch)*kc]); stop != nil {
				return stop
			}
			kept = kept[:0]
			for _, in := range batch {
				if (om.public || viewer.CanSee(in)) && om.matchesKeys(in, opts.Hint.Keys) {
					kept = append(kept, in)
				}
			}
			if len(kept) == 0 {
				return nil
			}
			stop = emit(kept)
			return stop
		})
		if r, ok := p.(provider.Reporter); ok {
			om.mu.Lock()
			om.sources[p.Name()] = r.Sources()
			om.mu.Unlock()
		}
		switch {
		case stop != nil:
			return stop
		case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return err
		case err != nil:
			err = cim.Wrapf(cim.ErrFailed, err, "provider %s, class %s", p.Name(), c.Name)
			if served == 1 {
				return err
			}
			// One source of several failed: the others answer, and the
			// failure is a warning among the sources (WMI answers a deep
			// enumeration with what its providers gave).
			served--
			om.mu.Lock()
			om.sources[p.Name()] = append(om.sources[p.Name()], provider.Source{Name: p.Name(), Note: "failed: " + cim.Wrap(cim.ErrFailed, err).Description, Warn: true})
			om.mu.Unlock()
		}
	}
	return nil
}

// guardedEnumerate runs p.Enumerate, and turns a panic in the provider's
// own code (a bug) into CIM_ERR_FAILED naming the provider, the class and
// where it failed, so that a server answers the request with an error and
// goes on. A panic in emit, the caller's side, goes on up.
func guardedEnumerate(ctx context.Context, p provider.Provider, class string, hint provider.Hint, emit provider.Emit) (err error) {
	inEmit := false
	defer func() {
		if r := recover(); r != nil {
			if inEmit {
				panic(r)
			}
			site := panicsite.Site(0)
			if c, ok := r.(panicsite.Carried); ok { // from a goroutine of the provider's
				r, site = c.PanicValue(), c.PanicSite()
			}
			err = cim.Errorf(cim.ErrFailed, "provider %s failed on a bug while enumerating %s: %v (in %s)", p.Name(), class, r, site)
		}
	}()
	return p.Enumerate(ctx, class, hint, func(batch []*cim.Instance) error {
		inEmit = true
		err := emit(batch)
		inEmit = false
		return err
	})
}

// MaxCollected bounds what the operations that need a whole result at
// once hold: an association's join (the instances that refer to an
// object, the objects that references name). Beyond it they fail with
// CIM_ERR_FAILED rather than grow without end.
const MaxCollected = 1 << 20

// collect gathers what stream emits; with limit > 0, more than limit
// instances fail with CIM_ERR_FAILED.
func collect(stream func(provider.Emit) error, limit int) ([]*cim.Instance, error) {
	var out []*cim.Instance
	err := stream(func(b []*cim.Instance) error {
		if limit > 0 && len(out)+len(b) > limit {
			return cim.Errorf(cim.ErrFailed, "more than %d instances to hold at once; narrow the request", limit)
		}
		out = append(out, b...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// check checks a provider's instances of class (in its schema when the
// object manager validates) and sets their paths from keyBuf. It stops at
// the first instance that fails.
func (om *ObjectManager) check(p provider.Provider, class string, insts []*cim.Instance, keyBuf []cim.KeyBinding) error {
	for _, in := range insts {
		if !strings.EqualFold(in.ClassName, class) {
			return cim.Errorf(cim.ErrFailed, "provider %s returned a %s when asked for %s", p.Name(), in.ClassName, class)
		}
		in.ClassName = class
		if om.validate {
			if err := om.reg.Validate(in); err != nil {
				// CIM_ERR_FAILED whatever Validate's code: a provider's
				// bad instance is the server's fault, not the caller's.
				return cim.Errorf(cim.ErrFailed, "provider %s broke the schema: %v", p.Name(), err)
			}
		}
		path, rest, err := om.reg.PathOfBuf(in, om.host, om.ns, keyBuf)
		if err != nil {
			return err
		}
		keyBuf = rest
		in.Path = path
	}
	return nil
}

func (om *ObjectManager) matchesKeys(in *cim.Instance, keys map[string]any) bool {
	for k, want := range keys {
		got, ok := in.Path.Key(k)
		if !ok {
			got = in.Value(k)
		}
		if !om.keyEqual(got, want) {
			return false
		}
	}
	return true
}

// keyEqual compares key values the way WMI does: strings whatever their
// case, integers by value, references by path, a class and its
// subclasses naming one object when their keys agree (cim.SameObject).
func (om *ObjectManager) keyEqual(a, b any) bool {
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.EqualFold(sa, sb)
		}
	}
	return cim.SameObject(om.reg, cim.ObjectPath{ClassName: "x", Keys: []cim.KeyBinding{{Name: "k", Value: a}}},
		cim.ObjectPath{ClassName: "x", Keys: []cim.KeyBinding{{Name: "k", Value: b}}})
}

// GetInstance returns the instance that path names. The path's class may
// be the instance's own class or any superclass that declares the keys
// (Win32_LogonSession.LogonId="42" finds a Linux_LogonSession). An unknown
// class is CIM_ERR_INVALID_CLASS, a wrong namespace
// CIM_ERR_INVALID_NAMESPACE, a missing or extra key
// CIM_ERR_INVALID_PARAMETER, no such instance CIM_ERR_NOT_FOUND.
func (om *ObjectManager) GetInstance(ctx context.Context, path cim.ObjectPath) (*cim.Instance, error) {
	if t := om.route(path.Namespace); t != om {
		return t.GetInstance(ctx, path)
	}
	if err := om.CheckHost(path.Host); err != nil {
		return nil, err
	}
	if err := om.CheckNamespace(path.Namespace); err != nil {
		return nil, err
	}
	c, err := om.reg.Class(path.ClassName)
	if err != nil {
		return nil, err
	}
	keys, err := om.keyHint(c, path)
	if err != nil {
		return nil, err
	}
	insts, err := om.EnumerateInstances(ctx, c.Name, EnumOptions{Hint: provider.Hint{Keys: keys}})
	if err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, cim.Errorf(cim.ErrNotFound, "no instance %s", path.Relative())
	}
	return insts[0], nil
}

// keyHint checks the path's keys against class c's and converts their
// values to the keys' types (cim.ResolvePath), as a map by lower-case
// key name.
func (om *ObjectManager) keyHint(c *cim.Class, path cim.ObjectPath) (map[string]any, error) {
	path.ClassName = c.Name
	rp, err := cim.ResolvePath(om.reg, path)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]any, len(rp.Keys))
	for _, kb := range rp.Keys {
		keys[strings.ToLower(kb.Name)] = kb.Value
	}
	return keys, nil
}

// Sources returns what each provider read in its last enumeration, for the
// line that says where the program looked when nothing was found.
func (om *ObjectManager) Sources() []provider.Source {
	om.mu.Lock()
	defer om.mu.Unlock()
	names := make([]string, 0, len(om.sources))
	for n := range om.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []provider.Source
	for _, n := range names {
		out = append(out, om.sources[n]...)
	}
	return out
}
