package cimxml

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// The versions this package speaks, as the CIM and MESSAGE elements carry them.
const (
	CIMVersion      = "2.0"
	DTDVersion      = "2.0"
	ProtocolVersion = "1.0"
)

// Encoder writes CIM-XML elements to a writer. It buffers what it writes and
// passes it on in blocks of about 32 KiB and at Flush; the first write error
// is kept and returned by Flush, and later writes do nothing.
//
// The methods write one element each, with everything inside it; the
// caller strings them together into a document (see [Encoder.BeginResponse]).
type Encoder struct {
	w    io.Writer
	buf  []byte
	err  error
	vals []any // scratch: one instance's values in class order
	// The class positions of the last instance's properties: instances of
	// one provider set their properties in the same order, so the next
	// instance usually has the same layout.
	lastClass *cim.Class
	lastNames []string
	lastIdx   []int
	// Templates of the last layouts of instances written (a ring).
	tpls    []*instTemplate
	tplNext int
	nameTpl *nameTemplate // of the last INSTANCENAME written
}

// layout returns, for each property of in, its position in class c (or -1).
func (e *Encoder) layout(c *cim.Class, ix *classIndex, in *cim.Instance) []int {
	if e.lastClass == c && in.HasNames(e.lastNames) {
		return e.lastIdx
	}
	e.lastClass = c
	e.lastNames, e.lastIdx = e.lastNames[:0], e.lastIdx[:0]
	for _, pv := range in.Properties {
		e.lastNames = append(e.lastNames, pv.Name)
		e.lastIdx = append(e.lastIdx, ix.find(pv.Name))
	}
	return e.lastIdx
}

const flushAt = 32 << 10

// NewEncoder returns an encoder that writes to w. With a nil w it keeps
// everything in memory, for [Encoder.Bytes], and Flush does nothing.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, flushAt+4096)}
}

// Reset makes the encoder write to w, dropping anything not yet flushed.
func (e *Encoder) Reset(w io.Writer) {
	e.w, e.buf, e.err = w, e.buf[:0], nil
	e.lastClass = nil
}

// Bytes returns what an encoder without a writer holds. It is valid until
// the next write or Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Truncate drops what an encoder holds beyond its first n bytes: an
// element begun and not wanted after all (a streamed answer that failed
// before any of it was passed on). n beyond what it holds does nothing.
func (e *Encoder) Truncate(n int) {
	if n >= 0 && n < len(e.buf) {
		e.buf = e.buf[:n]
	}
}

// Flush writes what is buffered and returns the first error met.
func (e *Encoder) Flush() error {
	if e.w == nil {
		return e.err
	}
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

func (e *Encoder) maybeFlush() {
	if len(e.buf) >= flushAt && e.w != nil {
		_ = e.Flush()
	}
}

// Raw writes s as it is: markup the caller vouches for.
func (e *Encoder) Raw(s string) {
	e.buf = append(e.buf, s...)
	e.maybeFlush()
}

func (e *Encoder) open(name string) { e.buf = append(append(append(e.buf, '<'), name...), '>') }
func (e *Encoder) close(name string) {
	e.buf = append(append(append(e.buf, "</"...), name...), '>')
	e.maybeFlush()
}
func (e *Encoder) start(name string) { e.buf = append(append(e.buf, '<'), name...) }
func (e *Encoder) attr(name, value string) {
	e.buf = append(append(append(e.buf, ' '), name...), `="`...)
	e.buf = appendEscaped(e.buf, value, true)
	e.buf = append(e.buf, '"')
}
func (e *Encoder) endStart()   { e.buf = append(e.buf, '>') }
func (e *Encoder) emptyClose() { e.buf = append(e.buf, "/>"...) }
func (e *Encoder) text(s string) {
	e.buf = appendEscaped(e.buf, s, false)
}

// appendEscaped appends s escaped for XML text or (attr) a double-quoted
// attribute. Characters XML 1.0 cannot carry at all (most C0 controls,
// invalid UTF-8, U+FFFE/U+FFFF) become U+FFFD; CR, and in attributes TAB
// and LF, are written as character references so they survive parsing.
func appendEscaped(b []byte, s string, attr bool) []byte {
	if plain(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '"' && attr:
				b = append(b, "&quot;"...)
			case c == '\r':
				b = append(b, "&#13;"...)
			case c == '\n' && attr:
				b = append(b, "&#10;"...)
			case c == '\t' && attr:
				b = append(b, "&#9;"...)
			case c < 0x20 && c != '\n' && c != '\t':
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

// plain reports whether s is printable ASCII without XML's special
// characters, so that it needs no escaping in text or attributes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' || c == '"' {
			return false
		}
	}
	return true
}

