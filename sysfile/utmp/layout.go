package utmp

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Layout400BE is the layout of s390 and s390x: 400-byte big-endian
// records (glibc's sysdeps/unix/sysv/linux/s390/bits/utmp.h gives them a
// 64-bit ut_session and ut_tv).
var Layout400BE = Layout{Size: 400, BigEndian: true}

// Layouts are the layouts glibc writes, in the order [CheckLayout] tries
// them.
var Layouts = []Layout{Layout384, Layout384BE, Layout400, Layout400BE}

// LayoutNames are the names [ParseLayout] takes, as --layout gives them.
const LayoutNames = "native, 384, 384be, 400, 400be"

// ParseLayout reads a layout's name: "native" (or "") for [Native], "384",
// "384be", "400" or "400be". An unknown name is an error wrapping
// [fs.ErrInvalid].
func ParseLayout(s string) (Layout, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "native":
		return Native, nil
	case "384", "384le":
		return Layout384, nil
	case "384be":
		return Layout384BE, nil
	case "400", "400le":
		return Layout400, nil
	case "400be":
		return Layout400BE, nil
	}
	return Layout{}, fmt.Errorf("utmp: unknown layout %.64q (one of %s): %w", s, LayoutNames, fs.ErrInvalid)
}

// Name returns the layout's name as [ParseLayout] reads it: "384",
// "384be", "400" or "400be".
func (l Layout) Name() string {
	if l.BigEndian {
		return strconv.Itoa(l.Size) + "be"
	}
	return strconv.Itoa(l.Size)
}

// Plausible reports whether a record is one a login program could have
// written: a type glibc defines and a time from 1970 up to a year after
// now or the end of 32-bit time, whichever is later (or none). A record read in the wrong layout (another byte order or
// record size) is not: its type is a byte of some other field, its time
// from 1901 or 2100.
func Plausible(r Record, now time.Time) bool {
	if r.Type < Empty || r.Type > Accounting {
		return false
	}
	if r.Time.IsZero() {
		return true
	}
	// A 32-bit time reaches 2038 (util-linux's tests write it); a record
	// read in the wrong layout gives times before 1970 or far beyond.
	limit := now.AddDate(1, 0, 0)
	if y2038 := time.Unix(1<<31, 0); limit.Before(y2038) {
		limit = y2038
	}
	return r.Time.Unix() >= 0 && r.Time.Before(limit)
}

// sample is how many records [CheckLayout] reads at the start and at the
// end of a file.
const sample = 64

// LayoutError says that a file's records are not plausible in the layout
// it was to be read in: Likely is the layout they are plausible in, when
// one is. It is a plain error with no cause: a provider maps it to
// CIM_ERR_FAILED.
type LayoutError struct {
	Path   string
	Layout Layout // the layout asked for
	Likely Layout // the layout that fits; the zero Layout when none does
}

// Error names the layout the file is likely in and the flag to read it so.
func (e *LayoutError) Error() string {
	if e.Likely.Valid() {
		return "utmp: " + e.Path + " does not hold plausible " + e.Layout.String() + " records (" + e.Layout.Name() +
			"); it looks like " + e.Likely.String() + " records, as " + writtenOn(e.Likely) + " write: read it with --layout " + e.Likely.Name()
	}
	return "utmp: " + e.Path + " does not hold plausible utmp/wtmp records in any layout glibc writes (" + LayoutNames + "): not a login record file, or corrupt"
}

func writtenOn(l Layout) string {
	switch l {
	case Layout384:
		return "x86-64, i386, arm, riscv64 and ppc64le"
	case Layout384BE:
		return "ppc64, mips and sparc"
	case Layout400:
		return "arm64 and loong64"
	case Layout400BE:
		return "s390 and s390x"
	}
	return "some systems"
}

