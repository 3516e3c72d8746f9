package cim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// dateTimeCases are the codec's table tests; they also seed FuzzParseDateTime.
var dateTimeCases = []struct {
	in       string
	ok       bool
	interval bool
	wild     bool
}{
	{"20260101120000.000000+000", true, false, false},
	{"20260315093045.123456+060", true, false, false},
	{"20260315093045.123456-300", true, false, false},
	{"20260315093045.123456-000", true, false, false},
	{"19991231235959.999999+999", true, false, false},
	{"00000101000000.000000-999", true, false, false},
	{"99991231235959.999999+000", true, false, false},
	{"20240229000000.000000+000", true, false, false}, // a leap day
	{"20161231235960.000000+000", true, false, false}, // a leap second
	{"20260101******.******+***", true, false, true},
	{"20260101******.******-***", true, false, true},
	{"**************.******+***", true, false, true},
	{"****0101000000.000000+000", true, false, true},
	{"2026**01000000.000000+000", true, false, true},
	{"20260101120000.12****+000", true, false, true},
	{"20260101120000.******+060", true, false, true},
	{"20260101120000.000000+***", true, false, true},
	{"00000000000000.000000:000", true, true, false},
	{"00000001020304.000005:000", true, true, false},
	{"99999999235959.999999:000", true, true, false},
	{"00106751235959.999999:000", true, true, false}, // longer than a time.Duration

	{"", false, false, false},
	{"20260101120000.000000+00", false, false, false},
	{"20260101120000.000000+0000", false, false, false},
	{"2026*101000000.000000+000", false, false, false},    // partial year
	{"20260101*20000.000000+000", false, false, false},    // partial hour
	{"20260101120000.1*3***+000", false, false, false},    // a digit after an asterisk
	{"20260101120000.*12345+000", false, false, false},    // leading asterisk in micro
	{"20260101120000.000000+*00", false, false, false},    // partial offset
	{"20260101120000,000000+000", false, false, false},    // no dot
	{"20260101120000.000000 000", false, false, false},    // no sign
	{"20261301120000.000000+000", false, false, false},    // month 13
	{"20260001120000.000000+000", false, false, false},    // month 0
	{"20260100120000.000000+000", false, false, false},    // day 0
	{"20260230120000.000000+000", false, false, false},    // Feb 30
	{"20250229120000.000000+000", false, false, false},    // not a leap year
	{"20260101240000.000000+000", false, false, false},    // hour 24
	{"20260101126000.000000+000", false, false, false},    // minute 60
	{"20260101120061.000000+000", false, false, false},    // second 61
	{"0000000*000000.000000:000", false, false, false},    // interval with asterisks
	{"00000000******.******:000", false, false, false},    // interval with asterisks
	{"00000000000000.00000*:000", false, false, false},    // interval with asterisks
	{"00000000000060.000000:000", false, false, false},    // interval second 60
	{"00000000240000.000000:000", false, false, false},    // interval hour 24
	{"00000000000000.000000:001", false, false, false},    // interval must end :000
	{"+0260101120000.000000+000", false, false, false},    // a sign in a field
	{"-0260101120000.000000+000", false, false, false},    // a sign in a field
	{" 0260101120000.000000+000", false, false, false},    // a space in a field
	{"2026010112000\x00.000000+000", false, false, false}, // length and junk
	{"20260101120000.000000+0\xff0", false, false, false},
}

func TestParseDateTime(t *testing.T) {
	for _, tc := range dateTimeCases {
		d, err := ParseDateTime(tc.in)
		if !tc.ok {
			if err == nil {
				t.Errorf("ParseDateTime(%q) = %v, want an error", tc.in, d)
				continue
			}
			if CodeOf(err) != ErrInvalidParameter {
				t.Errorf("ParseDateTime(%q) error code %v, want CIM_ERR_INVALID_PARAMETER", tc.in, CodeOf(err))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDateTime(%q): %v", tc.in, err)
			continue
		}
		if got := d.String(); got != tc.in {
			t.Errorf("ParseDateTime(%q).String() = %q", tc.in, got)
		}
		if d.IsInterval() != tc.interval {
			t.Errorf("ParseDateTime(%q).IsInterval() = %v", tc.in, d.IsInterval())
		}
		if d.HasWildcards() != tc.wild {
			t.Errorf("ParseDateTime(%q).HasWildcards() = %v", tc.in, d.HasWildcards())
		}
		if d.IsZero() {
			t.Errorf("ParseDateTime(%q).IsZero()", tc.in)
		}
		var u DateTime
		if err := u.UnmarshalText([]byte(tc.in)); err != nil || u != d {
			t.Errorf("UnmarshalText(%q) = %v, %v", tc.in, u, err)
		}
		if b, _ := d.MarshalText(); string(b) != tc.in {
			t.Errorf("MarshalText = %q", b)
		}
	}
	var u DateTime
	if err := u.UnmarshalText([]byte("bad")); err == nil {
		t.Error("UnmarshalText(bad) succeeded")
	}
}

func TestParseDateTimeErrorNamesField(t *testing.T) {
	_, err := ParseDateTime("20261301120000.000000+000")
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Description, "month") {
		t.Fatalf("error %v does not name the month", err)
	}
}

