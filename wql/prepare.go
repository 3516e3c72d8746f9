package wql

import (
	"fmt"
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// systemProps are the WMI system properties, by upper-case name.
var systemProps = map[string]bool{
	"__CLASS": true, "__PATH": true, "__RELPATH": true, "__SERVER": true, "__NAMESPACE": true,
	"__SUPERCLASS": true, "__DERIVATION": true, "__GENUS": true, "__PROPERTY_COUNT": true, "__DYNASTY": true,
}

// MetaClass is WMI's class of classes: SELECT * FROM meta_class WHERE
// __CLASS LIKE 'Win32_%Session' lists classes.
const MetaClass = "meta_class"

// Prepare checks st against schema and compiles it for evaluation. It
// reports unknown classes (CIM_ERR_INVALID_CLASS), unknown properties,
// comparisons of mismatched types and malformed datetime or path
// constants (CIM_ERR_INVALID_QUERY), each with its position. For
// ASSOCIATORS OF and REFERENCES OF it checks the classes named; the
// object manager then reads the statement from [Query.Statement].
func Prepare(st Statement, schema Schema) (*Query, error) {
	if st == nil || schema == nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wql.Prepare needs a statement and a schema")
	}
	if isNilStatement(st) {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wql.Prepare needs a statement and a schema")
	}
	pr := &preparer{q: &Query{stmt: st, schema: schema, infos: newInfoCache(schema)}}
	var perr *posError
	switch s := st.(type) {
	case *Select:
		perr = pr.prepareSelect(s)
	case *EventQuery:
		perr = pr.prepareEvent(s)
	case *Associators:
		pr.q.kind = kindAssociators
		perr = pr.prepareAssoc(s.Path, s.PathPos, s.text, map[string]string{"AssocClass": s.AssocClass, "ResultClass": s.ResultClass})
	case *References:
		pr.q.kind = kindReferences
		perr = pr.prepareAssoc(s.Path, s.PathPos, s.text, map[string]string{"ResultClass": s.ResultClass})
	default:
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wql.Prepare: unknown statement type %T", st)
	}
	if perr != nil {
		if st.source() == "" {
			perr.pos = -1 // a statement built by hand: no text to point into
		}
		return nil, perr.format(st.source())
	}
	for _, w := range pr.warnings {
		if src := st.source(); src != "" && w.pos >= 0 {
			line, col, _ := lineCol(src, w.pos)
			pr.q.warnings = append(pr.q.warnings, fmt.Sprintf("line %d, column %d: %s", line, col, w.msg))
		} else {
			pr.q.warnings = append(pr.q.warnings, w.msg)
		}
	}
	return pr.q, nil
}

type preparer struct {
	q        *Query
	warnings []posError
}

// warnAt notes something legal that cannot be what the query meant.
func (pr *preparer) warnAt(pos int, format string, args ...any) {
	pr.warnings = append(pr.warnings, posError{pos: pos, msg: fmt.Sprintf(format, args...)})
}

// class looks a class up, turning "unknown" into CIM_ERR_INVALID_CLASS at pos.
func (pr *preparer) class(name string, pos int) (*cim.Class, *posError) {
	c, err := pr.q.schema.Class(name)
	if err != nil || c == nil {
		code := cim.CodeOf(err)
		if err == nil || code == cim.ErrInvalidClass || code == cim.ErrNotFound {
			return nil, errCode(cim.ErrInvalidClass, pos, "unknown class %s", name)
		}
		var ce *cim.Error
		msg := err.Error()
		if e, ok := err.(*cim.Error); ok {
			ce = e
			msg = ce.Description
		}
		return nil, errCode(code, pos, "class %s: %s", name, msg)
	}
	return c, nil
}