// Escape returns s escaped for XML text.
func Escape(s string) string { return string(appendEscaped(nil, s, false)) }

// AppendEscaped appends s escaped for XML text, or (attr) for a
// double-quoted attribute: Escape's rule without a string per value.
func AppendEscaped(b []byte, s string, attr bool) []byte { return appendEscaped(b, s, attr) }

// BeginResponse writes the XML declaration and opens CIM, MESSAGE (with the
// request's id), SIMPLERSP and IMETHODRESPONSE for the intrinsic method
// name. EndResponse closes them.
func (e *Encoder) BeginResponse(id, method string) {
	e.BeginMessage(id)
	e.BeginMethodResponse(method, true)
}

// EndResponse closes what BeginResponse opened.
func (e *Encoder) EndResponse() {
	e.EndMethodResponse(true)
	e.EndMessage()
}

// BeginMessage writes the XML declaration and opens CIM, MESSAGE and SIMPLERSP.
func (e *Encoder) BeginMessage(id string) {
	e.Raw(`<?xml version="1.0" encoding="utf-8" ?>` + "\n")
	e.Raw(`<CIM CIMVERSION="` + CIMVersion + `" DTDVERSION="` + DTDVersion + `">`)
	e.start("MESSAGE")
	e.attr("ID", id)
	e.attr("PROTOCOLVERSION", ProtocolVersion)
	e.endStart()
}

// EndMessage closes MESSAGE and CIM.
func (e *Encoder) EndMessage() { e.Raw("</MESSAGE></CIM>\n") }

// BeginMethodResponse opens SIMPLERSP and IMETHODRESPONSE (intrinsic) or
// METHODRESPONSE.
func (e *Encoder) BeginMethodResponse(method string, intrinsic bool) {
	e.Raw("<SIMPLERSP>")
	if intrinsic {
		e.start("IMETHODRESPONSE")
	} else {
		e.start("METHODRESPONSE")
	}
	e.attr("NAME", method)
	e.endStart()
}

// EndMethodResponse closes what BeginMethodResponse opened.
func (e *Encoder) EndMethodResponse(intrinsic bool) {
	if intrinsic {
		e.Raw("</IMETHODRESPONSE></SIMPLERSP>")
	} else {
		e.Raw("</METHODRESPONSE></SIMPLERSP>")
	}
}

// Error writes an ERROR element with the error's CIM status code and
// description.
func (e *Encoder) Error(err *cim.Error) {
	e.start("ERROR")
	e.attr("CODE", strconv.Itoa(int(err.Code)))
	if err.Description != "" {
		e.attr("DESCRIPTION", err.Description)
	}
	e.emptyClose()
}

// BeginReturnValue opens IRETURNVALUE.
func (e *Encoder) BeginReturnValue() { e.Raw("<IRETURNVALUE>\n") }

// EndReturnValue closes IRETURNVALUE.
func (e *Encoder) EndReturnValue() { e.Raw("</IRETURNVALUE>") }

// ClassName writes a CLASSNAME element.
func (e *Encoder) ClassName(name string) {
	e.start("CLASSNAME")
	e.attr("NAME", name)
	e.emptyClose()
}

// keyValueType returns the VALUETYPE of a key's value.
func keyValueType(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case string, cim.DateTime, cim.Char16:
		return "string"
	}
	if cim.TypeOf(v).Kind.IsNumeric() {
		return "numeric"
	}
	return "string"
}

// keyType returns the TYPE of a key's value that DSP0201 2.4 gives
// KEYVALUE beside VALUETYPE: its CIM type.
func keyType(v any) string { return typeName(cim.TypeOf(v).Kind) }

