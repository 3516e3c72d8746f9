package history

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// failingAt is a file whose reads fail from byte at on.
type failingAt struct {
	r  io.ReaderAt
	at int64
}

var errDisk = errors.New("disk gone")

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= f.at {
		return f.r.ReadAt(p, off)
	}
	n := 0
	if off < f.at {
		n, _ = f.r.ReadAt(p[:f.at-off], off)
	}
	return n, errDisk
}

// TestReadAhead checks that the read-ahead hands out what a plain reader
// of the same part of the file reads, across its chunks, from a record
// in the middle; ends with the reading's error after the records before
// it; and, closed half-way, ends its goroutine.
func TestReadAhead(t *testing.T) {
	l := utmp.Native
	recs := busyWtmp(2*aheadRecords + 300)
	var buf bytes.Buffer
	w := utmp.NewWriter(&buf, l)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	file := bytes.NewReader(buf.Bytes())
	size := int64(buf.Len())
	rs := int64(l.Size)

	// same: the same end, io.EOF or the disk's error however wrapped.
	same := func(a, b error) bool { return a == b || errors.Is(a, errDisk) && errors.Is(b, errDisk) }
	// drain reads every record of next and the error that ends them.
	drain := func(next func() (utmp.Record, error)) (got []utmp.Record, err error) {
		for {
			r, err := next()
			if err != nil {
				return got, err
			}
			got = append(got, r)
		}
	}
	for _, tc := range []struct {
		name string
		f    io.ReaderAt
		from int64
	}{
		{"whole", file, 0},
		{"from a record", file, 7 * rs},
		{"a chunk and a bit", file, size - (aheadRecords+1)*rs},
		{"nothing", file, size},
		{"a failing disk", failingAt{file, size/2 + 5}, 3 * rs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := drain(utmp.NewReader(io.NewSectionReader(tc.f, tc.from, size-tc.from), l).Next)
			a := newReadAhead(tc.f, tc.from, size, l)
			got, err := drain(a.Next)
			a.close()
			if !same(err, wantErr) {
				t.Fatalf("ended with %v, want %v", err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			if _, err := a.Next(); !same(err, wantErr) {
				t.Errorf("after the end: %v, want %v again", err, wantErr)
			}
		})
	}

	// Closed after a record, with chunks full and waiting: close returns
	// once the goroutine has ended (else the test times out).
	a := newReadAhead(file, 0, size, l)
	if _, err := a.Next(); err != nil {
		t.Fatal(err)
	}
	a.close()
}
