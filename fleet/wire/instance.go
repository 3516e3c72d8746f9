package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// Limits on what DecodeInstance and Instance's UnmarshalJSON accept: no
// class of the schema comes near them, and they keep a hostile message
// from costing more than its size.
const (
	// MaxProperties bounds the properties of one instance.
	MaxProperties = 256
	// MaxArray bounds the elements of one array value.
	MaxArray = 4096
)

// Instance is a CIM instance on the wire: its class and its properties
// in the order the provider set them. Its JSON form is
//
//	{"class":"Linux_LogonSession","properties":{"LogonId":"42","StartTime":"20260101…","LogonType":10}}
//
// and a "path" member after the class when the properties lack a key.
// with each value as [EncodeInstance] writes it. The zero Instance has no
// class and decodes to an error.
type Instance struct {
	Class string
	// Path is the instance's relative object path; empty when the
	// instance has every key (the path follows from them). A projection
	// (SELECT Name FROM …) that leaves keys out carries it.
	Path       string
	Properties []Property
}

// Property is one property of an [Instance]: its name and its value's
// JSON text.
type Property struct {
	Name  string
	Value json.RawMessage
}

// EncodeInstance returns the wire form of an instance. Every value must be
// of the cim package's mapping; anything else is CIM_ERR_TYPE_MISMATCH.
// The path goes along when a key of the path is not among the properties.
func EncodeInstance(in *cim.Instance) (Instance, error) {
	out := Instance{Class: in.ClassName, Properties: make([]Property, 0, len(in.Properties))}
	for _, k := range in.Path.Keys {
		if _, ok := in.Get(k.Name); !ok {
			out.Path = in.Path.Relative().String()
			break
		}
	}
	var buf []byte
	for _, p := range in.Properties {
		start := len(buf)
		var err error
		buf, err = appendValue(buf, p.Value)
		if err != nil {
			return Instance{}, cim.Errorf(cim.ErrTypeMismatch, "%s.%s: %v", in.ClassName, p.Name, err)
		}
		out.Properties = append(out.Properties, Property{Name: p.Name, Value: buf[start:len(buf):len(buf)]})
	}
	return out, nil
}

type valueError struct{ v any }

func (e valueError) Error() string { return fmt.Sprintf("a value of Go type %T has no CIM type", e.v) }

func appendValue(b []byte, v any) ([]byte, error) {
	if d, ok := v.(cim.DateTime); ok {
		// A datetime is a string on the wire.
		b, _ = d.AppendText(append(b, '"'))
		return append(b, '"'), nil
	}
	if out, ok := cim.AppendPlain(b, v); ok {
		return out, nil
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case cim.Char16:
		return appendString(b, x.String()), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case cim.ObjectPath:
		return appendString(b, x.String()), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if _, nested := e.([]any); nested {
				return nil, valueError{e}
			}
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, valueError{v}
}

// appendString appends s as encoding/json writes it: printable ASCII
// that needs no escape as it is, anything else through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always marshals
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// MarshalJSON writes the instance as one JSON object, the properties in
// their order.
func (in Instance) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+32*len(in.Properties))
	b = append(b, `{"class":`...)
	b = appendString(b, in.Class)
	if in.Path != "" {
		b = append(b, `,"path":`...)
		b = appendString(b, in.Path)
	}
	b = append(b, `,"properties":{`...)
	for i, p := range in.Properties {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p.Name)
		b = append(b, ':')
		if len(p.Value) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, p.Value...)
		}
	}
	return append(b, "}}"...), nil
}

// UnmarshalJSON reads the form MarshalJSON writes, keeping the order of
// the properties. A property named twice, more than [MaxProperties]
// properties, or a member other than class and properties is an error.
func (in *Instance) UnmarshalJSON(data []byte) error {
	bad := func(what string) error {
		return cim.Errorf(cim.ErrInvalidParameter, "wire instance: %s", what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad("not a JSON object")
	}
	var out Instance
	seenClass, seenProps := false, false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad(err.Error())
		}
		switch t {
		case "class":
			if seenClass {
				return bad("class given twice")
			}
			seenClass = true
			if err := dec.Decode(&out.Class); err != nil {
				return bad("class is not a string")
			}
		case "path":
			if out.Path != "" {
				return bad("path given twice")
			}
			if err := dec.Decode(&out.Path); err != nil {
				return bad("path is not a string")
			}
		case "properties":
			if seenProps {
				return bad("properties given twice")
			}
			seenProps = true
			if t, err := dec.Token(); err != nil || t != json.Delim('{') {
				return bad("properties is not an object")
			}
			seen := map[string]bool{}
			for dec.More() {
				t, err := dec.Token()
				if err != nil {
					return bad(err.Error())
				}
				name, _ := t.(string)
				k := strings.ToLower(name)
				if seen[k] {
					return bad("property " + strconv.Quote(clip(name)) + " given twice")
				}
				seen[k] = true
				if len(out.Properties) == MaxProperties {
					return bad("more than " + strconv.Itoa(MaxProperties) + " properties")
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return bad(err.Error())
				}
				out.Properties = append(out.Properties, Property{Name: name, Value: raw})
			}
			if _, err := dec.Token(); err != nil {
				return bad(err.Error())
			}
		default:
			return bad("unknown member " + strconv.Quote(clip(fmtToken(t))))
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err.Error())
	}
	*in = out
	return nil
}

