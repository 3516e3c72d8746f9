package server

import (
	"context"
	"slices"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/cimxml"
)

// render writes the content of IRETURNVALUE (nil writes no
// IRETURNVALUE), calling flush between instances so that what it wrote
// goes out as it is made; an error from flush (the client went away, a
// bound) must stop it and be returned. An error it returns replaces the
// answer with an ERROR when nothing of it has gone out yet (see
// responseStream).
type render func(e *cimxml.Encoder, flush func() error) error

// operation answers one intrinsic method: it checks what it can (the
// parameters, the class) at once and returns the render that runs the
// operation, streaming.
type operation func(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error)

// nsServer is the server as one call sees it: its om is the object
// manager of the call's namespace (root/cimv2 or root/interop), which
// shadows the Server's own.
type nsServer struct {
	*Server
	om *cimom.ObjectManager
}

// in returns the server as a call in namespace ns sees it.
func (s *Server) in(ns string) (*nsServer, error) {
	om, err := s.om.In(ns)
	if err != nil {
		return nil, err
	}
	return &nsServer{Server: s, om: om}, nil
}

// operations are the intrinsic methods served, by lower-case name. The
// string an operation returns is the class it was about, for the log.
var operations map[string]operation

// canonicalNames spells each intrinsic method as DSP0200 does.
var canonicalNames = map[string]string{}

// unsupported are the intrinsic methods of DSP0200 that this read-only
// server answers with CIM_ERR_NOT_SUPPORTED.
var unsupported = []string{"CreateClass", "ModifyClass", "DeleteClass", "CreateInstance", "ModifyInstance",
	"DeleteInstance", "SetProperty", "SetQualifier", "DeleteQualifier",
	"OpenEnumerateInstances", "OpenEnumerateInstancePaths", "OpenAssociatorInstances", "OpenAssociatorInstancePaths",
	"OpenReferenceInstances", "OpenReferenceInstancePaths", "OpenQueryInstances", "PullInstancesWithPath",
	"PullInstancePaths", "PullInstances", "CloseEnumeration", "EnumerationCount"}

func init() {
	operations = map[string]operation{
		"enumerateclasses":       opEnumerateClasses,
		"enumerateclassnames":    opEnumerateClassNames,
		"getclass":               opGetClass,
		"enumerateinstances":     opEnumerateInstances,
		"enumerateinstancenames": opEnumerateInstanceNames,
		"getinstance":            opGetInstance,
		"getproperty":            opGetProperty,
		"execquery":              opExecQuery,
		"associators":            opAssociators,
		"associatornames":        opAssociatorNames,
		"references":             opReferences,
		"referencenames":         opReferenceNames,
		"enumeratequalifiers":    opEnumerateQualifiers,
		"getqualifier":           opGetQualifier,
	}
	for _, n := range []string{"EnumerateClasses", "EnumerateClassNames", "GetClass", "EnumerateInstances",
		"EnumerateInstanceNames", "GetInstance", "GetProperty", "ExecQuery", "Associators", "AssociatorNames",
		"References", "ReferenceNames", "EnumerateQualifiers", "GetQualifier"} {
		canonicalNames[strings.ToLower(n)] = n
	}
	for _, n := range unsupported {
		canonicalNames[strings.ToLower(n)] = n
	}
}

// dispatch runs one intrinsic call.
func (s *Server) dispatch(ctx context.Context, c *cimxml.Call) (render, string, error) {
	op := operations[strings.ToLower(c.Method)]
	if op == nil {
		return nil, "", cim.Errorf(cim.ErrNotSupported, "%s is not supported by this server (it is read-only and serves no pull operations)", c.Method)
	}
	ns, err := s.in(c.Namespace)
	if err != nil {
		return nil, "", err
	}
	if err := checkParams(c); err != nil {
		return nil, "", err
	}
	return op(ctx, ns, c)
}

// opParams are the IPARAMVALUEs DSP0200 defines for each operation
// served; any other, or one given twice, is CIM_ERR_INVALID_PARAMETER.
var opParams = map[string][]string{
	"getclass":               {"ClassName", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"},
	"enumerateclasses":       {"ClassName", "DeepInheritance", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin"},
	"enumerateclassnames":    {"ClassName", "DeepInheritance"},
	"getinstance":            {"InstanceName", "LocalOnly", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"},
	"enumerateinstances":     {"ClassName", "LocalOnly", "DeepInheritance", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"},
	"enumerateinstancenames": {"ClassName"},
	"getproperty":            {"InstanceName", "PropertyName"},
	"execquery":              {"QueryLanguage", "Query"},
	"associators":            {"ObjectName", "AssocClass", "ResultClass", "Role", "ResultRole", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"},
	"associatornames":        {"ObjectName", "AssocClass", "ResultClass", "Role", "ResultRole"},
	"references":             {"ObjectName", "ResultClass", "Role", "IncludeQualifiers", "IncludeClassOrigin", "PropertyList"},
	"referencenames":         {"ObjectName", "ResultClass", "Role"},
	"enumeratequalifiers":    {},
	"getqualifier":           {"QualifierName"},
}

// checkParams refuses a parameter the operation does not define or one
// given twice (DSP0200 §5.4: CIM_ERR_INVALID_PARAMETER).
func checkParams(c *cimxml.Call) error {
	if c.Duplicate != "" {
		return cim.Errorf(cim.ErrInvalidParameter, "parameter %s is given twice", c.Duplicate)
	}
	known, ok := opParams[strings.ToLower(c.Method)]
	if !ok {
		return nil
	}
	for _, p := range c.Params {
		if !slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, p.Name) }) {
			return cim.Errorf(cim.ErrInvalidParameter, "%s has no parameter %s (its parameters: %s)", c.Method, p.Name, strings.Join(known, ", "))
		}
	}
	return nil
}

// propertySet builds the Keep function of a PropertyList and the
// DeepInheritance and LocalOnly rules relative to the class asked for:
// without DeepInheritance only the properties that class has, with
// LocalOnly only the ones it (or, deep, a subclass) declares.
func (s *nsServer) propertySet(reqClass string, deep, localOnly bool, props []string) func(*cim.Property) bool {
	if props == nil && deep && !localOnly {
		return nil
	}
	reg := s.om.Schema()
	reqC, _ := reg.Class(reqClass)
	want := map[string]bool{}
	for _, p := range props {
		want[strings.ToLower(p)] = true
	}
	return func(p *cim.Property) bool {
		if props != nil && !want[strings.ToLower(p.Name)] {
			return false
		}
		if !deep && reqC != nil && reqC.Property(p.Name) == nil {
			return false
		}
		if localOnly && reqC != nil {
			if deep {
				return reg.IsA(p.ClassOrigin, reqC.Name)
			}
			return strings.EqualFold(p.ClassOrigin, reqC.Name)
		}
		return true
	}
}

// classOf returns a function that finds the resolved class of each
// instance, remembering the last one: a result is mostly of one class.
func (s *nsServer) classOf() func(in *cim.Instance) *cim.Class {
	reg := s.om.Schema()
	var lastName string
	var last *cim.Class
	return func(in *cim.Instance) *cim.Class {
		if last != nil && in.ClassName == lastName {
			return last
		}
		last, _ = reg.Class(in.ClassName)
		lastName = in.ClassName
		return last
	}
}

type instFlags struct {
	deep, localOnly, qualifiers, classOrigin bool
	props                                    []string
}

// flags reads the flag parameters with their DSP0200 defaults for
// instance operations. LocalOnly is deprecated for instances and defaults
// to false here, as most servers treat it.
func flags(c *cimxml.Call, deepDefault bool) (instFlags, error) {
	var f instFlags
	var err error
	if f.deep, err = c.Bool("DeepInheritance", deepDefault); err != nil {
		return f, err
	}
	if f.localOnly, err = c.Bool("LocalOnly", false); err != nil {
		return f, err
	}
	if f.qualifiers, err = c.Bool("IncludeQualifiers", false); err != nil {
		return f, err
	}
	if f.classOrigin, err = c.Bool("IncludeClassOrigin", false); err != nil {
		return f, err
	}
	f.props, err = c.PropertyList()
	return f, err
}

func requiredClass(c *cimxml.Call, name string) (string, error) {
	cn, err := c.ClassName(name)
	if err != nil {
		return "", err
	}
	if cn == "" {
		return "", cim.Errorf(cim.ErrInvalidParameter, "%s needs the parameter %s", c.Method, name)
	}
	return cn, nil
}

func requiredPath(c *cimxml.Call, name string) (cim.ObjectPath, error) {
	v, _ := c.Param(name)
	switch x := v.(type) {
	case cim.ObjectPath:
		return x, nil
	case cimxml.ClassName:
		return cim.ObjectPath{ClassName: string(x)}, nil
	case nil:
		return cim.ObjectPath{}, cim.Errorf(cim.ErrInvalidParameter, "%s needs the parameter %s", c.Method, name)
	}
	return cim.ObjectPath{}, cim.Errorf(cim.ErrInvalidParameter, "parameter %s must be an instance name", name)
}

func opEnumerateInstances(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	cn, err := requiredClass(c, "ClassName")
	if err != nil {
		return nil, "", err
	}
	f, err := flags(c, true)
	if err != nil {
		return nil, cn, err
	}
	if _, err := s.om.Schema().Class(cn); err != nil {
		return nil, cn, err
	}
	o := cimxml.InstanceOptions{IncludeQualifiers: f.qualifiers, IncludeClassOrigin: f.classOrigin,
		Keep: s.propertySet(cn, f.deep, f.localOnly, f.props)}
	classOf := s.classOf()
	return func(e *cimxml.Encoder, flush func() error) error {
		return s.om.StreamInstances(ctx, cn, cimom.EnumOptions{}, func(batch []*cim.Instance) error {
			for _, in := range batch {
				e.NamedInstance(in, classOf(in), o)
				if err := flush(); err != nil {
					return err
				}
			}
			return nil
		})
	}, cn, nil
}

func opEnumerateInstanceNames(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	cn, err := requiredClass(c, "ClassName")
	if err != nil {
		return nil, "", err
	}
	if _, err := s.om.Schema().Class(cn); err != nil {
		return nil, cn, err
	}
	return func(e *cimxml.Encoder, flush func() error) error {
		return s.om.StreamInstances(ctx, cn, cimom.EnumOptions{}, func(batch []*cim.Instance) error {
			for _, in := range batch {
				e.InstanceName(in.Path)
				if err := flush(); err != nil {
					return err
				}
			}
			return nil
		})
	}, cn, nil
}

func (s *nsServer) getInstance(ctx context.Context, c *cimxml.Call) (*cim.Instance, cim.ObjectPath, error) {
	p, err := requiredPath(c, "InstanceName")
	if err != nil {
		return nil, p, err
	}
	if p.Namespace == "" {
		p.Namespace = c.Namespace
	}
	if err := s.om.CheckNamespace(p.Namespace); err != nil {
		return nil, p, err
	}
	in, err := s.om.GetInstance(ctx, p)
	return in, p, err
}

func opGetInstance(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	f, err := flags(c, true)
	if err != nil {
		return nil, "", err
	}
	in, p, err := s.getInstance(ctx, c)
	if err != nil {
		return nil, p.ClassName, err
	}
	reg := s.om.Schema()
	cls, _ := reg.Class(in.ClassName)
	o := cimxml.InstanceOptions{IncludeQualifiers: f.qualifiers, IncludeClassOrigin: f.classOrigin,
		Keep: s.propertySet(in.ClassName, true, f.localOnly, f.props)}
	return func(e *cimxml.Encoder, _ func() error) error { e.Instance(in, cls, o); return nil }, p.ClassName, nil
}

func opGetProperty(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	name, err := c.String("PropertyName")
	if err != nil {
		return nil, "", err
	}
	in, p, err := s.getInstance(ctx, c)
	if err != nil {
		return nil, p.ClassName, err
	}
	cls, _ := s.om.Schema().Class(in.ClassName)
	prop := cls.Property(name)
	if prop == nil {
		return nil, p.ClassName, cim.Errorf(cim.ErrNoSuchProperty, "%s has no property %q", cls.Name, name)
	}
	v := in.Value(prop.Name)
	return func(e *cimxml.Encoder, _ func() error) error { e.Value(v); return nil }, p.ClassName, nil
}

func (s *nsServer) classFlags(c *cimxml.Call) (cimxml.ClassOptions, error) {
	var o cimxml.ClassOptions
	var err error
	if o.LocalOnly, err = c.Bool("LocalOnly", true); err != nil {
		return o, err
	}
	if o.IncludeQualifiers, err = c.Bool("IncludeQualifiers", true); err != nil {
		return o, err
	}
	if o.IncludeClassOrigin, err = c.Bool("IncludeClassOrigin", false); err != nil {
		return o, err
	}
	props, err := c.PropertyList()
	if err != nil {
		return o, err
	}
	o.Keep = s.propertySet("", true, false, props)
	return o, nil
}

func opGetClass(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	cn, err := requiredClass(c, "ClassName")
	if err != nil {
		return nil, "", err
	}
	o, err := s.classFlags(c)
	if err != nil {
		return nil, cn, err
	}
	cls, err := s.om.Schema().Class(cn)
	if err != nil {
		return nil, cn, cim.Errorf(cim.ErrNotFound, "no class named %q in %s", cn, s.om.Namespace())
	}
	return func(e *cimxml.Encoder, _ func() error) error { e.Class(cls, o); return nil }, cn, nil
}

// classNames returns the classes an EnumerateClasses or
// EnumerateClassNames names: the subclasses of ClassName (the root classes
// without one), directly or deep.
func (s *nsServer) classNames(c *cimxml.Call) ([]string, string, error) {
	cn, err := c.ClassName("ClassName")
	if err != nil {
		return nil, "", err
	}
	deep, err := c.Bool("DeepInheritance", false)
	if err != nil {
		return nil, cn, err
	}
	reg := s.om.Schema()
	if cn != "" {
		cls, err := reg.Class(cn)
		if err != nil {
			return nil, cn, err
		}
		cn = cls.Name
	}
	if !deep {
		return reg.Children(cn), cn, nil
	}
	if cn != "" {
		return reg.Subclasses(cn, true), cn, nil
	}
	return reg.Names(), cn, nil
}

func opEnumerateClasses(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	names, cn, err := s.classNames(c)
	if err != nil {
		return nil, cn, err
	}
	o, err := s.classFlags(c)
	if err != nil {
		return nil, cn, err
	}
	reg := s.om.Schema()
	return func(e *cimxml.Encoder, flush func() error) error {
		for _, n := range names {
			cls, _ := reg.Class(n)
			e.Class(cls, o)
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}, cn, nil
}

func opEnumerateClassNames(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	names, cn, err := s.classNames(c)
	if err != nil {
		return nil, cn, err
	}
	return func(e *cimxml.Encoder, flush func() error) error {
		for _, n := range names {
			e.ClassName(n)
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}, cn, nil
}

// Querier is what ExecQuery needs of the object manager: a WQL query that
// returns its instances and the selected properties (nil for all).
type Querier interface {
	ExecQuery(ctx context.Context, query string) ([]*cim.Instance, []string, error)
}

func opExecQuery(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	lang, err := c.String("QueryLanguage")
	if err != nil {
		return nil, "", err
	}
	q, err := c.String("Query")
	if err != nil {
		return nil, "", err
	}
	if _, given := c.Param("Query"); !given || strings.TrimSpace(q) == "" {
		return nil, "", cim.Errorf(cim.ErrInvalidParameter, "ExecQuery needs the Query parameter")
	}
	if !strings.EqualFold(strings.TrimSpace(lang), "WQL") {
		return nil, "", cim.Errorf(cim.ErrQueryLanguageNotSupported, "query language %q is not supported; use WQL", lang)
	}
	if s.query == nil {
		return nil, "", cim.Errorf(cim.ErrNotSupported, "ExecQuery is not available in this build")
	}
	om, ok := s.query.(*cimom.ObjectManager)
	if s.om != s.Server.om {
		om, ok = s.om, true // another namespace's (root/interop's) queries are its own object manager's
	}
	if ok {
		// The object manager's own query streams: a SELECT is filtered
		// and projected batch by batch as the providers yield.
		cq, err := om.Compile(q)
		if err != nil {
			return nil, "", err
		}
		props := cimom.QueryProperties(cq)
		if cimom.ReturnsClasses(cq) {
			props = nil // the system properties of class objects: write the classes whole
		}
		o := cimxml.InstanceOptions{Keep: s.propertySet("", true, false, props)}
		return func(e *cimxml.Encoder, flush func() error) error {
			write := s.objectsWithPath(o)
			return om.StreamQuery(ctx, cq, func(batch []*cim.Instance) error { return write(e, batch, flush) })
		}, "", nil
	}
	insts, props, err := s.query.ExecQuery(ctx, q)
	if err != nil {
		return nil, "", err
	}
	if len(insts) > 0 && cimom.IsClassObject(insts[0]) {
		props = nil
	}
	o := cimxml.InstanceOptions{Keep: s.propertySet("", true, false, props)}
	return s.objectsWithPathOf(insts, o), "", nil
}

func assocOptions(c *cimxml.Call, refs bool) (cimom.AssocOptions, error) {
	var o cimom.AssocOptions
	var err error
	if !refs {
		if o.AssocClass, err = c.ClassName("AssocClass"); err != nil {
			return o, err
		}
		if o.ResultRole, err = c.String("ResultRole"); err != nil {
			return o, err
		}
	}
	if o.ResultClass, err = c.ClassName("ResultClass"); err != nil {
		return o, err
	}
	o.Role, err = c.String("Role")
	return o, err
}

// assoc runs Associators or References (refs) for the ObjectName.
func (s *nsServer) assoc(ctx context.Context, c *cimxml.Call, refs bool) ([]*cim.Instance, string, error) {
	insts, cn, err := s.assocOf(ctx, c, refs)
	if cim.CodeOf(err) == cim.ErrInvalidClass {
		// DSP0200 lists no CIM_ERR_INVALID_CLASS for the association operations: a class the
		// namespace lacks, in ObjectName, AssocClass or ResultClass, is an
		// incorrect parameter (as OpenPegasus answers).
		err = &cim.Error{Code: cim.ErrInvalidParameter, Description: cim.Wrap(cim.ErrFailed, err).Description, Err: err}
	}
	return insts, cn, err
}

func (s *nsServer) assocOf(ctx context.Context, c *cimxml.Call, refs bool) ([]*cim.Instance, string, error) {
	p, err := requiredPath(c, "ObjectName")
	if err != nil {
		return nil, "", err
	}
	if p.Namespace == "" {
		p.Namespace = c.Namespace
	}
	o, err := assocOptions(c, refs)
	if err != nil {
		return nil, p.ClassName, err
	}
	if err := s.om.CheckNamespace(p.Namespace); err != nil {
		return nil, p.ClassName, err
	}
	var insts []*cim.Instance
	if p.IsClass() {
		// Of a class: the classes the schema associates with it, as class
		// objects (DSP0200 §5.3.2.7: the results are classes).
		var classes []*cim.Class
		if refs {
			classes, err = s.om.ReferenceClasses(p.ClassName, o)
		} else {
			classes, err = s.om.AssociatorClasses(p.ClassName, o)
		}
		for _, cl := range classes {
			insts = append(insts, s.om.ClassObject(cl))
		}
		return insts, p.ClassName, err
	}
	if refs {
		insts, err = s.om.References(ctx, p, o)
	} else {
		insts, err = s.om.Associators(ctx, p, o)
	}
	return insts, p.ClassName, err
}

func (s *nsServer) assocObjects(ctx context.Context, c *cimxml.Call, refs bool) (render, string, error) {
	qual, err := c.Bool("IncludeQualifiers", false)
	if err != nil {
		return nil, "", err
	}
	origin, err := c.Bool("IncludeClassOrigin", false)
	if err != nil {
		return nil, "", err
	}
	props, err := c.PropertyList()
	if err != nil {
		return nil, "", err
	}
	insts, cn, err := s.assoc(ctx, c, refs)
	if err != nil {
		return nil, cn, err
	}
	o := cimxml.InstanceOptions{IncludeQualifiers: qual, IncludeClassOrigin: origin, Keep: s.propertySet("", true, false, props)}
	return s.objectsWithPathOf(insts, o), cn, nil
}

// objectsWithPath returns a function that renders instances, and class
// objects as classes, each in a VALUE.OBJECTWITHPATH, flushing after
// each.
func (s *nsServer) objectsWithPath(o cimxml.InstanceOptions) func(e *cimxml.Encoder, insts []*cim.Instance, flush func() error) error {
	classOf := s.classOf()
	co := cimxml.ClassOptions{IncludeQualifiers: o.IncludeQualifiers, IncludeClassOrigin: o.IncludeClassOrigin, Keep: o.Keep}
	return func(e *cimxml.Encoder, insts []*cim.Instance, flush func() error) error {
		for _, in := range insts {
			if cimom.IsClassObject(in) {
				if c := classOf(in); c != nil {
					e.ClassWithPath(c, in.Path, co)
				}
			} else {
				e.ObjectWithPath(in, classOf(in), o)
			}
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
}

// objectsWithPathOf renders a result held whole (an association's join)
// as objectsWithPath does.
func (s *nsServer) objectsWithPathOf(insts []*cim.Instance, o cimxml.InstanceOptions) render {
	write := s.objectsWithPath(o)
	return func(e *cimxml.Encoder, flush func() error) error { return write(e, insts, flush) }
}

func (s *nsServer) assocNames(ctx context.Context, c *cimxml.Call, refs bool) (render, string, error) {
	insts, cn, err := s.assoc(ctx, c, refs)
	if err != nil {
		return nil, cn, err
	}
	return func(e *cimxml.Encoder, flush func() error) error {
		for _, in := range insts {
			e.ObjectPath(in.Path)
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}, cn, nil
}

func opAssociators(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	return s.assocObjects(ctx, c, false)
}

func opAssociatorNames(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	return s.assocNames(ctx, c, false)
}

func opReferences(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	return s.assocObjects(ctx, c, true)
}

func opReferenceNames(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	return s.assocNames(ctx, c, true)
}

// invoke runs an extrinsic method (METHODCALL) through the object
// manager's one method path, with the PARAMVALUEs as text.
func (s *Server) invoke(ctx context.Context, c *cimxml.Call) (render, string, error) {
	target := c.Object
	if c.Duplicate != "" {
		return nil, target.ClassName, cim.Errorf(cim.ErrInvalidParameter, "parameter %s is given twice", c.Duplicate)
	}
	if target.Namespace == "" {
		target.Namespace = c.Namespace
	}
	ns, err := s.in(target.Namespace)
	if err != nil {
		return nil, target.ClassName, err
	}
	var in []cim.PropertyValue
	for _, p := range c.Params {
		switch v := p.Value.(type) {
		case nil, string, cim.ObjectPath:
			in = append(in, cim.PropertyValue{Name: p.Name, Value: v})
		default:
			return nil, target.ClassName, cim.Errorf(cim.ErrInvalidParameter, "parameter %s: only single values and references are taken", p.Name)
		}
	}
	res, err := ns.om.InvokeMethod(ctx, target, c.Method, in)
	if err != nil {
		return nil, target.ClassName, err
	}
	ms, _ := ns.om.Methods(target.ClassName)
	var m *cim.Method
	for i := range ms {
		if strings.EqualFold(ms[i].Name, c.Method) {
			m = &ms[i]
		}
	}
	if m == nil {
		return nil, target.ClassName, cim.Errorf(cim.ErrMethodNotFound, "class %s has no method %s", target.ClassName, c.Method)
	}
	return func(e *cimxml.Encoder, _ func() error) error { e.MethodReturn(m, res); return nil }, target.ClassName, nil
}

func opEnumerateQualifiers(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	decls := s.om.QualifierDeclarations()
	return func(e *cimxml.Encoder, _ func() error) error {
		for _, d := range decls {
			e.QualifierDeclaration(d)
		}
		return nil
	}, "", nil
}

func opGetQualifier(ctx context.Context, s *nsServer, c *cimxml.Call) (render, string, error) {
	name, err := c.String("QualifierName")
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		return nil, "", cim.Errorf(cim.ErrInvalidParameter, "GetQualifier needs the QualifierName parameter")
	}
	for _, d := range s.om.QualifierDeclarations() {
		if strings.EqualFold(d.Name, name) {
			return func(e *cimxml.Encoder, _ func() error) error { e.QualifierDeclaration(d); return nil }, "", nil
		}
	}
	return nil, "", cim.Errorf(cim.ErrNotFound, "no qualifier %q is declared in %s", name, s.om.Namespace())
}
