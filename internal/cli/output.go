package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

var instanceFormats = []output.Format{output.Table, output.List, output.JSON, output.CSV, output.MOF, output.XML}

// tableFlags say how wide the table may be.
type tableFlags struct {
	width int
	wrap  bool
	cmd   *cobra.Command // to tell --width given from its default
}

func addTableFlags(cmd *cobra.Command, t *tableFlags) {
	t.cmd = cmd
	cmd.Flags().IntVar(&t.width, "width", 0, "the table's width in columns, long values cut with … to fit (default: the terminal's width, else COLUMNS, else no limit; 0 for no limit)")
	cmd.Flags().BoolVar(&t.wrap, "wrap", false, "wrap the table's long values onto more lines instead of cutting them")
}

// tableWidth is the width a table fits: --width when given; the terminal's
// when stdout is one; else COLUMNS when set; else no limit (a pipe or a
// file gets every value whole).
func (e *Env) tableWidth(t *tableFlags) int {
	if t.cmd != nil && t.cmd.Flags().Changed("width") {
		return max(t.width, 0)
	}
	if f := e.stdoutTerminal(); f != nil {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// stdoutTerminal returns standard output when it is a terminal, else nil.
func (e *Env) stdoutTerminal() *os.File {
	if f, ok := e.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// renderer is the renderer of an instance listing: the select list, the
// classes that may come, the table's width.
func (e *Env) renderer(reg *schema.Registry, t *tableFlags, props, classes []string) output.Renderer {
	return output.Renderer{Schema: reg, Properties: props, Classes: classes, Location: e.location,
		Width: e.tableWidth(t), Wrap: t.wrap,
		Note: func(s string) {
			fmt.Fprintf(e.stderr, "cimsess: note: %s; --width 0 or -o list shows every value whole\n", s)
		}}
}

// listing is what an instance-listing command streams: the select list
// (nil: every property), the classes whose instances may come (CSV's
// header), and the stream itself.
type listing struct {
	props, classes []string
	stream         func(provider.Emit) error
}

// listInstances is what every instance-listing command does: check the
// output format, build the object manager of namespace ns, plan (the
// stream and what it shows) and write the instances as the stream yields
// them, in the memory of one batch (the table: of its first page). When
// none came it says on stderr where the program looked.
func (e *Env) listInstances(ctx context.Context, ns, out string, t *tableFlags, what string, plan func(context.Context, *cimom.ObjectManager) (listing, error)) error {
	f, err := output.ParseFormat(out, instanceFormats...)
	if err != nil {
		return &usageError{err}
	}
	om, err := e.objectManagerIn(ns)
	if err != nil {
		return err
	}
	l, err := plan(ctx, om)
	if err != nil {
		warnSources(e.stderr, om)
		return err
	}
	n, err := e.streamInstances(f, e.renderer(om.Schema(), t, selectColumns(l.props, f), l.classes), l.stream)
	warnSources(e.stderr, om)
	if err == nil && n == 0 {
		reportEmpty(e.stderr, what, om)
	}
	return err
}

// selectColumns are the columns of a select list props in format f: as in
// WMI, each row says which object it is, by __RELPATH and __PATH, except
// in the table, a person's view, where __PATH would repeat
// \\HOST\NAMESPACE: on every row. nil (every property) stays nil.
func selectColumns(props []string, f output.Format) []string {
	if props == nil {
		return nil
	}
	props = withSystem(props, "__RELPATH")
	if f != output.Table {
		props = withSystem(props, "__PATH")
	}
	return props
}

// withSystem returns props with the system property name added at the end
// unless it is there already; props itself is left alone.
func withSystem(props []string, name string) []string {
	if slices.ContainsFunc(props, func(p string) bool { return strings.EqualFold(p, name) }) {
		return props
	}
	return append(props[:len(props):len(props)], name)
}

// streamInstances writes what stream emits in format f and returns how
// many instances came. After an error the human formats show what came
// before it; JSON and XML are left unended, so that no program takes a
// cut answer for a whole one.
func (e *Env) streamInstances(f output.Format, r output.Renderer, stream func(provider.Emit) error) (int, error) {
	w, err := r.NewWriter(e.stdout, f)
	if err != nil {
		return 0, err
	}
	n := 0
	err = stream(func(batch []*cim.Instance) error {
		n += len(batch)
		return w.Write(batch)
	})
	if err != nil {
		if f == output.Table || f == output.List || f == output.MOF {
			w.Close()
		}
		return n, err
	}
	return n, w.Close()
}

// classesOf returns class and, unless shallow, its subclasses: the
// classes an enumeration's instances may be of.
func classesOf(reg *schema.Registry, class string, shallow bool) []string {
	out := []string{class}
	if !shallow {
		out = append(out, reg.Subclasses(class, true)...)
	}
	return out
}
