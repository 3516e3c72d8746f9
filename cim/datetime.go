package cim

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// DateTime is a CIM datetime value (DSP0004 §5.2.4): either a point in
// time, written yyyymmddHHMMSS.mmmmmmsUUU with the offset from UTC in
// minutes, or an interval, written ddddddddHHMMSS.mmmmmm:000.
//
// A field of a point in time may be wholly asterisks ("unknown"); the
// microseconds field may also have asterisks in place of its trailing
// digits, to say how precise the value is. Intervals take no asterisks.
// The zero DateTime is the point in time 0000-00-00 with every field
// unknown and is never produced by the codec; use [DateTime.IsZero].
//
// Its fields are as small as their ranges allow (24 bytes in all), as
// every DateTime property value is boxed in an interface: a provider of
// many instances allocates one per value.
type DateTime struct {
	// Days of an interval (at most 99999999).
	days  int32
	micro int32 // 0..999999, the asterisked digits zero
	// For a point in time: year; -1 for an asterisked field.
	year   int16
	offset int16 // minutes east of UTC
	// month, day, hour, minute, second: -1 for an asterisked field.
	month, day, hour, minute, second int8
	microDigits                      int8 // significant microsecond digits, 0 to 6
	interval                         bool
	valid                            bool
	offsetUnknown                    bool
	minus                            bool // the offset was written with '-' (kept for "-000" and "-***")
}

// NewDateTime returns the point in time t, keeping t's offset from UTC
// when it is a whole number of minutes (else t is taken in UTC).
// Years outside 0 to 9999 are clamped to that range.
func NewDateTime(t time.Time) DateTime {
	_, off := t.Zone()
	if off%60 != 0 || off/60 > 999 || off/60 < -999 {
		t = t.UTC()
		off = 0
	}
	// The wall clock is UTC shifted by the offset: Date and Clock of that
	// look no zone up (each of t's own would, and a time outside the
	// zone's current period costs a search of its transitions), and they
	// compute the calendar once each, not once per field.
	t = t.UTC().Add(time.Duration(off) * time.Second)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		if year < 0 {
			t = time.Date(0, 1, 1, 0, 0, 0, 0, t.Location())
		} else {
			t = time.Date(9999, 12, 31, 23, 59, 59, 999999000, t.Location())
		}
		year, month, day = t.Date()
	}
	hour, minute, second := t.Clock()
	return DateTime{
		valid: true,
		year:  int16(year), month: int8(month), day: int8(day),
		hour: int8(hour), minute: int8(minute), second: int8(second),
		micro: int32(t.Nanosecond() / 1000), microDigits: 6,
		offset: int16(off / 60), minus: off < 0,
	}
}

// NewInterval returns the interval d, truncated to microseconds. Negative
// durations are taken as zero, since CIM intervals have no sign.
func NewInterval(d time.Duration) DateTime {
	if d < 0 {
		d = 0
	}
	us := int64(d / time.Microsecond)
	return DateTime{
		interval: true, valid: true,
		days:   int32(us / (86400 * 1e6)), // a Duration is under 110,000 days
		hour:   int8(us / (3600 * 1e6) % 24),
		minute: int8(us / (60 * 1e6) % 60),
		second: int8(us / 1e6 % 60),
		micro:  int32(us % 1e6), microDigits: 6,
	}
}

// IsZero reports whether d is the zero DateTime (no value).
func (d DateTime) IsZero() bool { return !d.valid }

// IsInterval reports whether d is an interval rather than a point in time.
func (d DateTime) IsInterval() bool { return d.interval }

// HasWildcards reports whether any field of d is unknown (asterisks).
func (d DateTime) HasWildcards() bool {
	if !d.valid {
		return true
	}
	return d.year < 0 || d.month < 0 || d.day < 0 || d.hour < 0 || d.minute < 0 || d.second < 0 ||
		d.microDigits < 6 || d.offsetUnknown
}

// Offset returns the offset from UTC in minutes of a point in time.
func (d DateTime) Offset() int { return int(d.offset) }

