package cimxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// The values of the CIMError header (DSP0200 §7.3.1.6) for requests that are
// not CIM operations the server can process.
const (
	CIMErrorUnsupportedProtocolVersion  = "unsupported-protocol-version"
	CIMErrorMultipleRequestsUnsupported = "multiple-requests-unsupported"
	CIMErrorUnsupportedCIMVersion       = "unsupported-cim-version"
	CIMErrorUnsupportedDTDVersion       = "unsupported-dtd-version"
	CIMErrorRequestNotValid             = "request-not-valid"
	CIMErrorRequestNotWellFormed        = "request-not-well-formed"
	CIMErrorRequestNotLoosely           = "request-not-loosely-valid"
	CIMErrorHeaderMismatch              = "header-mismatch"
	CIMErrorUnsupportedOperation        = "unsupported-operation"
)

// ProtocolError is a request the server cannot take as a CIM operation at
// all: it is answered with an HTTP status and the CIMError header, not with
// a CIM ERROR element.
type ProtocolError struct {
	HTTPStatus int    // 400, 501, …
	CIMError   string // the CIMError header value
	Detail     string // for the log and the body, never the header
}

// Error describes the fault.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.HTTPStatus, e.CIMError, e.Detail)
}

func notWellFormed(format string, args ...any) *ProtocolError {
	return &ProtocolError{HTTPStatus: 400, CIMError: CIMErrorRequestNotWellFormed, Detail: cim.Clipf(format, args...)}
}

func notValid(format string, args ...any) *ProtocolError {
	return &ProtocolError{HTTPStatus: 400, CIMError: CIMErrorRequestNotValid, Detail: cim.Clipf(format, args...)}
}

// Limits bound what a request may contain. Zero fields take the defaults.
type Limits struct {
	MaxDepth      int // element nesting; default 64
	MaxElements   int // elements, attributes, comments and pieces of text in the document; default 400,000
	MaxAttributes int // attributes on one element; default 32
	MaxRequests   int // calls in one MULTIREQ; default 64
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxElements <= 0 {
		l.MaxElements = 400_000
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = 32
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = 64
	}
	return l
}

// Node is an element of a decoded document: its name, attributes, child
// elements and the text directly inside it.
type Node struct {
	Name     string
	Attrs    []xml.Attr
	Children []*Node
	Text     string
}

// Attr returns the value of the attribute name and whether it is present.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// Child returns the first child element called name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Parse reads a whole XML document into a tree within the limits. DTDs
// (any <!DOCTYPE> or other directive) are refused, and so are entity
// references other than XML's five predefined ones, invalid UTF-8 and
// documents with text or elements outside the one root element.
func Parse(data []byte, limits Limits) (*Node, error) {
	l := limits.withDefaults()
	if !utf8.Valid(data) {
		return nil, notWellFormed("the request is not valid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") || strings.EqualFold(label, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported; use UTF-8", cim.Clip(label))
	}
	var stack []*Node
	var texts [][]byte // the text of each open element, gathered as it comes
	var root *Node
	// items counts what the tree holds: elements, attributes, comments and
	// pieces of text, each of which costs memory (or time) of its own.
	elements := 0
	count := func(n int) bool {
		elements += n
		return elements <= l.MaxElements
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, notWellFormed("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !count(1 + len(t.Attr)) {
				return nil, notValid("more than %d elements and attributes", l.MaxElements)
			}
			if len(stack) >= l.MaxDepth {
				return nil, notValid("elements nested deeper than %d", l.MaxDepth)
			}
			if len(t.Attr) > l.MaxAttributes {
				return nil, notValid("element %s has more than %d attributes", t.Name.Local, l.MaxAttributes)
			}
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			n := &Node{Name: name, Attrs: append([]xml.Attr(nil), t.Attr...)}
			if len(stack) == 0 {
				if root != nil {
					return nil, notWellFormed("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			texts = append(texts, nil)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, notWellFormed("unexpected end element %s", t.Name.Local)
			}
			top := stack[len(stack)-1]
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			if name != top.Name {
				return nil, notWellFormed("element %s closed by %s", top.Name, name)
			}
			top.Text = string(texts[len(texts)-1])
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, notWellFormed("text outside the root element")
				}
				continue
			}
			// Appended to the element's buffer: adding to a string one
			// piece at a time (text cut up by comments) took time that
			// grew with the square of the text.
			if !count(1) {
				return nil, notValid("more than %d elements, attributes and pieces of text", l.MaxElements)
			}
			texts[len(texts)-1] = append(texts[len(texts)-1], t...)
		case xml.Directive:
			return nil, notValid("DTDs and other <!…> declarations are not accepted")
		case xml.ProcInst:
			// XML 1.0 §2.8: an XML declaration names its version.
			if t.Target == "xml" && !bytes.Contains(t.Inst, []byte("version")) {
				return nil, notWellFormed("the XML declaration has no version")
			}
		case xml.Comment:
			if !count(1) {
				return nil, notValid("more than %d elements, attributes and comments", l.MaxElements)
			}
		}
	}
	if len(stack) != 0 {
		return nil, notWellFormed("document ends inside element %s", stack[len(stack)-1].Name)
	}
	if root == nil {
		return nil, notWellFormed("no root element")
	}
	return root, nil
}

