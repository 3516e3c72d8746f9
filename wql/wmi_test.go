package wql

import (
	"strings"
	"testing"
	"time"
)

// TestWMIDateLiterals: the date forms WMI documents, in the given zone
// unless an offset is written.
func TestWMIDateLiterals(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	at := func(y int, m time.Month, d, h, min int, loc *time.Location) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	for in, want := range map[string]time.Time{
		"2026-11-25":                at(2026, 11, 25, 0, 0, ny),
		"2026-11-25 14:30":          at(2026, 11, 25, 14, 30, ny),
		"2026-11-25T14:30:00":       at(2026, 11, 25, 14, 30, ny),
		"11/25/2026":                at(2026, 11, 25, 0, 0, ny),
		"11/25/2026 2:30 PM":        at(2026, 11, 25, 14, 30, ny),
		"November 25, 2026":         at(2026, 11, 25, 0, 0, ny),
		"Nov 25 2026":               at(2026, 11, 25, 0, 0, ny),
		"25 November 2026":          at(2026, 11, 25, 0, 0, ny),
		"20261125":                  at(2026, 11, 25, 0, 0, ny),
		"2026-11-25 14:30 +01:00":   at(2026, 11, 25, 13, 30, time.UTC),
		"2026-11-25T14:30:00Z":      at(2026, 11, 25, 14, 30, time.UTC),
		"2026-11-25 14:30 UTC":      at(2026, 11, 25, 14, 30, time.UTC),
		"20261125143000.000000+060": at(2026, 11, 25, 13, 30, time.UTC),
	} {
		d, err := parseDateLiteral(in, ny)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		got, _ := d.Time()
		if !got.Equal(want) {
			t.Errorf("%q = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"2026", "tomorrow", "2026-13-01", "11/25", "2026-11-25 25:00", "2026-11-25 14:30 PST"} {
		if d, err := parseDateLiteral(in, ny); err == nil {
			t.Errorf("%q = %v, want an error", in, d)
		}
	}
}

// TestWMILiteralsMatch: WMI's date forms and 1/0 for booleans in queries.
func TestWMILiteralsMatch(t *testing.T) {
	insts := sessions(t)
	const W = "SELECT * FROM Win32_LogonSession WHERE "
	const L = "SELECT * FROM Linux_LogonSession WHERE "
	for _, tc := range []struct{ query, want string }{
		{W + "StartTime = '2026-01-15 09:00 +00:00'", "42,7"},
		{W + "StartTime > '2026-01-15T10:00:00Z'", "43"},
		{W + "StartTime > '2026-01-15 10:00 +0000'", "43"},
		{L + "Remote = 1", "42"},
		{L + "Remote = 0", "43"},
		{L + "Remote <> 1", "43"},
		{L + "Remote = 'TRUE'", "42"},
		// An integer against a string property is its decimal digits, as
		// WMI takes -Filter "Handle=$PID".
		{W + "LogonId = 42", "42"},
		{W + "42 = LogonId", "42"},
		{W + "LogonId <> 42", "43,44,7"},
	} {
		if got := matchIDs(t, tc.query, insts); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
}

// TestNullComparisonWarns: "= NULL" is legal and never matches, as in WMI;
// the query says so.
func TestNullComparisonWarns(t *testing.T) {
	q, err := Compile("SELECT * FROM Linux_LogonSession WHERE IdleTime = NULL", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	if w := q.Warnings(); len(w) != 1 || !strings.Contains(w[0], "column 40") || !strings.Contains(w[0], "IS NULL") {
		t.Errorf("warnings %q", w)
	}
	for _, in := range sessions(t) {
		if q.Match(in) {
			t.Errorf("= NULL matched %s", in.Path)
		}
	}
	q, _ = Compile("SELECT * FROM Linux_LogonSession WHERE IdleTime <> NULL", newFakeSchema())
	if w := q.Warnings(); len(w) != 1 || !strings.Contains(w[0], "IS NOT NULL") {
		t.Errorf("warnings %q", w)
	}
	q, _ = Compile("SELECT * FROM Linux_LogonSession WHERE IdleTime IS NULL", newFakeSchema())
	if w := q.Warnings(); w != nil {
		t.Errorf("IS NULL warns %q", w)
	}
}

func FuzzParseDateLiteral(f *testing.F) {
	for _, s := range []string{"2026-11-25", "11/25/2026 2:30 PM", "November 25, 2026", "2026-11-25 14:30 +01:00", "20261125143000.000000+060"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDateLiteral(s, time.UTC)
		if err == nil && d.IsZero() {
			t.Errorf("%q: no error and no datetime", s)
		}
	})
}
