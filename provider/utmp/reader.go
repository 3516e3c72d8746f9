package utmp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cimsess/cimsess/cim"
)

// TruncatedError reports a file that ends in the middle of a record: the
// last Have bytes, at byte Offset, are less than a record of Size bytes.
// glibc and who ignore such a tail; [Reader] returns every whole record
// before it and reports it through [Reader.Warning]. It unwraps to a
// [*cim.Error] with code [cim.ErrFailed].
type TruncatedError struct {
	Offset int64 // where the partial record starts
	Have   int   // how many bytes of it the file holds
	Size   int   // the record size of the layout
}

// Error describes the truncation.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("utmp: truncated record at byte %d: %d of %d bytes", e.Offset, e.Have, e.Size)
}

// Unwrap returns the error as a [*cim.Error].
func (e *TruncatedError) Unwrap() error {
	return &cim.Error{Code: cim.ErrFailed, Description: e.Error()}
}

// bufSize is the Reader's buffer: 170 records of 384 bytes.
const bufSize = 64 << 10

// Reader reads records one at a time from a stream, through a fixed
// buffer; it never holds more than one record.
type Reader struct {
	br      *bufio.Reader
	l       Layout
	off     int64
	rec     [400]byte
	scratch [lineSize + idSize + userSize + hostSize]byte
	warn    error
	err     error
}

// NewReader returns a Reader of records of layout l from r.
func NewReader(r io.Reader, l Layout) *Reader {
	rd := &Reader{l: l}
	if !l.Valid() {
		rd.err = cim.Errorf(cim.ErrInvalidParameter, "utmp: invalid layout %d-byte", l.Size)
		return rd
	}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= l.Size {
		rd.br = br
	} else {
		rd.br = bufio.NewReaderSize(r, bufSize)
	}
	return rd
}

// Next returns the next record. At the end of the stream it returns
// [io.EOF], also when the stream ends in a partial record (see
// [Reader.Warning]). Any other error is a [*cim.Error]; once Next has
// returned an error it returns the same one again.
func (rd *Reader) Next() (Record, error) {
	if rd.err != nil {
		return Record{}, rd.err
	}
	b := rd.rec[:rd.l.Size]
	n, err := io.ReadFull(rd.br, b)
	switch {
	case err == io.EOF:
		rd.err = io.EOF
		return Record{}, io.EOF
	case err == io.ErrUnexpectedEOF:
		rd.warn = &TruncatedError{Offset: rd.off, Have: n, Size: rd.l.Size}
		rd.off += int64(n)
		rd.err = io.EOF
		return Record{}, io.EOF
	case err != nil:
		rd.err = cim.Errorf(cim.ErrFailed, "utmp: reading record at byte %d: %v", rd.off, err)
		return Record{}, rd.err
	}
	rd.off += int64(n)
	var r Record
	decodeFixed(b, rd.l, &r)
	rd.strings(b, &r)
	return r, nil
}

// strings sets the four string fields with one allocation: the fields
// are gathered in scratch, turned into one string, and sliced.
func (rd *Reader) strings(b []byte, r *Record) {
	line := cstr(b[offLine : offLine+lineSize])
	id := cstr(b[offID : offID+idSize])
	user := cstr(b[offUser : offUser+userSize])
	host := cstr(b[offHost : offHost+hostSize])
	n := copy(rd.scratch[:], line)
	n += copy(rd.scratch[n:], id)
	n += copy(rd.scratch[n:], user)
	n += copy(rd.scratch[n:], host)
	if n == 0 {
		return
	}
	s := string(rd.scratch[:n])
	i := len(line)
	r.Line = s[:i]
	r.ID = s[i : i+len(id)]
	i += len(id)
	r.User = s[i : i+len(user)]
	i += len(user)
	r.Host = s[i:]
}

// Raw returns the bytes of the record Next returned last, exactly as
// stored. They stay valid until the next call of Next.
func (rd *Reader) Raw() []byte {
	if !rd.l.Valid() {
		return nil
	}
	return rd.rec[:rd.l.Size]
}

// Offset returns how many bytes Next has consumed.
func (rd *Reader) Offset() int64 { return rd.off }

// Warning returns a [*TruncatedError] once Next has returned io.EOF at
// a partial record, else nil.
func (rd *Reader) Warning() error { return rd.warn }

// ReadFile streams the records of the file at path, of layout l, to fn.
// It stops at the first error fn returns and returns it as err. warn is
// the [*TruncatedError] of a partial last record, which is not a failure:
// fn has seen every whole record. Errors are [*cim.Error]s: code
// [cim.ErrNotFound] when the file does not exist, [cim.ErrAccessDenied]
// when it may not be read. ctx is checked every few hundred records.
func ReadFile(ctx context.Context, path string, l Layout, fn func(Record) error) (warn error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(err)
	}
	defer f.Close()
	rd := NewReader(f, l)
	for i := 0; ; i++ {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, cim.Wrap(cim.ErrFailed, err)
			}
		}
		r, err := rd.Next()
		if err == io.EOF {
			return rd.Warning(), nil
		}
		if err != nil {
			return nil, err
		}
		if err := fn(r); err != nil {
			return nil, err
		}
	}
}

// ReadAll returns all records of the file at path; warn and err are as
// for [ReadFile].
func ReadAll(ctx context.Context, path string, l Layout) (recs []Record, warn error, err error) {
	if fi, err := os.Stat(path); err == nil && l.Valid() {
		recs = make([]Record, 0, fi.Size()/int64(l.Size))
	}
	warn, err = ReadFile(ctx, path, l, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return recs, warn, nil
}

func openError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cim.Errorf(cim.ErrNotFound, "utmp: %v", err)
	case errors.Is(err, fs.ErrPermission):
		return cim.Errorf(cim.ErrAccessDenied, "utmp: %v", err)
	default:
		return cim.Errorf(cim.ErrFailed, "utmp: %v", err)
	}
}

// Writer writes records of one layout to a stream.
type Writer struct {
	w   io.Writer
	l   Layout
	buf []byte
}

// NewWriter returns a Writer of records of layout l (an invalid layout is
// taken as [Layout384]) to w. It does not buffer: wrap w in a
// [bufio.Writer] to write many records.
func NewWriter(w io.Writer, l Layout) *Writer {
	if !l.Valid() {
		l = Layout384
	}
	return &Writer{w: w, l: l, buf: make([]byte, 0, l.Size)}
}

// Write writes one record (see [Encode]).
func (w *Writer) Write(r Record) error {
	w.buf = AppendEncode(w.buf[:0], r, w.l)
	if _, err := w.w.Write(w.buf); err != nil {
		return cim.Errorf(cim.ErrFailed, "utmp: writing record: %v", err)
	}
	return nil
}

// WriteFile writes recs to a new file at path (replacing one there), in
// layout l, with mode 0644.
func WriteFile(path string, recs []Record, l Layout) error {
	if !l.Valid() {
		l = Layout384
	}
	buf := make([]byte, 0, len(recs)*l.Size)
	for _, r := range recs {
		buf = AppendEncode(buf, r, l)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return openError(err)
	}
	return nil
}