// ClassName is the value of a parameter given as a CLASSNAME element.
type ClassName string

// Call is one method call of a request.
type Call struct {
	// Method is the method's name as the request spells it.
	Method string
	// Intrinsic is true for IMETHODCALL (operations on the namespace),
	// false for METHODCALL (a method of a class or instance).
	Intrinsic bool
	// Namespace is the target namespace, segments joined by '/'.
	Namespace string
	// Object is the target of an extrinsic call (class or instance path).
	Object cim.ObjectPath
	// Duplicate names a parameter given more than once (the first
	// occurrence is in Params): DSP0200 makes the call fail with
	// CIM_ERR_INVALID_PARAMETER, which is the operation's answer, not a
	// malformed request.
	Duplicate string
	// Params holds the parameters in order. A value is nil (no value or
	// VALUE.NULL), string (VALUE), []string (VALUE.ARRAY), ClassName
	// (CLASSNAME), cim.ObjectPath (an instance name or path), or *Node
	// for anything else (an INSTANCE, say), left to the operation.
	Params []Param
}

// Param is one named parameter of a call.
type Param struct {
	Name  string
	Value any
}

// Param returns the value of the parameter name (case-insensitively) and
// whether it is present.
func (c *Call) Param(name string) (any, bool) {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return nil, false
}

// Bool returns the boolean parameter name, or def when it is absent or
// NULL. A value other than true or false is CIM_ERR_INVALID_PARAMETER.
func (c *Call) Bool(name string, def bool) (bool, error) {
	v, ok := c.Param(name)
	if !ok || v == nil {
		return def, nil
	}
	s, isStr := v.(string)
	if isStr {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, cim.Errorf(cim.ErrInvalidParameter, "parameter %s must be TRUE or FALSE", name)
}

// String returns the string parameter name, "" when absent or NULL.
func (c *Call) String(name string) (string, error) {
	v, ok := c.Param(name)
	if !ok || v == nil {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case ClassName:
		return string(x), nil
	}
	return "", cim.Errorf(cim.ErrInvalidParameter, "parameter %s must be a string", name)
}

// ClassName returns the class-name parameter name, "" when absent or NULL.
func (c *Call) ClassName(name string) (string, error) {
	v, ok := c.Param(name)
	if !ok || v == nil {
		return "", nil
	}
	if cn, isCN := v.(ClassName); isCN {
		return string(cn), nil
	}
	return "", cim.Errorf(cim.ErrInvalidParameter, "parameter %s must be a CLASSNAME", name)
}

// PropertyList returns the PropertyList parameter: nil for all properties
// (absent or NULL), an empty non-nil slice for none.
func (c *Call) PropertyList() ([]string, error) {
	v, ok := c.Param("PropertyList")
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case []string:
		if x == nil {
			return []string{}, nil
		}
		return x, nil
	case string:
		return []string{x}, nil
	}
	return nil, cim.Errorf(cim.ErrInvalidParameter, "PropertyList must be an array of property names")
}

// Request is a decoded CIM operation request message.
type Request struct {
	ID              string // MESSAGE ID, echoed in the response
	ProtocolVersion string // MESSAGE PROTOCOLVERSION
	CIMVersion      string // CIM CIMVERSION
	DTDVersion      string // CIM DTDVERSION
	Multi           bool   // MULTIREQ
	Calls           []*Call
}