func (pr *preparer) prepareSelect(s *Select) *posError {
	q := pr.q
	q.kind = kindSelect
	var cl *cim.Class
	if strings.EqualFold(s.Class, MetaClass) {
		// WMI's meta_class: the classes themselves, with only system
		// properties to select and test.
		cl, q.meta = &cim.Class{Name: MetaClass}, true
	} else {
		var err *posError
		if cl, err = pr.class(s.Class, int(s.ClassPos)); err != nil {
			return err
		}
	}
	q.class = cl
	q.from = newIsaCache(q.schema, cl.Name)
	var err *posError
	if !s.Star {
		q.sel = []selItem{}
		for _, ref := range s.Properties {
			o, err := pr.operand(ref)
			if err != nil {
				return err
			}
			if o.object && o.obj == objSelf {
				return errAt(int(ref.Pos), "__THIS is the object itself, not a property: SELECT * gives all of its properties, and WHERE __THIS ISA 'Class' tests its class")
			}
			q.addOperand(o)
		}
		if len(q.sel) == 0 {
			q.sel = nil
		}
		// As in WMI, a select list carries the keys whatever it names,
		// and each result its __RELPATH, so that it says which object it
		// is (a class of meta_class, its name); Properties lists the
		// keys, not __RELPATH, which front ends show as they show __PATH.
		if q.sel != nil {
			if !q.meta {
				for _, k := range cl.KeyNames() {
					pr.addSel(PropRef{Name: k})
				}
			}
			n := len(q.sel)
			if pr.addSel(PropRef{Name: "__RELPATH"}); len(q.sel) > n {
				q.sel[n].auto = true
			}
		}
	}
	if q.where, err = pr.expr(s.Where); err != nil {
		return err
	}
	pr.pushDown(s.Where)
	return nil
}

// addSel adds a property to the select list unless it is there.
func (pr *preparer) addSel(ref PropRef) {
	if o, err := pr.operand(ref); err == nil {
		pr.q.addOperand(o)
	}
}

func (q *Query) addOperand(o *operand) {
	name := o.name()
	for _, x := range q.sel {
		if strings.EqualFold(x.name, name) {
			return
		}
	}
	q.sel = append(q.sel, selItem{name: name, get: o.anyGetter()})
}

func (pr *preparer) prepareEvent(e *EventQuery) *posError {
	q := pr.q
	q.kind = kindEvent
	q.eventClass = e.Class
	name, pos := targetIsa(e.Where)
	if name == "" {
		return errAt(-1, "an event query needs WHERE TargetInstance ISA 'Class'")
	}
	cl, err := pr.class(name, int(pos))
	if err != nil {
		return err
	}
	q.class = cl
	for _, ref := range e.Properties {
		if _, err := pr.operand(ref); err != nil {
			return err
		}
	}
	q.where, err = pr.expr(e.Where)
	return err
}

func (pr *preparer) prepareAssoc(path cim.ObjectPath, pathPos Pos, src string, classes map[string]string) *posError {
	cl, err := pr.class(path.ClassName, int(pathPos)+1)
	if err != nil {
		return err
	}
	pr.q.class = cl
	for _, kw := range []string{"AssocClass", "ResultClass"} {
		name := classes[kw]
		if name == "" {
			continue
		}
		// The parser keeps no positions for keyword values: find the
		// value after the path in the text, when there is one.
		pos := -1
		if src != "" {
			if i := strings.LastIndexByte(src, '}'); i >= 0 {
				if j := strings.Index(strings.ToLower(src[i:]), strings.ToLower(name)); j >= 0 {
					pos = i + j
				}
			}
		}
		if _, err := pr.class(name, pos); err != nil {
			err.msg = kw + ": " + err.msg
			return err
		}
	}
	return nil
}

// pushDown records the top-level "key = constant" and "__CLASS = 'X'"
// conditions of a data query, for KeyFilter and ExactClass.
func (pr *preparer) pushDown(where Expr) {
	if b, ok := where.(*Binary); ok && b.Op == Or {
		return
	}
	for _, t := range conjuncts(where, nil) {
		c, ok := t.(*Comparison)
		if !ok || c.Op != EQ || c.Value.Value == nil || c.Prop.Object != "" {
			continue
		}
		o, err := pr.operand(c.Prop)
		if err != nil {
			continue
		}
		if o.sys == "__CLASS" {
			if s, ok := c.Value.Value.(string); ok && pr.q.exactClass == "" {
				pr.q.exactClass = s
			}
			continue
		}
		if o.prop == nil || o.prop.Type.Array {
			continue
		}
		v := c.Value.Value
		if o.prop.Type.Kind == cim.KindString {
			if k, ok := stringLiteral(v); ok {
				v = k
			}
		}
		conv, cerr := cim.Convert(o.prop.Type, v)
		if cerr != nil || conv == nil {
			continue
		}
		pr.q.keyEqs = append(pr.q.keyEqs, keyEq{name: o.prop.Name, value: conv})
	}
}

// isNilStatement reports whether st is a nil pointer in an interface.
func isNilStatement(st Statement) bool {
	switch s := st.(type) {
	case *Select:
		return s == nil
	case *EventQuery:
		return s == nil
	case *Associators:
		return s == nil
	case *References:
		return s == nil
	}
	return false
}
