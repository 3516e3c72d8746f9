package wire

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// parseFast reads an event in the form agents write it — every member
// named once in lower case, names without escapes, a previous instance
// only as an object — in one pass over the bytes, with two copies of
// them as its only large allocations: the event's strings are substrings
// of one string (unless they have escapes), its raw values slices of one
// byte slice. ok is false for anything else, which the
// caller then reads with encoding/json (the reference: whatever parseFast
// takes, it reads to the same event, see FuzzParseFast).
func parseFast(data []byte) (ev *Event, ok bool) {
	s, ok := newFastScanner(data)
	if !ok {
		return nil, false
	}
	var out Event
	ok = s.object(eventMembers, func(key string) (ok bool) {
		switch key {
		case "seq":
			out.Seq, ok = s.uint()
		case "time":
			ok = s.time(&out.Time)
		case "instance":
			ok = s.instance(&out.Instance)
		case "previous":
			var p Instance
			if ok = s.instance(&p); ok {
				out.Previous = &p
			}
		default:
			*out.text(key), ok = s.text()
		}
		return ok
	})
	if !ok || !s.end() {
		return nil, false
	}
	return &out, true
}

// eventMembers are the members of an event's JSON object.
var eventMembers = []string{"id", "host", "seq", "kind", "time", "class", "path", "instance", "previous"}

// text returns the string field of the event's member key (one of
// eventMembers that is a string).
func (e *Event) text(key string) *string {
	switch key {
	case "id":
		return &e.ID
	case "host":
		return &e.Host
	case "kind":
		return &e.Kind
	case "class":
		return &e.Class
	}
	return &e.Path
}

// fastScanner walks the bytes b, of which str is the copy as a string
// (made once the bytes look like an object), and raw a copy as bytes
// (made when a raw value is first kept).
type fastScanner struct {
	b   []byte
	i   int
	str string
	raw []byte
}

// newFastScanner returns a scanner of data when data is a JSON object
// at first sight (its first byte after white space is '{'); the string
// copy of the bytes is made only then.
func newFastScanner(data []byte) (*fastScanner, bool) {
	s := &fastScanner{b: data}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	s.str = string(data)
	return s, true
}

