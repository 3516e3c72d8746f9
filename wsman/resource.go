package wsman

import (
	"strings"

	"github.com/cimsess/cimsess/cimom"
)

// Resource URI prefixes (MS-WSMV's WMI URIs, DSP0227's CIM URIs, the
// same under Microsoft's host name as OMI and its clients write them, and
// the CIM-XML class declarations that Get-CimClass asks for).
const (
	PrefixWMI      = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
	PrefixCIM      = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
	PrefixMSCIM    = "http://schemas.microsoft.com/wbem/wscim/1/cim-schema/2/"
	PrefixCIMXML   = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/"
	WildcardCIM    = "http://schemas.dmtf.org/wbem/wscim/1/*"
	SelectorCIMNS  = "__cimnamespace"
	selectorClass  = "ClassName"
	defaultCIMNS   = "root/cimv2"
	wildcardSuffix = "*"
)

// resourceKind says what a resource URI names.
type resourceKind int

const (
	resInstances resourceKind = iota // the instances of a class
	resWildcard                      // any class; a filter says which
	resClassDecl                     // class declarations in CIM-XML
)

// resource is a parsed resource URI.
type resource struct {
	kind      resourceKind
	class     string // "" for a wildcard
	namespace string // root/cimv2 style
	// prefix is the URI before the class name: instances of other
	// classes are rendered in a namespace of the same family.
	prefix string
	// om is the object manager of the namespace, set by the handler's
	// resolve.
	om *cimom.ObjectManager
}

// parseResourceURI splits a resource URI into what it names. The
// __cimnamespace selector, when given, names the namespace of a DMTF URI
// (and must agree with a WMI URI's). ok is false for a URI of no known
// family.
func parseResourceURI(uri string, sels []Selector) (resource, bool) {
	ns := ""
	for _, s := range sels {
		if strings.EqualFold(s.Name, SelectorCIMNS) {
			ns = normNamespace(s.Value)
		}
	}
	has := func(p string) bool { return len(uri) >= len(p) && strings.EqualFold(uri[:len(p)], p) }
	switch {
	case has(PrefixWMI):
		rest := uri[len(PrefixWMI):]
		i := strings.LastIndexByte(rest, '/')
		if i <= 0 || i == len(rest)-1 {
			return resource{}, false
		}
		r := resource{namespace: normNamespace(rest[:i]), class: rest[i+1:], prefix: uri[:len(PrefixWMI)+i+1]}
		if ns != "" && !strings.EqualFold(ns, r.namespace) {
			return resource{}, false
		}
		if r.class == wildcardSuffix {
			r.kind, r.class = resWildcard, ""
		}
		return r, validClassName(r.class)
	case strings.EqualFold(uri, WildcardCIM):
		return resource{kind: resWildcard, namespace: orDefault(ns), prefix: PrefixCIM}, true
	case has(PrefixCIM), has(PrefixMSCIM):
		// OMI takes either (the class is the last segment whatever comes
		// before it); instances are written in the one asked.
		prefix := PrefixCIM
		if has(PrefixMSCIM) {
			prefix = PrefixMSCIM
		}
		r := resource{class: uri[len(prefix):], namespace: orDefault(ns), prefix: prefix}
		if r.class == wildcardSuffix {
			r.kind, r.class = resWildcard, ""
		}
		return r, validClassName(r.class)
	case has(PrefixCIMXML):
		r := resource{kind: resClassDecl, class: uri[len(PrefixCIMXML):], namespace: orDefault(ns), prefix: PrefixCIMXML}
		if r.class == wildcardSuffix {
			r.class = ""
		}
		for _, s := range sels {
			if strings.EqualFold(s.Name, selectorClass) {
				r.class = strings.TrimSpace(s.Value)
			}
		}
		return r, validClassName(r.class)
	}
	return resource{}, false
}

func orDefault(ns string) string {
	if ns == "" {
		return defaultCIMNS
	}
	return ns
}

// normNamespace writes a namespace with '/' separators and no outer ones.
func normNamespace(ns string) string {
	return strings.Trim(strings.ReplaceAll(strings.TrimSpace(ns), `\`, "/"), "/")
}

// validClassName reports whether s may be a CIM class name ("" for a
// wildcard is allowed).
func validClassName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return len(s) <= 256
}

// classURI is the resource URI of class in the family of prefix.
func classURI(prefix, class string) string {
	if prefix == PrefixCIMXML {
		prefix = PrefixCIM
	}
	return prefix + class
}
