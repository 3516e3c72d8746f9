package wql

import (
	"math"
	"strconv"
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// Pos is a byte offset into the query text a node was parsed from. It
// only serves error messages; nodes built by hand may leave it zero.
type Pos int

// Statement is a parsed WQL statement: *Select, *EventQuery, *Associators
// or *References. String prints it as canonical WQL, which parses back to
// an equal statement.
type Statement interface {
	String() string
	source() string
}

// Expr is a condition of a WHERE clause: *Binary (AND, OR), *Not,
// *Comparison, *Like, *IsNull or *Isa.
type Expr interface {
	String() string
	pos() Pos
}

// PropRef names a property: Name alone, or Object.Name for a property of
// an embedded object (TargetInstance.Name in event queries).
type PropRef struct {
	Object string // "" or the embedded object, such as "TargetInstance"
	Name   string
	Pos    Pos
}

// String prints the reference as written in WQL.
func (p PropRef) String() string {
	if p.Object != "" {
		return p.Object + "." + p.Name
	}
	return p.Name
}

// Literal is a constant: Value is a string, int64, uint64 (integers above
// MaxInt64 only), float64, bool, or nil for NULL.
type Literal struct {
	Value any
	Pos   Pos
}

// String prints the constant as WQL writes it.
func (l Literal) String() string { return formatLiteral(l.Value) }

func formatLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return quoteWQL(x)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "NULL" // never parsed; keeps the output valid WQL
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	}
	return "NULL"
}

// quoteWQL writes s in single quotes, escaping \ and '.
func quoteWQL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// Select is a data query: SELECT * | props FROM Class [WHERE cond].
type Select struct {
	Star       bool      // SELECT *
	Properties []PropRef // the select list when not Star
	Class      string
	ClassPos   Pos
	Where      Expr // nil without a WHERE clause
	text       string
}

func (s *Select) source() string { return s.text }

// String prints the statement as canonical WQL.
func (s *Select) String() string {
	var b strings.Builder
	writeSelectHead(&b, s.Star, s.Properties, s.Class)
	if s.Where != nil {
		b.WriteString(" WHERE ")
		b.WriteString(s.Where.String())
	}
	return b.String()
}

