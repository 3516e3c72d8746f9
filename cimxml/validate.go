package cimxml

import (
	"fmt"
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// element is the structure DSP0201's DTD gives an element: its content
// model, its attributes, and whether it holds text.
type element struct {
	content  []slot
	required []string
	optional []string
	text     bool
}

// slot is one step of a content model: one of names, min to max times.
type slot struct {
	names    []string
	min, max int
}

// model parses a content model written as in the DTD without commas:
// "QUALIFIER* (PROPERTY|PROPERTY.ARRAY)* METHOD?".
func model(s string) []slot {
	var out []slot
	for _, tok := range strings.Fields(s) {
		sl := slot{min: 1, max: 1}
		switch tok[len(tok)-1] {
		case '*':
			sl.min, sl.max, tok = 0, -1, tok[:len(tok)-1]
		case '+':
			sl.max, tok = -1, tok[:len(tok)-1]
		case '?':
			sl.min, tok = 0, tok[:len(tok)-1]
		}
		sl.names = strings.Split(strings.Trim(tok, "()"), "|")
		out = append(out, sl)
	}
	return out
}

func el(content string, required, optional string) element {
	return element{content: model(content), required: strings.Fields(required), optional: strings.Fields(optional)}
}

func textEl(required, optional string) element {
	e := el("", required, optional)
	e.text = true
	return e
}

const (
	propAttrs  = "CLASSORIGIN PROPAGATED EmbeddedObject EMBEDDEDOBJECT xml:lang"
	valueElems = "VALUE|VALUE.ARRAY|VALUE.REFERENCE|VALUE.REFARRAY|CLASSNAME|INSTANCENAME|CLASS|INSTANCE|VALUE.NAMEDINSTANCE|QUALIFIER.DECLARATION|VALUE.NULL|INSTANCEPATH|LOCALINSTANCEPATH"
	retElems   = "CLASSNAME|INSTANCENAME|VALUE|VALUE.OBJECTWITHPATH|VALUE.OBJECTWITHLOCALPATH|VALUE.OBJECT|OBJECTPATH|QUALIFIER.DECLARATION|VALUE.ARRAY|VALUE.REFERENCE|CLASS|INSTANCE|INSTANCEPATH|VALUE.NAMEDINSTANCE|VALUE.INSTANCEWITHPATH"
	pathElems  = "CLASSPATH|LOCALCLASSPATH|CLASSNAME|INSTANCEPATH|LOCALINSTANCEPATH|INSTANCENAME"
)

// dtd is the part of the CIM-XML DTD (DSP0203 2.4, as DSP0201 2.4 describes
// it: KEYVALUE with TYPE, PARAMTYPE on RETURNVALUE and PARAMVALUE) that
// operations and declarations use.
var dtd = map[string]element{
	"CIM":                       el("(MESSAGE|DECLARATION)", "CIMVERSION DTDVERSION", ""),
	"DECLARATION":               el("(DECLGROUP|DECLGROUP.WITHNAME|DECLGROUP.WITHPATH)+", "", ""),
	"DECLGROUP":                 el("(LOCALNAMESPACEPATH|NAMESPACEPATH)? QUALIFIER.DECLARATION* VALUE.OBJECT*", "", ""),
	"DECLGROUP.WITHNAME":        el("(LOCALNAMESPACEPATH|NAMESPACEPATH)? QUALIFIER.DECLARATION* VALUE.NAMEDOBJECT*", "", ""),
	"DECLGROUP.WITHPATH":        el("(VALUE.OBJECTWITHPATH|VALUE.OBJECTWITHLOCALPATH)*", "", ""),
	"VALUE.OBJECT":              el("(CLASS|INSTANCE)", "", ""),
	"VALUE.NAMEDOBJECT":         el("(CLASS|INSTANCENAME) INSTANCE?", "", ""),
	"MESSAGE":                   el("(SIMPLEREQ|MULTIREQ|SIMPLERSP|MULTIRSP|SIMPLEEXPREQ|MULTIEXPREQ|SIMPLEEXPRSP|MULTIEXPRSP)", "ID PROTOCOLVERSION", ""),
	"MULTIREQ":                  el("SIMPLEREQ SIMPLEREQ+", "", ""),
	"SIMPLEREQ":                 el("CORRELATOR* (IMETHODCALL|METHODCALL)", "", ""),
	"MULTIRSP":                  el("SIMPLERSP SIMPLERSP+", "", ""),
	"SIMPLERSP":                 el("(METHODRESPONSE|IMETHODRESPONSE)", "", ""),
	"CORRELATOR":                el("VALUE", "NAME TYPE", ""),
	"IMETHODCALL":               el("LOCALNAMESPACEPATH IPARAMVALUE*", "NAME", ""),
	"METHODCALL":                el("(LOCALCLASSPATH|LOCALINSTANCEPATH) PARAMVALUE*", "NAME", ""),
	"IPARAMVALUE":               el("("+valueElems+")?", "NAME", ""),
	"PARAMVALUE":                el("("+valueElems+")?", "NAME", "PARAMTYPE EmbeddedObject EMBEDDEDOBJECT"),
	"IMETHODRESPONSE":           el("(ERROR|IRETURNVALUE)? PARAMVALUE*", "NAME", ""),
	"METHODRESPONSE":            el("(ERROR|RETURNVALUE)? PARAMVALUE*", "NAME", ""),
	"ERROR":                     el("INSTANCE*", "CODE", "DESCRIPTION"),
	"IRETURNVALUE":              el("("+retElems+")*", "", ""),
	"RETURNVALUE":               el("(VALUE|VALUE.REFERENCE)?", "", "PARAMTYPE EmbeddedObject EMBEDDEDOBJECT"),
	"VALUE.NAMEDINSTANCE":       el("INSTANCENAME INSTANCE", "", ""),
	"VALUE.INSTANCEWITHPATH":    el("INSTANCEPATH INSTANCE", "", ""),
	"VALUE.OBJECTWITHPATH":      el("(CLASSPATH|INSTANCEPATH) (CLASS|INSTANCE)", "", ""),
	"VALUE.OBJECTWITHLOCALPATH": el("(LOCALCLASSPATH|LOCALINSTANCEPATH) (CLASS|INSTANCE)", "", ""),
	"OBJECTPATH":                el("(INSTANCEPATH|CLASSPATH)", "", ""),
	"INSTANCEPATH":              el("NAMESPACEPATH INSTANCENAME", "", ""),
	"LOCALINSTANCEPATH":         el("LOCALNAMESPACEPATH INSTANCENAME", "", ""),
	"CLASSPATH":                 el("NAMESPACEPATH CLASSNAME", "", ""),
	"LOCALCLASSPATH":            el("LOCALNAMESPACEPATH CLASSNAME", "", ""),
	"NAMESPACEPATH":             el("HOST LOCALNAMESPACEPATH", "", ""),
	"HOST":                      textEl("", ""),
	"LOCALNAMESPACEPATH":        el("NAMESPACE+", "", ""),
	"NAMESPACE":                 el("", "NAME", ""),
	"CLASSNAME":                 el("", "NAME", ""),
	"INSTANCENAME":              el("(KEYBINDING|KEYVALUE|VALUE.REFERENCE)*", "CLASSNAME", ""),
	"KEYBINDING":                el("(KEYVALUE|VALUE.REFERENCE)", "NAME", ""),
	"KEYVALUE":                  textEl("", "VALUETYPE TYPE"),
	"VALUE":                     textEl("", ""),
	"VALUE.NULL":                el("", "", ""),
	"VALUE.ARRAY":               el("(VALUE|VALUE.NULL)*", "", ""),
	"VALUE.REFERENCE":           el("("+pathElems+")", "", ""),
	"VALUE.REFARRAY":            el("(VALUE.REFERENCE|VALUE.NULL)*", "", ""),
	"CLASS":                     el("QUALIFIER* (PROPERTY|PROPERTY.ARRAY|PROPERTY.REFERENCE)* METHOD*", "NAME", "SUPERCLASS"),
	"INSTANCE":                  el("QUALIFIER* (PROPERTY|PROPERTY.ARRAY|PROPERTY.REFERENCE)*", "CLASSNAME", "xml:lang"),
	"QUALIFIER":                 el("(VALUE|VALUE.ARRAY)?", "NAME TYPE", "PROPAGATED OVERRIDABLE TOSUBCLASS TOINSTANCE TRANSLATABLE xml:lang"),
	"QUALIFIER.DECLARATION":     el("SCOPE? (VALUE|VALUE.ARRAY)?", "NAME TYPE", "ISARRAY ARRAYSIZE OVERRIDABLE TOSUBCLASS TOINSTANCE TRANSLATABLE"),
	"SCOPE":                     el("", "", "CLASS ASSOCIATION REFERENCE PROPERTY METHOD PARAMETER INDICATION"),
	"PROPERTY":                  el("QUALIFIER* VALUE?", "NAME TYPE", propAttrs),
	"PROPERTY.ARRAY":            el("QUALIFIER* VALUE.ARRAY?", "NAME TYPE", "ARRAYSIZE "+propAttrs),
	"PROPERTY.REFERENCE":        el("QUALIFIER* VALUE.REFERENCE?", "NAME", "REFERENCECLASS CLASSORIGIN PROPAGATED"),
	"METHOD":                    el("QUALIFIER* (PARAMETER|PARAMETER.REFERENCE|PARAMETER.ARRAY|PARAMETER.REFARRAY)*", "NAME", "TYPE CLASSORIGIN PROPAGATED"),
}

var booleanAttrs = map[string]bool{"PROPAGATED": true, "OVERRIDABLE": true, "TOSUBCLASS": true, "TOINSTANCE": true,
	"TRANSLATABLE": true, "ISARRAY": true}

// Validate checks a CIM-XML document against DSP0201's structure: every
// element is one the DTD defines, in a place its parent's content model
// allows, with the attributes it requires and no others; TYPE, VALUETYPE
// and the boolean attributes have legal values; and the VALUEs of a
// PROPERTY or PROPERTY.ARRAY parse as its TYPE. It returns the first
// problem found, with the path of elements that leads to it.
func Validate(doc []byte) error {
	root, err := Parse(doc, Limits{MaxElements: 10_000_000, MaxDepth: 256, MaxAttributes: 64})
	if err != nil {
		return err
	}
	if root.Name != "CIM" {
		return fmt.Errorf("root element is %s, not CIM", root.Name)
	}
	return validateNode(root, "CIM")
}

func validateNode(n *Node, where string) error {
	e, ok := dtd[n.Name]
	if !ok {
		return fmt.Errorf("%s: DSP0201 has no element %s", where, n.Name)
	}
	seen := map[string]bool{}
	for _, a := range n.Attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		if seen[name] {
			return fmt.Errorf("%s: attribute %s given twice", where, name)
		}
		seen[name] = true
		if !contains(e.required, name) && !contains(e.optional, name) {
			return fmt.Errorf("%s: attribute %s is not allowed", where, name)
		}
		if booleanAttrs[name] && a.Value != "true" && a.Value != "false" {
			return fmt.Errorf("%s: %s=%q is not true or false", where, name, a.Value)
		}
		switch {
		case name == "TYPE" && n.Name != "CORRELATOR":
			if _, ok := cim.ParseKind(a.Value); !ok || a.Value == "ref" || a.Value != strings.ToLower(a.Value) {
				return fmt.Errorf("%s: TYPE=%q is not a CIM type", where, a.Value)
			}
			if a.Value == "reference" && n.Name != "KEYVALUE" && n.Name != "QUALIFIER" {
				return fmt.Errorf("%s: TYPE=reference belongs on PROPERTY.REFERENCE", where)
			}
		case name == "VALUETYPE":
			if a.Value != "string" && a.Value != "boolean" && a.Value != "numeric" {
				return fmt.Errorf("%s: VALUETYPE=%q is not string, boolean or numeric", where, a.Value)
			}
		}
	}
	for _, r := range e.required {
		if !seen[r] {
			return fmt.Errorf("%s: required attribute %s is missing", where, r)
		}
	}
	if !e.text && strings.TrimSpace(n.Text) != "" {
		return fmt.Errorf("%s: text %q is not allowed here", where, clip(n.Text))
	}
	if e.text && len(n.Children) > 0 {
		return fmt.Errorf("%s: holds element %s where only text is allowed", where, n.Children[0].Name)
	}
	if err := matchContent(n, e.content, where); err != nil {
		return err
	}
	if err := checkValues(n, where); err != nil {
		return err
	}
	for i, c := range n.Children {
		if err := validateNode(c, fmt.Sprintf("%s/%s[%d]", where, c.Name, i)); err != nil {
			return err
		}
	}
	return nil
}

