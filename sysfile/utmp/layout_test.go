package utmp_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/sysfile/utmp/internal/utmpgen"
)

func encodeAll(recs []utmp.Record, l utmp.Layout) []byte {
	var b []byte
	for _, r := range recs {
		b = utmp.AppendEncode(b, r, l)
	}
	return b
}

// TestCheckLayout writes a file in each layout and reads it in each: the
// right layout passes, a wrong one is refused naming the right one.
func TestCheckLayout(t *testing.T) {
	recs := utmpgen.Records(300, 1000)
	for _, w := range utmp.Layouts {
		data := encodeAll(recs, w)
		for _, r := range utmp.Layouts {
			err := utmp.CheckLayout(bytes.NewReader(data), int64(len(data)), "F", r)
			if w == r {
				if err != nil {
					t.Errorf("%v read as itself: %v", w, err)
				}
				continue
			}
			var le *utmp.LayoutError
			if !errors.As(err, &le) || le.Likely != w || cim.CodeOf(err) != cim.ErrFailed ||
				!strings.Contains(err.Error(), "--layout "+w.Name()) {
				t.Errorf("%v read as %v: %v", w, r, err)
			}
		}
	}
	// Empty records fit every layout; noise fits none.
	zero := make([]byte, 384*400)
	if err := utmp.CheckLayout(bytes.NewReader(zero), int64(len(zero)), "F", utmp.Layout384); err != nil {
		t.Errorf("empty records: %v", err)
	}
	noise := bytes.Repeat([]byte("\xde\xad\xbe\xef garbage"), 20000)
	var le *utmp.LayoutError
	if err := utmp.CheckLayout(bytes.NewReader(noise), int64(len(noise)), "F", utmp.Layout384); !errors.As(err, &le) || le.Likely.Valid() {
		t.Errorf("noise: %v", err)
	}
}

func TestParseLayout(t *testing.T) {
	for _, l := range utmp.Layouts {
		if got, err := utmp.ParseLayout(l.Name()); err != nil || got != l {
			t.Errorf("ParseLayout(%q) = %v, %v", l.Name(), got, err)
		}
	}
	if got, err := utmp.ParseLayout("native"); err != nil || got != utmp.Native {
		t.Errorf("native: %v %v", got, err)
	}
	if _, err := utmp.ParseLayout("392"); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("392: %v", err)
	}
}

func TestPlausible(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		r    utmp.Record
		want bool
	}{
		{utmp.Record{Type: utmp.UserProcess, Time: now}, true},
		{utmp.Record{Type: utmp.Empty}, true},
		{utmp.Record{Type: utmp.UserProcess, Time: time.Date(1991, 5, 1, 0, 0, 0, 0, time.UTC)}, true},
		{utmp.Record{Type: 1792, Time: now}, false},
		{utmp.Record{Type: -1, Time: now}, false},
		{utmp.Record{Type: utmp.UserProcess, Time: time.Date(1911, 5, 1, 0, 0, 0, 0, time.UTC)}, false},
		{utmp.Record{Type: utmp.UserProcess, Time: time.Date(2100, 5, 1, 0, 0, 0, 0, time.UTC)}, false},
		{utmp.Record{Type: utmp.DeadProcess, Time: time.Unix(1<<31-1, 0)}, true}, // 2038, util-linux's tests
	} {
		if got := utmp.Plausible(tc.r, now); got != tc.want {
			t.Errorf("Plausible(%v %v) = %v", tc.r.Type, tc.r.Time, got)
		}
	}
}

func FuzzCheckLayout(f *testing.F) {
	f.Add(encodeAll(utmpgen.Records(5, 1), utmp.Layout384), 0)
	f.Add(encodeAll(utmpgen.Records(5, 1), utmp.Layout400BE), 3)
	f.Fuzz(func(t *testing.T, data []byte, k int) {
		l := utmp.Layouts[uint(k)%uint(len(utmp.Layouts))]
		err := utmp.CheckLayout(bytes.NewReader(data), int64(len(data)), "F", l)
		if err != nil && cim.CodeOf(err) != cim.ErrFailed {
			t.Fatalf("%v", err)
		}
	})
}
