package utmpx

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// canonical returns what Encode(Decode(b)) must give back: b with the
// bytes after each string's NUL, Darwin's padding and reserved tail
// cleared, and a FreeBSD type it does not know made EMPTY.
func canonical(b []byte, f Format) []byte {
	c := bytes.Clone(b[:f.Size()])
	for _, fl := range f.fields() {
		field := c[fl[0] : fl[0]+fl[1]]
		if i := bytes.IndexByte(field, 0); i >= 0 {
			clear(field[i:])
		}
	}
	if f == Darwin {
		c[298], c[299] = 0, 0
		clear(c[564:])
	} else if int(c[0]) >= len(freebsdTypes) {
		c[0] = 0
	}
	return c
}

// exact reports whether b's time survives time.Time: microseconds in
// range, and not the one instant that is time.Time's zero.
func exact(b []byte, f Format) bool {
	zero := time.Time{}.UnixMicro()
	if f == FreeBSD {
		return int64(binary.BigEndian.Uint64(b[1:])) != zero
	}
	usec := int32(binary.LittleEndian.Uint32(b[304:]))
	return usec >= 0 && usec < 1e6
}

func FuzzDecode(f *testing.F) {
	for _, fm := range []Format{Darwin, FreeBSD} {
		b, _ := file(fm)
		for i := 0; i+fm.Size() <= len(b); i += fm.Size() {
			f.Add(uint8(fm), b[i:i+fm.Size()])
		}
	}
	f.Add(uint8(Darwin), darwinBytes(7, -1, "\xff\xfe", "\x00abc", "x", "", -1, 999999))
	f.Add(uint8(FreeBSD), freebsdBytes(255, 1<<31, "", "", "", "", 1<<63))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		fm := Darwin
		if which%2 == 1 {
			fm = FreeBSD
		}
		r, ok := Decode(b, fm)
		if len(b) < fm.Size() {
			if ok {
				t.Fatal("decoded a short record")
			}
			return
		}
		if !ok {
			t.Fatal("not decoded")
		}
		if exact(b, fm) {
			if got, want := Encode(r, fm), canonical(b, fm); !bytes.Equal(got, want) {
				t.Fatalf("round trip differs:\n got %x\nwant %x", got, want)
			}
		}
		// The stream reader agrees with Decode, and reports the tail.
		rd := NewReader(bytes.NewReader(b), fm)
		r2, err := rd.Next()
		if err != nil || r2.Type != r.Type || r2.User != r.User || !r2.Time.Equal(r.Time) {
			t.Fatalf("reader: %+v %v, Decode: %+v", r2, err, r)
		}
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
		if tail := len(b) % fm.Size(); (tail != 0) != (rd.Warning() != nil) {
			t.Fatalf("tail %d, warning %v", tail, rd.Warning())
		}
	})
}
