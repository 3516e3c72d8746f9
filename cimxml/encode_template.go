package cimxml

import "github.com/cimsess/cimsess/cim"

// An instTemplate is the INSTANCE content of one layout of instances of
// a class: which properties the instance sets, in its own order, with
// every one a scalar that is not a reference. All that is written between
// two values (the end of one property, the NULL properties after it and
// the start of the next) is joined into one string beforehand, so that
// writing an instance takes one append per value set and the values.
type instTemplate struct {
	c     *cim.Class
	opts  int      // tagsFor's key of the PropertyOptions
	names []string // the instance's property names, in its order
	// order[s] is the instance's property written in slot s, in class
	// order; static[s] is written before it and static[len(order)] last.
	order  []int
	static []string
}

// maxTemplates is how many layouts an encoder remembers.
const maxTemplates = 8

// matches reports whether the template is for instances like in.
func (t *instTemplate) matches(c *cim.Class, opts int, in *cim.Instance) bool {
	return t.c == c && t.opts == opts && in.HasNames(t.names)
}

// template returns the template of in's layout, made on first use, or
// nil when in's properties cannot be written from one (an array or a
// reference property set, or a name that is not the class's).
func (e *Encoder) template(c *cim.Class, ix *classIndex, tags []propertyTag, opts int, in *cim.Instance) *instTemplate {
	for i := range e.tpls {
		// Most recently made or used first.
		t := e.tpls[(e.tplNext+len(e.tpls)-1-i)%len(e.tpls)]
		if t.matches(c, opts, in) {
			return t
		}
	}
	// slot[j] is the instance property of class property j, or -1; a
	// property set twice is written with its last value, as Instance does.
	slot := make([]int, len(c.Properties))
	for j := range slot {
		slot[j] = -1
	}
	for k := range in.Properties {
		j := ix.find(in.Properties[k].Name)
		if j < 0 || !tags[j].scalar {
			return nil
		}
		slot[j] = k
	}
	t := &instTemplate{c: c, opts: opts, names: make([]string, len(in.Properties))}
	for k := range in.Properties {
		t.names[k] = in.Properties[k].Name
	}
	var run []byte
	for j := range c.Properties {
		if slot[j] < 0 {
			run = append(run, tags[j].null...)
			continue
		}
		run = append(run, tags[j].openValue...)
		t.static = append(t.static, string(run))
		t.order = append(t.order, slot[j])
		run = append(run[:0], tags[j].closeValue...)
	}
	t.static = append(t.static, string(run))
	if len(e.tpls) < maxTemplates {
		e.tpls = append(e.tpls, t)
		e.tplNext = len(e.tpls) % maxTemplates
	} else {
		e.tpls[e.tplNext] = t
		e.tplNext = (e.tplNext + 1) % maxTemplates
	}
	return t
}

// plainScalars reports whether every value the template writes is a
// non-NULL scalar that is not a reference, as the template assumes.
func (t *instTemplate) plainScalars(in *cim.Instance) bool {
	for _, k := range t.order {
		switch in.Properties[k].Value.(type) {
		case nil, cim.ObjectPath, []any:
			return false
		}
	}
	return true
}

// write writes the properties of in from the template.
func (t *instTemplate) write(e *Encoder, in *cim.Instance) {
	for s, k := range t.order {
		e.buf = append(e.buf, t.static[s]...)
		e.appendScalar(in.Properties[k].Value)
	}
	e.buf = append(e.buf, t.static[len(t.order)]...)
}

// nameTemplate is the markup of an INSTANCENAME around its key values,
// for one class, key names and value types, remembered by the encoder
// for the last instance name it wrote.
type nameTemplate struct {
	class  string
	names  []string
	types  []string // VALUETYPE and TYPE of each key
	static []string // static[i] before key value i, static[len] last
}

// matches reports whether the template writes p, whose keys hold no
// references.
func (t *nameTemplate) matches(p *cim.ObjectPath) bool {
	if t.class != p.ClassName || len(t.names) != len(p.Keys) {
		return false
	}
	for i := range p.Keys {
		if p.Keys[i].Name != t.names[i] || keyValueType(p.Keys[i].Value)+" "+keyType(p.Keys[i].Value) != t.types[i] {
			return false
		}
	}
	return true
}

// newNameTemplate makes the template of p, whose keys hold no references.
func newNameTemplate(p *cim.ObjectPath) *nameTemplate {
	t := &nameTemplate{class: p.ClassName}
	m := Encoder{}
	m.start("INSTANCENAME")
	m.attr("CLASSNAME", p.ClassName)
	m.endStart()
	for _, k := range p.Keys {
		vt, ct := keyValueType(k.Value), keyType(k.Value)
		t.names, t.types = append(t.names, k.Name), append(t.types, vt+" "+ct)
		m.start("KEYBINDING")
		m.attr("NAME", k.Name)
		m.endStart()
		m.start("KEYVALUE")
		m.attr("VALUETYPE", vt)
		m.attr("TYPE", ct)
		m.endStart()
		t.static = append(t.static, string(m.buf))
		m.buf = append(m.buf[:0], "</KEYVALUE></KEYBINDING>"...)
	}
	m.buf = append(m.buf, "</INSTANCENAME>"...)
	t.static = append(t.static, string(m.buf))
	return t
}

// instanceName writes p's INSTANCENAME from a template when its keys
// hold no references, and reports whether it did.
func (e *Encoder) instanceName(p *cim.ObjectPath) bool {
	if len(p.Keys) == 0 {
		return false
	}
	for i := range p.Keys {
		if _, ref := p.Keys[i].Value.(cim.ObjectPath); ref {
			return false
		}
	}
	t := e.nameTpl
	if t == nil || !t.matches(p) {
		t = newNameTemplate(p)
		e.nameTpl = t
	}
	for i := range p.Keys {
		e.buf = append(e.buf, t.static[i]...)
		e.text(formatScalar(p.Keys[i].Value))
	}
	e.buf = append(e.buf, t.static[len(p.Keys)]...)
	e.maybeFlush()
	return true
}
