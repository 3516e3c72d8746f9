package schema

import (
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cimsess/cimsess/cim"
)

// compiled is what Validate and PathOf need of a resolved class, worked
// out once when the registry is built (resolved classes never change):
// property lookups by name, each property's checks, and the keys.
type compiled struct {
	abstract bool
	exact    map[string]int // property name as declared → index
	lower    map[string]int // lower-case property name → index
	props    []propCheck    // by property index
	keys     []string       // key property names, in declaration order
	pathKeys []string       // the same, ordered as PathOf writes them
	// recent holds the layouts of the last instances validated, newest
	// first: a provider sets its properties in one order and leaves out
	// those it does not know, so its instances come in a few layouts, and
	// the next instance usually has one of them and needs no lookups.
	recent atomic.Pointer[[]*layout]
}

// maxLayouts bounds how many layouts a class remembers.
const maxLayouts = 8

// layout maps an instance's property names, in its order, to the
// positions of the class's properties.
type layout struct {
	names []string
	idx   []int
}

// layoutOf returns the class position of each of inst's properties, or
// nil if one of them is not a property of c.
func (x *compiled) layoutOf(c *cim.Class, inst *cim.Instance) []int {
	var recent []*layout
	if r := x.recent.Load(); r != nil {
		recent = *r
	}
	for _, l := range recent {
		if inst.HasNames(l.names) {
			return l.idx
		}
	}
	l := &layout{names: make([]string, len(inst.Properties)), idx: make([]int, len(inst.Properties))}
	for k, pv := range inst.Properties {
		i := x.find(c, pv.Name)
		if i < 0 {
			return nil
		}
		l.names[k], l.idx[k] = pv.Name, i
	}
	// Remembered copy-on-write: readers on other goroutines keep the
	// slice they loaded. A race between two misses loses one layout,
	// which the next miss adds again.
	next := make([]*layout, 0, maxLayouts)
	next = append(next, l)
	next = append(next, recent[:min(len(recent), maxLayouts-1)]...)
	x.recent.Store(&next)
	return l.idx
}

// propCheck is one property's checks, from its qualifiers.
type propCheck struct {
	maxLen    int64 // MaxLen, when hasMaxLen
	hasMaxLen bool
	interval  bool // SubType("interval")
	// valueMap is the ValueMap as a set, when the property has one
	// (hasValueMap); anyValue when it holds "..", which allows any value.
	valueMap    map[string]struct{}
	valueList   []string // the ValueMap in order, for error messages
	hasValueMap bool
	anyValue    bool
	// The ValueMap's entries that are integers in their canonical
	// decimal form, for integer values: no formatting, a short scan.
	ints  []int64
	uints []uint64 // those above MaxInt64
}

// compile works out the checks of a resolved class.
func compile(c *cim.Class) *compiled {
	x := &compiled{
		abstract: c.IsAbstract(),
		exact:    make(map[string]int, len(c.Properties)),
		lower:    make(map[string]int, len(c.Properties)),
		props:    make([]propCheck, len(c.Properties)),
	}
	for i := range c.Properties {
		p := &c.Properties[i]
		if _, dup := x.exact[p.Name]; !dup {
			x.exact[p.Name] = i
		}
		if _, dup := x.lower[strings.ToLower(p.Name)]; !dup {
			x.lower[strings.ToLower(p.Name)] = i
		}
		pc := &x.props[i]
		pc.maxLen, pc.hasMaxLen = p.Qualifiers.Int("MaxLen")
		pc.interval = strings.EqualFold(p.Qualifiers.String("SubType"), "interval")
		if vm := p.Qualifiers.Strings("ValueMap"); len(vm) > 0 {
			pc.hasValueMap, pc.valueList = true, vm
			pc.valueMap = make(map[string]struct{}, len(vm))
			for _, v := range vm {
				pc.valueMap[v] = struct{}{}
				if v == ".." {
					pc.anyValue = true
				}
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(n, 10) == v {
					pc.ints = append(pc.ints, n)
				} else if u, err := strconv.ParseUint(v, 10, 64); err == nil && strconv.FormatUint(u, 10) == v {
					pc.uints = append(pc.uints, u)
				}
			}
		}
		if p.IsKey() {
			x.keys = append(x.keys, p.Name)
		}
	}
	x.pathKeys = append([]string(nil), x.keys...)
	sort.SliceStable(x.pathKeys, func(i, j int) bool {
		return strings.ToLower(x.pathKeys[i]) < strings.ToLower(x.pathKeys[j])
	})
	return x
}

// find returns the index of the property of c named name,
// case-insensitively as cim.Class.Property matches, or -1; the name as
// declared is found without allocating.
func (x *compiled) find(c *cim.Class, name string) int {
	if i, ok := x.exact[name]; ok {
		return i
	}
	if i, ok := x.lower[strings.ToLower(name)]; ok {
		return i
	}
	// Unicode case folding matches a few names lower-casing does not.
	for i := range c.Properties {
		if strings.EqualFold(c.Properties[i].Name, name) {
			return i
		}
	}
	return -1
}
