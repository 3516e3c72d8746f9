// Package output renders CIM instances for people and programs: an aligned
// table, a wmic-style list, JSON, CSV and MOF (and CIM-XML through a
// registered encoder). Every format writes as the instances come (see
// [Renderer.NewWriter]): JSON as a streamed array, CSV, list, MOF and XML
// instance by instance, flushed after each batch, the table measured on
// its first page; none holds more than a page, whatever the number of
// instances. Every format shows the same values; the human ones (table,
// list) escape what is not printable by one rule ([Escape]), and the table
// shows datetimes in local time with their offset.
package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// Format is an output format.
type Format string

// The output formats.
const (
	Table Format = "table"
	List  Format = "list"
	JSON  Format = "json"
	CSV   Format = "csv"
	MOF   Format = "mof"
	XML   Format = "xml"
)

// ParseFormat returns the format named s, or a usage error listing the
// allowed ones.
func ParseFormat(s string, allowed ...Format) (Format, error) {
	for _, f := range allowed {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(f)
	}
	return "", cim.Errorf(cim.ErrInvalidParameter, "unknown output format %q (choose %s)", s, strings.Join(names, ", "))
}

// XMLWriter begins a CIM-XML document of instances on w; the cimxml
// package's streaming document is registered here so that this package
// need not depend on it.
var XMLWriter func(w io.Writer, reg *schema.Registry, props []string) Writer

// Renderer writes instances in one format.
type Renderer struct {
	// Schema gives each instance's full property list, so that JSON and
	// CSV show unset properties as null and columns follow class order.
	Schema *schema.Registry
	// Properties, when set, are the only columns (a WQL select list);
	// otherwise every property of each instance's class.
	Properties []string
	// Classes are the classes whose instances may come (an enumeration's
	// class and its subclasses): without Properties, CSV's header is the
	// union of their properties, written even when no instance comes.
	// Without either, the header is that of the first batch's classes.
	Classes []string
	// Location is the zone a table shows datetimes in; nil is time.Local.
	Location *time.Location
	// Width is the most terminal cells a table line takes: longer values
	// are cut with [Marker] (or wrapped, see Wrap) to fit. 0 is no limit.
	Width int
	// Wrap makes the table wrap a value too long for its column onto more
	// lines instead of cutting it.
	Wrap bool
	// Note, when set, is told once, at the end, what the table did that a
	// reader should know: values cut or wrapped to fit Width, values of
	// columns left out because they were empty on the first page.
	Note func(string)
}

// Writer writes instances in one format as they come. Write takes one
// batch (a [provider.Emit], the slice lent for the call); Close ends the
// output (JSON's closing bracket, CSV's header when no row came, the table
// of fewer instances than a page) and must be called once.
//
// [provider.Emit]: https://pkg.go.dev/github.com/cimsess/cimsess/provider#Emit
type Writer interface {
	Write(batch []*cim.Instance) error
	Close() error
}

// NewWriter returns a writer of format f to w. The writers buffer at most
// a batch (the table: its first page, [TablePage] instances) and write
// to w after each batch.
func (r Renderer) NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case Table:
		return &tableWriter{r: r, w: bufio.NewWriterSize(w, 32<<10)}, nil
	case List:
		return &listWriter{r: r, w: bufio.NewWriterSize(w, 32<<10)}, nil
	case JSON:
		return &jsonWriter{r: r, w: w}, nil
	case CSV:
		return &csvWriter{r: r, w: w}, nil
	case MOF:
		return &mofWriter{r: r, w: bufio.NewWriterSize(w, 32<<10)}, nil
	case XML:
		if XMLWriter == nil {
			return nil, cim.Errorf(cim.ErrNotSupported, "XML output is not built in")
		}
		return XMLWriter(w, r.Schema, r.Properties), nil
	}
	return nil, cim.Errorf(cim.ErrInvalidParameter, "unknown output format %q", f)
}

