package cli

import (
	"testing"
	"time"
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
}
