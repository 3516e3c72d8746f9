package wql

import (
	"strings"
	"sync/atomic"

	"github.com/cimsess/cimsess/cim"
)

// Schema is what Prepare and the evaluator need to know of the classes.
// The object manager's class registry implements it.
type Schema interface {
	// Class returns the class named name (case-insensitively), resolved:
	// with every property it inherits as well as its own. An unknown class
	// is an error with code CIM_ERR_INVALID_CLASS (or CIM_ERR_NOT_FOUND).
	Class(name string) (*cim.Class, error)
	// IsA reports whether class is ancestor or one of its subclasses,
	// case-insensitively. Unknown classes are ancestors of nothing.
	IsA(class, ancestor string) bool
}

// isaCache remembers IsA(class, ancestor) for one ancestor. Reads are a
// lock-free map lookup that allocates nothing; a miss copies the map.
type isaCache struct {
	schema   Schema
	ancestor string
	m        atomic.Pointer[map[string]bool]
}

func newIsaCache(s Schema, ancestor string) *isaCache {
	c := &isaCache{schema: s, ancestor: ancestor}
	m := map[string]bool{}
	c.m.Store(&m)
	return c
}

// is reports whether class is the ancestor or derives from it.
func (c *isaCache) is(class string) bool {
	if strings.EqualFold(class, c.ancestor) {
		return true
	}
	m := *c.m.Load()
	if v, ok := m[class]; ok {
		return v
	}
	v := c.schema.IsA(class, c.ancestor)
	if len(m) < 1024 { // a bound, against callers that invent class names
		n := make(map[string]bool, len(m)+1)
		for k, x := range m {
			n[k] = x
		}
		n[class] = v
		c.m.Store(&n)
	}
	return v
}

// classInfo holds the system properties that come from the schema.
type classInfo struct {
	superclass string   // "" for a root class
	derivation []string // superclass first, root last
	propCount  int      // -1 when the class is unknown
}

// infoCache remembers classInfo per class name, like isaCache.
type infoCache struct {
	schema Schema
	m      atomic.Pointer[map[string]*classInfo]
}

func newInfoCache(s Schema) *infoCache {
	c := &infoCache{schema: s}
	m := map[string]*classInfo{}
	c.m.Store(&m)
	return c
}

func (c *infoCache) get(class string) *classInfo {
	m := *c.m.Load()
	if ci, ok := m[class]; ok {
		return ci
	}
	ci := &classInfo{propCount: -1}
	if cl, err := c.schema.Class(class); err == nil && cl != nil {
		ci.superclass = cl.SuperClass
		ci.propCount = len(cl.Properties)
		seen := map[string]bool{strings.ToLower(cl.Name): true}
		for sup := cl.SuperClass; sup != "" && !seen[strings.ToLower(sup)]; {
			seen[strings.ToLower(sup)] = true
			sc, err := c.schema.Class(sup)
			if err != nil || sc == nil {
				ci.derivation = append(ci.derivation, sup)
				break
			}
			ci.derivation = append(ci.derivation, sc.Name)
			sup = sc.SuperClass
		}
	}
	if len(m) < 1024 {
		n := make(map[string]*classInfo, len(m)+1)
		for k, x := range m {
			n[k] = x
		}
		n[class] = ci
		c.m.Store(&n)
	}
	return ci
}
