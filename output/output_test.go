package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

func sample(t *testing.T) []*cim.Instance {
	t.Helper()
	reg := schema.MustDefault()
	start := cim.NewDateTime(time.Date(2026, 11, 25, 20, 45, 11, 523938000, time.FixedZone("", 60*60)))
	a := cim.NewInstance("Linux_LogonSession").Set("LogonId", "348").Set("UserName", "alice").
		Set("LogonType", uint32(10)).Set("StartTime", start).Set("IdleTime", cim.NewInterval(26*time.Hour+5*time.Second)).
		Set("Caption", "alice on pts/0\x1b[31m").Set("Status", "OK")
	b := cim.NewInstance("Linux_LogonSession").Set("LogonId", "utmp:pts/1:42").Set("Status", "Lost Comm")
	for _, in := range []*cim.Instance{a, b} {
		p, err := reg.PathOf(in, "host", schema.Namespace)
		if err != nil {
			t.Fatal(err)
		}
		in.Path = p
	}
	return []*cim.Instance{a, b}
}

func render(t *testing.T, r Renderer, f Format, insts []*cim.Instance) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf, f, insts); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return buf.String()
}

func TestJSONHasEveryPropertyAndNulls(t *testing.T) {
	out := render(t, Renderer{Schema: schema.MustDefault()}, JSON, sample(t))
	var objs []map[string]any
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects", len(objs))
	}
	o := objs[0]
	if o["__CLASS"] != "Linux_LogonSession" || !strings.Contains(o["__PATH"].(string), `LogonId="348"`) {
		t.Errorf("system properties: %v %v", o["__CLASS"], o["__PATH"])
	}
	if o["StartTime"] != "20261125204511.523938+060" || o["IdleTime"] != "00000001020005.000000:000" {
		t.Errorf("datetimes: %v %v", o["StartTime"], o["IdleTime"])
	}
	if v, ok := o["InstallDate"]; !ok || v != nil {
		t.Errorf("InstallDate should be present and null, got %v (%v)", v, ok)
	}
	if o["LogonType"] != float64(10) {
		t.Errorf("LogonType = %v", o["LogonType"])
	}
}

func TestCSVHeaderAndRows(t *testing.T) {
	out := render(t, Renderer{Schema: schema.MustDefault(), Properties: []string{"LogonId", "Status", "StartTime"}}, CSV, sample(t))
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"__CLASS", "LogonId", "Status", "StartTime"},
		{"Linux_LogonSession", "348", "OK", "20261125204511.523938+060"},
		{"Linux_LogonSession", "utmp:pts/1:42", "Lost Comm", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows: %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
}

func TestTableDropsEmptyColumnsAndEscapesControls(t *testing.T) {
	r := Renderer{Schema: schema.MustDefault(), Location: time.UTC}
	out := render(t, r, Table, sample(t))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", out)
	}
	if strings.Contains(lines[0], "InstallDate") || !strings.Contains(lines[0], "LogonId") {
		t.Errorf("header: %s", lines[0])
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `\x1b[31m`) {
		t.Errorf("control character not escaped:\n%q", out)
	}
	if !strings.Contains(lines[1], "2026-11-25 19:45:11 +0000") || !strings.Contains(lines[1], "1d02:00:05") {
		t.Errorf("human datetimes: %s", lines[1])
	}
	if render(t, r, Table, nil) != "" {
		t.Error("an empty table prints something")
	}
}

func TestListAndMOF(t *testing.T) {
	insts := sample(t)
	r := Renderer{Schema: schema.MustDefault()}
	list := render(t, r, List, insts)
	if !strings.Contains(list, "LogonId=348\n") || !strings.Contains(list, "\n\nCaption=") {
		t.Errorf("list:\n%s", list)
	}
	m := render(t, r, MOF, insts[:1])
	for _, want := range []string{"instance of Linux_LogonSession\n{", `LogonId = "348";`, "LogonType = 10;", `StartTime = "20261125204511.523938+060";`, "};"} {
		if !strings.Contains(m, want) {
			t.Errorf("MOF lacks %q:\n%s", want, m)
		}
	}
}

