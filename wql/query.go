package wql

import (
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// Event is one intrinsic event as the event engine hands it to
// [Query.MatchEvent].
type Event struct {
	// Class is the event class: InstanceCreationEvent,
	// InstanceDeletionEvent or InstanceModificationEvent.
	Class string
	// TargetInstance is the instance created, deleted, or as it is after
	// a modification.
	TargetInstance *cim.Instance
	// PreviousInstance is the instance before a modification; nil for
	// the other events.
	PreviousInstance *cim.Instance
	// TimeCreated is TIME_CREATED: 100-ns ticks since 1601-01-01 UTC
	// (see [TimeCreated]).
	TimeCreated uint64
}

// ticks1601 is the number of 100-ns ticks from 1601-01-01 to 1970-01-01.
const ticks1601 = 116444736000000000

// TimeCreated returns t as a TIME_CREATED value: 100-ns ticks since
// 1601-01-01 UTC, 0 for times before then.
func TimeCreated(t time.Time) uint64 {
	s := t.Unix()
	if s < -ticks1601/1e7 {
		return 0
	}
	return uint64(s*1e7+ticks1601) + uint64(t.Nanosecond()/100)
}

// stmtKind says which statement a Query was prepared from.
type stmtKind uint8

const (
	kindSelect stmtKind = iota
	kindEvent
	kindAssociators
	kindReferences
)

// Query is a statement checked against the schema and compiled for
// evaluation. It is immutable and safe for concurrent use.
type Query struct {
	stmt       Statement
	kind       stmtKind
	schema     Schema
	class      *cim.Class // FROM class, or the ISA class of an event query
	eventClass string
	where      evalFn // nil: every instance or event matches
	from       *isaCache
	infos      *infoCache
	sel        []selItem // nil for SELECT *
	keyEqs     []keyEq
	exactClass string
	warnings   []string
	meta       bool // FROM meta_class
}

// evalFn is a compiled condition.
type evalFn func(c ctx) bool

// ctx is what a condition is evaluated against: an instance (data
// queries) or an event. It is passed by value so that evaluation
// allocates nothing.
type ctx struct {
	q    *Query
	inst *cim.Instance
	ev   *Event
}

// selItem is one property of the select list.
type selItem struct {
	name string
	get  func(c ctx) any
	auto bool // __RELPATH, added to every projection, not listed by Properties
}

// keyEq is a top-level "property = constant" for KeyFilter.
type keyEq struct {
	name  string
	value any
}

// Compile parses query and prepares it against schema: [Parse] then
// [Prepare].
func Compile(query string, schema Schema) (*Query, error) {
	st, err := Parse(query)
	if err != nil {
		return nil, err
	}
	return Prepare(st, schema)
}

// Warnings returns what is legal in the query but cannot be what it
// meant, such as "Prop = NULL", which never matches (IS NULL does), each
// with the line and column it points at; nil when there is nothing to
// say.
func (q *Query) Warnings() []string { return q.warnings }

// IsMetaClass reports whether the query selects FROM meta_class: its
// results are classes (objects whose path names a class, __GENUS 1), not
// instances.
func (q *Query) IsMetaClass() bool { return q.meta }

// Statement returns the statement the query was prepared from.
func (q *Query) Statement() Statement { return q.stmt }

// IsEvent reports whether the query is an event query (use MatchEvent).
func (q *Query) IsEvent() bool { return q.kind == kindEvent }

// Class returns the class the query is about, spelt as the schema spells
// it: the FROM class of a data query, the TargetInstance ISA class of an
// event query, the class of the path of ASSOCIATORS OF / REFERENCES OF.
func (q *Query) Class() string {
	if q.class != nil {
		return q.class.Name
	}
	return ""
}

// EventClass returns the FROM class of an event query (one of the
// Instance*Event constants), or "".
func (q *Query) EventClass() string { return q.eventClass }

// Within returns the WITHIN polling interval of an event query in
// seconds, or 0 when the query has none.
func (q *Query) Within() float64 {
	if e, ok := q.stmt.(*EventQuery); ok {
		return e.Within
	}
	return 0
}

// Properties returns the selected properties of a data query, spelt as
// the schema spells them (system properties in upper case), without
// duplicates; nil for SELECT * and for the other statements.
func (q *Query) Properties() []string {
	if q.sel == nil {
		return nil
	}
	out := make([]string, 0, len(q.sel))
	for _, s := range q.sel {
		if !s.auto {
			out = append(out, s.name)
		}
	}
	return out
}

// Match reports whether inst is a result of the data query: its class
// is the FROM class or a subclass, and it satisfies WHERE. It allocates
// nothing unless WHERE uses __PATH or __RELPATH. It is false for the
// other statements.
func (q *Query) Match(inst *cim.Instance) bool {
	if q.kind != kindSelect || inst == nil || !q.meta && !q.from.is(inst.ClassName) {
		return false
	}
	return q.where == nil || q.where(ctx{q: q, inst: inst})
}

// MatchEvent reports whether ev satisfies the event query: its class is
// the FROM event class (__InstanceOperationEvent takes all three) and the
// WHERE clause, TargetInstance ISA included, holds. It is false for the
// other statements.
func (q *Query) MatchEvent(ev *Event) bool {
	if q.kind != kindEvent || ev == nil {
		return false
	}
	if !strings.EqualFold(ev.Class, q.eventClass) {
		if q.eventClass != InstanceOperationEvent {
			return false
		}
		if _, ok := eventClasses[strings.ToLower(ev.Class)]; !ok {
			return false
		}
	}
	return q.where == nil || q.where(ctx{q: q, ev: ev})
}

// Project returns inst as the select list shapes it: for SELECT *, inst
// itself; otherwise a new instance of the same class and path with only
// the selected properties, in select-list order, NULL where inst lacks
// one. Selected system properties appear as properties named __CLASS,
// __PATH and so on.
func (q *Query) Project(inst *cim.Instance) *cim.Instance {
	if q.sel == nil || inst == nil {
		return inst
	}
	out := &cim.Instance{ClassName: inst.ClassName, Path: inst.Path, Properties: make([]cim.PropertyValue, 0, len(q.sel))}
	c := ctx{q: q, inst: inst}
	for _, s := range q.sel {
		out.Properties = append(out.Properties, cim.PropertyValue{Name: s.name, Value: s.get(c)})
	}
	return out
}

// KeyFilter returns the "key = constant" conditions that the WHERE clause
// ANDs at its top level, for the keys named, so that the object manager
// can look instances up instead of enumerating them (provider.Hint.Keys).
// Map keys are the lower-cased key names; values have the property's CIM
// type (string, uint32, …). String keys are meant case-insensitively.
// It returns nil when there are none, and always for a WHERE whose top
// level is an OR. The instances found must still pass Match.
func (q *Query) KeyFilter(keyNames []string) map[string]any {
	var m map[string]any
	for _, k := range keyNames {
		for _, e := range q.keyEqs {
			if strings.EqualFold(e.name, k) {
				if m == nil {
					m = map[string]any{}
				}
				m[strings.ToLower(k)] = e.value
				break
			}
		}
	}
	return m
}

// ExactClass returns X when the WHERE clause ANDs "__CLASS = 'X'" at its
// top level (only instances of exactly that class can match), else "".
func (q *Query) ExactClass() string { return q.exactClass }
