package wsman

import (
	"strconv"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/schema"
)

// renderer writes instances and references as WinRM does (DSP0230): an
// element per instance in its own class's namespace with
// xsi:type="p:CLASS_Type", an element per property, xsi:nil for NULL,
// arrays as repeated elements, datetimes as cim:Datetime, intervals as
// cim:Interval, references as endpoint references. The envelope declares
// the prefixes a (addressing), w (wsman), cim (common) and xsi.
type renderer struct {
	reg *schema.Registry
	// prefix is the resource URI family the client asked in (WMI's or
	// DMTF's): every class's URI is written in it.
	prefix string
	// namespace is the CIM namespace, written as the __cimnamespace
	// selector of references in DMTF's family.
	namespace string
}

func esc(b []byte, s string) []byte     { return cimxml.AppendEscaped(b, s, false) }
func escAttr(b []byte, s string) []byte { return cimxml.AppendEscaped(b, s, true) }

// instance appends the instance; props, when not nil, are the only
// properties written (a WQL select list).
func (r *renderer) instance(b []byte, in *cim.Instance, props []string) []byte {
	c, err := r.reg.Class(in.ClassName)
	name := in.ClassName
	if err == nil {
		name = c.Name
	}
	b = append(b, "<p:"...)
	b = append(b, name...)
	b = append(b, ` xmlns:p="`...)
	b = escAttr(b, classURI(r.prefix, name))
	b = append(b, `" xsi:type="p:`...)
	b = append(b, name...)
	b = append(b, `_Type">`...)
	if props != nil || c == nil {
		if props == nil {
			for _, pv := range in.Properties {
				b = r.property(b, pv.Name, nil, pv.Value)
			}
		}
		for _, pn := range props {
			var p *cim.Property
			if c != nil {
				p = c.Property(pn)
			}
			if p != nil {
				pn = p.Name
			}
			b = r.property(b, pn, p, in.Value(pn))
		}
	} else {
		for i := range c.Properties {
			p := &c.Properties[i]
			b = r.property(b, p.Name, p, in.Value(p.Name))
		}
	}
	b = append(b, "</p:"...)
	b = append(b, name...)
	return append(b, '>')
}

// property appends one property: an element per value.
func (r *renderer) property(b []byte, name string, p *cim.Property, v any) []byte {
	if v == nil {
		b = append(b, "<p:"...)
		b = append(b, name...)
		return append(b, ` xsi:nil="true"/>`...)
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			b = r.property(b, name, p, e)
		}
		return b
	}
	b = append(b, "<p:"...)
	b = append(b, name...)
	b = append(b, '>')
	b = r.value(b, v)
	b = append(b, "</p:"...)
	b = append(b, name...)
	return append(b, '>')
}

// value appends one scalar value's content.
func (r *renderer) value(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return esc(b, x)
	case cim.DateTime:
		if x.IsInterval() {
			b = append(b, "<cim:Interval>"...)
			b = appendInterval(b, x)
			return append(b, "</cim:Interval>"...)
		}
		if out, ok := appendDateTime(append(b, "<cim:Datetime>"...), x); ok {
			return append(out, "</cim:Datetime>"...)
		}
		// Unknown fields: DSP0230's CIM_DateTime form keeps the DMTF text.
		b = append(b, "<cim:CIMDateTime>"...)
		b = append(b, x.String()...)
		return append(b, "</cim:CIMDateTime>"...)
	case cim.ObjectPath:
		return r.epr(b, x)
	case float32:
		return strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case cim.Char16:
		return esc(b, x.String())
	}
	if out, ok := cim.AppendPlain(b, v); ok {
		return out
	}
	return esc(b, cim.FormatValue(v))
}

// epr appends the content of an endpoint reference to the object at p:
// the anonymous address, its resource URI and its keys as selectors.
func (r *renderer) epr(b []byte, p cim.ObjectPath) []byte {
	class := p.ClassName
	if c, err := r.reg.Class(class); err == nil {
		class = c.Name
	}
	b = append(b, "<a:Address>"+AddrAnonymous+"</a:Address><a:ReferenceParameters><w:ResourceURI>"...)
	b = esc(b, classURI(r.prefix, class))
	b = append(b, "</w:ResourceURI><w:SelectorSet>"...)
	for _, k := range p.Keys {
		b = append(b, `<w:Selector Name="`...)
		b = escAttr(b, k.Name)
		b = append(b, `">`...)
		if ref, ok := k.Value.(cim.ObjectPath); ok {
			b = append(b, "<a:EndpointReference>"...)
			b = r.epr(b, ref)
			b = append(b, "</a:EndpointReference>"...)
		} else {
			b = esc(b, cim.FormatValue(k.Value))
		}
		b = append(b, "</w:Selector>"...)
	}
	if r.prefix != PrefixWMI && !strings.HasPrefix(r.prefix, PrefixWMI) {
		b = append(b, `<w:Selector Name="__cimnamespace">`...)
		b = esc(b, r.namespace)
		b = append(b, "</w:Selector>"...)
	}
	return append(b, "</w:SelectorSet></a:ReferenceParameters>"...)
}