// matchContent checks the children's sequence against the content model,
// each slot taking as many children as it may.
func matchContent(n *Node, content []slot, where string) error {
	i := 0
	for _, s := range content {
		count := 0
		for i < len(n.Children) && (s.max < 0 || count < s.max) && contains(s.names, n.Children[i].Name) {
			i++
			count++
		}
		if count < s.min {
			next := "the end"
			if i < len(n.Children) {
				next = n.Children[i].Name
			}
			return fmt.Errorf("%s: expected %s, found %s", where, strings.Join(s.names, " or "), next)
		}
	}
	if i < len(n.Children) {
		return fmt.Errorf("%s: %s is not allowed here", where, n.Children[i].Name)
	}
	if n.Name == "VALUE.OBJECTWITHPATH" || n.Name == "VALUE.OBJECTWITHLOCALPATH" {
		path, obj := n.Children[0].Name, n.Children[1].Name
		if strings.Contains(path, "CLASS") != (obj == "CLASS") {
			return fmt.Errorf("%s: %s paired with %s", where, path, obj)
		}
	}
	return nil
}

// checkValues checks that a typed property's values parse as its type.
func checkValues(n *Node, where string) error {
	if n.Name != "PROPERTY" && n.Name != "PROPERTY.ARRAY" {
		return nil
	}
	tn, _ := n.Attr("TYPE")
	k, _ := cim.ParseKind(tn)
	for _, c := range n.Children {
		var vals []*Node
		switch c.Name {
		case "VALUE":
			vals = []*Node{c}
		case "VALUE.ARRAY":
			vals = c.Children
		}
		for _, v := range vals {
			if v.Name != "VALUE" {
				continue
			}
			if _, err := cim.ParseValue(cim.Type{Kind: k}, v.Text); err != nil {
				return fmt.Errorf("%s: value %q is not a valid %s", where, clip(v.Text), tn)
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
