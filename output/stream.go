package output

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/mof"
)

// listWriter writes wmic's list: Name=value lines, a blank line between
// instances, values escaped by [Escape].
type listWriter struct {
	r   Renderer
	w   *bufio.Writer
	any bool
}

func (l *listWriter) Write(batch []*cim.Instance) error {
	for _, in := range batch {
		if l.any {
			l.w.WriteByte('\n')
		}
		l.any = true
		for _, n := range l.r.propsOf(in) {
			l.w.WriteString(n)
			l.w.WriteByte('=')
			l.w.WriteString(Escape(cim.FormatValue(valueOf(in, n))))
			l.w.WriteByte('\n')
		}
	}
	return l.w.Flush()
}

func (l *listWriter) Close() error { return l.w.Flush() }

// mofWriter writes one "instance of" block per instance, and a class (a
// query's class object) as its declaration, so that the output is MOF a
// compiler reads: system properties, which MOF has no syntax for, are
// comments before their object.
type mofWriter struct {
	r Renderer
	w *bufio.Writer
}

func (m *mofWriter) Write(batch []*cim.Instance) error {
	for _, in := range batch {
		props := m.r.propsOf(in)
		for _, n := range props {
			if v := valueOf(in, n); v != nil && strings.HasPrefix(n, "__") {
				m.w.WriteString("// ")
				m.w.WriteString(n)
				m.w.WriteString(" = ")
				m.w.WriteString(strings.ReplaceAll(MOFValue(v), "\n", " "))
				m.w.WriteByte('\n')
			}
		}
		if isClassObject(in) {
			if c, err := m.r.declared(in.ClassName); err == nil {
				m.w.WriteString(mof.Format(c))
				m.w.WriteString("\n")
			} else {
				m.w.WriteString("// class " + in.ClassName + ": its declaration is not in this program's schema\n\n")
			}
			continue
		}
		m.w.WriteString("instance of ")
		m.w.WriteString(in.ClassName)
		m.w.WriteString("\n{\n")
		for _, n := range props {
			v := valueOf(in, n)
			if v == nil || strings.HasPrefix(n, "__") {
				continue
			}
			m.w.WriteByte('\t')
			m.w.WriteString(n)
			m.w.WriteString(" = ")
			m.w.WriteString(MOFValue(v))
			m.w.WriteString(";\n")
		}
		m.w.WriteString("};\n\n")
	}
	return m.w.Flush()
}

func (m *mofWriter) Close() error { return m.w.Flush() }

// isClassObject reports whether in is a class, as a query returns one
// (meta_class, ClassDefsOnly, SchemaOnly): a path without keys, and
// __GENUS 1, or, from a host that sends no __GENUS, no property but
// system ones. An instance whose path has no keys because no schema here
// names them (from a host that did not send its path) has properties of
// its own, NULL or not, and is written as an instance.
func isClassObject(in *cim.Instance) bool {
	if in.Path.ClassName == "" || !in.Path.IsClass() {
		return false
	}
	if g, ok := in.Get("__GENUS"); ok {
		return cim.FormatValue(g) == "1"
	}
	for _, pv := range in.Properties {
		if !strings.HasPrefix(pv.Name, "__") {
			return false
		}
	}
	return true
}

// jsonWriter writes a JSON array of objects, one at a time, indented as
// encoding/json's Encoder with SetIndent("", "  ") would write the whole
// array.
type jsonWriter struct {
	r   Renderer
	w   io.Writer
	buf []byte
	n   int
}

func (j *jsonWriter) Write(batch []*cim.Instance) error {
	b := j.buf[:0]
	for _, in := range batch {
		if j.n == 0 {
			b = append(b, "[\n  "...)
		} else {
			b = append(b, ",\n  "...)
		}
		j.n++
		var err error
		if b, err = j.r.appendObject(b, in); err != nil {
			return err
		}
	}
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) Close() error {
	if j.n == 0 {
		_, err := io.WriteString(j.w, "[]\n")
		return err
	}
	_, err := io.WriteString(j.w, "\n]\n")
	return err
}

