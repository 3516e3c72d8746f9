package wql

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// objSel says which object an operand reads from.
type objSel uint8

const (
	objSelf   objSel = iota // the instance of a data query
	objTarget               // TargetInstance of an event
	objPrev                 // PreviousInstance of an event
	objEvent                // the event itself (__CLASS, TIME_CREATED)
)

// vclass is how an operand's values compare.
type vclass uint8

const (
	vString vclass = iota
	vNum
	vBool
	vDate
	vRef
	vObject
	vArray
)

// operand is a property reference resolved against the schema.
type operand struct {
	ref    PropRef
	obj    objSel
	sys    string        // upper-case system property, "TIME_CREATED", or ""
	prop   *cim.Property // a class property, when sys is "" and not object
	object bool          // TargetInstance, PreviousInstance, __THIS
}

// name is the canonical name of the operand for the select list.
func (o *operand) name() string {
	switch {
	case o.prop != nil:
		return o.prop.Name
	case o.sys != "":
		return o.sys
	}
	return o.ref.String()
}

func (o *operand) vclass() vclass {
	switch {
	case o.object:
		return vObject
	case o.sys == "__DERIVATION":
		return vArray
	case o.sys == "__GENUS" || o.sys == "__PROPERTY_COUNT" || o.sys == "TIME_CREATED":
		return vNum
	case o.sys != "":
		return vString
	}
	t := o.prop.Type
	switch {
	case t.Array:
		return vArray
	case t.Kind.IsNumeric():
		return vNum
	case t.Kind == cim.KindBoolean:
		return vBool
	case t.Kind == cim.KindDateTime:
		return vDate
	case t.Kind == cim.KindReference:
		return vRef
	}
	return vString
}

// typeName describes the operand's type for messages.
func (o *operand) typeName() string {
	switch o.vclass() {
	case vObject:
		return "an object"
	case vArray:
		return "an array"
	}
	if o.prop != nil {
		if o.prop.Type.Kind == cim.KindDateTime && isInterval(o.prop) {
			return "a datetime interval"
		}
		return "of type " + o.prop.Type.String()
	}
	switch o.vclass() {
	case vNum:
		if o.sys == "TIME_CREATED" {
			return "of type uint64"
		}
		return "of type sint32"
	}
	return "of type string"
}

func (pr *preparer) operand(ref PropRef) (*operand, *posError) {
	q := pr.q
	if q.kind == kindSelect {
		if ref.Object != "" {
			return nil, errAt(int(ref.Pos), "%s: properties of embedded objects (Object.Property) belong to event queries", ref)
		}
		return pr.resolveIn(ref, objSelf)
	}
	// Event query.
	modification := q.eventClass == InstanceModificationEvent
	if ref.Object == "" {
		switch strings.ToUpper(ref.Name) {
		case "TARGETINSTANCE":
			return &operand{ref: ref, obj: objTarget, object: true}, nil
		case "PREVIOUSINSTANCE":
			if !modification {
				return nil, errAt(int(ref.Pos), "PreviousInstance exists only in %s", InstanceModificationEvent)
			}
			return &operand{ref: ref, obj: objPrev, object: true}, nil
		case "TIME_CREATED":
			return &operand{ref: ref, obj: objEvent, sys: "TIME_CREATED"}, nil
		case "__CLASS":
			return &operand{ref: ref, obj: objEvent, sys: "__CLASS"}, nil
		}
		return nil, errAt(int(ref.Pos), "no property %s in %s: an event query names TargetInstance.Property, PreviousInstance.Property, TIME_CREATED or __CLASS", ref.Name, q.eventClass)
	}
	switch strings.ToUpper(ref.Object) {
	case "TARGETINSTANCE":
		return pr.resolveIn(ref, objTarget)
	case "PREVIOUSINSTANCE":
		if !modification {
			return nil, errAt(int(ref.Pos), "PreviousInstance exists only in %s", InstanceModificationEvent)
		}
		return pr.resolveIn(ref, objPrev)
	}
	return nil, errAt(int(ref.Pos), "unknown embedded object %s: use TargetInstance or PreviousInstance", ref.Object)
}