// Time returns the point in time d as a time.Time in a fixed zone of d's
// offset. ok is false for intervals and for values with unknown fields
// other than trailing microseconds (which are taken as zero).
func (d DateTime) Time() (t time.Time, ok bool) {
	if !d.valid || d.interval || d.year < 0 || d.month < 0 || d.day < 0 || d.hour < 0 ||
		d.minute < 0 || d.second < 0 || d.offsetUnknown {
		return time.Time{}, false
	}
	loc := time.UTC
	if d.offset != 0 {
		loc = time.FixedZone("", int(d.offset)*60)
	}
	return time.Date(int(d.year), time.Month(d.month), int(d.day), int(d.hour), int(d.minute), int(d.second), int(d.micro)*1000, loc), true
}

// Duration returns an interval as a time.Duration; ok is false for points
// in time and for intervals too long for a Duration.
func (d DateTime) Duration() (time.Duration, bool) {
	if !d.valid || !d.interval {
		return 0, false
	}
	rest := time.Duration(d.hour)*time.Hour + time.Duration(d.minute)*time.Minute +
		time.Duration(d.second)*time.Second + time.Duration(d.micro)*time.Microsecond
	if int64(d.days) > int64((math.MaxInt64-rest)/(24*time.Hour)) {
		return 0, false
	}
	return time.Duration(d.days)*24*time.Hour + rest, true
}

// String returns the DMTF form of d, always 25 characters.
func (d DateTime) String() string {
	var a [25]byte
	return string(d.appendDMTF(a[:0]))
}

// AppendText appends the DMTF form of d (25 characters) to b, without
// allocating when b has room; it implements encoding.TextAppender and
// never fails.
func (d DateTime) AppendText(b []byte) ([]byte, error) { return d.appendDMTF(b), nil }

// appendDMTF appends the DMTF form of d to b.
func (d DateTime) appendDMTF(b []byte) []byte {
	if !d.valid {
		return append(b, "**************.******+***"...)
	}
	if d.fits() {
		// Every field fits its width: fill the 25 characters in place.
		n := len(b)
		b = append(b, "00000000000000.000000+000"...)
		out := b[n : n+25]
		if d.interval {
			putDigits(out[0:8], int64(d.days))
		} else {
			putField(out[0:4], int(d.year))
			putField(out[4:6], int(d.month))
			putField(out[6:8], int(d.day))
		}
		putField(out[8:10], int(d.hour))
		putField(out[10:12], int(d.minute))
		putField(out[12:14], int(d.second))
		putDigits(out[15:21], int64(d.micro))
		for i := 15 + int(d.microDigits); i < 21; i++ {
			out[i] = '*'
		}
		switch {
		case d.interval:
			out[21] = ':'
		case d.offsetUnknown:
			if d.minus {
				out[21] = '-'
			}
			out[22], out[23], out[24] = '*', '*', '*'
		default:
			if d.minus {
				out[21] = '-'
			}
			off := int(d.offset)
			if off < 0 {
				off = -off
			}
			putDigits(out[22:25], int64(off))
		}
		return b
	}
	return d.appendFields(b)
}

// appendFields appends the DMTF form of a valid d field by field, for
// values whose fields do not fit their widths.
func (d DateTime) appendFields(b []byte) []byte {
	if d.interval {
		b = appendPadded(b, int64(d.days), 8)
	} else {
		b = appendField(b, int(d.year), 4)
		b = appendField(b, int(d.month), 2)
		b = appendField(b, int(d.day), 2)
	}
	b = appendField(b, int(d.hour), 2)
	b = appendField(b, int(d.minute), 2)
	b = appendField(b, int(d.second), 2)
	b = append(b, '.')
	n := len(b)
	b = appendPadded(b, int64(d.micro), 6)
	for i := n + int(d.microDigits); i < len(b); i++ {
		b[i] = '*'
	}
	if d.interval {
		return append(b, ":000"...)
	}
	sign := byte('+')
	if d.minus {
		sign = '-'
	}
	if d.offsetUnknown {
		return append(b, sign, '*', '*', '*')
	}
	off := int(d.offset)
	if off < 0 {
		off = -off
	}
	b = append(b, sign)
	return appendPadded(b, int64(off), 3)
}