// DecodeRequest reads a CIM-XML operation request. Faults that make it no
// CIM request at all (not well-formed, not valid, unsupported versions) are
// a *ProtocolError; a bad parameter value inside a well-formed call is left
// for the operation to report.
func DecodeRequest(data []byte, limits Limits) (*Request, error) {
	l := limits.withDefaults()
	root, err := Parse(data, l)
	if err != nil {
		return nil, err
	}
	if root.Name != "CIM" {
		return nil, notValid("the root element is %s, not CIM", root.Name)
	}
	req := &Request{}
	req.CIMVersion, _ = root.Attr("CIMVERSION")
	req.DTDVersion, _ = root.Attr("DTDVERSION")
	if !versionOf(req.CIMVersion, "2") {
		return nil, &ProtocolError{HTTPStatus: 501, CIMError: CIMErrorUnsupportedCIMVersion, Detail: cim.Clipf("CIMVERSION %q", req.CIMVersion)}
	}
	if !versionOf(req.DTDVersion, "2") {
		return nil, &ProtocolError{HTTPStatus: 501, CIMError: CIMErrorUnsupportedDTDVersion, Detail: cim.Clipf("DTDVERSION %q", req.DTDVersion)}
	}
	if len(root.Children) != 1 || root.Children[0].Name != "MESSAGE" {
		return nil, notValid("CIM must hold one MESSAGE")
	}
	msg := root.Children[0]
	var ok bool
	if req.ID, ok = msg.Attr("ID"); !ok {
		return nil, notValid("MESSAGE has no ID")
	}
	req.ProtocolVersion, _ = msg.Attr("PROTOCOLVERSION")
	if !versionOf(req.ProtocolVersion, "1") {
		return nil, &ProtocolError{HTTPStatus: 501, CIMError: CIMErrorUnsupportedProtocolVersion, Detail: cim.Clipf("PROTOCOLVERSION %q", req.ProtocolVersion)}
	}
	if len(msg.Children) != 1 {
		return nil, notValid("MESSAGE must hold one SIMPLEREQ or MULTIREQ")
	}
	body := msg.Children[0]
	var simple []*Node
	switch body.Name {
	case "SIMPLEREQ":
		simple = []*Node{body}
	case "MULTIREQ":
		req.Multi = true
		if len(body.Children) < 2 {
			return nil, notValid("MULTIREQ needs two or more SIMPLEREQ")
		}
		if len(body.Children) > l.MaxRequests {
			return nil, &ProtocolError{HTTPStatus: 501, CIMError: CIMErrorMultipleRequestsUnsupported,
				Detail: fmt.Sprintf("more than %d calls in one MULTIREQ", l.MaxRequests)}
		}
		simple = body.Children
	default:
		return nil, notValid("MESSAGE holds %s, not SIMPLEREQ or MULTIREQ", body.Name)
	}
	for _, s := range simple {
		if s.Name != "SIMPLEREQ" {
			return nil, notValid("MULTIREQ holds %s, not SIMPLEREQ", s.Name)
		}
		var callNode *Node
		for _, c := range s.Children {
			switch c.Name {
			case "IMETHODCALL", "METHODCALL":
				if callNode != nil {
					return nil, notValid("SIMPLEREQ holds more than one call")
				}
				callNode = c
			case "CORRELATOR":
			default:
				return nil, notValid("SIMPLEREQ holds %s", c.Name)
			}
		}
		if callNode == nil {
			return nil, notValid("SIMPLEREQ holds no IMETHODCALL or METHODCALL")
		}
		call, err := decodeCall(callNode)
		if err != nil {
			return nil, err
		}
		req.Calls = append(req.Calls, call)
	}
	return req, nil
}