// resolveIn resolves ref.Name as a property of the query's class.
func (pr *preparer) resolveIn(ref PropRef, obj objSel) (*operand, *posError) {
	up := strings.ToUpper(ref.Name)
	if up == "__THIS" && obj == objSelf {
		return &operand{ref: ref, obj: obj, object: true}, nil
	}
	if systemProps[up] {
		return &operand{ref: ref, obj: obj, sys: up}, nil
	}
	cl := pr.q.class
	p := cl.Property(ref.Name)
	if p == nil {
		return nil, errAt(int(ref.Pos), "no property %s in class %s", ref.Name, cl.Name)
	}
	return &operand{ref: ref, obj: obj, prop: p}, nil
}

// objFn returns the accessor of the operand's object.
func (o *operand) objFn() func(c ctx) *cim.Instance {
	switch o.obj {
	case objTarget:
		return func(c ctx) *cim.Instance {
			if c.ev == nil {
				return nil
			}
			return c.ev.TargetInstance
		}
	case objPrev:
		return func(c ctx) *cim.Instance {
			if c.ev == nil {
				return nil
			}
			return c.ev.PreviousInstance
		}
	}
	return func(c ctx) *cim.Instance { return c.inst }
}

// raw returns the accessor of a class property's value. Instances of a
// class usually hold their properties in the same order, so it first
// looks where it found the property last time.
func (o *operand) raw() func(c ctx) any {
	obj, name := o.objFn(), o.prop.Name
	var hint atomic.Int32
	return func(c ctx) any {
		in := obj(c)
		if in == nil {
			return nil
		}
		ps := in.Properties
		if h := int(hint.Load()); h < len(ps) && ps[h].Name == name {
			return ps[h].Value
		}
		for i := range ps {
			if ps[i].Name == name {
				hint.Store(int32(i))
				return ps[i].Value
			}
		}
		v, _ := in.Get(name) // the name in another case
		return v
	}
}

