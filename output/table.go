package output

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// TablePage is how many instances the table measures its columns on
// before it writes anything; later rows keep those columns and widths, so
// that the table streams in the memory of one page.
const TablePage = 256

// ClassColumn heads the table's column of class names, shown when the
// instances of a page are of several classes (a deep enumeration).
const ClassColumn = "__CLASS"

// tableWriter writes an aligned table in sections: a section's columns
// and widths are measured on its first page (at most TablePage instances);
// an instance of a class its page did not hold starts a new section, after
// a blank line, with a header of its own.
type tableWriter struct {
	r        Renderer
	w        *bufio.Writer
	page     []*cim.Instance // the page being gathered, before measuring
	measured bool            // the current section is measured and headed
	sections int

	cols     []string        // the property columns of the section
	classCol bool            // a first column of class names
	classes  map[string]bool // the classes of the section's page
	widths   []int           // of every shown column, class column first
	omitted  []string        // properties left out: empty on the page
	hidden   []string        // omitted properties later seen with a value
	dropped  []string        // columns left out to fit the width

	cut, wrapped int
	cells        []string // scratch: one row
	line         []byte   // scratch: one line
}

func (t *tableWriter) Write(batch []*cim.Instance) error {
	for _, in := range batch {
		if t.measured && !t.classes[in.ClassName] {
			t.measured = false // a class the section was not measured for
		}
		if !t.measured {
			t.page = append(t.page, in)
			if len(t.page) >= TablePage {
				t.flushPage()
			}
			continue
		}
		t.writeRow(in)
	}
	return t.w.Flush()
}

