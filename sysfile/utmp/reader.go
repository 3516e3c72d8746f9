package utmp

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cimsess/cimsess/internal/box"
	"github.com/cimsess/cimsess/sysfile/internal/recfile"
)

// TruncatedError reports a file that ends in the middle of a record: the
// last Have bytes, at byte Offset, are less than a record of Size bytes.
// glibc and who ignore such a tail; [Reader] returns every whole record
// before it and reports it through [Reader.Warning].
type TruncatedError = recfile.TruncatedError

// Reader reads records one at a time from a stream, through a fixed
// buffer; it never holds more than one record.
type Reader struct {
	s       recfile.Stream
	l       Layout
	rec     []byte // the record read last, in the stream's buffer; zeros before the first
	scratch [lineSize + idSize + userSize + hostSize]byte
}

// zeros is the record a Reader holds before it has read one.
var zeros [400]byte

// NewReader returns a Reader of records of layout l from r.
func NewReader(r io.Reader, l Layout) *Reader {
	rd := &Reader{l: l, rec: zeros[:0]}
	if !l.Valid() {
		rd.s.Fail(invalidLayout(l))
		return rd
	}
	rd.s.Init(r, l.Size, "utmp")
	rd.rec = zeros[:l.Size]
	return rd
}

// Next returns the next record. At the end of the stream it returns
// [io.EOF], also when the stream ends in a partial record (see
// [Reader.Warning]). Any other error wraps its cause (the read's error;
// [fs.ErrInvalid] for an invalid layout); once Next has returned an error
// it returns the same one again.
func (rd *Reader) Next() (Record, error) {
	if _, err := rd.NextRaw(); err != nil {
		return Record{}, err
	}
	return rd.Decode(), nil
}

// NextRaw reads the next record without decoding it and returns its
// bytes, exactly as stored, valid until the next call of Next or NextRaw:
// a reader that needs only some records' fields reads the heads of all
// in place ([Layout.Head]) and decodes the few it keeps ([Reader.Decode]).
// Errors are as for [Reader.Next].
func (rd *Reader) NextRaw() ([]byte, error) {
	b, err := rd.s.Next()
	if err != nil {
		return nil, err
	}
	rd.rec = b
	return b, nil
}

// Head returns the head of the record that Next or NextRaw read last,
// read in place ([Layout.Head]): valid until the next call of either.
func (rd *Reader) Head() Head { return rd.l.Head(rd.rec) }

// Decode decodes the record that Next or NextRaw read last.
func (rd *Reader) Decode() Record {
	r, _ := rd.DecodeIn(nil)
	return r
}

// DecodeIn is Decode with the record's four text fields (Line, ID, User,
// Host) made in room's bytes when they fit there, instead of in a string
// of their own: a reader that makes records by the million in memory it
// reuses (the Linux provider's chunks) then allocates nothing for them.
// Such a record's text fields are good only as long as room's bytes are
// not written again; a nil room, or one too small, makes them on the heap
// as Decode does. rest is what room has left after them.
func (rd *Reader) DecodeIn(room []byte) (r Record, rest []byte) {
	b := rd.rec
	decodeFixed(b, rd.l, &r)
	return r, rd.strings(b, &r, room)
}

// strings sets the four string fields with at most one allocation: the
// fields are gathered in room when they fit, else in scratch turned into
// one string, and sliced. It returns what is left of room.
func (rd *Reader) strings(b []byte, r *Record, room []byte) []byte {
	line := recfile.CString(b[offLine : offLine+lineSize])
	id := recfile.CString(b[offID : offID+idSize])
	user := recfile.CString(b[offUser : offUser+userSize])
	host := recfile.CString(b[offHost : offHost+hostSize])
	n := len(line) + len(id) + len(user) + len(host)
	if n == 0 {
		return room
	}
	inRoom := n <= len(room)
	dst := rd.scratch[:]
	if inRoom {
		dst = room
	}
	k := copy(dst, line)
	k += copy(dst[k:], id)
	k += copy(dst[k:], user)
	copy(dst[k:], host)
	var s string
	if inRoom {
		s, room = box.String(room[:n]), room[n:]
	} else {
		s = string(dst[:n])
	}
	i := len(line)
	r.Line = s[:i]
	r.ID = s[i : i+len(id)]
	i += len(id)
	r.User = s[i : i+len(user)]
	i += len(user)
	r.Host = s[i:]
	return room
}

// Raw returns the bytes of the record Next returned last, exactly as
// stored. They stay valid until the next call of Next.
func (rd *Reader) Raw() []byte {
	if !rd.l.Valid() {
		return nil
	}
	return rd.rec
}

// Offset returns how many bytes Next has consumed.
func (rd *Reader) Offset() int64 { return rd.s.Offset() }

// Warning returns a [*TruncatedError] once Next has returned io.EOF at
// a partial record, else nil.
func (rd *Reader) Warning() error { return rd.s.Warning() }

// ReadFile streams the records of the file at path, of layout l, to fn.
// It stops at the first error fn returns and returns it as err. warn is
// the [*TruncatedError] of a partial last record, which is not a failure:
// fn has seen every whole record. Errors are plain Go errors that wrap
// their cause, for the caller to map (a provider maps them once with
// cim.Map): [fs.ErrNotExist] when the file does not exist,
// [fs.ErrPermission] when it may not be read, ctx.Err() when ctx ends,
// [fs.ErrInvalid] for an invalid layout; a [*LayoutError] when its
// records are not plausible in layout l (see [CheckLayout]). ctx is
// checked every few hundred records.
func ReadFile(ctx context.Context, path string, l Layout, fn func(Record) error) (warn error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !l.Valid() {
		return nil, invalidLayout(l)
	}
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := CheckLayout(f, size, path, l); err != nil {
		return nil, err
	}
	return recfile.Read(ctx, NewReader(io.LimitReader(f, size), l), fn)
}

// Open opens a utmp or wtmp file for streaming its records with
// [NewReader]: a regular file only (a FIFO or a device is refused at once
// with a message that names it), read up to size, its size when opened,
// as last(1) reads it. Errors are as for [ReadFile].
func Open(path string) (f *os.File, size int64, err error) { return recfile.Open(path, "utmp") }

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

// invalidLayout is the error of reading in a layout that is not one.
func invalidLayout(l Layout) error {
	return fmt.Errorf("utmp: invalid layout %d-byte: %w", l.Size, fs.ErrInvalid)
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
		return fmt.Errorf("utmp: writing record: %w", err)
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
		return recfile.OpenError("utmp", err)
	}
	return nil
}