// versionOf reports whether v is a version "M.N" (or "M.N.U") of major
// version major; anything else, malformed ("2.x", "2.") included, is a
// version DSP0200 answers with the header error.
func versionOf(v, major string) bool {
	rest, ok := strings.CutPrefix(v, major+".")
	if !ok {
		return false
	}
	parts := strings.Split(rest, ".")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 4 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func decodeCall(n *Node) (*Call, error) {
	call := &Call{Intrinsic: n.Name == "IMETHODCALL"}
	var ok bool
	if call.Method, ok = n.Attr("NAME"); !ok || call.Method == "" {
		return nil, notValid("%s has no NAME", n.Name)
	}
	paramElem := "PARAMVALUE"
	if call.Intrinsic {
		paramElem = "IPARAMVALUE"
	}
	sawTarget := false
	for _, c := range n.Children {
		switch c.Name {
		case "LOCALNAMESPACEPATH":
			if !call.Intrinsic || sawTarget {
				return nil, notValid("unexpected LOCALNAMESPACEPATH in %s", n.Name)
			}
			ns, err := decodeNamespace(c)
			if err != nil {
				return nil, err
			}
			call.Namespace, sawTarget = ns, true
		case "LOCALCLASSPATH", "LOCALINSTANCEPATH":
			if call.Intrinsic || sawTarget {
				return nil, notValid("unexpected %s in %s", c.Name, n.Name)
			}
			p, err := decodePath(c)
			if err != nil {
				return nil, err
			}
			call.Object, call.Namespace, sawTarget = p, p.Namespace, true
		case paramElem:
			name, ok := c.Attr("NAME")
			if !ok || name == "" {
				return nil, notValid("%s has no NAME", c.Name)
			}
			if len(c.Children) > 1 {
				return nil, notValid("%s %s holds more than one value", c.Name, name)
			}
			if strings.TrimSpace(c.Text) != "" {
				return nil, notValid("%s %s holds text outside a value element", c.Name, name)
			}
			var v any
			if len(c.Children) == 1 {
				var err error
				if v, err = decodeParamValue(c.Children[0]); err != nil {
					return nil, err
				}
			}
			dup := false
			for _, p := range call.Params {
				dup = dup || strings.EqualFold(p.Name, name)
			}
			if dup {
				if call.Duplicate == "" {
					call.Duplicate = name
				}
				continue
			}
			call.Params = append(call.Params, Param{Name: name, Value: v})
		default:
			return nil, notValid("unexpected %s in %s", c.Name, n.Name)
		}
	}
	if !sawTarget {
		return nil, notValid("%s %s names no target namespace or object", n.Name, call.Method)
	}
	return call, nil
}

func decodeParamValue(n *Node) (any, error) {
	switch n.Name {
	case "VALUE":
		if len(n.Children) != 0 {
			return nil, notValid("VALUE holds elements")
		}
		return n.Text, nil
	case "VALUE.NULL":
		return nil, nil
	case "VALUE.ARRAY":
		out := make([]string, 0, len(n.Children))
		for _, c := range n.Children {
			switch c.Name {
			case "VALUE":
				out = append(out, c.Text)
			case "VALUE.NULL":
				out = append(out, "")
			default:
				return nil, notValid("VALUE.ARRAY holds %s", c.Name)
			}
		}
		return out, nil
	case "CLASSNAME":
		name, ok := n.Attr("NAME")
		if !ok || name == "" {
			return nil, notValid("CLASSNAME has no NAME")
		}
		if !validName(name) {
			return nil, notValid("CLASSNAME NAME %q is not a CIM name", name)
		}
		return ClassName(name), nil
	case "INSTANCENAME", "LOCALINSTANCEPATH", "INSTANCEPATH":
		return decodePath(n)
	case "VALUE.REFERENCE":
		if len(n.Children) != 1 {
			return nil, notValid("VALUE.REFERENCE must hold one path")
		}
		if n.Children[0].Name == "CLASSNAME" {
			return decodeParamValue(n.Children[0])
		}
		return decodePath(n.Children[0])
	}
	return n, nil
}

func decodeNamespace(n *Node) (string, error) {
	var segs []string
	for _, c := range n.Children {
		if c.Name != "NAMESPACE" {
			return "", notValid("LOCALNAMESPACEPATH holds %s", c.Name)
		}
		name, ok := c.Attr("NAME")
		if !ok || name == "" {
			return "", notValid("NAMESPACE has no NAME")
		}
		segs = append(segs, name)
	}
	if len(segs) == 0 {
		return "", notValid("LOCALNAMESPACEPATH holds no NAMESPACE")
	}
	return strings.Join(segs, "/"), nil
}

// decodePath reads INSTANCENAME, LOCALINSTANCEPATH, INSTANCEPATH,
// CLASSNAME, LOCALCLASSPATH or CLASSPATH into an object path.
func decodePath(n *Node) (cim.ObjectPath, error) {
	var p cim.ObjectPath
	switch n.Name {
	case "CLASSNAME":
		name, ok := n.Attr("NAME")
		if !ok || name == "" {
			return p, notValid("CLASSNAME has no NAME")
		}
		if !validName(name) {
			return p, notValid("CLASSNAME NAME %q is not a CIM name", name)
		}
		p.ClassName = name
		return p, nil
	case "LOCALCLASSPATH", "LOCALINSTANCEPATH":
		if len(n.Children) != 2 || n.Children[0].Name != "LOCALNAMESPACEPATH" {
			return p, notValid("%s must hold LOCALNAMESPACEPATH and a name", n.Name)
		}
		ns, err := decodeNamespace(n.Children[0])
		if err != nil {
			return p, err
		}
		if p, err = decodePath(n.Children[1]); err != nil {
			return p, err
		}
		p.Namespace = ns
		return p, nil
	case "CLASSPATH", "INSTANCEPATH":
		if len(n.Children) != 2 || n.Children[0].Name != "NAMESPACEPATH" {
			return p, notValid("%s must hold NAMESPACEPATH and a name", n.Name)
		}
		nsp := n.Children[0]
		host := nsp.Child("HOST")
		lns := nsp.Child("LOCALNAMESPACEPATH")
		if host == nil || lns == nil || len(nsp.Children) != 2 {
			return p, notValid("NAMESPACEPATH must hold HOST and LOCALNAMESPACEPATH")
		}
		ns, err := decodeNamespace(lns)
		if err != nil {
			return p, err
		}
		if p, err = decodePath(n.Children[1]); err != nil {
			return p, err
		}
		p.Host, p.Namespace = strings.TrimSpace(host.Text), ns
		return p, nil
	case "INSTANCENAME":
	default:
		return p, notValid("%s is not an object path", n.Name)
	}
	cn, ok := n.Attr("CLASSNAME")
	if !ok || cn == "" {
		return p, notValid("INSTANCENAME has no CLASSNAME")
	}
	if !validName(cn) {
		return p, notValid("INSTANCENAME CLASSNAME %q is not a CIM name", cn)
	}
	p.ClassName = cn
	for _, c := range n.Children {
		switch c.Name {
		case "KEYBINDING":
			name, ok := c.Attr("NAME")
			if !ok || name == "" || len(c.Children) != 1 {
				return p, notValid("KEYBINDING needs a NAME and one value")
			}
			v, err := decodeKeyValue(c.Children[0])
			if err != nil {
				return p, err
			}
			p.Keys = append(p.Keys, cim.KeyBinding{Name: name, Value: v})
		case "KEYVALUE", "VALUE.REFERENCE":
			// The unnamed single key form.
			if len(n.Children) != 1 {
				return p, notValid("INSTANCENAME with an unnamed key holds one value")
			}
			return p, notValid("INSTANCENAME without KEYBINDING names is not supported")
		default:
			return p, notValid("INSTANCENAME holds %s", c.Name)
		}
	}
	return p, nil
}

func decodeKeyValue(n *Node) (any, error) {
	switch n.Name {
	case "VALUE.REFERENCE":
		if len(n.Children) != 1 {
			return nil, notValid("VALUE.REFERENCE must hold one path")
		}
		return decodePath(n.Children[0])
	case "KEYVALUE":
	default:
		return nil, notValid("KEYBINDING holds %s", n.Name)
	}
	vt, _ := n.Attr("VALUETYPE")
	s := n.Text
	switch vt {
	case "", "string":
		return s, nil
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, notValid("boolean KEYVALUE %q", s)
	case "numeric":
		t := strings.TrimSpace(s)
		if i, err := strconv.ParseInt(t, 0, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(t, 0, 64); err == nil {
			return u, nil
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f, nil
		}
		return nil, notValid("numeric KEYVALUE %q", s)
	}
	return nil, notValid("KEYVALUE VALUETYPE %q", vt)
}

// validName reports whether s is a CIM name (DSP0004 §7.5): a letter or
// underscore, then letters, digits and underscores.
func validName(s string) bool {
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}

// IsProtocolError reports whether err is a *ProtocolError and returns it.
func IsProtocolError(err error) (*ProtocolError, bool) {
	var pe *ProtocolError
	ok := errors.As(err, &pe)
	return pe, ok
}