func TestDateTimeTime(t *testing.T) {
	d, _ := ParseDateTime("20260315093045.123456-300")
	tm, ok := d.Time()
	if !ok {
		t.Fatal("Time() not ok")
	}
	want := time.Date(2026, 3, 15, 14, 30, 45, 123456000, time.UTC)
	if !tm.Equal(want) {
		t.Errorf("Time() = %v, want %v", tm, want)
	}
	if _, off := tm.Zone(); off != -300*60 {
		t.Errorf("offset %d s, want -18000", off)
	}
	if d.Offset() != -300 {
		t.Errorf("Offset() = %d", d.Offset())
	}
	// Trailing microsecond asterisks are taken as zero; other unknown fields make Time fail.
	d, _ = ParseDateTime("20260101120000.12****+000")
	if tm, ok := d.Time(); !ok || tm.Nanosecond() != 120000000 {
		t.Errorf("Time() of 12**** = %v, %v", tm, ok)
	}
	for _, s := range []string{"20260101******.******+***", "20260101120000.000000+***", "00000001000000.000000:000"} {
		d, _ := ParseDateTime(s)
		if _, ok := d.Time(); ok {
			t.Errorf("Time() of %s is ok", s)
		}
	}
	if _, ok := (DateTime{}).Time(); ok {
		t.Error("zero DateTime has a Time")
	}
}

func TestNewDateTime(t *testing.T) {
	zones := []*time.Location{
		time.UTC,
		time.FixedZone("plus", 5*3600+30*60),
		time.FixedZone("minus", -(9*3600 + 45*60)),
		time.FixedZone("max", 999*60),
		time.FixedZone("min", -999*60),
	}
	for _, loc := range zones {
		in := time.Date(2026, 7, 4, 23, 59, 58, 987654321, loc)
		d := NewDateTime(in)
		if d.IsInterval() || d.HasWildcards() {
			t.Fatalf("NewDateTime(%v) = %v", in, d)
		}
		got, ok := d.Time()
		if !ok || !got.Equal(in.Truncate(time.Microsecond)) {
			t.Errorf("NewDateTime(%v).Time() = %v, %v", in, got, ok)
		}
		_, wantOff := in.Zone()
		if _, off := got.Zone(); off != wantOff || d.Offset()*60 != wantOff {
			t.Errorf("offset %d, want %d", off, wantOff)
		}
		p, err := ParseDateTime(d.String())
		if err != nil || p != d {
			t.Errorf("ParseDateTime(%q) = %#v, %v; want %#v", d.String(), p, err, d)
		}
	}
	// Offsets that are not whole minutes, or too large, become UTC.
	for _, off := range []int{30, 1000 * 60, -1000 * 60} {
		in := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("odd", off))
		d := NewDateTime(in)
		got, _ := d.Time()
		if !got.Equal(in) || d.Offset() != 0 {
			t.Errorf("NewDateTime with offset %ds = %v", off, d)
		}
	}
	// Years outside 0..9999 are clamped.
	if s := NewDateTime(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)).String(); s != "99991231235959.999999+000" {
		t.Errorf("year 12000 = %s", s)
	}
	if s := NewDateTime(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)).String(); s != "00000101000000.000000+000" {
		t.Errorf("year -5 = %s", s)
	}
}

