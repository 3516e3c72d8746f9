// Package recfile reads files of fixed-size records, as utmp, wtmp and
// utmpx files are: a record stream over a buffered reader that tells a
// clean end from a file cut in the middle of a record, the streaming loop
// over a file with its context checks, and open errors wrapped with the
// source's name (plain Go errors: the providers map them to CIM status
// codes). The record formats themselves (decoding) stay with
// the packages that know them (sysfile/utmp, sysfile/utmpx).
package recfile

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// BufSize is the buffer a [Stream] reads through: 64 KiB, 170 records of
// 384 bytes.
const BufSize = 64 << 10

// TruncatedError reports a file that ends in the middle of a record: the
// last Have bytes, at byte Offset, are less than a record of Size bytes.
// The C libraries and who ignore such a tail; a [Stream] returns every
// whole record before it and reports it through [Stream.Warning].
type TruncatedError struct {
	Offset int64 // where the partial record starts
	Have   int   // how many bytes of it the file holds
	Size   int   // the record size of the format
	// Source names the reader in the message ("utmp", "utmpx").
	Source string
}

// Error describes the truncation.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s: truncated record at byte %d: %d of %d bytes", e.Source, e.Offset, e.Have, e.Size)
}

// Stream reads records of one size from a stream, through a buffer. The
// zero Stream is not ready: call [Stream.Init] (or [Stream.Fail]). It is
// a value to embed in a format's reader, so that a reader costs one
// allocation.
type Stream struct {
	br     *bufio.Reader
	size   int
	source string
	off    int64
	warn   error
	err    error
}

// Init makes s read records of size bytes from r; source names the
// reader in errors. A [bufio.Reader] that holds a record is used as it is.
func (s *Stream) Init(r io.Reader, size int, source string) {
	*s = Stream{size: size, source: source}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= size {
		s.br = br
	} else {
		n := BufSize
		if sr, ok := r.(interface{ Size() int64 }); ok && sr.Size() < int64(n) {
			// A small file (a utmp of a few sessions) is read through a
			// buffer of its own size: the 64 KiB made and cleared at each
			// read of it were most of the read's cost.
			n = max(int(sr.Size()), size)
		}
		s.br = bufio.NewReaderSize(r, n)
	}
}

// Fail makes every [Stream.Next] return err (a format the reader cannot
// read, found before the first record).
func (s *Stream) Fail(err error) { s.err = err }

// Next returns the next record, in place in the stream's buffer: its
// bytes are valid until the next call of Next, and are not to be written.
// (A copy of each record into a reader's own array was a tenth of a
// pass over a big utmp file.) At the end of the stream it returns
// [io.EOF], also when the stream ends in a partial record (see
// [Stream.Warning]). Any other error is the read's, wrapped with the
// source and offset; once Next has returned an error it returns the same
// one again.
func (s *Stream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	b, err := s.br.Peek(s.size) // Init made the buffer hold a record
	switch {
	case err == nil:
		_, _ = s.br.Discard(s.size) // cannot fail: Peek has the bytes
		s.off += int64(s.size)
		return b, nil
	case err == io.EOF && len(b) == 0:
		s.err = io.EOF
	case err == io.EOF:
		s.warn = &TruncatedError{Offset: s.off, Have: len(b), Size: s.size, Source: s.source}
		s.off += int64(len(b))
		s.err = io.EOF
	default:
		s.err = fmt.Errorf("%s: reading record at byte %d: %w", s.source, s.off, err)
	}
	return nil, s.err
}

// Offset returns how many bytes Next has consumed.
func (s *Stream) Offset() int64 { return s.off }

// Warning returns a [*TruncatedError] once Next has returned io.EOF at
// a partial record, else nil.
func (s *Stream) Warning() error { return s.warn }

// Records is a reader of decoded records: what [ReadFile] streams.
type Records[R any] interface {
	// Next returns the next record, or io.EOF at the end.
	Next() (R, error)
	// Warning returns what was wrong with the end of the stream, if
	// anything, once Next has returned io.EOF.
	Warning() error
}

// ReadFile streams the records of the file at path, read by the reader
// newReader makes of it, to fn. It stops at the first error fn returns
// and returns it as err. warn is the reader's [Records.Warning] (the
// [*TruncatedError] of a partial last record), which is not a failure:
// fn has seen every whole record. The file is opened by [Open]: a
// regular file only, read up to its size at open. Errors wrap their
// cause (fs.ErrNotExist, ctx.Err(), …) for the provider to map once
// (cim.Map): see [Open] and [OpenError]; ctx is checked every 256
// records.
func ReadFile[R any, D Records[R]](ctx context.Context, path, source string, newReader func(io.Reader) D, fn func(R) error) (warn error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, size, err := Open(path, source)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(ctx, newReader(io.LimitReader(f, size)), fn)
}

// Read streams the records of rd to fn, as [ReadFile] does, checking ctx
// every 256 records.
func Read[R any, D Records[R]](ctx context.Context, rd D, fn func(R) error) (warn error, err error) {
	for i := 0; ; i++ {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
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

// OpenError wraps an error opening or writing a record file with the
// source's name, keeping it as the cause (errors.Is(err, fs.ErrNotExist)
// holds), for the provider to map once (cim.Map).
func OpenError(source string, err error) error {
	return fmt.Errorf("%s: %w", source, err)
}

// CString returns b up to its first NUL: a fixed-size C string field.
func CString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