func fmtToken(t json.Token) string {
	if s, ok := t.(string); ok {
		return s
	}
	return fmt.Sprintf("%T", t)
}

// DecodeInstance returns the CIM instance of a wire instance, each value
// given the type its class declares in reg: a JSON number or string is
// parsed as that type (cim.ParseValue), a bool must be a boolean, an
// array an array. Properties that reg's class does not have (an agent of
// a newer schema) are left out; a value that does not fit its property's
// type, an unknown class, or an instance that fails reg's validation is an
// error. The instance's Path is relative (no host, no namespace): the
// receiver knows the host.
func DecodeInstance(reg *schema.Registry, w Instance) (*cim.Instance, error) {
	if w.Class == "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wire instance: no class")
	}
	c, err := reg.Class(w.Class)
	if err != nil {
		return nil, err
	}
	if len(w.Properties) > MaxProperties {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wire instance: more than %d properties", MaxProperties)
	}
	in := &cim.Instance{ClassName: c.Name, Properties: make([]cim.PropertyValue, 0, len(w.Properties))}
	for _, p := range w.Properties {
		prop := c.Property(p.Name)
		if prop == nil {
			continue
		}
		if _, dup := in.Get(prop.Name); dup {
			return nil, cim.Errorf(cim.ErrInvalidParameter, "wire instance: property %s given twice", prop.Name)
		}
		v, err := decodeValue(prop.Type, p.Value)
		if err != nil {
			return nil, cim.Errorf(cim.ErrTypeMismatch, "%s.%s: %v", c.Name, prop.Name, err)
		}
		in.Properties = append(in.Properties, cim.PropertyValue{Name: prop.Name, Value: v})
	}
	if w.Path != "" {
		return withPath(reg, c, in, w.Path)
	}
	if err := reg.Validate(in); err != nil {
		return nil, err
	}
	if in.Path, err = reg.PathOf(in, "", ""); err != nil {
		return nil, err
	}
	return in, nil
}

// withPath checks a projection against its path: the path names an
// instance of the class, and the instance with the path's keys added is
// valid.
func withPath(reg *schema.Registry, c *cim.Class, in *cim.Instance, path string) (*cim.Instance, error) {
	p, err := cim.ParseObjectPath(path)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(p.ClassName, c.Name) || p.IsClass() || p.Host != "" || p.Namespace != "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "wire instance: path %q is not a relative path of a %s", clip(path), c.Name)
	}
	full := in.Clone()
	for _, k := range p.Keys {
		prop := c.Property(k.Name)
		if prop == nil || !prop.Qualifiers.Bool("Key") {
			return nil, cim.Errorf(cim.ErrInvalidParameter, "wire instance: path %q has a key %s that %s does not have", clip(path), k.Name, c.Name)
		}
		if _, ok := full.Get(prop.Name); ok {
			continue
		}
		v, err := cim.Convert(prop.Type, k.Value)
		if err != nil {
			return nil, err
		}
		full.Set(prop.Name, v)
	}
	if err := reg.Validate(full); err != nil {
		return nil, err
	}
	if in.Path, err = reg.PathOf(full, "", ""); err != nil {
		return nil, err
	}
	return in, nil
}

func decodeValue(t cim.Type, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if !t.Array {
		return decodeScalar(t, raw)
	}
	if raw[0] != '[' {
		return nil, cim.Errorf(cim.ErrTypeMismatch, "%s needs an array", t)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, cim.Errorf(cim.ErrTypeMismatch, "bad array: %v", err)
	}
	if len(elems) > MaxArray {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "an array of more than %d elements", MaxArray)
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		e = bytes.TrimSpace(e)
		if string(e) == "null" {
			continue
		}
		v, err := decodeScalar(t.Scalar(), e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func decodeScalar(t cim.Type, raw json.RawMessage) (any, error) {
	switch c := raw[0]; {
	case c == '"':
		s, ok := plainString(raw)
		if !ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, cim.Errorf(cim.ErrTypeMismatch, "bad string: %v", err)
			}
		}
		if t.Kind == cim.KindString {
			return s, nil
		}
		return cim.ParseValue(t, s)
	case c == 't' || c == 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil || t.Kind != cim.KindBoolean {
			return nil, cim.Errorf(cim.ErrTypeMismatch, "%s cannot be %s", t, clip(string(raw)))
		}
		return b, nil
	case c == '-' || c >= '0' && c <= '9':
		if !t.Kind.IsNumeric() || !json.Valid(raw) {
			return nil, cim.Errorf(cim.ErrTypeMismatch, "%s cannot be %s", t, clip(string(raw)))
		}
		return cim.ParseValue(t, string(raw))
	}
	return nil, cim.Errorf(cim.ErrTypeMismatch, "%s cannot be %s", t, clip(string(raw)))
}

// plainString returns the value of a JSON string (quotes included) that
// has no escape or control character and is valid UTF-8, so that its
// bytes are its value; ok is false for any other.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	v := raw[1 : len(raw)-1]
	if bytes.IndexByte(v, '"') >= 0 || !isPlain(v) {
		return "", false
	}
	return string(v), true
}

// isPlain reports whether v, a JSON string's bytes between its quotes,
// is its value: no escape, no control character, valid UTF-8.
func isPlain(v []byte) bool {
	ascii := true
	for _, c := range v {
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(v)
}
