package mof

import (
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// File is a parsed MOF compilation unit.
type File struct {
	// Namespace is the namespace the classes are declared in, from
	// #pragma namespace, with '/' separators and without a leading
	// \\host\ ("root/cimv2"); empty when the file names none.
	Namespace string
	// Classes are the classes in the order they are declared, each with
	// only the properties it declares itself.
	Classes []*cim.Class
	// Pragmas are the #pragma directives in the order they appear. They
	// are recorded, not acted on (#pragma include does not read a file).
	Pragmas []Pragma
	// Qualifiers are the qualifier declarations of the file.
	Qualifiers []QualifierDecl
}

// Pragma is one #pragma directive, such as #pragma namespace("root/cimv2").
type Pragma struct {
	// Name is the pragma's name as written ("namespace", "locale", …).
	Name string
	// Args are its arguments: string literals decoded, other tokens as
	// written. #pragma namespace("root\\cimv2") has Args ["root\cimv2"].
	Args []string
}

// Value returns the pragma's first argument, or "".
func (p Pragma) Value() string {
	if len(p.Args) == 0 {
		return ""
	}
	return p.Args[0]
}

// QualifierDecl is a qualifier type declaration:
//
//	qualifier MaxLen : uint32 = null, scope(property, method, parameter);
type QualifierDecl struct {
	Name    string
	Type    cim.Type
	Default any      // converted to Type; nil when absent or null
	Scopes  []string // as written: "class", "property", "any", …
	Flavors []string // as written: "ToSubclass", "DisableOverride", …
}

// Parse parses a MOF compilation unit and returns its classes. filename
// is used in error messages only.
func Parse(filename string, src []byte) ([]*cim.Class, error) {
	f, err := ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	return f.Classes, nil
}

// ParseFile parses a MOF compilation unit and returns its classes together
// with its pragmas and qualifier declarations. filename is used in error
// messages only. Errors are *cim.Error with code CIM_ERR_INVALID_PARAMETER
// and a description that starts "filename:line:column: ".
func ParseFile(filename string, src []byte) (*File, error) {
	text, err := decodeSource(filename, src)
	if err != nil {
		return nil, err
	}
	toks, err := tokenize(filename, text)
	if err != nil {
		return nil, err
	}
	p := &parser{file: filename, toks: toks, classes: map[string]pos{}}
	if err := p.unit(); err != nil {
		return nil, err
	}
	return &p.out, nil
}

type parser struct {
	file    string
	toks    []token
	i       int
	out     File
	classes map[string]pos // lower-case class name → where declared
	nsSet   bool           // a class was declared under out.Namespace
}

func (p *parser) tok() token  { return p.toks[p.i] }
func (p *parser) peek() token { return p.toks[min(p.i+1, len(p.toks)-1)] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) errorf(at pos, format string, args ...any) error {
	return errAt(p.file, at, format, args...)
}

// expected returns the "expected X, found Y" error at the current token.
func (p *parser) expected(what string) error {
	t := p.tok()
	return p.errorf(t.pos, "expected %s, found %s", what, t.describe())
}

func (p *parser) isPunct(c string) bool {
	t := p.tok()
	return t.kind == tPunct && t.text == c
}

func (p *parser) isKeyword(kw string) bool {
	t := p.tok()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expectPunct(c string) error {
	if !p.isPunct(c) {
		return p.expected(`"` + c + `"`)
	}
	p.advance()
	return nil
}

func (p *parser) ident(what string) (token, error) {
	if p.tok().kind != tIdent {
		return token{}, p.expected(what)
	}
	return p.advance(), nil
}

// unit parses the whole compilation unit.
func (p *parser) unit() error {
	for p.tok().kind != tEOF {
		if err := p.production(); err != nil {
			return err
		}
	}
	return nil
}

// production parses one top-level declaration.
func (p *parser) production() error {
	if p.tok().kind == tPragma {
		return p.pragma()
	}
	var quals cim.Qualifiers
	qpos := p.tok().pos
	if p.isPunct("[") {
		var err error
		if quals, err = p.qualifierList(); err != nil {
			return err
		}
	}
	t := p.tok()
	if t.kind == tIdent {
		switch strings.ToLower(t.text) {
		case "class":
			return p.class(quals, "")
		case "association":
			return p.class(quals, "Association")
		case "indication":
			return p.class(quals, "Indication")
		case "instance":
			return p.errorf(t.pos, "instance declarations are not supported")
		case "qualifier":
			if quals != nil {
				return p.errorf(qpos, "a qualifier declaration takes no qualifier list")
			}
			return p.qualifierDecl()
		case "enumeration", "structure":
			return p.errorf(t.pos, "%s declarations are not supported", strings.ToLower(t.text))
		}
	}
	if quals != nil {
		return p.expected(`"class"`)
	}
	return p.expected("class declaration, qualifier declaration or #pragma")
}

// pragma parses #pragma name [( arg, … )].
func (p *parser) pragma() error {
	at := p.advance().pos
	name, err := p.ident("pragma name")
	if err != nil {
		return err
	}
	pr := Pragma{Name: name.text}
	if p.isPunct("(") {
		p.advance()
		for !p.isPunct(")") {
			if len(pr.Args) > 0 {
				if err := p.expectPunct(","); err != nil {
					return err
				}
			}
			switch t := p.tok(); t.kind {
			case tString:
				pr.Args = append(pr.Args, p.concat())
			case tIdent, tInt, tReal:
				pr.Args = append(pr.Args, p.advance().text)
			default:
				return p.expected("pragma argument")
			}
		}
		p.advance()
	}
	if strings.EqualFold(pr.Name, "namespace") {
		if len(pr.Args) != 1 {
			return p.errorf(at, `#pragma namespace needs one string argument`)
		}
		ns := normNamespace(pr.Args[0])
		if p.nsSet && !strings.EqualFold(ns, p.out.Namespace) {
			return p.errorf(at, "#pragma namespace(%q) after classes of namespace %q: one namespace per file", ns, p.out.Namespace)
		}
		p.out.Namespace = ns
	}
	p.out.Pragmas = append(p.out.Pragmas, pr)
	return nil
}

// normNamespace turns "\\.\root\cimv2" or "root\cimv2" into "root/cimv2".
func normNamespace(ns string) string {
	ns = strings.ReplaceAll(ns, `\`, "/")
	if strings.HasPrefix(ns, "//") {
		ns = ns[2:]
		if i := strings.IndexByte(ns, '/'); i >= 0 {
			ns = ns[i+1:]
		} else {
			ns = ""
		}
	}
	return strings.Trim(ns, "/")
}

// concat parses one or more adjacent string literals and joins them.
func (p *parser) concat() string {
	var b strings.Builder
	for p.tok().kind == tString {
		b.WriteString(p.advance().text)
	}
	return b.String()
}

// flavors are the qualifier flavors DSP0221 and Microsoft's MOF compiler know.
var flavors = map[string]bool{
	"enableoverride": true, "disableoverride": true, "restricted": true,
	"tosubclass": true, "toinstance": true, "translatable": true, "amended": true,
	"nottosubclass": true, "nottoinstance": true,
}

// qualifierList parses [q, q, …].
func (p *parser) qualifierList() (cim.Qualifiers, error) {
	p.advance() // [
	qs := cim.Qualifiers{}
	for {
		name, err := p.ident("qualifier name")
		if err != nil {
			return nil, err
		}
		if _, dup := qs.Get(name.text); dup {
			return nil, p.errorf(name.pos, "duplicate qualifier %s", name.text)
		}
		q := cim.Qualifier{Name: name.text, Value: true}
		switch {
		case p.isPunct("("):
			p.advance()
			l, err := p.value(true)
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			q.Value = l.goValue()
		case p.isPunct("{"):
			l, err := p.value(true)
			if err != nil {
				return nil, err
			}
			q.Value = l.goValue()
		}
		if p.isPunct(":") {
			p.advance()
			n := 0
			for p.tok().kind == tIdent && flavors[strings.ToLower(p.tok().text)] {
				p.advance()
				n++
			}
			if n == 0 {
				return nil, p.expected("qualifier flavor")
			}
		}
		qs = append(qs, q)
		if p.isPunct("]") {
			p.advance()
			return qs, nil
		}
		if !p.isPunct(",") {
			return nil, p.expected(`"," or "]"`)
		}
		p.advance()
	}
}

// litKind is the kind of a literal value.
type litKind uint8

const (
	litNull litKind = iota
	litString
	litChar
	litInt
	litReal
	litBool
	litArray
)

// lit is a literal value as written, before it is given a type.
type lit struct {
	kind  litKind
	pos   pos
	v     any    // string, cim.Char16, int64/uint64, float64, bool
	text  string // source text of a number
	elems []lit  // litArray
}

// goValue returns the literal as a qualifier value.
func (l lit) goValue() any {
	if l.kind == litArray {
		out := make([]any, len(l.elems))
		for i, e := range l.elems {
			out[i] = e.goValue()
		}
		return out
	}
	return l.v
}

// value parses a literal: a scalar, or when arrays is true an array {…}
// of scalars.
func (p *parser) value(arrays bool) (lit, error) {
	t := p.tok()
	l := lit{pos: t.pos}
	switch t.kind {
	case tString:
		l.kind, l.v = litString, p.concat()
		return l, nil
	case tChar:
		l.kind, l.v = litChar, p.advance().ch
	case tInt:
		l.kind, l.v, l.text = litInt, t.ival, p.advance().text
	case tReal:
		l.kind, l.v, l.text = litReal, t.rval, p.advance().text
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			l.kind, l.v = litBool, true
		case "false":
			l.kind, l.v = litBool, false
		case "null":
			l.kind = litNull
		default:
			return l, p.expected("value")
		}
		p.advance()
	case tPunct:
		if t.text != "{" || !arrays {
			return l, p.expected("value")
		}
		p.advance()
		l.kind, l.elems = litArray, []lit{}
		for !p.isPunct("}") {
			if len(l.elems) > 0 {
				if err := p.expectPunct(","); err != nil {
					return l, err
				}
			}
			e, err := p.value(false)
			if err != nil {
				return l, err
			}
			l.elems = append(l.elems, e)
		}
		p.advance()
	default:
		return l, p.expected("value")
	}
	return l, nil
}

// class parses a class declaration from its keyword on. kindQual, when
// not empty, is the qualifier its keyword implies (association X {…}).
func (p *parser) class(quals cim.Qualifiers, kindQual string) error {
	p.advance() // class / association / indication
	name, err := p.ident("class name")
	if err != nil {
		return err
	}
	key := strings.ToLower(name.text)
	if prev, dup := p.classes[key]; dup {
		return p.errorf(name.pos, "class %s is already declared at line %d", name.text, prev.line)
	}
	c := &cim.Class{Name: name.text, Qualifiers: quals}
	if kindQual != "" {
		if q, ok := quals.Get(kindQual); ok {
			if b, isBool := q.Value.(bool); !isBool || !b {
				return p.errorf(name.pos, "%s declared with the %s keyword but %s(%v)", name.text, strings.ToLower(kindQual), q.Name, q.Value)
			}
		} else {
			c.Qualifiers = append(cim.Qualifiers{{Name: kindQual, Value: true}}, quals...)
		}
	}
	if p.isPunct(":") {
		p.advance()
		sup, err := p.ident("superclass name")
		if err != nil {
			return err
		}
		if strings.EqualFold(sup.text, name.text) {
			return p.errorf(sup.pos, "class %s cannot be its own superclass", name.text)
		}
		c.SuperClass = sup.text
	}
	if err := p.expectPunct("{"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for !p.isPunct("}") {
		prop, at, err := p.property()
		if err != nil {
			return err
		}
		lk := strings.ToLower(prop.Name)
		if seen[lk] {
			return p.errorf(at, "duplicate property %s in class %s", prop.Name, c.Name)
		}
		seen[lk] = true
		c.Properties = append(c.Properties, prop)
	}
	p.advance()
	if err := p.expectPunct(";"); err != nil {
		return err
	}
	p.classes[key] = name.pos
	p.nsSet = true
	p.out.Classes = append(p.out.Classes, c)
	return nil
}

// dataTypes maps the MOF data type keywords to their kinds.
var dataTypes = map[string]cim.Kind{
	"string": cim.KindString, "char16": cim.KindChar16, "boolean": cim.KindBoolean,
	"uint8": cim.KindUint8, "sint8": cim.KindSint8, "uint16": cim.KindUint16, "sint16": cim.KindSint16,
	"uint32": cim.KindUint32, "sint32": cim.KindSint32, "uint64": cim.KindUint64, "sint64": cim.KindSint64,
	"real32": cim.KindReal32, "real64": cim.KindReal64, "datetime": cim.KindDateTime,
}

// dataType parses a data type keyword or "ClassName REF".
func (p *parser) dataType() (cim.Type, error) {
	t := p.tok()
	if t.kind != tIdent {
		return cim.Type{}, p.expected("data type")
	}
	if n := p.peek(); n.kind == tIdent && strings.EqualFold(n.text, "ref") &&
		p.toks[min(p.i+2, len(p.toks)-1)].kind == tIdent {
		p.advance()
		p.advance()
		ref := t.text
		if strings.EqualFold(ref, "object") {
			ref = ""
		}
		return cim.Type{Kind: cim.KindReference, RefClass: ref}, nil
	}
	k, ok := dataTypes[strings.ToLower(t.text)]
	if !ok {
		return cim.Type{}, p.expected("data type")
	}
	p.advance()
	return cim.Type{Kind: k}, nil
}

// arraySuffix parses an optional [] or [N] and reports whether it was there.
func (p *parser) arraySuffix() (bool, error) {
	if !p.isPunct("[") {
		return false, nil
	}
	p.advance()
	if t := p.tok(); t.kind == tInt {
		if n, ok := t.ival.(int64); !ok || n <= 0 {
			return false, p.errorf(t.pos, "array size must be positive, not %s", t.text)
		}
		p.advance()
	}
	if err := p.expectPunct("]"); err != nil {
		return false, err
	}
	return true, nil
}

// property parses one property or reference declaration.
func (p *parser) property() (cim.Property, pos, error) {
	var prop cim.Property
	if p.isPunct("[") {
		qs, err := p.qualifierList()
		if err != nil {
			return prop, pos{}, err
		}
		prop.Qualifiers = qs
	}
	typ, err := p.dataType()
	if err != nil {
		return prop, pos{}, err
	}
	name, err := p.ident("property name")
	if err != nil {
		return prop, pos{}, err
	}
	prop.Name = name.text
	if p.isPunct("(") {
		return prop, pos{}, p.errorf(p.tok().pos, "method %s: methods are not supported", name.text)
	}
	if typ.Array, err = p.arraySuffix(); err != nil {
		return prop, pos{}, err
	}
	prop.Type = typ
	if p.isPunct("=") {
		p.advance()
		l, err := p.value(true)
		if err != nil {
			return prop, pos{}, err
		}
		if prop.Default, err = p.convert(typ, l); err != nil {
			return prop, pos{}, err
		}
	}
	if err := p.expectPunct(";"); err != nil {
		return prop, pos{}, err
	}
	return prop, name.pos, nil
}

// convert gives a literal the type t, for a default value.
func (p *parser) convert(t cim.Type, l lit) (any, error) {
	if l.kind == litNull {
		return nil, nil
	}
	if t.Array {
		if l.kind != litArray {
			return nil, p.errorf(l.pos, "%s needs an array value {…}", t)
		}
		out := make([]any, len(l.elems))
		for i, e := range l.elems {
			v, err := p.convert(t.Scalar(), e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	mismatch := func() error {
		return p.errorf(l.pos, "%s value is not of type %s", l.describe(), t)
	}
	var v any
	switch {
	case l.kind == litArray:
		return nil, p.errorf(l.pos, "%s is not an array type", t)
	case t.Kind == cim.KindDateTime:
		s, ok := l.v.(string)
		if !ok {
			return nil, mismatch()
		}
		d, err := cim.ParseDateTime(s)
		if err != nil {
			return nil, p.errorf(l.pos, "%s", cim.Wrap(cim.ErrInvalidParameter, err).Description)
		}
		return d, nil
	case t.Kind == cim.KindReference:
		s, ok := l.v.(string)
		if !ok {
			return nil, mismatch()
		}
		op, err := cim.ParseObjectPath(s)
		if err != nil {
			return nil, p.errorf(l.pos, "%s", cim.Wrap(cim.ErrInvalidParameter, err).Description)
		}
		return op, nil
	case t.Kind == cim.KindReal32 && l.kind == litReal:
		f, err := parseReal(l.text, 32)
		if err != nil {
			return nil, p.errorf(l.pos, "%s is out of range for real32", l.text)
		}
		return float32(f), nil
	case t.Kind == cim.KindString && l.kind == litString,
		t.Kind == cim.KindChar16 && l.kind == litChar,
		t.Kind == cim.KindBoolean && l.kind == litBool,
		t.Kind.IsInteger() && l.kind == litInt,
		t.Kind.IsReal() && (l.kind == litInt || l.kind == litReal):
		v = l.v
	default:
		return nil, mismatch()
	}
	out, err := cim.Convert(t, v)
	if err != nil {
		return nil, p.errorf(l.pos, "%s", cim.Wrap(cim.ErrTypeMismatch, err).Description)
	}
	return out, nil
}

// describe names a literal's kind for error messages.
func (l lit) describe() string {
	switch l.kind {
	case litString:
		return "string"
	case litChar:
		return "char16"
	case litInt:
		return "integer"
	case litReal:
		return "real"
	case litBool:
		return "boolean"
	case litArray:
		return "array"
	}
	return "null"
}

// qualifierDecl parses
//
//	qualifier Name : type [array] [= value], scope(…) [, flavor(…)];
func (p *parser) qualifierDecl() error {
	p.advance() // qualifier
	name, err := p.ident("qualifier name")
	if err != nil {
		return err
	}
	d := QualifierDecl{Name: name.text}
	if err := p.expectPunct(":"); err != nil {
		return err
	}
	if d.Type, err = p.dataType(); err != nil {
		return err
	}
	if d.Type.Array, err = p.arraySuffix(); err != nil {
		return err
	}
	if p.isPunct("=") {
		p.advance()
		l, err := p.value(true)
		if err != nil {
			return err
		}
		if d.Default, err = p.convert(d.Type, l); err != nil {
			return err
		}
	}
	for p.isPunct(",") || p.isKeyword("scope") || p.isKeyword("flavor") {
		if p.isPunct(",") {
			p.advance()
		}
		kw, err := p.ident(`"scope" or "flavor"`)
		if err != nil {
			return err
		}
		var dst *[]string
		switch strings.ToLower(kw.text) {
		case "scope":
			dst = &d.Scopes
		case "flavor":
			dst = &d.Flavors
		default:
			return p.errorf(kw.pos, "expected \"scope\" or \"flavor\", found %s", kw.describe())
		}
		if err := p.expectPunct("("); err != nil {
			return err
		}
		for {
			w, err := p.ident("name")
			if err != nil {
				return err
			}
			*dst = append(*dst, w.text)
			if p.isPunct(",") {
				p.advance()
				continue
			}
			if p.isPunct(")") {
				p.advance()
				break
			}
			if p.tok().kind != tIdent {
				return p.expected(`"," or ")"`)
			}
		}
	}
	if err := p.expectPunct(";"); err != nil {
		return err
	}
	p.out.Qualifiers = append(p.out.Qualifiers, d)
	return nil
}