// InstanceName writes an INSTANCENAME element: the class and key bindings
// of p, without host or namespace.
func (e *Encoder) InstanceName(p cim.ObjectPath) {
	if e.instanceName(&p) {
		return
	}
	e.start("INSTANCENAME")
	e.attr("CLASSNAME", p.ClassName)
	if len(p.Keys) == 0 {
		e.emptyClose()
		return
	}
	e.endStart()
	for _, k := range p.Keys {
		e.start("KEYBINDING")
		e.attr("NAME", k.Name)
		e.endStart()
		if ref, ok := k.Value.(cim.ObjectPath); ok {
			e.ValueReference(ref)
		} else {
			e.start("KEYVALUE")
			e.attr("VALUETYPE", keyValueType(k.Value))
			e.attr("TYPE", keyType(k.Value))
			e.endStart()
			e.text(formatScalar(k.Value))
			e.buf = append(e.buf, "</KEYVALUE>"...)
		}
		e.buf = append(e.buf, "</KEYBINDING>"...)
	}
	e.close("INSTANCENAME")
}

// LocalNamespacePath writes LOCALNAMESPACEPATH: one NAMESPACE per segment
// of ns ("root/cimv2").
func (e *Encoder) LocalNamespacePath(ns string) {
	e.open("LOCALNAMESPACEPATH")
	for _, seg := range strings.FieldsFunc(ns, func(r rune) bool { return r == '/' || r == '\\' }) {
		e.start("NAMESPACE")
		e.attr("NAME", seg)
		e.emptyClose()
	}
	e.close("LOCALNAMESPACEPATH")
}

// NamespacePath writes NAMESPACEPATH: HOST and LOCALNAMESPACEPATH.
func (e *Encoder) NamespacePath(host, ns string) {
	e.open("NAMESPACEPATH")
	e.open("HOST")
	e.text(host)
	e.close("HOST")
	e.LocalNamespacePath(ns)
	e.close("NAMESPACEPATH")
}

// InstancePath writes the most complete form of an instance's path that it
// holds: INSTANCEPATH with a host and namespace, LOCALINSTANCEPATH with a
// namespace only, INSTANCENAME otherwise.
func (e *Encoder) InstancePath(p cim.ObjectPath) {
	switch {
	case p.Host != "" && p.Namespace != "":
		e.open("INSTANCEPATH")
		e.NamespacePath(p.Host, p.Namespace)
		e.InstanceName(p)
		e.close("INSTANCEPATH")
	case p.Namespace != "":
		e.open("LOCALINSTANCEPATH")
		e.LocalNamespacePath(p.Namespace)
		e.InstanceName(p)
		e.close("LOCALINSTANCEPATH")
	default:
		e.InstanceName(p)
	}
}

// ClassPath writes the most complete form of a class's path: CLASSPATH,
// LOCALCLASSPATH or CLASSNAME.
func (e *Encoder) ClassPath(p cim.ObjectPath) {
	switch {
	case p.Host != "" && p.Namespace != "":
		e.open("CLASSPATH")
		e.NamespacePath(p.Host, p.Namespace)
		e.ClassName(p.ClassName)
		e.close("CLASSPATH")
	case p.Namespace != "":
		e.open("LOCALCLASSPATH")
		e.LocalNamespacePath(p.Namespace)
		e.ClassName(p.ClassName)
		e.close("LOCALCLASSPATH")
	default:
		e.ClassName(p.ClassName)
	}
}

// ValueReference writes VALUE.REFERENCE holding the path p.
func (e *Encoder) ValueReference(p cim.ObjectPath) {
	e.open("VALUE.REFERENCE")
	if p.IsClass() {
		e.ClassPath(p)
	} else {
		e.InstancePath(p)
	}
	e.close("VALUE.REFERENCE")
}

// ObjectPath writes OBJECTPATH holding an INSTANCEPATH (or a CLASSPATH for
// a class path), as AssociatorNames and ReferenceNames return them.
func (e *Encoder) ObjectPath(p cim.ObjectPath) {
	e.open("OBJECTPATH")
	if p.IsClass() {
		e.open("CLASSPATH")
		e.NamespacePath(p.Host, p.Namespace)
		e.ClassName(p.ClassName)
		e.close("CLASSPATH")
	} else {
		e.open("INSTANCEPATH")
		e.NamespacePath(p.Host, p.Namespace)
		e.InstanceName(p)
		e.close("INSTANCEPATH")
	}
	e.close("OBJECTPATH")
	e.buf = append(e.buf, '\n')
}