func (t *tableWriter) Close() error {
	if len(t.page) > 0 {
		t.flushPage()
	}
	if err := t.w.Flush(); err != nil {
		return err
	}
	if t.r.Note != nil { // after the table, on a terminal too
		if t.cut > 0 {
			t.r.Note(fmt.Sprintf("%d long %s cut to fit %d columns, ending in %s", t.cut, plural(t.cut, "value"), t.r.Width, Marker))
		}
		if t.wrapped > 0 {
			t.r.Note(fmt.Sprintf("%d long %s wrapped to fit %d columns", t.wrapped, plural(t.wrapped, "value"), t.r.Width))
		}
		if len(t.dropped) > 0 {
			t.r.Note(fmt.Sprintf("%d %s left out to fit %d columns: %s", len(t.dropped), plural(len(t.dropped), "column"), t.r.Width, strings.Join(slices.Compact(t.dropped), ", ")))
		}
		if len(t.hidden) > 0 {
			t.r.Note(fmt.Sprintf("the table's columns were chosen on its first %d rows: later values of %s are not shown", TablePage, strings.Join(t.hidden, ", ")))
		}
	}
	return t.w.Flush()
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// flushPage measures the gathered page, writes the section's header and
// the page's rows.
func (t *tableWriter) flushPage() {
	page := t.page
	t.measure(page)
	if t.sections > 0 {
		t.w.WriteByte('\n')
	}
	t.sections++
	header := t.cells[:0]
	if t.classCol {
		header = append(header, ClassColumn)
	}
	header = append(header, t.cols...)
	for i, h := range header {
		header[i] = Truncate(h, t.widths[i])
	}
	t.writeLine(header)
	for _, in := range page {
		t.writeRow(in)
	}
	clear(page)
	t.page = page[:0]
	t.measured = true
}

// measure chooses the section's columns and their widths from page.
func (t *tableWriter) measure(page []*cim.Instance) {
	t.classes = map[string]bool{}
	for _, in := range page {
		t.classes[in.ClassName] = true
	}
	t.classCol = len(t.classes) > 1
	cols := t.r.columns(page)
	t.omitted = t.omitted[:0]
	if len(t.r.Properties) == 0 {
		// A table of every property is too wide to read: leave out the
		// columns that no instance of the page has a value for.
		kept := cols[:0:0]
		for _, c := range cols {
			if slices.ContainsFunc(page, func(in *cim.Instance) bool { return valueOf(in, c) != nil }) {
				kept = append(kept, c)
			} else {
				t.omitted = append(t.omitted, c)
			}
		}
		cols = kept
	}
	if t.classCol {
		cols = slices.DeleteFunc(cols, func(c string) bool { return strings.EqualFold(c, ClassColumn) })
	}
	t.cols = cols
	n := len(cols)
	if t.classCol {
		n++
	}
	natural := make([]int, n)
	floor := make([]int, n)
	off := 0
	if t.classCol {
		natural[0] = Width(ClassColumn)
		for c := range t.classes {
			natural[0] = max(natural[0], Width(c))
		}
		off = 1
	}
	for i, c := range cols {
		natural[off+i] = Width(c)
	}
	for _, in := range page {
		for i, c := range cols {
			natural[off+i] = max(natural[off+i], Width(t.cell(in, c)))
		}
	}
	header := append([]string(nil), cols...)
	if t.classCol {
		header = append([]string{ClassColumn}, header...)
	}
	for i := range natural {
		// A column gives way down to its header (at most 12 cells of
		// it), never below 4 cells; when that is not enough, the last
		// columns are left out. The class column of a mix of classes
		// does not give way: cut, Win32_UserAccount and Win32_Process
		// would read alike.
		floor[i] = min(natural[i], max(min(Width(header[i]), 12), 4))
		if t.classCol && i == 0 {
			floor[i] = natural[i]
		}
	}
	widths := fit(slices.Clone(natural), floor, t.r.Width)
	for len(widths) > 1 && lineWidth(widths) > t.r.Width && t.r.Width > 0 {
		k := len(widths) - 1
		widths = fit(slices.Clone(natural[:k]), floor[:k], t.r.Width)
		t.dropped = append(t.dropped, t.cols[len(t.cols)-1])
		t.cols = t.cols[:len(t.cols)-1]
	}
	t.widths = widths
	t.cells = make([]string, len(widths))
}

// lineWidth is how many cells a line of columns of widths takes.
func lineWidth(widths []int) int {
	n := 2 * max(len(widths)-1, 0)
	for _, w := range widths {
		n += w
	}
	return n
}

// fit narrows the widest columns, one cell at a time and none below its
// floor, until a line of them (two spaces between) takes at most limit
// cells; limit 0 keeps them as they are.
func fit(widths, floor []int, limit int) []int {
	if limit <= 0 || len(widths) == 0 {
		return widths
	}
	total := lineWidth(widths)
	for total > limit {
		j := -1
		for i, w := range widths {
			if w > floor[i] && (j < 0 || w > widths[j]) {
				j = i
			}
		}
		if j < 0 {
			break // as narrow as they go: the line is longer than asked
		}
		// Narrow the widest down to the next widest (or as far as needed)
		// at once: linear in the columns, not in the cells cut.
		next := floor[j]
		for i, w := range widths {
			if i != j && w < widths[j] && w > next {
				next = w
			}
		}
		step := min(widths[j]-next, total-limit)
		step = max(step, 1)
		widths[j] -= step
		total -= step
	}
	return widths
}

// cell returns what the table shows of in's property c.
func (t *tableWriter) cell(in *cim.Instance, c string) string {
	return t.r.human(valueOf(in, c))
}

// writeRow writes the row of in, cutting or wrapping values wider than
// their column when the table has a width, and notes the values of
// columns the section left out.
func (t *tableWriter) writeRow(in *cim.Instance) {
	cells := t.cells[:0]
	if t.classCol {
		cells = append(cells, in.ClassName)
	}
	for _, c := range t.cols {
		cells = append(cells, t.cell(in, c))
	}
	for _, c := range t.omitted {
		if valueOf(in, c) != nil && !slices.Contains(t.hidden, c) {
			t.hidden = append(t.hidden, c)
		}
	}
	if t.r.Width <= 0 {
		t.writeLine(cells) // a longer value pushes the rest of its row
		return
	}
	if !t.r.Wrap {
		for i, c := range cells {
			if Width(c) > t.widths[i] {
				cells[i] = Truncate(c, t.widths[i])
				t.cut++
			}
		}
		t.writeLine(cells)
		return
	}
	parts := make([][]string, len(cells))
	lines := 1
	for i, c := range cells {
		parts[i] = wrap(c, t.widths[i])
		if len(parts[i]) > 1 {
			t.wrapped++
		}
		lines = max(lines, len(parts[i]))
	}
	line := make([]string, len(cells))
	for k := range lines {
		for i, p := range parts {
			line[i] = ""
			if k < len(p) {
				line[i] = p[k]
			}
		}
		t.writeLine(line)
	}
}

// writeLine writes cells padded to their columns' widths, two spaces
// apart, without trailing spaces.
func (t *tableWriter) writeLine(cells []string) {
	b := t.line[:0]
	for i, c := range cells {
		b = append(b, c...)
		if i < len(cells)-1 {
			b = AppendSpaces(b, max(t.widths[i]-Width(c), 0)+2)
		}
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	t.line = append(b, '\n')
	t.w.Write(t.line)
}

// AppendSpaces appends n spaces to b: a column's padding, a run at a
// time rather than a byte at a time.
func AppendSpaces(b []byte, n int) []byte {
	const blanks = "                                "
	for n > 0 {
		k := min(n, len(blanks))
		b = append(b, blanks[:k]...)
		n -= k
	}
	return b
}

// TimeLayout is how the table shows a point in time: local time (see
// [Renderer.Location]) with its offset from UTC.
const TimeLayout = "2006-01-02 15:04:05 -0700"

// human renders a value for a table: datetimes in the local zone with
// their offset, intervals as [Nd]HH:MM:SS, the rest as the other formats
// show it, escaped by [Escape].
func (r Renderer) human(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
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
			return t.In(loc).Format(TimeLayout)
		}
		return x.String()
	case string:
		return Escape(x)
	}
	return Escape(cim.FormatValue(v))
}
