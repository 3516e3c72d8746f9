package utmpx

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/cimsess/cimsess/sysfile/internal/recfile"
)

// TruncatedError reports a file that ends in the middle of a record: the
// last Have bytes, at byte Offset, are less than a record of Size bytes.
// The C libraries ignore such a tail; [Reader] returns every whole record
// before it and reports it through [Reader.Warning].
type TruncatedError = recfile.TruncatedError

// Reader reads records one at a time from a stream, through a fixed
// buffer; it never holds more than one record.
type Reader struct {
	s   recfile.Stream
	f   Format
	rec []byte // the record read last, in the stream's buffer; zeros before the first
}

// zeros is the record a Reader holds before it has read one.
var zeros [darwinSize]byte

// NewReader returns a Reader of records of format f from r.
func NewReader(r io.Reader, f Format) *Reader {
	rd := &Reader{f: f, rec: zeros[:0]}
	if !f.Valid() {
		rd.s.Fail(fmt.Errorf("utmpx: %v: %w", f, fs.ErrInvalid))
		return rd
	}
	rd.s.Init(r, f.Size(), "utmpx")
	rd.rec = zeros[:f.Size()]
	return rd
}

// Next returns the next record. At the end of the stream it returns
// [io.EOF], also when the stream ends in a partial record (see
// [Reader.Warning]). Any other error wraps its cause (the read's error;
// [fs.ErrInvalid] for an invalid format); once Next has returned an error
// it returns the same one again.
func (rd *Reader) Next() (Record, error) {
	b, err := rd.s.Next()
	if err != nil {
		return Record{}, err
	}
	rd.rec = b
	r, _ := Decode(b, rd.f)
	return r, nil
}

// Raw returns the bytes of the record Next returned last, exactly as
// stored. They stay valid until the next call of Next.
func (rd *Reader) Raw() []byte { return rd.rec }

// Offset returns how many bytes Next has consumed.
func (rd *Reader) Offset() int64 { return rd.s.Offset() }

// Warning returns a [*TruncatedError] once Next has returned io.EOF at a
// partial record, else nil.
func (rd *Reader) Warning() error { return rd.s.Warning() }

// ReadFile streams the records of the file at path, of format f, to fn.
// It stops at the first error fn returns and returns it as err. warn is
// the [*TruncatedError] of a partial last record, which is not a failure:
// fn has seen every whole record. Errors are plain Go errors that wrap
// their cause, for the caller to map (a provider maps them once with
// cim.Map): [fs.ErrNotExist] when the file does not exist,
// [fs.ErrPermission] when it may not be read, ctx.Err() when ctx ends.
func ReadFile(ctx context.Context, path string, f Format, fn func(Record) error) (warn error, err error) {
	return recfile.ReadFile(ctx, path, "utmpx", func(r io.Reader) *Reader { return NewReader(r, f) }, fn)
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
