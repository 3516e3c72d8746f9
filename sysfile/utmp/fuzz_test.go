package utmp_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// canonical returns what Encode(Decode(b)) must give back: b with the
// bytes after each string's NUL, the padding after ut_type and the
// reserved tail cleared.
func canonical(b []byte, l utmp.Layout) []byte {
	c := bytes.Clone(b[:l.Size])
	c[2], c[3] = 0, 0
	for _, f := range [][2]int{{8, 32}, {40, 4}, {44, 32}, {76, 256}} {
		field := c[f[0] : f[0]+f[1]]
		if i := bytes.IndexByte(field, 0); i >= 0 {
			clear(field[i:])
		}
	}
	if l.Size == 400 {
		clear(c[376:])
	} else {
		clear(c[364:])
	}
	return c
}

// exact reports whether b's ut_tv survives time.Time: microseconds in
// range, and not the one instant that is time.Time's zero.
func exact(b []byte, l utmp.Layout) bool {
	var o binary.ByteOrder = binary.LittleEndian
	if l.BigEndian {
		o = binary.BigEndian
	}
	var sec, usec int64
	if l.Size == 400 {
		sec, usec = int64(o.Uint64(b[344:])), int64(o.Uint64(b[352:]))
	} else {
		sec, usec = int64(int32(o.Uint32(b[340:]))), int64(int32(o.Uint32(b[344:])))
	}
	const zeroSec = -62135596800 // time.Time{}.Unix()
	// A zero tv_sec is no time whatever tv_usec holds: not kept.
	return usec >= 0 && usec < 1e6 && !(sec == zeroSec && usec == 0) && !(sec == 0 && usec != 0)
}

func FuzzDecode(f *testing.F) {
	for _, l := range layouts {
		var all []byte
		for _, r := range sample() {
			enc := utmp.Encode(r, l)
			f.Add(enc)
			all = append(all, enc...)
		}
		f.Add(all[:len(all)-7])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range layouts {
			// The Reader yields every whole record and warns of the rest.
			rd := utmp.NewReader(bytes.NewReader(data), l)
			n := 0
			for {
				r, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%v: %v", l, err)
				}
				b := data[n*l.Size : (n+1)*l.Size]
				d, ok := utmp.Decode(b, l)
				if !ok || !equal(d, r) {
					t.Fatalf("%v: Reader and Decode disagree:\n%+v\n%+v", l, r, d)
				}
				if in, _ := rd.DecodeIn(make([]byte, 24)); !equal(in, r) {
					t.Fatalf("%v: DecodeIn and Next disagree:\n%+v\n%+v", l, in, r)
				}
				h := l.Head(b)
				if h.Type != r.Type || h.PID != r.PID || string(h.Line) != r.Line || string(h.User) != r.User ||
					r.Time.IsZero() != (h.Sec == 0) || (h.Sec != 0 && r.Time.Unix() != h.Sec) {
					t.Fatalf("%v: Head %+v, the record %+v", l, h, r)
				}
				if exact(b, l) {
					enc := utmp.Encode(r, l)
					if want := canonical(b, l); !bytes.Equal(enc, want) {
						t.Fatalf("%v: Encode(Decode(x)) != x\n got %x\nwant %x", l, enc, want)
					}
				}
				// Decoding what Encode wrote is stable in every case.
				r2, _ := utmp.Decode(utmp.Encode(r, l), l)
				r3, _ := utmp.Decode(utmp.Encode(r2, l), l)
				if !equal(r2, r3) {
					t.Fatalf("%v: Decode∘Encode not idempotent:\n%+v\n%+v", l, r2, r3)
				}
				n++
			}
			if n != len(data)/l.Size {
				t.Fatalf("%v: %d records from %d bytes", l, n, len(data))
			}
			if (rd.Warning() != nil) != (len(data)%l.Size != 0) {
				t.Fatalf("%v: warning %v with %d bytes left over", l, rd.Warning(), len(data)%l.Size)
			}
		}
	})
}
