package cim

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// KeyBinding is one key property's value in an object path. Values are
// string, bool, int64, uint64 (only above MaxInt64), or ObjectPath.
type KeyBinding struct {
	Name  string
	Value any
}

// ObjectPath names a class or an instance (DSP0004 §8.3, WMI's form):
//
//	\\HOST\root\cimv2:Win32_LogonSession.LogonId="42"
//	root/cimv2:Win32_UserAccount.Domain="HOST",Name="alice"
//	Win32_LogonSession.LogonId="42"
//	Win32_Session                          (a class path: no keys)
//	Win32_Singleton=@                      (a singleton instance)
//	Win32_Process=1234                     (WMI's shorthand for a class of one key)
//
// The shorthand's one binding has an empty Name: the object manager
// resolves it to the class's only key.
// Host and Namespace are empty in a relative path.
type ObjectPath struct {
	Host      string
	Namespace string
	ClassName string
	Keys      []KeyBinding
	Singleton bool
}

// IsClass reports whether the path names a class rather than an instance.
func (p ObjectPath) IsClass() bool { return len(p.Keys) == 0 && !p.Singleton }

// Key returns the value of key name, case-insensitively.
func (p ObjectPath) Key(name string) (any, bool) {
	for _, k := range p.Keys {
		if strings.EqualFold(k.Name, name) {
			return k.Value, true
		}
	}
	return nil, false
}

// Relative returns the path without host and namespace (WMI's __RELPATH).
func (p ObjectPath) Relative() ObjectPath {
	p.Host, p.Namespace = "", ""
	return p
}

