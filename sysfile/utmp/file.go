package utmp

import (
	"context"
	"io"
	"os"

	"github.com/cimsess/cimsess/sysfile/internal/recfile"
)

// File is a utmp file open for reading its records more than once, each
// time up to its size when it was opened, through one open descriptor:
// a reader that takes two passes (one to learn, one to write out) reads
// the same file twice, even if it is replaced in between, and holds no
// record between the passes.
type File struct {
	f    *os.File
	size int64
	l    Layout
}

// OpenFile opens the utmp file at path, of layout l, as [ReadFile] does
// (a regular file only, its records plausible in l); errors are those of
// [ReadFile].
func OpenFile(path string, l Layout) (*File, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := CheckLayout(f, size, path, l); err != nil {
		f.Close()
		return nil, err
	}
	return &File{f: f, size: size, l: l}, nil
}

// Size is how many bytes of the file are read: its size when opened.
func (f *File) Size() int64 { return f.size }

// Records is how many whole records the file holds.
func (f *File) Records() int64 { return f.size / int64(f.l.Size) }

// Each streams the records of the file, from its first, to fn, as
// [ReadFile] does: it stops at fn's first error and returns it, and warn
// is the [*TruncatedError] of a partial last record. ctx is checked every
// 256 records.
func (f *File) Each(ctx context.Context, fn func(Record) error) (warn error, err error) {
	return recfile.Read(ctx, NewReader(io.NewSectionReader(f.f, 0, f.size), f.l), fn)
}

// EachRaw streams the records of the file as Each does, undecoded: fn
// gets the reader, whose last record (read with [Reader.NextRaw]) it may
// look at in place ([Reader.Raw], [Layout.Head]) or decode
// ([Reader.Decode]).
func (f *File) EachRaw(ctx context.Context, fn func(rd *Reader) error) (warn error, err error) {
	return recfile.Read(ctx, rawRecords{NewReader(io.NewSectionReader(f.f, 0, f.size), f.l)}, fn)
}

// rawRecords are a Reader's records read with NextRaw, for recfile.Read:
// each is the reader itself.
type rawRecords struct{ *Reader }

func (r rawRecords) Next() (*Reader, error) {
	_, err := r.NextRaw()
	return r.Reader, err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }
