// Package output renders CIM instances for people and programs: an aligned
// table, a wmic-style list, JSON, CSV and MOF (and CIM-XML through a
// registered encoder). Every format shows the same values; only the table
// makes datetimes friendlier to read.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
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

// XMLEncoder writes instances as CIM-XML; the cimxml package registers
// itself here so that this package need not depend on it.
var XMLEncoder func(w io.Writer, insts []*cim.Instance, reg *schema.Registry) error

// Renderer writes instances in one format.
type Renderer struct {
	// Schema gives each instance's full property list, so that JSON and
	// CSV show unset properties as null and columns follow class order.
	Schema *schema.Registry
	// Properties, when set, are the only columns (a WQL select list);
	// otherwise every property of each instance's class.
	Properties []string
	// Location is the zone a table shows datetimes in; nil is time.Local.
	Location *time.Location
}

// Write renders insts to w in format f.
func (r Renderer) Write(w io.Writer, f Format, insts []*cim.Instance) error {
	switch f {
	case Table:
		return r.table(w, insts)
	case List:
		return r.list(w, insts)
	case JSON:
		return r.json(w, insts)
	case CSV:
		return r.csv(w, insts)
	case MOF:
		return r.mof(w, insts)
	case XML:
		if XMLEncoder == nil {
			return cim.Errorf(cim.ErrNotSupported, "XML output is not built in")
		}
		return XMLEncoder(w, insts, r.Schema)
	}
	return cim.Errorf(cim.ErrInvalidParameter, "unknown output format %q", f)
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

func (r Renderer) table(w io.Writer, insts []*cim.Instance) error {
	if len(insts) == 0 {
		return nil
	}
	cols := r.columns(insts)
	if len(r.Properties) == 0 {
		// A table of every property is too wide to read: leave out the
		// columns that no instance has a value for.
		var kept []string
		for _, c := range cols {
			for _, in := range insts {
				if in.Value(c) != nil {
					kept = append(kept, c)
					break
				}
			}
		}
		cols = kept
	}
	cells := make([][]string, len(insts)+1)
	cells[0] = cols
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for row, in := range insts {
		line := make([]string, len(cols))
		for i, c := range cols {
			line[i] = r.human(in.Value(c))
			if n := utf8.RuneCountInString(line[i]); n > width[i] {
				width[i] = n
			}
		}
		cells[row+1] = line
	}
	var b strings.Builder
	for _, line := range cells {
		b.Reset()
		for i, cell := range line {
			if i == len(line)-1 {
				b.WriteString(cell)
				break
			}
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell)+2))
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// human renders a value for a table: datetimes in the local zone,
// intervals as [Nd]HH:MM:SS, control characters escaped.
func (r Renderer) human(v any) string {
	switch x := v.(type) {
	case cim.DateTime:
		if d, ok := x.Duration(); ok {
			days := int64(d / (24 * time.Hour))
			d -= time.Duration(days) * 24 * time.Hour
			s := fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
			if days > 0 {
				s = fmt.Sprintf("%dd%s", days, s)
			}
			return s
		}
		if t, ok := x.Time(); ok {
			loc := r.Location
			if loc == nil {
				loc = time.Local
			}
			return t.In(loc).Format("2006-01-02 15:04:05")
		}
		return x.String()
	case string:
		return sanitize(x)
	}
	return sanitize(cim.FormatValue(v))
}

// sanitize escapes control characters so that data cannot drive the
// terminal.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (r Renderer) list(w io.Writer, insts []*cim.Instance) error {
	for i, in := range insts {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		for _, n := range r.propsOf(in) {
			if _, err := fmt.Fprintf(w, "%s=%s\n", n, sanitize(cim.FormatValue(in.Value(n)))); err != nil {
				return err
			}
		}
	}
	return nil
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
		}{n, JSONValue(in.Value(n))})
	}
	return obj
}

func (r Renderer) json(w io.Writer, insts []*cim.Instance) error {
	objs := make([]json.Marshaler, len(insts))
	for i, in := range insts {
		objs[i] = r.Object(in)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(objs)
}

// csvBufSize is how much CSV is gathered before each write.
const csvBufSize = 64 << 10

// csv writes RFC 4180 rows, as encoding/csv would (the same fields
// quoted), but appends each value's text straight to one 64 KiB buffer:
// no string per number or datetime, no field scanned twice.
func (r Renderer) csv(w io.Writer, insts []*cim.Instance) error {
	cols := r.columns(insts)
	for i, c := range cols {
		if strings.EqualFold(c, "__CLASS") { // the first column already (a select list may name it)
			cols = append(cols[:i:i], cols[i+1:]...)
			break
		}
	}
	buf := make([]byte, 0, csvBufSize+1024)
	buf = appendCSVField(buf, "__CLASS")
	for _, c := range cols {
		buf = append(buf, ',')
		buf = appendCSVField(buf, c)
	}
	buf = append(buf, '\n')
	// Each instance's values go to their columns in one pass over the
	// instance, not one search of it per column; the columns of an
	// instance's properties are looked up once per layout (the sequence of
	// property names), which a provider repeats from instance to instance.
	index := make(map[string]int, len(cols))
	for i, c := range cols {
		index[c] = i
		index[strings.ToLower(c)] = i
	}
	parts := min(runtime.GOMAXPROCS(0), len(insts)/csvParallelMin)
	if parts <= 1 {
		rw := csvRows{index: index, row: make([]any, len(cols))}
		for _, in := range insts {
			buf = rw.append(buf, in)
			if len(buf) >= csvBufSize {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		_, err := w.Write(buf)
		return err
	}
	// Many rows are formatted on every CPU, a chunk each per round, and
	// written in order after the round: memory holds one round's text.
	if _, err := w.Write(buf); err != nil {
		return err
	}
	bufs := make([][]byte, parts)
	rws := make([]csvRows, parts)
	for k := range rws {
		bufs[k] = make([]byte, 0, 2*csvBufSize) // room for a chunk of most rows
		rws[k] = csvRows{index: index, row: make([]any, len(cols))}
	}
	var wg sync.WaitGroup
	for lo := 0; lo < len(insts); lo += parts * csvChunk {
		for k := range parts {
			a, b := min(lo+k*csvChunk, len(insts)), min(lo+(k+1)*csvChunk, len(insts))
			wg.Go(func() {
				out := bufs[k][:0]
				for _, in := range insts[a:b] {
					out = rws[k].append(out, in)
				}
				bufs[k] = out
			})
		}
		wg.Wait()
		for k := range bufs {
			if _, err := w.Write(bufs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// csvChunk is how many rows one CPU formats at a time when there are
// many: few enough that their text fits the buffer each CPU is given.
const csvChunk = 256

// csvParallelMin is how many rows make formatting them worth spreading
// over the CPUs.
const csvParallelMin = 2048

// csvRows formats instances as CSV rows of the columns of index.
type csvRows struct {
	index   map[string]int // column of a property name, and of it in lower case
	layouts []csvLayout
	row     []any // one value per column
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

func (r Renderer) mof(w io.Writer, insts []*cim.Instance) error {
	for _, in := range insts {
		var b strings.Builder
		fmt.Fprintf(&b, "instance of %s\n{\n", in.ClassName)
		for _, n := range r.propsOf(in) {
			v := in.Value(n)
			if v == nil {
				continue
			}
			fmt.Fprintf(&b, "\t%s = %s;\n", n, MOFValue(v))
		}
		b.WriteString("};\n\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
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
