package cimom

import (
	"context"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/wql"
)

// Compile parses and checks a WQL statement against the schema.
func (om *ObjectManager) Compile(query string) (*wql.Query, error) {
	return wql.Compile(query, om.reg)
}

// ExecQuery runs a WQL data query, ASSOCIATORS OF or REFERENCES OF, and
// returns the matching instances and, for a select list, the names of the
// selected properties (nil for SELECT *). Event queries are answered by
// [ObjectManager.Subscribe], not here (CIM_ERR_NOT_SUPPORTED).
func (om *ObjectManager) ExecQuery(ctx context.Context, query string) ([]*cim.Instance, []string, error) {
	q, err := om.Compile(query)
	if err != nil {
		return nil, nil, err
	}
	return om.Run(ctx, q)
}

// Run runs a compiled query; see ExecQuery. It holds the whole result:
// front ends that write what they get use [ObjectManager.StreamQuery]. A
// query whose results are classes (FROM meta_class, ClassDefsOnly,
// SchemaOnly, ASSOCIATORS OF or REFERENCES OF a class) returns them as
// class objects (see ClassObject); the properties are QueryProperties'.
func (om *ObjectManager) Run(ctx context.Context, q *wql.Query) ([]*cim.Instance, []string, error) {
	insts, err := collect(func(emit provider.Emit) error { return om.StreamQuery(ctx, q, emit) }, 0)
	if err != nil {
		return nil, nil, err
	}
	return insts, QueryProperties(q), nil
}

// ReturnsClasses reports whether q's results are classes (as class
// objects, see [ObjectManager.ClassObject]): SELECT FROM meta_class,
// ClassDefsOnly, SchemaOnly, or ASSOCIATORS OF / REFERENCES OF a class.
func ReturnsClasses(q *wql.Query) bool {
	switch st := q.Statement().(type) {
	case *wql.Select:
		return q.IsMetaClass()
	case *wql.Associators:
		return st.ClassDefsOnly || st.SchemaOnly || st.Path.IsClass()
	case *wql.References:
		return st.ClassDefsOnly || st.SchemaOnly || st.Path.IsClass()
	}
	return false
}

// QueryProperties returns the properties to show of q's results: its
// select list, or ClassObjectProperties for classes; nil (every
// property) otherwise.
func QueryProperties(q *wql.Query) []string {
	if props := q.Properties(); props != nil {
		return props
	}
	if ReturnsClasses(q) {
		return ClassObjectProperties
	}
	return nil
}

// StreamQuery runs a compiled data query and hands the matching instances
// to emit in batches, as [ObjectManager.StreamInstances] does; the
// selected properties are q.Properties(). A SELECT is filtered (WHERE)
// and projected batch by batch as the providers yield, its key
// equalities pushed down to them. ASSOCIATORS OF and REFERENCES OF need
// their join whole: they hold it, bounded by [MaxCollected], and emit it
// at the end.
func (om *ObjectManager) StreamQuery(ctx context.Context, q *wql.Query, emit provider.Emit) error {
	return om.StreamQueryWith(ctx, q, QueryOptions{}, emit)
}

// QueryOptions is what a caller of [ObjectManager.StreamQueryWith] says
// of itself.
type QueryOptions struct {
	// Lent says that the caller is done with each batch when its emit
	// returns, as a writer that prints it is: a SELECT's providers may
	// make the next batch in the same memory ([provider.Hint.Lent]).
	Lent bool
}

// StreamQueryWith is [ObjectManager.StreamQuery] with options.
func (om *ObjectManager) StreamQueryWith(ctx context.Context, q *wql.Query, opts QueryOptions, emit provider.Emit) error {
	switch st := q.Statement().(type) {
	case *wql.Select:
		if q.IsMetaClass() {
			return provider.EmitSlice(ctx, om.metaClass(q), emit)
		}
		return om.selectInstances(ctx, q, opts.Lent, emit)
	case *wql.Associators:
		insts, err := om.runAssoc(ctx, st.Path, AssocOptions{AssocClass: st.AssocClass, ResultClass: st.ResultClass,
			Role: st.Role, ResultRole: st.ResultRole, RequiredQualifier: st.RequiredQualifier,
			RequiredAssocQualifier: st.RequiredAssocQualifier}, false, st.KeysOnly, st.ClassDefsOnly, st.SchemaOnly)
		if err != nil {
			return err
		}
		return provider.EmitSlice(ctx, insts, emit)
	case *wql.References:
		insts, err := om.runAssoc(ctx, st.Path, AssocOptions{ResultClass: st.ResultClass, Role: st.Role,
			RequiredQualifier: st.RequiredQualifier}, true, st.KeysOnly, st.ClassDefsOnly, st.SchemaOnly)
		if err != nil {
			return err
		}
		return provider.EmitSlice(ctx, insts, emit)
	}
	return cim.Errorf(cim.ErrNotSupported, "event queries deliver events as they happen: use watch (or Subscribe), not a data query")
}

// selectInstances enumerates what a SELECT needs, pushing the class and
// key equalities of its WHERE down, and passes on what matches, projected,
// batch by batch; lent is QueryOptions.Lent.
func (om *ObjectManager) selectInstances(ctx context.Context, q *wql.Query, lent bool, emit provider.Emit) error {
	class, shallow := q.Class(), false
	if exact := q.ExactClass(); exact != "" {
		if !om.reg.IsA(exact, class) {
			return nil
		}
		class, shallow = exact, true
	}
	c, err := om.reg.Class(class)
	if err != nil {
		return err
	}
	// Key equalities become a lookup; string keys match whatever their
	// case, as WQL compares strings.
	// A key's value is read as its type, a reference's as a path of the
	// schema (Class=value, a superclass), as the WHERE itself reads it; a
	// value that cannot be is left to the WHERE.
	keys := q.KeyFilter(c.KeyNames())
	for name, v := range keys {
		if p := c.Property(name); p != nil {
			if kv, err := cim.KeyValue(om.reg, p, v); err == nil {
				keys[name] = kv
			} else {
				delete(keys, name)
			}
		}
	}
	hint := provider.Hint{Keys: keys, Lent: lent}
	var out []*cim.Instance // reused batch
	return om.StreamInstances(ctx, class, EnumOptions{Shallow: shallow, Hint: hint}, func(batch []*cim.Instance) error {
		out = out[:0]
		for _, in := range batch {
			// A WHERE can cost (a LIKE against long command lines): stop
			// between instances once the caller has gone.
			if err := ctx.Err(); err != nil {
				return cim.Errorf(cim.ErrFailed, "query cancelled: %v", err)
			}
			if q.Match(in) {
				out = append(out, q.Project(in))
			}
		}
		if len(out) == 0 {
			return nil
		}
		return emit(out)
	})
}

// keysOnly keeps only the key properties of each instance when asked.
func (om *ObjectManager) keysOnly(insts []*cim.Instance, keysOnly bool) []*cim.Instance {
	if !keysOnly {
		return insts
	}
	out := make([]*cim.Instance, len(insts))
	for i, in := range insts {
		k := &cim.Instance{ClassName: in.ClassName, Path: in.Path, Owner: in.Owner}
		for _, kb := range in.Path.Keys {
			k.Set(kb.Name, in.Value(kb.Name))
		}
		out[i] = k
	}
	return out
}