// TestMOFKeylessInstance: an instance whose path has no keys (from a host
// that did not send them, of a class no schema here knows, or of a
// select list without its keys) is written as an instance with its
// values; a class object, whose values are its system properties, as its
// class (a comment for a class this schema lacks).
func TestMOFKeylessInstance(t *testing.T) {
	r := Renderer{Schema: schema.MustDefault()}
	path := func(class string) cim.ObjectPath {
		return cim.ObjectPath{Host: "h", Namespace: "root/standardcimv2", ClassName: class}
	}
	adapter := cim.NewInstance("MSFT_NetAdapter").Set("Name", "eth0").Set("Speed", "1000")
	adapter.Path = path("MSFT_NetAdapter")
	session := cim.NewInstance("Win32_LogonSession").Set("Name", "x")
	session.Path = path("Win32_LogonSession")
	class := cim.NewInstance("MSFT_NetAdapter").Set("__CLASS", "MSFT_NetAdapter").Set("__GENUS", "1")
	class.Path = path("MSFT_NetAdapter")
	// A projection whose one value is NULL is an instance all the same.
	blank := cim.NewInstance("Win32_Process").Set("Description", nil)
	blank.Path = path("Win32_Process")
	m := render(t, r, MOF, []*cim.Instance{adapter, session, class, blank})
	for _, want := range []string{"instance of MSFT_NetAdapter\n{\n\tName = \"eth0\";\n\tSpeed = \"1000\";\n};",
		"instance of Win32_LogonSession\n{", `Name = "x";`, "// class MSFT_NetAdapter: its declaration is not in this program's schema",
		"instance of Win32_Process\n{"} {
		if !strings.Contains(m, want) {
			t.Errorf("MOF lacks %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "class Win32_LogonSession") {
		t.Errorf("an instance written as its class:\n%s", m)
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("JSON", Table, JSON); err != nil || f != JSON {
		t.Errorf("ParseFormat(JSON) = %v, %v", f, err)
	}
	if _, err := ParseFormat("yaml", Table, JSON); cim.CodeOf(err) != cim.ErrInvalidParameter || !strings.Contains(err.Error(), "table, json") {
		t.Errorf("ParseFormat(yaml) error = %v", err)
	}
}

// TestCSVFieldsAsEncodingCSV checks that the hand-rolled CSV writer quotes
// and escapes each kind of value exactly as encoding/csv does.
func TestCSVFieldsAsEncodingCSV(t *testing.T) {
	dt := cim.NewDateTime(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("", -90*60)))
	values := []any{
		nil, "", "plain", "a,b", `say "hi"`, "two\nlines", "cr\rhere", " lead", "\u00a0nbsp", `\.`, `\..`, "trail ", "\tx", "\vx", "\u0085x", "x\t",
		"ünïcode", uint8(7), uint16(65535), uint32(4000000000), uint64(1 << 63), int8(-8), int16(-16), int32(-32),
		int64(-64), true, false, float64(1.5), float32(-0.25), dt, cim.NewInterval(90 * time.Minute),
		[]any{"x", uint32(1)}, cim.Char16('q'),
	}
	for _, v := range values {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write([]string{cim.FormatValue(v)}); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		got := string(appendCSVValue(nil, v)) + "\n"
		if got != want.String() {
			t.Errorf("%#v: got %q, want %q", v, got, want.String())
		}
	}
}

// TestStreamedAsWhole: each format written in batches of every size is
// what it is written at once; JSON is what encoding/json writes of the
// whole array, indented.
func TestStreamedAsWhole(t *testing.T) {
	one := sample(t)
	insts := make([]*cim.Instance, 0, 700)
	for i := 0; len(insts) < cap(insts); i++ {
		in := one[i%2].Clone()
		in.Set("LogonId", strconv.Itoa(i))
		insts = append(insts, in)
	}
	r := Renderer{Schema: schema.MustDefault(), Location: time.UTC}
	for _, f := range []Format{Table, List, JSON, CSV, MOF} {
		whole := render(t, r, f, insts)
		for _, size := range []int{1, 7, 256} {
			var b bytes.Buffer
			w, err := r.NewWriter(&b, f)
			if err != nil {
				t.Fatal(err)
			}
			for lo := 0; lo < len(insts); lo += size {
				if err := w.Write(insts[lo:min(lo+size, len(insts))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if b.String() != whole {
				t.Errorf("%s in batches of %d differs from all at once", f, size)
			}
		}
	}
	objs := make([]json.Marshaler, len(insts))
	for i, in := range insts {
		objs[i] = r.Object(in)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(objs); err != nil {
		t.Fatal(err)
	}
	if got := render(t, r, JSON, insts); got != want.String() {
		t.Errorf("streamed JSON differs from encoding/json's:\n%.600s\nwant\n%.600s", got, want.String())
	}
	if got := render(t, r, JSON, nil); got != "[]\n" {
		t.Errorf("empty JSON = %q", got)
	}
}

// TestCSVHeaderWithoutRows: the header is written even when no instance
// comes: the select list's, or the union of the classes that may come.
func TestCSVHeaderWithoutRows(t *testing.T) {
	reg := schema.MustDefault()
	if got := render(t, Renderer{Schema: reg, Properties: []string{"Name", "__RELPATH"}}, CSV, nil); got != "__CLASS,Name,__RELPATH\n" {
		t.Errorf("select list: %q", got)
	}
	got := render(t, Renderer{Schema: reg, Classes: []string{"Linux_LogonSession"}}, CSV, nil)
	if !strings.HasPrefix(got, "__CLASS,") || !strings.Contains(got, ",LogonId,") || strings.Count(got, "\n") != 1 {
		t.Errorf("class: %q", got)
	}
	if got := render(t, Renderer{Schema: reg}, CSV, nil); got != "__CLASS\n" {
		t.Errorf("nothing known: %q", got)
	}
}