func TestNewInterval(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "00000000000000.000000:000"},
		{-time.Hour, "00000000000000.000000:000"},
		{time.Nanosecond * 999, "00000000000000.000000:000"},
		{90*time.Minute + 1500*time.Microsecond, "00000000013000.001500:000"},
		{49*time.Hour + 3*time.Second, "00000002010003.000000:000"},
		{math.MaxInt64, "00106751234716.854775:000"},
	}
	for _, tc := range cases {
		iv := NewInterval(tc.d)
		if iv.String() != tc.want {
			t.Errorf("NewInterval(%v) = %s, want %s", tc.d, iv, tc.want)
		}
		got, ok := iv.Duration()
		want := max(tc.d, 0).Truncate(time.Microsecond)
		if !ok || got != want {
			t.Errorf("NewInterval(%v).Duration() = %v, %v; want %v", tc.d, got, ok, want)
		}
		p, err := ParseDateTime(iv.String())
		if err != nil || p != iv {
			t.Errorf("ParseDateTime(%q) = %#v, %v", iv.String(), p, err)
		}
	}
	// Points in time and intervals too long for a Duration have none.
	for _, s := range []string{"20260101000000.000000+000", "00106751235959.999999:000", "99999999000000.000000:000"} {
		d, err := ParseDateTime(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := d.Duration(); ok {
			t.Errorf("%s.Duration() = %v, ok", s, got)
		}
	}
	if d, _ := ParseDateTime("00106751234716.854775:000"); true {
		if got, ok := d.Duration(); !ok || got != time.Duration(math.MaxInt64).Truncate(time.Microsecond) {
			t.Errorf("longest Duration = %v, %v", got, ok)
		}
	}
	if _, ok := (DateTime{}).Duration(); ok {
		t.Error("zero DateTime has a Duration")
	}
}

func TestDateTimeCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"20260101120000.000000+000", "20260101120000.000000+000", 0},
		{"20260101120000.000000+000", "20260101130000.000000+060", 0}, // the same instant
		{"20260101120000.000000+000", "20260101070000.000000-300", 0},
		{"20260101000000.000000+000", "20251231230000.000000-060", 0}, // across a year
		{"20260101120000.000000+000", "20260101120000.000001+000", -1},
		{"20260101120000.000000+000", "20260101123000.000000+060", 1},
		{"20260101000000.000000+999", "20251231000000.000000+000", 1},
		{"20260101000000.000000-999", "20260101160000.000000+000", 1},
		{"20260101120000.12****+000", "20260101120000.120000+000", 0},
		{"00000001000000.000000:000", "00000000235959.999999:000", 1},
		{"00000001000000.000000:000", "00000001000000.000000:000", 0},
		{"99999999235959.999999:000", "00000101000000.000000+000", -1}, // intervals first
	}
	for _, tc := range cases {
		a, err := ParseDateTime(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseDateTime(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Compare(b); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := b.Compare(a); got != -tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
		if Equal(a, b) != (tc.want == 0) {
			t.Errorf("Equal(%s, %s) = %v", tc.a, tc.b, !(tc.want == 0))
		}
	}
}

// TestDateTimeCompareMatchesTime checks Compare against time.Time for
// values in many zones.
func TestDateTimeCompareMatchesTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC)
	var ts []time.Time
	for i, off := range []int{0, 60, -60, 330, -570, 999, -999, 1} {
		loc := time.FixedZone("", off*60)
		ts = append(ts, base.Add(time.Duration(i*17)*time.Minute).In(loc), base.In(loc))
	}
	for _, a := range ts {
		for _, b := range ts {
			if got, want := NewDateTime(a).Compare(NewDateTime(b)), a.Compare(b); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestZeroDateTime(t *testing.T) {
	var z DateTime
	if !z.IsZero() || !z.HasWildcards() || z.IsInterval() {
		t.Errorf("zero DateTime: IsZero %v HasWildcards %v IsInterval %v", z.IsZero(), z.HasWildcards(), z.IsInterval())
	}
	if len(z.String()) != 25 {
		t.Errorf("zero DateTime String() = %q", z.String())
	}
}

// TestDateTimeAppendText checks that AppendText appends what String
// returns, and does so without allocating into a buffer with room.
func TestDateTimeAppendText(t *testing.T) {
	vals := []DateTime{{}, NewInterval(90 * time.Second), NewDateTime(time.Date(2026, 1, 15, 9, 30, 0, 0, time.FixedZone("", -90*60)))}
	for _, tc := range dateTimeCases {
		if tc.ok {
			d, err := ParseDateTime(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			vals = append(vals, d)
		}
	}
	buf := make([]byte, 0, 64)
	for _, d := range vals {
		got, err := d.AppendText(append(buf[:0], "<V>"...))
		if err != nil || string(got) != "<V>"+d.String() {
			t.Errorf("AppendText of %s = %q, %v", d, got, err)
		}
		m, _ := d.MarshalText()
		if string(m) != d.String() {
			t.Errorf("MarshalText of %s = %q", d, m)
		}
		if n := testing.AllocsPerRun(10, func() { buf, _ = d.AppendText(buf[:0]) }); n != 0 {
			t.Errorf("AppendText of %s allocates %v times", d, n)
		}
		if d.valid {
			if fast, slow := d.appendDMTF(nil), d.appendFields(nil); string(fast) != string(slow) {
				t.Errorf("in place %q, field by field %q", fast, slow)
			}
		}
	}
	// Fields too wide for their places are written whole, as before.
	wide := DateTime{valid: true, year: 12345, month: 1, day: 2, hour: 3, minute: 4, second: 5, micro: 6, microDigits: 6, offset: 1000}
	if got := wide.String(); got != "123450102030405.000006+1000" {
		t.Errorf("wide DateTime = %q", got)
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, tc := range dateTimeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDateTime(s)
		if err != nil {
			if CodeOf(err) != ErrInvalidParameter {
				t.Fatalf("ParseDateTime(%q) error %v has the wrong code", s, err)
			}
			return
		}
		out := d.String()
		if out != s {
			t.Fatalf("ParseDateTime(%q).String() = %q", s, out)
		}
		if app, _ := d.AppendText([]byte("x")); string(app) != "x"+s {
			t.Fatalf("ParseDateTime(%q).AppendText(x) = %q", s, app)
		}
		if d.valid && string(d.appendFields(nil)) != s {
			t.Fatalf("ParseDateTime(%q) field by field = %q", s, d.appendFields(nil))
		}
		again, err := ParseDateTime(out)
		if err != nil || again != d {
			t.Fatalf("ParseDateTime(%q) = %#v, %v; want %#v", out, again, err, d)
		}
		if d.Compare(again) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", s)
		}
		if tm, ok := d.Time(); ok {
			back := NewDateTime(tm)
			if back.Compare(d) != 0 {
				t.Fatalf("NewDateTime(%q.Time()) = %s, not the same instant", s, back)
			}
		}
		if dur, ok := d.Duration(); ok {
			if dur < 0 {
				t.Fatalf("%q.Duration() = %v is negative", s, dur)
			}
			if back := NewInterval(dur); back != d {
				t.Fatalf("NewInterval(%q.Duration()) = %s", s, back)
			}
		}
	})
}

// FuzzNewDateTime checks that NewDateTime keeps the instant and the offset
// in minutes of any time in years 0 to 9999, and NewInterval any duration.
func FuzzNewDateTime(f *testing.F) {
	f.Add(int64(0), int64(0), int16(0))
	f.Add(int64(1767225600), int64(123456789), int16(-300))
	f.Add(int64(253402300799), int64(999999999), int16(999))
	f.Add(int64(-62167219200), int64(0), int16(-999))
	f.Fuzz(func(t *testing.T, sec, nsec int64, off int16) {
		loc := time.FixedZone("", int(off%1000)*60)
		in := time.Unix(sec%(253402300800+62167219200), nsec%1e9).In(loc)
		if in.Year() < 0 || in.Year() > 9999 {
			return
		}
		d := NewDateTime(in)
		got, ok := d.Time()
		if !ok || !got.Equal(in.Truncate(time.Microsecond)) {
			t.Fatalf("NewDateTime(%v).Time() = %v, %v", in, got, ok)
		}
		_, want := in.Zone()
		if _, o := got.Zone(); o != want || d.Offset()*60 != want {
			t.Fatalf("NewDateTime(%v) offset %d min, want %d s", in, d.Offset(), want)
		}
		if p, err := ParseDateTime(d.String()); err != nil || p != d {
			t.Fatalf("ParseDateTime(%q) = %#v, %v", d.String(), p, err)
		}
		dur := time.Duration(sec)
		iv := NewInterval(dur)
		back, ok := iv.Duration()
		if !ok || back != max(dur, 0).Truncate(time.Microsecond) {
			t.Fatalf("NewInterval(%d).Duration() = %v, %v", dur, back, ok)
		}
		if p, err := ParseDateTime(iv.String()); err != nil || p != iv {
			t.Fatalf("ParseDateTime(%q) = %#v, %v", iv.String(), p, err)
		}
	})
}
