package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/cimsess/cimsess/output"
)

var whenCases = []struct {
	in   string
	want time.Time // zero with ok: no bound
	ok   bool
}{
	{"", time.Time{}, true},
	{"now", time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC), true},
	{"today", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), true},
	{"yesterday", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), true},
	{"7d", time.Date(2026, 3, 3, 15, 30, 0, 0, time.UTC), true},
	{"1w", time.Date(2026, 3, 3, 15, 30, 0, 0, time.UTC), true},
	{"90m", time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), true},
	{"1.5d", time.Date(2026, 3, 9, 3, 30, 0, 0, time.UTC), true},
	{"2026-01-31", time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), true},
	{"2026-01-31 14:00", time.Date(2026, 1, 31, 14, 0, 0, 0, time.UTC), true},
	{"2026-01-31T14:00:05", time.Date(2026, 1, 31, 14, 0, 5, 0, time.UTC), true},
	{"2026-01-31T14:00:05+02:00", time.Date(2026, 1, 31, 12, 0, 5, 0, time.UTC), true},
	{"soon", time.Time{}, false},
	{"-3d", time.Time{}, false},
	{"2026-13-01", time.Time{}, false},
	{"d", time.Time{}, false},
	{"-3h", time.Time{}, false},
	{"1e300d", time.Time{}, false},
}

var whenNow = time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC)

func TestParseWhen(t *testing.T) {
	for _, tc := range whenCases {
		got, err := parseWhen(tc.in, whenNow)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseWhen(f *testing.F) {
	for _, tc := range whenCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseWhen(s, whenNow)
		if err == nil && got.IsZero() && s != "" {
			// Only an empty (or blank) bound is no bound.
			for _, c := range s {
				if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' && c != 0x85 && c != 0xA0 {
					t.Fatalf("parseWhen(%q) gave no bound and no error", s)
				}
			}
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                 "0s",
		42 * time.Second:             "42s",
		61 * time.Minute:             "01:01",
		25*time.Hour + 3*time.Minute: "1+01:03",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	// As fmt would write it, over many durations.
	for d := time.Duration(0); d < 400*24*time.Hour; d = d*3/2 + 7*time.Second {
		m := int64(d / time.Minute)
		want := fmt.Sprintf("%02d:%02d", m/60, m%60)
		switch {
		case d < time.Minute:
			want = fmt.Sprintf("%ds", int(d/time.Second))
		case m >= 24*60:
			want = fmt.Sprintf("%d+%02d:%02d", m/(24*60), (m/60)%24, m%60)
		}
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestLocalTime checks localTime against time.Format, in zones with and
// without daylight saving time.
func TestLocalTime(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	zones := []*time.Location{time.UTC, time.FixedZone("+0545", 5*3600+45*60), time.FixedZone("-0330", -(3*3600 + 30*60))}
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		zones = append(zones, loc) // daylight saving time, where the system has zone data
	}
	for _, loc := range zones {
		zone := loc.String()
		time.Local = loc
		for sec := int64(-1 << 20); sec < 4e9; sec = sec*5/4 + 86399 {
			tm := time.Unix(sec, 123456789)
			if got, want := localTime(tm), tm.Local().Format(output.TimeLayout); got != want {
				t.Fatalf("%s: localTime(%d) = %q, want %q", zone, sec, got, want)
			}
		}
		far := time.Date(12000, 1, 1, 0, 0, 0, 0, loc)
		if got, want := localTime(far), far.Local().Format(output.TimeLayout); got != want {
			t.Errorf("%s: localTime(year 12000) = %q, want %q", zone, got, want)
		}
	}
}