// Write renders insts to w in format f, all at once.
func (r Renderer) Write(w io.Writer, f Format, insts []*cim.Instance) error {
	wr, err := r.NewWriter(w, f)
	if err != nil {
		return err
	}
	if len(insts) > 0 {
		if err := wr.Write(insts); err != nil {
			return err
		}
	}
	return wr.Close()
}

// propsOf returns the property names shown for one instance.
func (r Renderer) propsOf(in *cim.Instance) []string {
	if len(r.Properties) > 0 {
		return r.Properties
	}
	if r.Schema != nil {
		if c, err := r.Schema.Class(in.ClassName); err == nil {
			names := make([]string, len(c.Properties))
			for i, p := range c.Properties {
				names[i] = p.Name
			}
			return names
		}
	}
	names := make([]string, len(in.Properties))
	for i, p := range in.Properties {
		names[i] = p.Name
	}
	return names
}

// columns returns the union of the instances' properties, in order of
// first appearance; each class's list is looked at once.
func (r Renderer) columns(insts []*cim.Instance) []string {
	var cols []string
	seen := map[string]bool{}
	classes := map[string]bool{}
	last := ""
	for _, in := range insts {
		// Instances come in runs of one class: a map lookup each is
		// needed only where the class changes.
		if in.ClassName == last || classes[in.ClassName] {
			last = in.ClassName
			continue
		}
		last = in.ClassName
		classes[in.ClassName] = true
		for _, n := range r.propsOf(in) {
			k := strings.ToLower(n)
			if !seen[k] {
				seen[k] = true
				cols = append(cols, n)
			}
		}
	}
	return cols
}

// JSONValue converts a CIM value to what encoding/json writes for it:
// datetimes and references as their strings, numbers as numbers, arrays
// as arrays, NULL as nil, non-finite reals as strings.
func JSONValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case cim.DateTime, cim.ObjectPath, cim.Char16:
		return cim.FormatValue(x)
	case float32:
		if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
			return cim.FormatValue(x)
		}
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return cim.FormatValue(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	}
	return v
}

// orderedObject is a JSON object that keeps its keys in order.
type orderedObject []struct {
	Key   string
	Value any
}

// MarshalJSON writes the object with its keys in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(kv.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// valueOf is the value of property name of in; __PATH, when the instance
// does not hold it as a property, is its path (as WMI has it on every
// object), so that a select list's __PATH column is never empty.
func valueOf(in *cim.Instance, name string) any {
	v := in.Value(name)
	switch {
	case v != nil || in.Path.ClassName == "":
		return v
	case strings.EqualFold(name, "__PATH"):
		return pathOf(in)
	case strings.EqualFold(name, "__RELPATH"):
		// An instance that came without it (from another host) says it
		// by its path, as a local query's projection does.
		return in.Path.Relative().String()
	}
	return nil
}

// pathOf is in's path as text, or nil when it has none.
func pathOf(in *cim.Instance) any {
	if in.Path.ClassName == "" {
		return nil
	}
	return in.Path.String()
}

// Object returns one instance as an ordered JSON object: __CLASS, __PATH,
// then each shown property.
func (r Renderer) Object(in *cim.Instance) json.Marshaler {
	obj := orderedObject{{"__CLASS", in.ClassName}, {"__PATH", in.Path.String()}}
	for _, n := range r.propsOf(in) {
		if strings.EqualFold(n, "__CLASS") || strings.EqualFold(n, "__PATH") {
			continue // written first already (a select list may name them)
		}
		obj = append(obj, struct {
			Key   string
			Value any
		}{n, JSONValue(valueOf(in, n))})
	}
	return obj
}

// csvBufSize is how much CSV is gathered before each write.
const csvBufSize = 64 << 10

// csvRows formats instances as CSV rows of the columns of index.
type csvRows struct {
	index   map[string]int // column of a property name, and of it in lower case
	layouts []csvLayout
	row     []any // one value per column
	pathCol int   // the __PATH column, or -1
}