// String formats the path: "\\HOST\ns:Class.K=v" with the namespace's
// slashes as backslashes when a host is present, "ns:Class.K=v" without a
// host, and keys in the order they are held.
func (p ObjectPath) String() string {
	var b strings.Builder
	if p.Host != "" {
		b.WriteString(`\\`)
		b.WriteString(p.Host)
		b.WriteByte('\\')
		b.WriteString(strings.ReplaceAll(p.Namespace, "/", `\`))
		b.WriteByte(':')
	} else if p.Namespace != "" {
		b.WriteString(p.Namespace)
		b.WriteByte(':')
	}
	b.WriteString(p.ClassName)
	if p.Singleton {
		b.WriteString("=@")
		return b.String()
	}
	if len(p.Keys) == 1 && p.Keys[0].Name == "" {
		b.WriteByte('=')
		b.WriteString(formatKeyValue(p.Keys[0].Value))
		return b.String()
	}
	for i, k := range p.Keys {
		if i == 0 {
			b.WriteByte('.')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(k.Name)
		b.WriteByte('=')
		b.WriteString(formatKeyValue(k.Value))
	}
	return b.String()
}

// QuoteString returns s in double quotes with backslashes and double
// quotes escaped, as object paths and WQL write strings.
func QuoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func formatKeyValue(v any) string {
	switch x := v.(type) {
	case string:
		return QuoteString(x)
	case ObjectPath:
		return QuoteString(x.String())
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case DateTime:
		return QuoteString(x.String())
	case Char16:
		return QuoteString(x.String())
	case float32, float64:
		// A real keeps a '.' or an exponent, so that it reads back as a
		// real and not as an integer.
		f := FormatValue(v)
		if !strings.ContainsAny(f, ".eEIN") {
			f += ".0"
		}
		return f
	}
	return FormatValue(v)
}

// Equal reports whether two paths name the same object, as WMI compares
// them: class, namespace, key names and string key values
// case-insensitively (namespace separators '/' and '\' alike, an empty
// host or namespace, or the host ".", matching any), other key values by
// value (integers whatever their Go type, references recursively).
func (p ObjectPath) Equal(q ObjectPath) bool { return p.equal(q, strings.EqualFold) }

// equal is Equal with the rule by which two class names name one class
// (see SameObject).
func (p ObjectPath) equal(q ObjectPath, sameClass func(a, b string) bool) bool {
	if !sameClass(p.ClassName, q.ClassName) || p.Singleton != q.Singleton || len(p.Keys) != len(q.Keys) {
		return false
	}
	if p.Namespace != "" && q.Namespace != "" && !strings.EqualFold(normNS(p.Namespace), normNS(q.Namespace)) {
		return false
	}
	if p.Host != "" && q.Host != "" && p.Host != "." && q.Host != "." && !strings.EqualFold(p.Host, q.Host) {
		return false
	}
	for _, k := range p.Keys {
		v, ok := q.Key(k.Name)
		if !ok || !keyValueEqual(k.Value, v, sameClass) {
			return false
		}
	}
	return true
}

func normNS(ns string) string { return strings.Trim(strings.ReplaceAll(ns, `\`, "/"), "/") }

func keyValueEqual(a, b any, sameClass func(a, b string) bool) bool {
	pa, aIsPath := a.(ObjectPath)
	pb, bIsPath := b.(ObjectPath)
	if aIsPath || bIsPath {
		if !aIsPath {
			s, ok := a.(string)
			if !ok {
				return false
			}
			var err error
			if pa, err = ParseObjectPath(s); err != nil {
				return false
			}
		}
		if !bIsPath {
			s, ok := b.(string)
			if !ok {
				return false
			}
			var err error
			if pb, err = ParseObjectPath(s); err != nil {
				return false
			}
		}
		return pa.equal(pb, sameClass)
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.EqualFold(sa, sb)
		}
	}
	return Equal(a, b)
}

// Canonical returns the path with its keys sorted by name, so that equal
// paths format alike (used as a map key).
func (p ObjectPath) Canonical() string {
	q := p
	q.Keys = append([]KeyBinding(nil), p.Keys...)
	sort.Slice(q.Keys, func(i, j int) bool { return strings.ToLower(q.Keys[i].Name) < strings.ToLower(q.Keys[j].Name) })
	for i := range q.Keys {
		q.Keys[i].Name = strings.ToLower(q.Keys[i].Name)
		if op, ok := q.Keys[i].Value.(ObjectPath); ok {
			q.Keys[i].Value = op.Canonical()
		}
	}
	q.Namespace = strings.ToLower(normNS(q.Namespace))
	q.Host = strings.ToLower(q.Host)
	q.ClassName = strings.ToLower(q.ClassName)
	return q.String()
}

// ParseObjectPath parses the path forms that [ObjectPath] documents. Its
// errors are CIM_ERR_INVALID_PARAMETER and say at which byte the path went
// wrong.
func ParseObjectPath(s string) (ObjectPath, error) {
	var p ObjectPath
	fail := func(pos int, what string) (ObjectPath, error) {
		return ObjectPath{}, Errorf(ErrInvalidParameter, "object path %q: %s at offset %d", s, what, pos)
	}
	rest := strings.TrimSpace(s)
	off := len(s) - len(strings.TrimLeft(s, " \t"))
	if rest == "" {
		return fail(0, "empty path")
	}
	// Host: \\HOST\ or //HOST/
	if strings.HasPrefix(rest, `\\`) || strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		off += 2
		end := strings.IndexAny(rest, `\/`)
		if end <= 0 {
			return fail(off, "host name not followed by a namespace")
		}
		p.Host = rest[:end]
		rest = rest[end+1:]
		off += end + 1
	}
	// Namespace: everything before the first ':' that precedes any '.' or '='.
	colon := strings.IndexByte(rest, ':')
	firstKey := strings.IndexAny(rest, ".=")
	if colon >= 0 && (firstKey < 0 || colon < firstKey) {
		// Leading and trailing separators and spaces are not part of the
		// name (\\HOST\\root\cimv2\: is root/cimv2), and a namespace that
		// began with "//" or a space would not read back the same.
		p.Namespace = strings.TrimFunc(strings.ReplaceAll(rest[:colon], `\`, "/"), func(r rune) bool {
			return r == '/' || unicode.IsSpace(r)
		})
		if p.Namespace == "" {
			return fail(off, "empty namespace")
		}
		rest = rest[colon+1:]
		off += colon + 1
	} else if p.Host != "" {
		return fail(off, "a path with a host needs a namespace and ':'")
	}
	// Class name.
	n := 0
	for n < len(rest) && isNameByte(rest[n], n) {
		n++
	}
	if n == 0 {
		return fail(off, "expected a class name")
	}
	p.ClassName = rest[:n]
	rest = rest[n:]
	off += n
	if rest == "" {
		return p, nil
	}
	if rest == "=@" {
		p.Singleton = true
		return p, nil
	}
	if rest[0] == '=' {
		// Class=value: the shorthand for the one key of a class.
		val, used, err := parseKeyValue(rest[1:])
		if err != "" {
			return fail(off+1, err)
		}
		if used != len(rest)-1 {
			return fail(off+1+used, "the shorthand Class=value takes one value; name the keys for more")
		}
		p.Keys = []KeyBinding{{Value: val}}
		return p, nil
	}
	if rest[0] != '.' {
		return fail(off, "expected '.' before the keys")
	}
	rest = rest[1:]
	off++
	for {
		n = 0
		for n < len(rest) && isNameByte(rest[n], n) {
			n++
		}
		if n == 0 {
			return fail(off, "expected a key property name")
		}
		name := rest[:n]
		if _, dup := p.Key(name); dup {
			return fail(off, "key "+name+" is given twice")
		}
		rest = rest[n:]
		off += n
		if rest == "" || rest[0] != '=' {
			return fail(off, "expected '=' after key "+name)
		}
		rest = rest[1:]
		off++
		val, used, err := parseKeyValue(rest)
		if err != "" {
			return fail(off, err)
		}
		p.Keys = append(p.Keys, KeyBinding{Name: name, Value: val})
		rest = rest[used:]
		off += used
		if rest == "" {
			return p, nil
		}
		if rest[0] != ',' {
			return fail(off, "expected ',' between keys")
		}
		rest = rest[1:]
		off++
	}
}

func isNameByte(c byte, i int) bool {
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80 || (i > 0 && c >= '0' && c <= '9')
}

// parseKeyValue reads one key value at the start of s and returns it and
// how many bytes it used, or a description of what is wrong.
func parseKeyValue(s string) (any, int, string) {
	if s == "" {
		return nil, 0, "missing key value"
	}
	if s[0] == '"' || s[0] == '\'' {
		quote := s[0]
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if c == quote {
				return b.String(), i + 1, ""
			}
			b.WriteByte(c)
		}
		return nil, 0, "unterminated string"
	}
	end := strings.IndexByte(s, ',')
	if end < 0 {
		end = len(s)
	}
	tok := strings.TrimSpace(s[:end])
	switch strings.ToUpper(tok) {
	case "TRUE":
		return true, end, ""
	case "FALSE":
		return false, end, ""
	}
	if i, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return i, end, ""
	}
	if u, err := parseUint(tok); err == nil {
		if u <= 1<<63-1 {
			return int64(u), end, ""
		}
		return u, end, ""
	}
	// Reals in decimal notation only: ParseFloat's NaN, Inf and hex forms
	// would not read back as the same value.
	if strings.Trim(tok, "0123456789+-.eE") == "" {
		if f, err := strconv.ParseFloat(tok, 64); err == nil {
			return f, end, ""
		}
	}
	return nil, 0, "key value " + strconv.Quote(tok) + " is neither quoted nor a number nor a boolean"
}