// appendObject appends in as the ordered object of [Renderer.Object],
// indented at the second level.
func (r Renderer) appendObject(b []byte, in *cim.Instance) ([]byte, error) {
	b = append(b, "{\n    \"__CLASS\": "...)
	b = appendJSONString(b, in.ClassName)
	b = append(b, ",\n    \"__PATH\": "...)
	b = appendJSONString(b, in.Path.String())
	for _, n := range r.propsOf(in) {
		if strings.EqualFold(n, "__CLASS") || strings.EqualFold(n, "__PATH") {
			continue // written first already (a select list may name them)
		}
		b = append(b, ",\n    "...)
		b = appendJSONString(b, n)
		b = append(b, ": "...)
		var err error
		if b, err = appendJSONValue(b, valueOf(in, n)); err != nil {
			return b, err
		}
	}
	return append(b, "\n  }"...), nil
}

// appendJSONValue appends what encoding/json writes for JSONValue(v)
// (indented for the third level), without its reflection for the common
// scalars.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case cim.DateTime:
		b, _ = x.AppendText(append(b, '"')) // digits, '.', '+', '-', ':', '*' only
		return append(b, '"'), nil
	case cim.ObjectPath, cim.Char16:
		return appendJSONString(b, cim.FormatValue(x)), nil
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64:
		if out, ok := cim.AppendPlain(b, v); ok {
			return out, nil
		}
	}
	out, err := json.MarshalIndent(JSONValue(v), "    ", "  ")
	if err != nil {
		return b, cim.Wrap(cim.ErrFailed, err)
	}
	return append(b, out...), nil
}

// appendJSONString appends s quoted as encoding/json quotes it (HTML
// characters escaped, invalid UTF-8 replaced); strings of plain ASCII go
// without a call into encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// csvWriter writes RFC 4180 rows, as encoding/csv would (the same fields
// quoted), the header first, even when no row comes.
type csvWriter struct {
	r      Renderer
	w      io.Writer
	rows   *csvRows
	buf    []byte
	header bool
}

// start fixes the columns (from the select list, the classes that may
// come, or the first batch) and appends the header.
func (c *csvWriter) start(first []*cim.Instance) {
	var cols []string
	switch {
	case len(c.r.Properties) > 0:
		cols = uniqueFold(c.r.Properties)
	case len(c.r.Classes) > 0:
		cols = c.r.classColumns(c.r.Classes)
	default:
		cols = c.r.columns(first)
	}
	for i, col := range cols {
		if strings.EqualFold(col, "__CLASS") { // the first column already (a select list may name it)
			cols = append(cols[:i:i], cols[i+1:]...)
			break
		}
	}
	c.buf = make([]byte, 0, csvBufSize+1024)
	c.buf = appendCSVField(c.buf, "__CLASS")
	for _, col := range cols {
		c.buf = append(c.buf, ',')
		c.buf = appendCSVField(c.buf, col)
	}
	c.buf = append(c.buf, '\n')
	// Each instance's values go to their columns in one pass over the
	// instance, not one search of it per column; the columns of an
	// instance's properties are looked up once per layout (the sequence of
	// property names), which a provider repeats from instance to instance.
	index := make(map[string]int, 2*len(cols))
	for i, col := range cols {
		index[col] = i
		index[strings.ToLower(col)] = i
	}
	pathCol := -1
	if i, ok := index["__path"]; ok {
		pathCol = i
	}
	c.rows = &csvRows{index: index, row: make([]any, len(cols)), pathCol: pathCol}
	c.header = true
}

func (c *csvWriter) Write(batch []*cim.Instance) error {
	if !c.header {
		c.start(batch)
	}
	for _, in := range batch {
		c.buf = c.rows.append(c.buf, in)
		if len(c.buf) >= csvBufSize {
			if _, err := c.w.Write(c.buf); err != nil {
				return err
			}
			c.buf = c.buf[:0]
		}
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

func (c *csvWriter) Close() error {
	if c.header {
		return nil
	}
	c.start(nil)
	_, err := c.w.Write(c.buf)
	return err
}

// declared returns the class as its MOF declares it (its own properties,
// not those it inherits), when the renderer has a schema that knows it.
func (r Renderer) declared(name string) (*cim.Class, error) {
	if r.Schema == nil {
		return nil, cim.Errorf(cim.ErrInvalidClass, "no schema")
	}
	return r.Schema.Declared(name)
}