// object reads a JSON object whose member names are plain, among names
// (at most 64) and each given once, calling member with each name to
// read its value. It reports false for anything else, or when member
// does.
func (s *fastScanner) object(names []string, member func(key string) bool) bool {
	if !s.byte('{') {
		return false
	}
	var seen uint64 // the bit of each member's index in names
	for first := true; ; first = false {
		if s.byte('}') {
			return true
		}
		if !first && !s.byte(',') {
			return false
		}
		key, ok := s.plain()
		if !ok || !s.byte(':') {
			return false
		}
		i := slices.Index(names, key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		if !member(key) {
			return false
		}
	}
}

// array reads a JSON array, calling elem to read each element. It
// reports false for anything else, or when elem does.
func (s *fastScanner) array(elem func() bool) bool {
	if !s.byte('[') {
		return false
	}
	for first := true; ; first = false {
		if s.byte(']') {
			return true
		}
		if !first && !s.byte(',') {
			return false
		}
		if !elem() {
			return false
		}
	}
}

// end reports whether nothing but white space is left.
func (s *fastScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

func (s *fastScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte skips white space and c, reporting whether c came.
func (s *fastScanner) byte(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plain reads a string without escapes or control characters, in valid
// UTF-8 (so its bytes are its value), as a substring of str.
func (s *fastScanner) plain() (string, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	n := bytes.IndexByte(s.b[start:], '"')
	if n < 0 {
		return "", false
	}
	if !isPlain(s.b[start : start+n]) {
		return "", false
	}
	s.i = start + n + 1
	return s.str[start : start+n], true
}

// text reads a JSON string; its one-letter escapes are undone here,
// one with \u escapes or invalid UTF-8 is unquoted by encoding/json.
func (s *fastScanner) text() (string, bool) {
	if v, ok := s.plain(); ok {
		return v, true
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	end := s.stringEnd(s.i + 1)
	if end < 0 {
		return "", false
	}
	body := s.b[s.i+1 : end]
	buf := make([]byte, 0, len(body))
	for j := 0; j < len(body); j++ {
		c := body[j]
		if c < 0x20 {
			return "", false
		}
		if c != '\\' {
			buf = append(buf, c)
			continue
		}
		j++ // a backslash is never body's last byte: it would escape the closing quote
		switch e := body[j]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		default:
			return s.unquote(end)
		}
	}
	if !utf8.Valid(buf) {
		return s.unquote(end)
	}
	s.i = end + 1
	return string(buf), true
}

// unquote reads the string from s.i to the quote at end with
// encoding/json.
func (s *fastScanner) unquote(end int) (string, bool) {
	var v string
	if err := json.Unmarshal(s.b[s.i:end+1], &v); err != nil {
		return "", false
	}
	s.i = end + 1
	return v, true
}

// uint reads a JSON number that is a decimal integer fitting uint64.
func (s *fastScanner) uint() (uint64, bool) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	d := s.b[start:s.i]
	if len(d) == 0 || (d[0] == '0' && len(d) > 1) {
		return 0, false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s.str[start:s.i], 10, 64)
	return v, err == nil
}

// time reads a time as time.Time's UnmarshalJSON does (RFC 3339).
func (s *fastScanner) time(t *time.Time) bool {
	s.ws()
	start := s.i
	if _, ok := s.plain(); !ok {
		return false
	}
	return t.UnmarshalJSON(s.b[start:s.i]) == nil
}

// instance reads a wire instance: class, path and properties, each at
// most once, property names plain and distinct in any case.
func (s *fastScanner) instance(in *Instance) bool {
	var out Instance
	ok := s.object(instanceMembers, func(key string) (ok bool) {
		switch key {
		case "class":
			out.Class, ok = s.text()
		case "path":
			out.Path, ok = s.text()
		default:
			ok = s.properties(&out)
		}
		return ok
	})
	if ok {
		*in = out
	}
	return ok
}

// instanceMembers are the members of a wire instance's JSON object.
var instanceMembers = []string{"class", "path", "properties"}

func (s *fastScanner) properties(out *Instance) bool {
	if !s.byte('{') {
		return false
	}
	for first := true; ; first = false {
		if s.byte('}') {
			return true
		}
		if !first && !s.byte(',') {
			return false
		}
		name, ok := s.plain()
		if !ok || !s.byte(':') || len(out.Properties) == MaxProperties {
			return false
		}
		for i := 0; i < len(name); i++ {
			if name[i] >= utf8.RuneSelf {
				return false // the reference folds Unicode case; leave it those
			}
		}
		for _, p := range out.Properties {
			if len(p.Name) == len(name) && strings.EqualFold(p.Name, name) {
				return false
			}
		}
		v, ok := s.value()
		if !ok {
			return false
		}
		if out.Properties == nil {
			out.Properties = make([]Property, 0, 24)
		}
		out.Properties = append(out.Properties, Property{Name: name, Value: v})
	}
}

// value reads one JSON value and returns its bytes (a slice of raw).
func (s *fastScanner) value() (json.RawMessage, bool) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		j, esc := s.i+1, false
		for {
			if j >= len(s.b) {
				return nil, false
			}
			c := s.b[j]
			if c == '"' {
				break
			}
			if c == '\\' {
				esc = true
				j += 2
				continue
			}
			if c < 0x20 {
				return nil, false
			}
			j++
		}
		s.i = j + 1
		if esc && !json.Valid(s.b[start:s.i]) {
			return nil, false
		}
	case c == 't':
		if !s.literal("true") {
			return nil, false
		}
	case c == 'f':
		if !s.literal("false") {
			return nil, false
		}
	case c == 'n':
		if !s.literal("null") {
			return nil, false
		}
	case c == '-' || c >= '0' && c <= '9':
		if !s.number() {
			return nil, false
		}
	case c == '[' || c == '{':
		depth := 0
		for {
			if s.i >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i] {
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			case '"':
				n := s.stringEnd(s.i + 1)
				if n < 0 {
					return nil, false
				}
				s.i = n
			}
			s.i++
			if depth == 0 {
				break
			}
		}
		if !json.Valid(s.b[start:s.i]) {
			return nil, false
		}
	default:
		return nil, false
	}
	if s.raw == nil {
		s.raw = bytes.Clone(s.b)
	}
	return s.raw[start:s.i:s.i], true
}

// stringEnd returns the index of the quote that closes the string whose
// contents begin at j, or -1.
func (s *fastScanner) stringEnd(j int) int {
	for j < len(s.b) {
		switch s.b[j] {
		case '"':
			return j
		case '\\':
			j += 2
		default:
			j++
		}
	}
	return -1
}

func (s *fastScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *fastScanner) number() bool {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = i
	return true
}