// append appends the row of in to b.
func (rw *csvRows) append(b []byte, in *cim.Instance) []byte {
	clear(rw.row)
	l := findLayout(rw.layouts, in)
	if l == nil {
		if len(rw.layouts) == maxCSVLayouts {
			rw.layouts = rw.layouts[:0]
		}
		rw.layouts = append(rw.layouts, newCSVLayout(in.Properties, rw.index))
		l = &rw.layouts[len(rw.layouts)-1]
	}
	for k, pv := range in.Properties {
		if i := l.col[k]; i >= 0 {
			rw.row[i] = pv.Value
		}
	}
	if rw.pathCol >= 0 && rw.row[rw.pathCol] == nil {
		rw.row[rw.pathCol] = pathOf(in)
	}
	b = appendCSVField(b, in.ClassName)
	for _, v := range rw.row {
		b = append(b, ',')
		b = appendCSVValue(b, v)
	}
	return append(b, '\n')
}

// maxCSVLayouts bounds the layouts the CSV writer remembers.
const maxCSVLayouts = 16

// csvLayout maps the properties of instances whose properties have the
// same names in the same order to their columns (-1 for none).
type csvLayout struct {
	names []string
	col   []int
}

func newCSVLayout(props []cim.PropertyValue, index map[string]int) csvLayout {
	l := csvLayout{names: make([]string, len(props)), col: make([]int, len(props))}
	for k, pv := range props {
		l.names[k] = pv.Name
		i, ok := index[pv.Name]
		if !ok {
			i, ok = index[strings.ToLower(pv.Name)]
		}
		if !ok {
			i = -1
		}
		l.col[k] = i
	}
	return l
}

// findLayout returns the layout of in's property names, or nil.
func findLayout(layouts []csvLayout, in *cim.Instance) *csvLayout {
	for j := range layouts {
		if in.HasNames(layouts[j].names) {
			return &layouts[j]
		}
	}
	return nil
}

// appendCSVValue appends one value as a CSV field: the text
// cim.FormatValue gives it, quoted where that needs it.
func appendCSVValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return b
	case string:
		return appendCSVField(b, x)
	}
	if out, ok := cim.AppendPlain(b, v); ok {
		return out // never quoted
	}
	return appendCSVField(b, cim.FormatValue(v))
}

// appendCSVField appends s as a CSV field, quoted (its quotes doubled)
// when it holds a comma, a quote, a CR or LF, begins with white space or
// is \. — the fields encoding/csv quotes.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// csvSpecial marks the bytes that make a field need quotes.
var csvSpecial = [256]bool{',': true, '"': true, '\n': true, '\r': true}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	if len(s) < 32 {
		// short: one pass, a table lookup a byte
		for i := 0; i < len(s); i++ {
			if csvSpecial[s[i]] {
				return true
			}
		}
	} else if strings.IndexByte(s, ',') >= 0 || strings.IndexByte(s, '"') >= 0 ||
		strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0 {
		// long (the Descriptions most rows hold): four vectorised scans
		// beat one byte-by-byte pass
		return true
	}
	if c := s[0]; c < utf8.RuneSelf {
		return c == ' ' || ('\t' <= c && c <= '\r')
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// MOFValue renders a value as a MOF literal.
func MOFValue(v any) string {
	switch x := v.(type) {
	case string:
		return mofString(x)
	case cim.DateTime, cim.ObjectPath:
		return mofString(cim.FormatValue(x))
	case cim.Char16:
		return "'" + strings.TrimSuffix(strings.TrimPrefix(mofString(x.String()), `"`), `"`) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = MOFValue(e)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case nil:
		return "NULL"
	}
	return cim.FormatValue(v)
}

func mofString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\x%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// classColumns returns the union of the properties of the named classes
// (as the schema declares them), in order of first appearance.
func (r Renderer) classColumns(classes []string) []string {
	var cols []string
	for _, name := range classes {
		if r.Schema == nil {
			break
		}
		c, err := r.Schema.Class(name)
		if err != nil {
			continue
		}
		for _, p := range c.Properties {
			cols = append(cols, p.Name)
		}
	}
	return uniqueFold(cols)
}

// uniqueFold returns names without the repeats of a name in another case,
// in order, as a new slice.
func uniqueFold(names []string) []string {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}
