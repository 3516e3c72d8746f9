package utmpx

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
// The C libraries ignore such a tail; [Reader] returns every whole record
// before it and reports it through [Reader.Warning]. It unwraps to a
// [*cim.Error] with code [cim.ErrFailed].
type TruncatedError struct {
	Offset int64 // where the partial record starts
	Have   int   // how many bytes of it the file holds
	Size   int   // the record size of the format
}

// Error describes the truncation.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("utmpx: truncated record at byte %d: %d of %d bytes", e.Offset, e.Have, e.Size)
}

// Unwrap returns the error as a [*cim.Error].
func (e *TruncatedError) Unwrap() error {
	return &cim.Error{Code: cim.ErrFailed, Description: e.Error()}
}

// Reader reads records one at a time from a stream, through a fixed
// buffer; it never holds more than one record.
type Reader struct {
	br   *bufio.Reader
	f    Format
	off  int64
	rec  [darwinSize]byte
	warn error
	err  error
}

// NewReader returns a Reader of records of format f from r.
func NewReader(r io.Reader, f Format) *Reader {
	rd := &Reader{f: f}
	if !f.Valid() {
		rd.err = cim.Errorf(cim.ErrInvalidParameter, "utmpx: %v", f)
		return rd
	}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= f.Size() {
		rd.br = br
	} else {
		rd.br = bufio.NewReaderSize(r, 64<<10)
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
	b := rd.rec[:rd.f.Size()]
	n, err := io.ReadFull(rd.br, b)
	switch {
	case err == io.EOF:
		rd.err = io.EOF
		return Record{}, io.EOF
	case err == io.ErrUnexpectedEOF:
		rd.warn = &TruncatedError{Offset: rd.off, Have: n, Size: len(b)}
		rd.off += int64(n)
		rd.err = io.EOF
		return Record{}, io.EOF
	case err != nil:
		rd.err = cim.Errorf(cim.ErrFailed, "utmpx: reading record at byte %d: %v", rd.off, err)
		return Record{}, rd.err
	}
	rd.off += int64(n)
	r, _ := Decode(b, rd.f)
	return r, nil
}

// Raw returns the bytes of the record Next returned last, exactly as
// stored. They stay valid until the next call of Next.
func (rd *Reader) Raw() []byte { return rd.rec[:rd.f.Size()] }

// Offset returns how many bytes Next has consumed.
func (rd *Reader) Offset() int64 { return rd.off }

// Warning returns a [*TruncatedError] once Next has returned io.EOF at a
// partial record, else nil.
func (rd *Reader) Warning() error { return rd.warn }

// ReadFile streams the records of the file at path, of format f, to fn.
// It stops at the first error fn returns and returns it as err. warn is
// the [*TruncatedError] of a partial last record, which is not a failure:
// fn has seen every whole record. Errors are [*cim.Error]s: code
// [cim.ErrNotFound] when the file does not exist, [cim.ErrAccessDenied]
// when it may not be read, [cim.ErrFailed] otherwise.
func ReadFile(ctx context.Context, path string, f Format, fn func(Record) error) (warn error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, openError(err)
	}
	defer file.Close()
	rd := NewReader(file, f)
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
func ReadAll(ctx context.Context, path string, f Format) (recs []Record, warn error, err error) {
	warn, err = ReadFile(ctx, path, f, func(r Record) error {
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
		return cim.Errorf(cim.ErrNotFound, "utmpx: %v", err)
	case errors.Is(err, fs.ErrPermission):
		return cim.Errorf(cim.ErrAccessDenied, "utmpx: %v", err)
	}
	return cim.Errorf(cim.ErrFailed, "utmpx: %v", err)
}