// formatScalar renders a scalar value as a VALUE element holds it.
func formatScalar(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case float32:
		return formatReal(float64(x), 32)
	case float64:
		return formatReal(x, 64)
	}
	return cim.FormatValue(v)
}

func formatReal(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// value writes VALUE, VALUE.ARRAY or VALUE.REFERENCE for a non-nil value.
func (e *Encoder) value(v any) {
	switch x := v.(type) {
	case cim.ObjectPath:
		e.ValueReference(x)
	case []any:
		e.open("VALUE.ARRAY")
		for _, el := range x {
			if el == nil {
				e.Raw("<VALUE.NULL/>")
				continue
			}
			e.buf = append(e.buf, "<VALUE>"...)
			e.appendScalar(el)
			e.buf = append(e.buf, "</VALUE>"...)
		}
		e.close("VALUE.ARRAY")
	default:
		e.buf = append(e.buf, "<VALUE>"...)
		e.appendScalar(v)
		e.buf = append(e.buf, "</VALUE>"...)
	}
}

// appendScalar writes a scalar value's text without going through a string
// where it need not.
func (e *Encoder) appendScalar(v any) {
	switch x := v.(type) {
	case string:
		e.buf = appendEscaped(e.buf, x, false)
		return
	case bool: // CIM-XML writes TRUE and FALSE
		e.text(formatScalar(v))
		return
	}
	var ok bool
	if e.buf, ok = cim.AppendPlain(e.buf, v); !ok {
		e.text(formatScalar(v))
	}
}

// typeName returns the TYPE attribute of a kind.
func typeName(k cim.Kind) string {
	if k == cim.KindInvalid {
		return "string"
	}
	return k.String()
}

// qualifierKinds are the declared types of the standard qualifiers
// (DSP0004 §5.6.3) whose values MOF writes as bare integers.
var qualifierKinds = map[string]cim.Kind{
	"maxlen": cim.KindUint32, "minlen": cim.KindUint32, "arraysize": cim.KindUint32,
	"maxvalue": cim.KindSint64, "minvalue": cim.KindSint64, "max": cim.KindUint32, "min": cim.KindUint32,
}

// Qualifier writes a QUALIFIER element. propagated marks a qualifier a
// class inherits rather than declares.
func (e *Encoder) Qualifier(q cim.Qualifier, propagated bool) {
	t := cim.QualifierType(q)
	if k, ok := qualifierKinds[strings.ToLower(q.Name)]; ok {
		t.Kind = k
	}
	e.start("QUALIFIER")
	e.attr("NAME", q.Name)
	e.attr("TYPE", typeName(t.Kind))
	if propagated {
		e.attr("PROPAGATED", "true")
	}
	if strings.EqualFold(q.Name, "Key") || strings.EqualFold(q.Name, "Abstract") || strings.EqualFold(q.Name, "Association") {
		e.attr("OVERRIDABLE", "false")
	}
	if q.Value == nil {
		e.emptyClose()
		return
	}
	e.endStart()
	if arr, ok := q.Value.([]any); ok {
		e.value(arr)
	} else {
		e.value(q.Value)
	}
	e.close("QUALIFIER")
}

// PropertyOptions says what a PROPERTY element carries besides its value.
type PropertyOptions struct {
	IncludeQualifiers  bool // QUALIFIER children from the class
	IncludeClassOrigin bool // the CLASSORIGIN attribute
	Propagated         bool // the PROPAGATED attribute, where true
}

// Property writes PROPERTY, PROPERTY.ARRAY or PROPERTY.REFERENCE for the
// property p of a class with the value v (nil for NULL: no VALUE child).
func (e *Encoder) Property(p *cim.Property, v any, o PropertyOptions) {
	e.property(p, makeTag(p, o), v, o)
}

// property writes a property with its tags made beforehand.
func (e *Encoder) property(p *cim.Property, tag propertyTag, v any, o PropertyOptions) {
	e.buf = append(e.buf, tag.open...)
	if o.IncludeQualifiers {
		for _, q := range p.Qualifiers {
			e.Qualifier(q, false)
		}
	}
	if v != nil {
		if p.Type.Array {
			if _, ok := v.([]any); !ok {
				v = []any{v}
			}
		}
		e.value(v)
	}
	// Always a closing tag: sblim's wbemcli cannot parse <PROPERTY …/>.
	e.buf = append(e.buf, tag.close...)
	e.maybeFlush()
}

// propertyTag is a property element's start and end tags and, for a
// scalar property that is not a reference, the same joined with VALUE's
// tags and the element of a NULL value, so that an instance's property
// takes two appends and a value.
type propertyTag struct {
	open, close string
	scalar      bool   // neither an array nor a reference
	openValue   string // open + "<VALUE>"
	closeValue  string // "</VALUE>" + close
	null        string // open + close
}

// makeTag renders the start and end tags of a property element.
func makeTag(p *cim.Property, o PropertyOptions) propertyTag {
	name := "PROPERTY"
	switch {
	case p.Type.Kind == cim.KindReference:
		name = "PROPERTY.REFERENCE"
	case p.Type.Array:
		name = "PROPERTY.ARRAY"
	}
	t := Encoder{}
	t.start(name)
	t.attr("NAME", p.Name)
	if p.Type.Kind == cim.KindReference {
		if p.Type.RefClass != "" {
			t.attr("REFERENCECLASS", p.Type.RefClass)
		}
	} else {
		t.attr("TYPE", typeName(p.Type.Kind))
		if p.Type.Kind == cim.KindString && p.Qualifiers.Bool("EmbeddedObject") {
			t.attr("EmbeddedObject", "object")
		}
	}
	if o.IncludeClassOrigin && p.ClassOrigin != "" {
		t.attr("CLASSORIGIN", p.ClassOrigin)
	}
	if o.Propagated && p.Propagated {
		t.attr("PROPAGATED", "true")
	}
	t.endStart()
	open, closeTag := string(t.buf), "</"+name+">"
	return propertyTag{open: open, close: closeTag,
		scalar:    !p.Type.Array && p.Type.Kind != cim.KindReference,
		openValue: open + "<VALUE>", closeValue: "</VALUE>" + closeTag, null: open + closeTag}
}

const maxCached = 1 << 12

// classIndex maps a class's property names, exactly and in lower case,
// to their positions.
type classIndex struct {
	c            *cim.Class
	exact, lower map[string]int
	// tags holds the property tags of the class for each combination of
	// CLASSORIGIN and PROPAGATED, made on first use.
	tags [4]atomic.Pointer[[]propertyTag]
}

// tagsFor returns the tags of every property of the class for o.
func (ix *classIndex) tagsFor(o PropertyOptions) []propertyTag {
	k := tagsKey(o)
	if t := ix.tags[k].Load(); t != nil {
		return *t
	}
	t := make([]propertyTag, len(ix.c.Properties))
	for i := range ix.c.Properties {
		t[i] = makeTag(&ix.c.Properties[i], o)
	}
	ix.tags[k].Store(&t)
	return t
}

// tagsKey is the index of the property tags for o in classIndex.tags.
func tagsKey(o PropertyOptions) int {
	k := 0
	if o.IncludeClassOrigin {
		k |= 1
	}
	if o.Propagated {
		k |= 2
	}
	return k
}

var (
	indexCache sync.Map // *cim.Class → *classIndex
	indexCount atomic.Int64
)

func indexOf(c *cim.Class) *classIndex {
	if x, ok := indexCache.Load(c); ok {
		return x.(*classIndex)
	}
	ix := &classIndex{c: c, exact: make(map[string]int, len(c.Properties)), lower: make(map[string]int, len(c.Properties))}
	for i, p := range c.Properties {
		ix.exact[p.Name] = i
		ix.lower[strings.ToLower(p.Name)] = i
	}
	if indexCount.Load() < maxCached {
		if _, loaded := indexCache.LoadOrStore(c, ix); !loaded {
			indexCount.Add(1)
		}
	}
	return ix
}

func (ix *classIndex) find(name string) int {
	if i, ok := ix.exact[name]; ok {
		return i
	}
	if i, ok := ix.lower[strings.ToLower(name)]; ok {
		return i
	}
	return -1
}

// InstanceOptions says what an INSTANCE element carries.
type InstanceOptions struct {
	IncludeQualifiers  bool // class and property qualifiers
	IncludeClassOrigin bool // CLASSORIGIN on each property
	// Keep, when not nil, says which of the class's properties to write;
	// nil writes every one.
	Keep func(p *cim.Property) bool
}

// Instance writes an INSTANCE element for in. With its resolved class c,
// every property of the class is written in class order (unset ones as
// NULL) with its declared type; without one (c nil), the instance's own
// properties with types taken from their values.
func (e *Encoder) Instance(in *cim.Instance, c *cim.Class, o InstanceOptions) {
	e.start("INSTANCE")
	e.attr("CLASSNAME", in.ClassName)
	e.endStart()
	po := PropertyOptions{IncludeQualifiers: o.IncludeQualifiers, IncludeClassOrigin: o.IncludeClassOrigin, Propagated: o.IncludeClassOrigin}
	if c != nil {
		if o.IncludeQualifiers {
			for _, q := range c.Qualifiers {
				e.Qualifier(q, false)
			}
		}
		ix := indexOf(c)
		if !po.IncludeQualifiers && o.Keep == nil {
			key := tagsKey(po)
			if t := e.template(c, ix, ix.tagsFor(po), key, in); t != nil && t.plainScalars(in) {
				t.write(e, in)
				e.close("INSTANCE")
				return
			}
		}
		// The instance's values in class order, found with one pass.
		vals := e.vals[:0]
		for range c.Properties {
			vals = append(vals, nil)
		}
		for k, j := range e.layout(c, ix, in) {
			if j >= 0 {
				vals[j] = in.Properties[k].Value
			}
		}
		tags := ix.tagsFor(po)
		for i := range c.Properties {
			p := &c.Properties[i]
			if o.Keep != nil && !o.Keep(p) {
				continue
			}
			if !po.IncludeQualifiers {
				// What property writes, with the tags joined.
				t, v := &tags[i], vals[i]
				if v == nil {
					e.buf = append(e.buf, t.null...)
					continue
				}
				if t.scalar {
					switch v.(type) {
					case cim.ObjectPath, []any:
					default:
						e.buf = append(e.buf, t.openValue...)
						e.appendScalar(v)
						e.buf = append(e.buf, t.closeValue...)
						continue
					}
				}
			}
			e.property(p, tags[i], vals[i], po)
		}
		e.maybeFlush()
		clear(vals)
		e.vals = vals
	} else {
		for _, pv := range in.Properties {
			p := cim.Property{Name: pv.Name, Type: cim.TypeOf(pv.Value)}
			if o.Keep != nil && !o.Keep(&p) {
				continue
			}
			e.Property(&p, pv.Value, po)
		}
	}
	e.close("INSTANCE")
}

// NamedInstance writes VALUE.NAMEDINSTANCE: the instance's name and the
// instance, as EnumerateInstances returns them.
func (e *Encoder) NamedInstance(in *cim.Instance, c *cim.Class, o InstanceOptions) {
	e.open("VALUE.NAMEDINSTANCE")
	e.InstanceName(in.Path)
	e.Instance(in, c, o)
	e.close("VALUE.NAMEDINSTANCE")
	e.buf = append(e.buf, '\n')
}

// ObjectWithPath writes VALUE.OBJECTWITHPATH: the instance's full path
// (INSTANCEPATH) and the instance, as Associators, References and
// ExecQuery return them. The path must have a host and namespace.
func (e *Encoder) ObjectWithPath(in *cim.Instance, c *cim.Class, o InstanceOptions) {
	e.open("VALUE.OBJECTWITHPATH")
	e.open("INSTANCEPATH")
	e.NamespacePath(in.Path.Host, in.Path.Namespace)
	e.InstanceName(in.Path)
	e.close("INSTANCEPATH")
	e.Instance(in, c, o)
	e.close("VALUE.OBJECTWITHPATH")
	e.buf = append(e.buf, '\n')
}

// ClassWithPath writes VALUE.OBJECTWITHPATH holding a class: its
// CLASSPATH (p must have a host and namespace) and the CLASS, as
// Associators and References of a class, and ExecQuery of meta_class,
// return them.
func (e *Encoder) ClassWithPath(c *cim.Class, p cim.ObjectPath, o ClassOptions) {
	e.open("VALUE.OBJECTWITHPATH")
	e.open("CLASSPATH")
	e.NamespacePath(p.Host, p.Namespace)
	e.ClassName(c.Name)
	e.close("CLASSPATH")
	e.Class(c, o)
	e.close("VALUE.OBJECTWITHPATH")
	e.buf = append(e.buf, '\n')
}

// MethodReturn writes what a METHODRESPONSE holds for a call of m that
// returned res: RETURNVALUE, then a PARAMVALUE per out parameter, each
// with its PARAMTYPE.
func (e *Encoder) MethodReturn(m *cim.Method, res cim.MethodResult) {
	e.start("RETURNVALUE")
	e.attr("PARAMTYPE", typeName(m.ReturnType.Kind))
	e.endStart()
	e.Value(res.ReturnValue)
	e.close("RETURNVALUE")
	for _, pv := range res.Out {
		e.start("PARAMVALUE")
		e.attr("NAME", pv.Name)
		if p := m.Param(pv.Name, true); p != nil && p.Type.Kind != cim.KindReference {
			e.attr("PARAMTYPE", typeName(p.Type.Kind))
		} else if _, ref := pv.Value.(cim.ObjectPath); ref {
			e.attr("PARAMTYPE", "reference")
		}
		e.endStart()
		e.Value(pv.Value)
		e.close("PARAMVALUE")
	}
}

// QualifierDeclaration writes QUALIFIER.DECLARATION for d, with its
// SCOPE; the type of the standard integer qualifiers as QUALIFIER has it.
func (e *Encoder) QualifierDeclaration(d cim.QualifierDecl) {
	t := d.Type
	if k, ok := qualifierKinds[strings.ToLower(d.Name)]; ok {
		t.Kind = k
	}
	e.start("QUALIFIER.DECLARATION")
	e.attr("NAME", d.Name)
	e.attr("TYPE", typeName(t.Kind))
	e.attr("ISARRAY", strconv.FormatBool(t.Array))
	e.attr("OVERRIDABLE", strconv.FormatBool(d.Overridable))
	e.endStart()
	e.start("SCOPE")
	for _, s := range []string{"CLASS", "ASSOCIATION", "REFERENCE", "PROPERTY", "METHOD", "PARAMETER", "INDICATION"} {
		if slices.Contains(d.Scopes, s) {
			e.attr(s, "true")
		}
	}
	e.emptyClose()
	e.close("QUALIFIER.DECLARATION")
	e.buf = append(e.buf, '\n')
}

// ClassOptions says what a CLASS element carries.
type ClassOptions struct {
	LocalOnly          bool // only the properties the class declares itself
	IncludeQualifiers  bool
	IncludeClassOrigin bool
	// Keep, when not nil, says which properties to write (a PropertyList).
	Keep func(p *cim.Property) bool
}

// Class writes a CLASS element for the resolved class c. Inherited
// properties carry PROPAGATED="true".
func (e *Encoder) Class(c *cim.Class, o ClassOptions) {
	e.start("CLASS")
	e.attr("NAME", c.Name)
	if c.SuperClass != "" {
		e.attr("SUPERCLASS", c.SuperClass)
	}
	e.endStart()
	if o.IncludeQualifiers {
		for _, q := range c.Qualifiers {
			e.Qualifier(q, false)
		}
	}
	po := PropertyOptions{IncludeQualifiers: o.IncludeQualifiers, IncludeClassOrigin: o.IncludeClassOrigin, Propagated: true}
	tags := indexOf(c).tagsFor(po)
	for i := range c.Properties {
		p := &c.Properties[i]
		if o.LocalOnly && p.Propagated {
			continue
		}
		if o.Keep != nil && !o.Keep(p) {
			continue
		}
		e.property(p, tags[i], p.Default, po)
	}
	e.close("CLASS")
	e.buf = append(e.buf, '\n')
}

// Value writes VALUE, VALUE.ARRAY or VALUE.REFERENCE for v; a nil v
// (NULL) writes nothing.
func (e *Encoder) Value(v any) {
	if v != nil {
		e.value(v)
	}
}