// fits reports whether every field of d fits its width, as they do in
// any DateTime that NewDateTime, NewInterval or ParseDateTime returns.
func (d DateTime) fits() bool {
	return d.days >= 0 && d.days <= 99999999 && d.year <= 9999 && d.month <= 99 && d.day <= 99 &&
		d.hour <= 99 && d.minute <= 99 && d.second <= 99 && d.micro >= 0 && d.micro <= 999999 &&
		d.microDigits >= 0 && d.microDigits <= 6 && d.offset >= -999 && d.offset <= 999
}

// putField writes v in decimal over all of dst, zero-padded, or fills dst
// with asterisks for an unknown (negative) field. v must fit.
func putField(dst []byte, v int) {
	if v < 0 {
		for i := range dst {
			dst[i] = '*'
		}
		return
	}
	putDigits(dst, int64(v))
}

// putDigits writes v (not negative, and fitting) in decimal over all of
// dst, zero-padded.
func putDigits(dst []byte, v int64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// appendField appends a field of width digits, or asterisks for an
// unknown (negative) field.
func appendField(b []byte, v, width int) []byte {
	if v < 0 {
		for i := 0; i < width; i++ {
			b = append(b, '*')
		}
		return b
	}
	return appendPadded(b, int64(v), width)
}

// appendPadded appends v in decimal, zero-padded on the left to width.
func appendPadded(b []byte, v int64, width int) []byte {
	if v < 0 || width > 19 {
		var a [24]byte
		s := strconv.AppendInt(a[:0], v, 10)
		for i := len(s); i < width; i++ {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	var a [20]byte
	i := len(a)
	for {
		i--
		a[i] = byte('0' + v%10)
		v /= 10
		width--
		if v == 0 && width <= 0 {
			return append(b, a[i:]...)
		}
	}
}

// MarshalText encodes d in its DMTF form.
func (d DateTime) MarshalText() ([]byte, error) { return d.appendDMTF(make([]byte, 0, 25)), nil }

// UnmarshalText decodes the DMTF form.
func (d *DateTime) UnmarshalText(b []byte) error {
	v, err := ParseDateTime(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDateTime decodes a CIM datetime string. Its errors are
// CIM_ERR_INVALID_PARAMETER and name the field that is wrong.
func ParseDateTime(s string) (DateTime, error) {
	fail := func(pos int, what string) (DateTime, error) {
		return DateTime{}, Errorf(ErrInvalidParameter, "CIM datetime %q: %s at character %d", s, what, pos+1)
	}
	if len(s) != 25 {
		return fail(0, fmt.Sprintf("length is %d, not 25", len(s)))
	}
	if s[14] != '.' {
		return fail(14, "expected '.'")
	}
	d := DateTime{valid: true, interval: s[21] == ':'}
	// num reads a field of digits, or wholly asterisks (allowed says so); -1 means asterisks.
	num := func(start, width int, allowStar bool) (int64, bool) {
		f := s[start : start+width]
		stars, digits := 0, 0
		for i := 0; i < width; i++ {
			switch {
			case f[i] == '*':
				stars++
			case f[i] >= '0' && f[i] <= '9':
				digits++
			}
		}
		if stars == width && allowStar {
			return -1, true
		}
		if digits != width {
			return 0, false
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		return v, true
	}
	var year, month, day, hour, minute, second int
	fields := []struct {
		start, width int
		min, max     int64
		dst          *int
		name         string
	}{
		{8, 2, 0, 23, &hour, "hours"},
		{10, 2, 0, 59, &minute, "minutes"},
		{12, 2, 0, 60, &second, "seconds"},
	}
	if d.interval {
		v, ok := num(0, 8, false)
		if !ok {
			return fail(0, "days must be 8 digits")
		}
		d.days = int32(v)
		if s[22:] != "000" {
			return fail(22, "an interval ends in \":000\"")
		}
	} else {
		fields = append([]struct {
			start, width int
			min, max     int64
			dst          *int
			name         string
		}{
			{0, 4, 0, 9999, &year, "year"},
			{4, 2, 1, 12, &month, "month"},
			{6, 2, 1, 31, &day, "day"},
		}, fields...)
		if s[21] != '+' && s[21] != '-' {
			return fail(21, "expected '+', '-' or ':' before the offset")
		}
		d.minus = s[21] == '-'
		if s[22:] == "***" {
			d.offsetUnknown = true
		} else {
			v, ok := num(22, 3, false)
			if !ok {
				return fail(22, "offset must be 3 digits (minutes) or \"***\"")
			}
			d.offset = int16(v)
			if s[21] == '-' {
				d.offset = -d.offset
			}
		}
	}
	for _, f := range fields {
		v, ok := num(f.start, f.width, !d.interval)
		if !ok {
			return fail(f.start, f.name+" must be digits or wholly asterisks")
		}
		if v >= 0 && (v < f.min || v > f.max) {
			return fail(f.start, fmt.Sprintf("%s %d is out of range %d to %d", f.name, v, f.min, f.max))
		}
		*f.dst = int(v)
	}
	d.year, d.month, d.day = int16(year), int8(month), int8(day)
	d.hour, d.minute, d.second = int8(hour), int8(minute), int8(second)
	if d.interval && d.second > 59 {
		return fail(12, "seconds out of range")
	}
	// Microseconds: digits, then (points in time only) trailing asterisks.
	micro := s[15:21]
	d.microDigits = 6
	for i := 0; i < 6; i++ {
		c := micro[i]
		if c == '*' {
			if d.interval {
				return fail(15+i, "an interval takes no asterisks")
			}
			if d.microDigits == 6 {
				d.microDigits = int8(i)
			}
			continue
		}
		if c < '0' || c > '9' || d.microDigits < 6 {
			return fail(15+i, "microseconds must be digits, then only asterisks")
		}
		d.micro = d.micro*10 + int32(c-'0')
	}
	for i := int(d.microDigits); i < 6; i++ {
		d.micro *= 10
	}
	if !d.interval && d.year >= 0 && d.month > 0 && d.day > 0 {
		if int(d.day) > daysIn(int(d.year), int(d.month)) {
			return fail(6, fmt.Sprintf("day %d does not exist in %04d-%02d", d.day, d.year, d.month))
		}
	}
	return d, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Compare orders two datetimes: intervals by length, points in time by
// the instant after normalising to UTC, unknown fields taken as their
// smallest value; every interval orders before every point in time.
// It returns -1, 0 or +1.
func (d DateTime) Compare(o DateTime) int {
	if d.interval != o.interval {
		if d.interval {
			return -1
		}
		return 1
	}
	a, b := d.key(), o.key()
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// key returns a tuple that orders like the value.
func (d DateTime) key() [2]int64 {
	z := func(v int64) int64 {
		if v < 0 {
			return 0
		}
		return v
	}
	us := (z(int64(d.hour))*3600+z(int64(d.minute))*60+z(int64(d.second)))*1e6 + int64(d.micro)
	if d.interval {
		return [2]int64{int64(d.days), us}
	}
	month, day := z(int64(d.month)), z(int64(d.day))
	if month == 0 {
		month = 1
	}
	if day == 0 {
		day = 1
	}
	days := time.Date(int(z(int64(d.year))), time.Month(month), int(day), 0, 0, 0, 0, time.UTC).Unix() / 86400
	off := int64(d.offset)
	if d.offsetUnknown {
		off = 0
	}
	us -= off * 60 * 1e6
	// Normalise us into [0, one day).
	const day1 = 86400 * 1e6
	for us < 0 {
		us += day1
		days--
	}
	for us >= day1 {
		us -= day1
		days++
	}
	return [2]int64{days, us}
}