func writeSelectHead(b *strings.Builder, star bool, props []PropRef, class string) {
	b.WriteString("SELECT ")
	if star || len(props) == 0 {
		b.WriteByte('*')
	} else {
		for i, p := range props {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.String())
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(class)
}

// The intrinsic event classes an event query may select from.
const (
	InstanceCreationEvent     = "__InstanceCreationEvent"
	InstanceDeletionEvent     = "__InstanceDeletionEvent"
	InstanceModificationEvent = "__InstanceModificationEvent"
	InstanceOperationEvent    = "__InstanceOperationEvent"
)

// EventQuery is an intrinsic event query:
//
//	SELECT * FROM __InstanceCreationEvent [WITHIN s] WHERE TargetInstance ISA 'C' [AND …]
type EventQuery struct {
	Star       bool
	Properties []PropRef
	Class      string // one of the four event classes, as the constants spell it
	ClassPos   Pos
	Within     float64 // polling interval in seconds; 0 when absent
	Where      Expr    // never nil: it holds TargetInstance ISA
	text       string
}

func (q *EventQuery) source() string { return q.text }

// String prints the statement as canonical WQL.
func (q *EventQuery) String() string {
	var b strings.Builder
	writeSelectHead(&b, q.Star, q.Properties, q.Class)
	if q.Within > 0 {
		b.WriteString(" WITHIN ")
		b.WriteString(formatNumber(q.Within))
	}
	if q.Where != nil {
		b.WriteString(" WHERE ")
		b.WriteString(q.Where.String())
	}
	return b.String()
}

// formatNumber prints a WITHIN interval: an integer when it is one.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && f < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// TargetClass returns the class named by the first top-level
// "TargetInstance ISA 'Class'" of the WHERE clause.
func (q *EventQuery) TargetClass() string {
	c, _ := targetIsa(q.Where)
	return c
}

// targetIsa finds TargetInstance ISA in the top-level conjunction.
func targetIsa(e Expr) (string, Pos) {
	for _, c := range conjuncts(e, nil) {
		if isa, ok := c.(*Isa); ok && strings.EqualFold(isa.Prop.Name, "TargetInstance") && isa.Prop.Object == "" {
			return isa.Class, isa.Pos
		}
	}
	return "", 0
}

// conjuncts appends the terms of the top-level AND chain of e.
func conjuncts(e Expr, out []Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == And {
		out = conjuncts(b.Left, out)
		return conjuncts(b.Right, out)
	}
	if e != nil {
		out = append(out, e)
	}
	return out
}

// Associators is ASSOCIATORS OF {path} [WHERE …]. Empty strings and false
// flags are keywords that were not given.
type Associators struct {
	Path                   cim.ObjectPath
	PathPos                Pos
	AssocClass             string
	ResultClass            string
	Role                   string
	ResultRole             string
	RequiredQualifier      string
	RequiredAssocQualifier string
	ClassDefsOnly          bool
	KeysOnly               bool
	SchemaOnly             bool
	text                   string
}

func (a *Associators) source() string { return a.text }

// String prints the statement as canonical WQL.
func (a *Associators) String() string {
	var b strings.Builder
	b.WriteString("ASSOCIATORS OF {")
	b.WriteString(a.Path.String())
	b.WriteByte('}')
	w := assocWhere{b: &b}
	w.kv("AssocClass", a.AssocClass)
	w.flag("ClassDefsOnly", a.ClassDefsOnly)
	w.flag("KeysOnly", a.KeysOnly)
	w.kv("RequiredAssocQualifier", a.RequiredAssocQualifier)
	w.kv("RequiredQualifier", a.RequiredQualifier)
	w.kv("ResultClass", a.ResultClass)
	w.kv("ResultRole", a.ResultRole)
	w.kv("Role", a.Role)
	w.flag("SchemaOnly", a.SchemaOnly)
	return b.String()
}

// References is REFERENCES OF {path} [WHERE …].
type References struct {
	Path              cim.ObjectPath
	PathPos           Pos
	ResultClass       string
	Role              string
	RequiredQualifier string
	ClassDefsOnly     bool
	KeysOnly          bool
	SchemaOnly        bool
	text              string
}

func (r *References) source() string { return r.text }

// String prints the statement as canonical WQL.
func (r *References) String() string {
	var b strings.Builder
	b.WriteString("REFERENCES OF {")
	b.WriteString(r.Path.String())
	b.WriteByte('}')
	w := assocWhere{b: &b}
	w.flag("ClassDefsOnly", r.ClassDefsOnly)
	w.flag("KeysOnly", r.KeysOnly)
	w.kv("RequiredQualifier", r.RequiredQualifier)
	w.kv("ResultClass", r.ResultClass)
	w.kv("Role", r.Role)
	w.flag("SchemaOnly", r.SchemaOnly)
	return b.String()
}

type assocWhere struct {
	b       *strings.Builder
	started bool
}

func (w *assocWhere) sep() {
	if !w.started {
		w.b.WriteString(" WHERE")
		w.started = true
	}
	w.b.WriteByte(' ')
}

func (w *assocWhere) kv(k, v string) {
	if v != "" {
		w.sep()
		w.b.WriteString(k)
		w.b.WriteString(" = ")
		w.b.WriteString(v)
	}
}

func (w *assocWhere) flag(k string, on bool) {
	if on {
		w.sep()
		w.b.WriteString(k)
	}
}

// LogicOp is AND or OR.
type LogicOp uint8

// The logical operators.
const (
	And LogicOp = iota + 1
	Or
)

// String returns "AND" or "OR".
func (o LogicOp) String() string {
	if o == Or {
		return "OR"
	}
	return "AND"
}

// Binary is Left AND Right or Left OR Right.
type Binary struct {
	Op          LogicOp
	Left, Right Expr
	Pos         Pos
}

func (b *Binary) pos() Pos { return b.Pos }

// String prints the condition with the parentheses its shape needs.
func (b *Binary) String() string {
	return wrap(b.Left, b.Op, false) + " " + b.Op.String() + " " + wrap(b.Right, b.Op, true)
}

// wrap prints a child of an AND/OR, in parentheses when a parser reading
// the text back would otherwise group it differently.
func wrap(e Expr, parent LogicOp, right bool) string {
	if c, ok := e.(*Binary); ok {
		if c.Op < parent || (c.Op == parent && !right) {
			return c.String()
		}
		return "(" + c.String() + ")"
	}
	return e.String()
}

// Not is NOT X.
type Not struct {
	X   Expr
	Pos Pos
}

func (n *Not) pos() Pos { return n.Pos }

// String prints NOT with its operand in parentheses unless it is a NOT.
func (n *Not) String() string {
	if _, ok := n.X.(*Not); ok {
		return "NOT " + n.X.String()
	}
	return "NOT (" + n.X.String() + ")"
}

// CompareOp is a comparison operator.
type CompareOp uint8

// The comparison operators. != parses as NE.
const (
	EQ CompareOp = iota + 1
	NE
	LT
	GT
	LE
	GE
)

var opText = [...]string{EQ: "=", NE: "<>", LT: "<", GT: ">", LE: "<=", GE: ">="}

// String returns the operator as WQL writes it ("<>" for NE).
func (o CompareOp) String() string {
	if int(o) < len(opText) {
		return opText[o]
	}
	return "?"
}

// flip returns the operator with its operands swapped: 5 < P is P > 5.
func (o CompareOp) flip() CompareOp {
	switch o {
	case LT:
		return GT
	case GT:
		return LT
	case LE:
		return GE
	case GE:
		return LE
	}
	return o
}

// Comparison is Prop Op Value, or Value Op Prop when ConstFirst.
type Comparison struct {
	Prop       PropRef
	Op         CompareOp
	Value      Literal
	ConstFirst bool
	Pos        Pos
}

func (c *Comparison) pos() Pos { return c.Pos }

// String prints the comparison in the order it was written.
func (c *Comparison) String() string {
	if c.ConstFirst {
		return c.Value.String() + " " + c.Op.String() + " " + c.Prop.String()
	}
	return c.Prop.String() + " " + c.Op.String() + " " + c.Value.String()
}

// Like is Prop LIKE 'pattern'.
type Like struct {
	Prop    PropRef
	Pattern string
	Pos     Pos
}

func (l *Like) pos() Pos { return l.Pos }

// String prints the condition.
func (l *Like) String() string { return l.Prop.String() + " LIKE " + quoteWQL(l.Pattern) }

// IsNull is Prop IS NULL, or Prop IS NOT NULL when Not.
type IsNull struct {
	Prop PropRef
	Not  bool
	Pos  Pos
}

func (n *IsNull) pos() Pos { return n.Pos }

// String prints the condition.
func (n *IsNull) String() string {
	if n.Not {
		return n.Prop.String() + " IS NOT NULL"
	}
	return n.Prop.String() + " IS NULL"
}

// Isa is Prop ISA 'Class'.
type Isa struct {
	Prop  PropRef
	Class string
	Pos   Pos
}

func (i *Isa) pos() Pos { return i.Pos }

// String prints the condition.
func (i *Isa) String() string { return i.Prop.String() + " ISA " + quoteWQL(i.Class) }
