package recfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// records is a format of 4-byte records decoded as strings.
type records struct {
	s Stream
}

func newRecords(r io.Reader) *records {
	rd := &records{}
	rd.s.Init(r, 4, "test")
	return rd
}

func (rd *records) Next() (string, error) {
	b, err := rd.s.Next()
	if err != nil {
		return "", err
	}
	return string(CString(b)), nil
}

func (rd *records) Warning() error { return rd.s.Warning() }

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestStream(t *testing.T) {
	for _, tc := range []struct {
		in   io.Reader
		want string // the records, then the end
	}{
		{strings.NewReader(""), "EOF"},
		{strings.NewReader("ab\x00\x00cdef"), "ab,cdef,EOF"},
		{strings.NewReader("ab\x00\x00cd"), "ab,EOF test: truncated record at byte 4: 2 of 4 bytes"},
		{io.MultiReader(strings.NewReader("abcd"), failing{}), "abcd,test: reading record at byte 4: disk on fire"},
	} {
		rd := newRecords(tc.in)
		var got []string
		for {
			r, err := rd.Next()
			if err == io.EOF {
				end := "EOF"
				if w := rd.Warning(); w != nil {
					end += " " + w.Error()
					var te *TruncatedError
					if !errors.As(w, &te) || cim.CodeOf(w) != cim.ErrFailed {
						t.Errorf("warning %v is not a TruncatedError of CIM_ERR_FAILED", w)
					}
				}
				got = append(got, end)
				break
			}
			if err != nil {
				if _, again := rd.Next(); again != err {
					t.Errorf("Next after %v: %v", err, again)
				}
				got = append(got, err.Error())
				break
			}
			got = append(got, r)
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("got %q, want %q", g, tc.want)
		}
	}
	var s Stream
	s.Fail(io.ErrNoProgress)
	if b, err := s.Next(); b != nil || err != io.ErrNoProgress || s.Offset() != 0 {
		t.Error("Fail")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "recs")
	os.WriteFile(path, bytes.Repeat([]byte("abcd"), 600), 0o644)
	ctx := context.Background()
	n := 0
	warn, err := ReadFile(ctx, path, "test", newRecords, func(string) error { n++; return nil })
	if warn != nil || err != nil || n != 600 {
		t.Errorf("ReadFile: %d records, %v, %v", n, warn, err)
	}
	stop := errors.New("stop")
	if _, err := ReadFile(ctx, path, "test", newRecords, func(string) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	n = 0
	_, err = ReadFile(cctx, path, "test", newRecords, func(string) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if err == nil || n != 255 {
		t.Errorf("cancelled after 10: %d records, %v", n, err)
	}
	if _, err := ReadFile(ctx, filepath.Join(dir, "none"), "test", newRecords, func(string) error { return nil }); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing file: %v", err)
	}
	if err := OpenError("test", os.ErrPermission); cim.CodeOf(err) != cim.ErrAccessDenied {
		t.Errorf("OpenError(permission) = %v", err)
	}
	if err := OpenError("test", io.ErrClosedPipe); cim.CodeOf(err) != cim.ErrFailed || !strings.HasPrefix(cim.Wrap(0, err).Description, "test: ") {
		t.Errorf("OpenError(other) = %v", err)
	}
}

func FuzzStream(f *testing.F) {
	f.Add([]byte("ab\x00\x00cdef"), 4)
	f.Add([]byte("abc"), 2)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		if size <= 0 || size > 512 {
			return
		}
		var s Stream
		s.Init(bytes.NewReader(data), size, "fuzz")
		n := 0
		for {
			b, err := s.Next()
			if err != nil {
				break
			}
			if len(b) != size || !bytes.Equal(b, data[n*size:(n+1)*size]) {
				t.Fatalf("record %d is %x, want %x", n, b, data[n*size:(n+1)*size])
			}
			n++
		}
		if n != len(data)/size || s.Offset() != int64(len(data)) || (s.Warning() != nil) != (len(data)%size != 0) {
			t.Fatalf("%d bytes of %d-byte records: %d records, offset %d, warning %v", len(data), size, n, s.Offset(), s.Warning())
		}
	})
}

// TestOpenRefusesSpecialFiles checks that a FIFO or a device is refused
// at once with a message that names it, rather than read without end or
// waited on, and that a regular file is read up to its size at open.
func TestOpenRefusesSpecialFiles(t *testing.T) {
	for _, path := range []string{"/dev/zero", "/dev/null", t.TempDir()} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		_, _, err := Open(path, "test")
		if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(fmt.Sprint(err), "not a regular file") {
			t.Errorf("Open(%s): %v", path, err)
		}
		if _, err := ReadFile(context.Background(), path, "test", newRecords, func(string) error { return nil }); err == nil {
			t.Errorf("ReadFile(%s) read it", path)
		}
	}
	path := filepath.Join(t.TempDir(), "recs")
	os.WriteFile(path, bytes.Repeat([]byte("abcd"), 10), 0o644)
	f, size, err := Open(path, "test")
	if err != nil || size != 40 {
		t.Fatalf("Open: %d %v", size, err)
	}
	f.Close()
}
