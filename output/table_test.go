package output

import (
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

func longRows() []*cim.Instance {
	return []*cim.Instance{
		cim.NewInstance("Win32_Process").Set("Handle", "1").Set("Name", "systemd").Set("CommandLine", "/sbin/init splash"),
		cim.NewInstance("Win32_Process").Set("Handle", "4242").Set("Name", "java").Set("CommandLine", "java -Xmx4g -cp /opt/app/lib/a.jar:/opt/app/lib/b.jar:/opt/app/lib/c.jar com.example.Main --long-option=value"),
	}
}

// TestTableFitsWidth: with a width, no line is wider; a value cut shows
// the marker, and the table says so once.
func TestTableFitsWidth(t *testing.T) {
	var notes []string
	r := Renderer{Properties: []string{"Handle", "Name", "CommandLine"}, Width: 40, Note: func(s string) { notes = append(notes, s) }}
	out := render(t, r, Table, longRows())
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if Width(l) > 40 {
			t.Errorf("line wider than 40: %q", l)
		}
	}
	if !strings.Contains(out, Marker) || !strings.Contains(out, "/sbin/init splash") {
		t.Errorf("table:\n%s", out)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 long value cut to fit 40 columns") {
		t.Errorf("notes: %q", notes)
	}
	// Without a width nothing is cut.
	notes = nil
	r.Width = 0
	if out := render(t, r, Table, longRows()); strings.Contains(out, Marker) || !strings.Contains(out, "--long-option=value") || len(notes) != 0 {
		t.Errorf("no width:\n%s %q", out, notes)
	}
}

// TestTableWraps: --wrap keeps every character, on more lines.
func TestTableWraps(t *testing.T) {
	var notes []string
	r := Renderer{Properties: []string{"Handle", "Name", "CommandLine"}, Width: 40, Wrap: true, Note: func(s string) { notes = append(notes, s) }}
	out := render(t, r, Table, longRows())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 5 || strings.Contains(out, Marker) {
		t.Errorf("not wrapped:\n%s", out)
	}
	joined := ""
	for _, l := range lines[2:] {
		if Width(l) > 40 {
			t.Errorf("line wider than 40: %q", l)
		}
		joined += strings.TrimSpace(l[min(len(l), strings.Index(lines[0], "CommandLine")):])
	}
	if !strings.Contains(joined, "com.example.Main--long-option=value") && !strings.Contains(joined, "com.example.Main --long-option=value") {
		t.Errorf("wrapped text lost characters: %q", joined)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "wrapped") {
		t.Errorf("notes: %q", notes)
	}
}

// TestTableClassColumn: a page of several classes has a __CLASS column;
// a class that comes after the first page starts a section of its own.
func TestTableClassColumn(t *testing.T) {
	reg := schema.MustDefault()
	mixed := []*cim.Instance{
		cim.NewInstance("Linux_LogonSession").Set("LogonId", "7").Set("StartTime", cim.NewDateTime(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))),
		cim.NewInstance("Samba_LogonSession").Set("LogonId", "smb:1"),
	}
	out := render(t, Renderer{Schema: reg, Location: time.FixedZone("", -5*3600)}, Table, mixed)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "__CLASS") || !strings.HasPrefix(lines[1], "Linux_LogonSession") || !strings.HasPrefix(lines[2], "Samba_LogonSession") {
		t.Errorf("no class column:\n%s", out)
	}
	if !strings.Contains(out, "2026-03-01 03:00:00 -0500") {
		t.Errorf("local time with offset:\n%s", out)
	}
	// Narrow: the class column keeps its whole names, the others give way.
	out = render(t, Renderer{Schema: reg, Width: 40}, Table, mixed)
	if lines := strings.Split(out, "\n"); !strings.HasPrefix(lines[1], "Linux_LogonSession  ") || !strings.HasPrefix(lines[2], "Samba_LogonSession  ") {
		t.Errorf("class names cut at width 40:\n%s", out)
	}
	// One class alone: no class column.
	if out := render(t, Renderer{Schema: reg}, Table, mixed[:1]); strings.Contains(out, "__CLASS") {
		t.Errorf("class column for one class:\n%s", out)
	}
	// A class after the first page: a new section with its header.
	var many []*cim.Instance
	for range TablePage {
		many = append(many, mixed[0])
	}
	many = append(many, mixed[1])
	out = render(t, Renderer{Schema: reg}, Table, many)
	if !strings.Contains(out, "\n\nLogonId") || strings.Count(out, "\n") != TablePage+4 {
		t.Errorf("no second section: %q", out[len(out)-200:])
	}
}

// TestAppendSpaces checks the padding at the sizes around its run's.
func TestAppendSpaces(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 31, 32, 33, 100} {
		got := string(AppendSpaces([]byte("x"), n))
		if want := "x" + strings.Repeat(" ", max(n, 0)); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