// strGetter returns the accessor of a string-valued operand.
func (o *operand) strGetter() func(c ctx) (string, bool) {
	obj := o.objFn()
	switch o.sys {
	case "":
		raw := o.raw()
		return func(c ctx) (string, bool) {
			switch x := raw(c).(type) {
			case string:
				return x, true
			case cim.Char16:
				return string(rune(x)), true
			}
			return "", false
		}
	case "__CLASS":
		if o.obj == objEvent {
			return func(c ctx) (string, bool) {
				if c.ev == nil || c.ev.Class == "" {
					return "", false
				}
				return c.ev.Class, true
			}
		}
		return func(c ctx) (string, bool) {
			if in := obj(c); in != nil {
				return in.ClassName, true
			}
			return "", false
		}
	case "__PATH", "__RELPATH":
		rel := o.sys == "__RELPATH"
		return func(c ctx) (string, bool) {
			in := obj(c)
			if in == nil || in.Path.ClassName == "" {
				return "", false
			}
			if rel {
				return in.Path.Relative().String(), true
			}
			return in.Path.String(), true
		}
	case "__SERVER":
		return func(c ctx) (string, bool) {
			if in := obj(c); in != nil && in.Path.Host != "" {
				return in.Path.Host, true
			}
			return "", false
		}
	case "__NAMESPACE":
		return func(c ctx) (string, bool) {
			if in := obj(c); in != nil && in.Path.Namespace != "" {
				return strings.ReplaceAll(in.Path.Namespace, "/", `\`), true // WMI's form: root\cimv2
			}
			return "", false
		}
	case "__DYNASTY":
		return func(c ctx) (string, bool) {
			in := obj(c)
			if in == nil {
				return "", false
			}
			if d := c.q.infos.get(in.ClassName).derivation; len(d) > 0 {
				return d[len(d)-1], true
			}
			return in.ClassName, true
		}
	case "__SUPERCLASS":
		return func(c ctx) (string, bool) {
			in := obj(c)
			if in == nil {
				return "", false
			}
			ci := c.q.infos.get(in.ClassName)
			return ci.superclass, ci.superclass != ""
		}
	}
	return func(ctx) (string, bool) { return "", false }
}

// numGetter returns the accessor of a numeric operand.
func (o *operand) numGetter() func(c ctx) (num, bool) {
	obj := o.objFn()
	switch o.sys {
	case "":
		raw := o.raw()
		return func(c ctx) (num, bool) { return toNum(raw(c)) }
	case "__GENUS":
		// 1 for a class (a meta_class result, whose path names a class),
		// 2 for an instance.
		return func(c ctx) (num, bool) {
			in := obj(c)
			if in == nil {
				return num{}, false
			}
			if in.Path.ClassName != "" && in.Path.IsClass() {
				return num{i: 1}, true
			}
			return num{i: 2}, true
		}
	case "__PROPERTY_COUNT":
		return func(c ctx) (num, bool) {
			in := obj(c)
			if in == nil {
				return num{}, false
			}
			n := c.q.infos.get(in.ClassName).propCount
			if n < 0 {
				n = len(in.Properties)
			}
			return num{i: int64(n)}, true
		}
	case "TIME_CREATED":
		return func(c ctx) (num, bool) {
			if c.ev == nil {
				return num{}, false
			}
			return toNum(c.ev.TimeCreated)
		}
	}
	return func(ctx) (num, bool) { return num{}, false }
}

// isNull returns the test of IS NULL for the operand.
func (o *operand) isNull() func(c ctx) bool {
	switch o.vclass() {
	case vObject:
		obj := o.objFn()
		return func(c ctx) bool { return obj(c) == nil }
	case vArray:
		if o.sys == "__DERIVATION" {
			obj := o.objFn()
			return func(c ctx) bool { return obj(c) == nil }
		}
	case vString:
		if o.sys != "" {
			get := o.strGetter()
			return func(c ctx) bool { _, ok := get(c); return !ok }
		}
	case vNum:
		if o.sys != "" {
			get := o.numGetter()
			return func(c ctx) bool { _, ok := get(c); return !ok }
		}
	}
	raw := o.raw()
	return func(c ctx) bool { return raw(c) == nil }
}

// anyGetter returns the accessor of the operand's value for Project.
func (o *operand) anyGetter() func(c ctx) any {
	switch {
	case o.object:
		obj := o.objFn()
		return func(c ctx) any {
			if in := obj(c); in != nil {
				return in
			}
			return nil
		}
	case o.prop != nil:
		return o.raw()
	case o.sys == "__DERIVATION":
		obj := o.objFn()
		return func(c ctx) any {
			in := obj(c)
			if in == nil {
				return nil
			}
			d := c.q.infos.get(in.ClassName).derivation
			out := make([]any, len(d))
			for i, s := range d {
				out[i] = s
			}
			return out
		}
	case o.vclass() == vNum:
		get := o.numGetter()
		sys := o.sys
		return func(c ctx) any {
			n, ok := get(c)
			if !ok {
				return nil
			}
			if sys == "TIME_CREATED" {
				return n.value()
			}
			return int32(n.i)
		}
	}
	get := o.strGetter()
	return func(c ctx) any {
		if s, ok := get(c); ok {
			return s
		}
		return nil
	}
}

// expr compiles a condition; a nil condition compiles to nil.
func (pr *preparer) expr(e Expr) (evalFn, *posError) {
	switch x := e.(type) {
	case nil:
		return nil, nil
	case *Binary:
		if x == nil || x.Left == nil || x.Right == nil || (x.Op != And && x.Op != Or) {
			return nil, errAt(-1, "incomplete AND/OR condition")
		}
		l, err := pr.expr(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := pr.expr(x.Right)
		if err != nil {
			return nil, err
		}
		if x.Op == Or {
			return func(c ctx) bool { return l(c) || r(c) }, nil
		}
		return func(c ctx) bool { return l(c) && r(c) }, nil
	case *Not:
		if x == nil || x.X == nil {
			return nil, errAt(-1, "NOT without a condition")
		}
		f, err := pr.expr(x.X)
		if err != nil {
			return nil, err
		}
		return func(c ctx) bool { return !f(c) }, nil
	case *IsNull:
		if x == nil {
			return nil, errAt(-1, "nil condition")
		}
		o, err := pr.operand(x.Prop)
		if err != nil {
			return nil, err
		}
		f := o.isNull()
		if x.Not {
			return func(c ctx) bool { return !f(c) }, nil
		}
		return f, nil
	case *Isa:
		if x == nil {
			return nil, errAt(-1, "nil condition")
		}
		return pr.isa(x)
	case *Like:
		if x == nil {
			return nil, errAt(-1, "nil condition")
		}
		o, err := pr.operand(x.Prop)
		if err != nil {
			return nil, err
		}
		if o.vclass() != vString {
			return nil, errAt(int(x.Pos), "LIKE applies to strings, and %s is %s", x.Prop, o.typeName())
		}
		pat, msg := compileLike(x.Pattern)
		if msg != "" {
			return nil, errAt(int(x.Pos), "LIKE pattern %s: %s", quoteWQL(x.Pattern), msg)
		}
		get := o.strGetter()
		return func(c ctx) bool {
			s, ok := get(c)
			return ok && pat.match(s)
		}, nil
	case *Comparison:
		if x == nil {
			return nil, errAt(-1, "nil condition")
		}
		return pr.comparison(x)
	}
	return nil, errAt(-1, "unknown condition %T", e)
}

func (pr *preparer) isa(x *Isa) (evalFn, *posError) {
	o, err := pr.operand(x.Prop)
	if err != nil {
		return nil, err
	}
	if !o.object && !(o.sys == "__CLASS" && o.obj != objEvent) {
		return nil, errAt(int(x.Pos), "ISA applies to TargetInstance, PreviousInstance, __THIS or __CLASS, not to %s", x.Prop)
	}
	cl, err := pr.class(x.Class, int(x.Pos))
	if err != nil {
		return nil, err
	}
	cache := newIsaCache(pr.q.schema, cl.Name)
	obj := o.objFn()
	return func(c ctx) bool {
		in := obj(c)
		return in != nil && cache.is(in.ClassName)
	}, nil
}

func never(ctx) bool { return false }

// stringLiteral is the constant a string property is compared with: a
// string, or an integer as its decimal digits, since WMI takes
// "Handle=1234" for the string key Handle (as in the common
// Get-WmiObject Win32_Process -Filter "Handle=$PID").
func stringLiteral(lit any) (string, bool) {
	switch v := lit.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	}
	return "", false
}

func (pr *preparer) comparison(x *Comparison) (evalFn, *posError) {
	o, perr := pr.operand(x.Prop)
	if perr != nil {
		return nil, perr
	}
	op := x.Op
	if x.ConstFirst {
		op = op.flip()
	}
	if op < EQ || op > GE {
		return nil, errAt(int(x.Pos), "unknown operator")
	}
	litPos := int(x.Value.Pos)
	lit := x.Value.Value
	vc := o.vclass()
	switch vc {
	case vObject:
		return nil, errAt(int(x.Pos), "%s is an object: test it with ISA or IS [NOT] NULL", x.Prop)
	case vArray:
		return nil, errAt(int(x.Pos), "%s is an array: WQL compares only single values (IS [NOT] NULL applies)", x.Prop)
	}
	if lit == nil {
		// A comparison with NULL is never true, as in WMI; say so, since
		// IS NULL is what was meant.
		is := "IS NULL"
		if op != EQ {
			is = "IS NOT NULL"
		}
		pr.warnAt(int(x.Pos), "%s %s NULL never matches: write %s %s", x.Prop, op, x.Prop, is)
		return never, nil
	}
	mismatch := func(why string) *posError {
		return errAt(litPos, "type mismatch: %s is %s, %s", x.Prop, o.typeName(), why)
	}
	switch vc {
	case vString:
		k, ok := stringLiteral(lit)
		if !ok {
			return nil, mismatch("not compared with " + describeLiteral(lit) + " (quote strings)")
		}
		if o.sys == "__NAMESPACE" {
			k = strings.ReplaceAll(k, "/", `\`) // root/cimv2 means root\cimv2
		}
		get := o.strGetter()
		switch op {
		case EQ:
			return func(c ctx) bool { s, ok := get(c); return ok && strings.EqualFold(s, k) }, nil
		case NE:
			return func(c ctx) bool { s, ok := get(c); return ok && !strings.EqualFold(s, k) }, nil
		}
		return func(c ctx) bool { s, ok := get(c); return ok && holds(op, compareFold(s, k)) }, nil
	case vNum:
		var k num
		switch v := lit.(type) {
		case string:
			n, ok := numberFromString(v)
			if !ok {
				return nil, mismatch(quoteWQL(v) + " is not a number")
			}
			k = n
		case bool:
			return nil, mismatch("not compared with " + describeLiteral(lit))
		default:
			n, ok := toNum(v)
			if !ok {
				return nil, mismatch("not compared with " + describeLiteral(lit))
			}
			k = n
		}
		get := o.numGetter()
		return func(c ctx) bool {
			v, ok := get(c)
			if !ok {
				return false
			}
			r, ok := cmpNum(v, k)
			return ok && holds(op, r)
		}, nil
	case vBool:
		k, ok := boolLiteral(lit)
		if !ok {
			return nil, mismatch("compared with TRUE, FALSE, 1 or 0, not " + describeLiteral(lit))
		}
		if op != EQ && op != NE {
			return nil, errAt(int(x.Pos), "boolean %s compares with = and <> only", x.Prop)
		}
		raw := o.raw()
		eq := op == EQ
		return func(c ctx) bool {
			b, ok := raw(c).(bool)
			return ok && (b == k) == eq
		}, nil
	case vDate:
		s, ok := lit.(string)
		if !ok {
			return nil, mismatch("compared with a CIM datetime in quotes, not " + describeLiteral(lit))
		}
		k, err := parseDateLiteral(s, time.Local)
		if err != nil {
			return nil, errAt(litPos, "%s is a datetime, and %s is not one (a DMTF datetime, or a date such as '2026-11-25', '2026-11-25 14:30', '11/25/2026' or 'November 25, 2026'): %s", x.Prop, quoteWQL(s), cim.Wrap(cim.ErrInvalidParameter, err).Description)
		}
		if iv := isInterval(o.prop); iv != k.IsInterval() {
			if iv {
				return nil, mismatch(quoteWQL(s) + " is a point in time, not an interval (ddddddddHHMMSS.mmmmmm:000)")
			}
			return nil, mismatch(quoteWQL(s) + " is an interval, not a point in time (yyyymmddHHMMSS.mmmmmm+UUU)")
		}
		raw := o.raw()
		return func(c ctx) bool {
			var d cim.DateTime
			switch v := raw(c).(type) {
			case cim.DateTime:
				d = v
			case string:
				var err error
				if d, err = cim.ParseDateTime(v); err != nil {
					return false
				}
			default:
				return false
			}
			return !d.IsZero() && holds(op, d.Compare(k))
		}, nil
	case vRef:
		s, ok := lit.(string)
		if !ok {
			return nil, mismatch("compared with an object path in quotes, not " + describeLiteral(lit))
		}
		k, err := cim.ParseObjectPath(s)
		if err != nil {
			return nil, errAt(litPos, "%s is a reference, and %s is not an object path: %s", x.Prop, quoteWQL(s), cim.Wrap(cim.ErrInvalidParameter, err).Description)
		}
		if op != EQ && op != NE {
			return nil, errAt(int(x.Pos), "reference %s compares with = and <> only", x.Prop)
		}
		// As WMI reads a path: Class=value, a quoted or unquoted number
		// as its key's type, a superclass naming its subclasses' objects.
		schema := pr.q.schema
		if _, err := schema.Class(k.ClassName); err == nil {
			if k, err = cim.ResolvePath(schema, k); err != nil {
				return nil, errAt(litPos, "%s is a reference, and %s is not a path of an object: %s", x.Prop, quoteWQL(s), cim.Wrap(cim.ErrInvalidParameter, err).Description)
			}
		}
		raw := o.raw()
		eq := op == EQ
		return func(c ctx) bool {
			var p cim.ObjectPath
			switch v := raw(c).(type) {
			case cim.ObjectPath:
				p = v
			case string:
				var err error
				if p, err = cim.ParseObjectPath(v); err != nil {
					return false
				}
			default:
				return false
			}
			return cim.SameObject(schema, p, k) == eq
		}, nil
	}
	return nil, errAt(int(x.Pos), "cannot compare %s", x.Prop)
}

// boolLiteral reads a constant compared with a boolean: TRUE and FALSE,
// and 1 and 0 as WMI takes them.
func boolLiteral(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int64:
		if x == 0 || x == 1 {
			return x == 1, true
		}
	case string:
		switch strings.ToUpper(strings.TrimSpace(x)) {
		case "TRUE", "1":
			return true, true
		case "FALSE", "0":
			return false, true
		}
	}
	return false, false
}

// describeLiteral names a constant's type for messages.
func describeLiteral(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, uint64:
		return "an integer"
	case float64:
		return "a real number"
	}
	return "NULL"
}