// CheckLayout reads up to 64 records at the start and 64 at the end of a
// file of size bytes in each layout glibc writes, and returns a
// [*LayoutError] when the records are not plausible (see [Plausible], and
// a time set) in layout l: when nine in ten or more are in another
// layout, it names that one; when fewer than half are in l and none fits,
// it says that no layout does. EMPTY records are not counted, so a file
// of zeros fits every layout.
func CheckLayout(f io.ReaderAt, size int64, path string, l Layout) error {
	if size < int64(l.Size) {
		return nil // no whole record: a truncated file, not a layout
	}
	now := time.Now()
	f = sampled(f, size)
	mine := fit(f, size, l, now)
	var best Layout
	var bestFit fitness
	for _, o := range Layouts {
		if o == l {
			continue
		}
		if c := fit(f, size, o, now); !best.Valid() || c.better(bestFit) {
			best, bestFit = o, c
		}
	}
	// A layout fits when nine in ten of its telling records are
	// plausible, and some are, unless no layout has any (a 400-byte file
	// read as 384 bytes shows only zeros where the times should be).
	// A file of whole records of another layout that fits as well is that
	// layout's: a file of this one would be cut in a record (truncated
	// files are rare; 384 and 400 bytes rarely divide the same size).
	other := bestFit.whole && !mine.whole && bestFit.ratio >= 0.9 && bestFit.good > 0
	if mine.ratio >= 0.9 && (mine.good > 0 || bestFit.good == 0) && !other {
		return nil
	}
	if other {
		return &LayoutError{Path: path, Layout: l, Likely: best}
	}
	if bestFit.ratio >= 0.9 && bestFit.good > mine.good {
		return &LayoutError{Path: path, Layout: l, Likely: best}
	}
	if mine.ratio < 0.5 {
		return &LayoutError{Path: path, Layout: l}
	}
	return nil
}

// fitness is how well a file's sampled records fit a layout.
type fitness struct {
	ratio float64 // of the records that say something, the plausible ones; -1 when not a record
	good  int     // plausible records
	whole bool    // the file is whole records of the layout
}

// better orders fits: a higher ratio, then a file of whole records, then
// more plausible records.
func (a fitness) better(b fitness) bool {
	switch {
	case a.ratio != b.ratio:
		return a.ratio > b.ratio
	case a.whole != b.whole:
		return a.whole
	}
	return a.good > b.good
}

// sampledReader serves the reads of [fit] from the two stretches of a
// file that it samples, read once each: read a record at a time, the four
// layouts cost 512 reads, a thirtieth of a 10,000-record listing.
type sampledReader struct {
	f          io.ReaderAt
	head, tail []byte
	tailAt     int64 // where tail begins in the file
}

// sampled returns f with the stretches that fit reads of a file of size
// bytes, in any layout, read ahead: the first sample+1 records of the
// longest layout and the last sample+1.
func sampled(f io.ReaderAt, size int64) io.ReaderAt {
	span := int64(sample+1) * int64(slices.MaxFunc(Layouts, func(a, b Layout) int { return a.Size - b.Size }).Size)
	s := &sampledReader{f: f}
	s.head = readSpan(f, 0, min(size, span))
	s.tailAt = max(int64(len(s.head)), size-span)
	s.tail = readSpan(f, s.tailAt, size-s.tailAt)
	return s
}

// readSpan reads n bytes of f at off, or as many as it can.
func readSpan(f io.ReaderAt, off, n int64) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	k, _ := f.ReadAt(b, off)
	return b[:k]
}

// ReadAt reads from the stretches read ahead, or else from the file.
func (s *sampledReader) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	switch {
	case off >= 0 && end <= int64(len(s.head)):
		return copy(p, s.head[off:]), nil
	case off >= s.tailAt && end <= s.tailAt+int64(len(s.tail)):
		return copy(p, s.tail[off-s.tailAt:]), nil
	}
	return s.f.ReadAt(p, off)
}

func fit(f io.ReaderAt, size int64, l Layout, now time.Time) fitness {
	n := size / int64(l.Size)
	if n == 0 {
		return fitness{ratio: -1} // not one record of this size
	}
	good, seen := 0, 0
	buf := make([]byte, l.Size)
	check := func(i int64) {
		if _, err := f.ReadAt(buf, i*int64(l.Size)); err != nil {
			return
		}
		r, _ := Decode(buf, l)
		if r.Type == Empty || (r.Time.IsZero() && Plausible(r, now)) {
			// Zeros (often what a misaligned read finds in a host
			// field) say nothing either way.
			return
		}
		seen++
		if Plausible(r, now) {
			good++
		}
	}
	for i := int64(0); i < min(n, sample); i++ {
		check(i)
	}
	for i := max(sample, n-sample); i < n; i++ {
		check(i)
	}
	ft := fitness{ratio: 1, good: good, whole: size%int64(l.Size) == 0}
	if seen > 0 {
		ft.ratio = float64(good) / float64(seen)
	}
	return ft
}
