package wsman

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// ParseDuration parses an xs:duration such as PT60S, PT1.5S, P1DT2H or
// -PT1S. Years count 365 days and months 30, as a timeout needs no
// calendar. Durations beyond time.Duration's range are errors.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("%q is not an xs:duration such as PT60S", cim.Clip(orig))
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(s, "P") || len(s) < 2 {
		return bad()
	}
	s = s[1:]
	var total float64
	inTime, any := false, false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return bad()
			}
			inTime, s = true, s[1:]
			if s == "" {
				return bad()
			}
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) || i > 30 {
			return bad()
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return bad()
		}
		unit := s[i]
		if unit != 'S' && strings.Contains(s[:i], ".") {
			return bad() // only seconds take a fraction
		}
		var mult float64
		switch {
		case !inTime && unit == 'Y':
			mult = 365 * 86400
		case !inTime && unit == 'M':
			mult = 30 * 86400
		case !inTime && unit == 'D':
			mult = 86400
		case inTime && unit == 'H':
			mult = 3600
		case inTime && unit == 'M':
			mult = 60
		case inTime && unit == 'S':
			mult = 1
		default:
			return bad()
		}
		total += v * mult
		any = true
		s = s[i+1:]
	}
	if !any {
		return bad()
	}
	if total*1e9 >= math.MaxInt64 {
		return 0, fmt.Errorf("the duration %q is too long", cim.Clip(orig))
	}
	d := time.Duration(math.Round(total * 1e9))
	if neg {
		d = -d
	}
	return d, nil
}

// FormatDuration writes d as an xs:duration, PT60.000S style for a
// timeout.
func FormatDuration(d time.Duration) string {
	return fmt.Sprintf("PT%d.%03dS", d/time.Second, (d%time.Second)/time.Millisecond)
}

// appendInterval appends a CIM interval as an xs:duration, days and all:
// P0DT0H0M5.000000S; an interval too long for a Duration is written from
// its DMTF fields.
func appendInterval(b []byte, d cim.DateTime) []byte {
	s := d.String() // ddddddddHHMMSS.mmmmmm:000
	if len(s) != 25 {
		return append(b, "P0D"...)
	}
	days, _ := strconv.Atoi(s[0:8])
	h, _ := strconv.Atoi(s[8:10])
	m, _ := strconv.Atoi(s[10:12])
	sec, _ := strconv.Atoi(s[12:14])
	b = append(b, 'P')
	b = strconv.AppendInt(b, int64(days), 10)
	b = append(b, "DT"...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, 'H')
	b = strconv.AppendInt(b, int64(m), 10)
	b = append(b, 'M')
	b = strconv.AppendInt(b, int64(sec), 10)
	b = append(b, '.')
	b = append(b, s[15:21]...)
	return append(b, 'S')
}

// appendDateTime appends a CIM point in time as an xs:dateTime with its
// offset (Z for UTC), microseconds kept. ok is false for a value with
// unknown fields, which xs:dateTime cannot carry.
func appendDateTime(b []byte, d cim.DateTime) ([]byte, bool) {
	t, ok := d.Time()
	if !ok || d.HasWildcards() && !microsOnly(d) {
		return b, false
	}
	layout := "2006-01-02T15:04:05.000000Z07:00"
	return t.AppendFormat(b, layout), true
}

// microsOnly reports whether d's only unknown digits are trailing
// microseconds, which Time takes as zero.
func microsOnly(d cim.DateTime) bool {
	s := d.String()
	return len(s) == 25 && !strings.Contains(s[:15], "*") && !strings.Contains(s[21:], "*")
}

// parseXSDateTime reads an xs:dateTime (with or without an offset, as UTC
// when without) as a CIM datetime.
func parseXSDateTime(s string) (cim.DateTime, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return cim.NewDateTime(t), nil
		}
	}
	return cim.DateTime{}, fmt.Errorf("%q is not an xs:dateTime", cim.Clip(s))
}
