// Package outbox is an agent's persisted queue of events not yet taken by
// NATS: records appended in order to a log file, numbered by a sequence
// that survives restarts, read from the front and let go once
// acknowledged. A crash loses no appended record (with Sync, not even a
// machine crash); a record torn by a crash at the end of the log is cut
// off when the outbox opens. The outbox is bounded: an append that would
// pass MaxBytes is refused with [ErrFull], and its sequence number stays
// used, so the gap shows downstream.
package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/cimsess/cimsess/cim"
)

// Files in the outbox's directory.
const (
	logName  = "outbox.log"
	headName = "outbox.head"
)

// DefaultMaxBytes bounds an outbox when Options.MaxBytes is 0: some
// 100,000 events.
const DefaultMaxBytes = 64 << 20

// maxRecord bounds one record (an event is at most 1 MiB).
const maxRecord = 2 << 20

// recHeader is a record's header: payload length, CRC-32C of the payload,
// sequence number.
const recHeader = 4 + 4 + 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrFull is what Append returns when the outbox holds MaxBytes already.
var ErrFull = errors.New("outbox full")

// WriteError is an append that the log's file did not take (a full disk,
// an I/O error): worth trying again later, unlike a record refused for
// what it is (too big, not built).
type WriteError struct{ Err error }

// Error says what the file said.
func (e *WriteError) Error() string { return "outbox: writing the log: " + e.Err.Error() }

// Unwrap returns the file's error.
func (e *WriteError) Unwrap() error { return e.Err }

// Options tune an outbox.
type Options struct {
	// MaxBytes bounds the records waiting; default DefaultMaxBytes.
	MaxBytes int64
	// Sync makes every append reach the disk before Append returns.
	Sync bool
}

// Record is one queued record.
type Record struct {
	Seq  uint64
	Data []byte
	end  int64 // offset just past the record
	// epoch is the log's epoch when the record was read: the log starts
	// again at offset 0 each time it empties, so an offset alone would
	// name a later record.
	epoch uint64
	ord   uint64 // the record's place in the log, counted in its epoch
}

// Outbox is a persisted FIFO of records. It is safe for concurrent use.
type Outbox struct {
	mu       sync.Mutex
	o        Options
	log      *os.File
	head     *os.File
	off      int64 // offset of the first record not acknowledged
	end      int64 // end of the last record
	count    int
	lastSeq  uint64
	notify   chan struct{}
	damage   string // what Open found damaged and set aside
	salvaged int    // whole records found after a damaged one
	epoch    uint64 // how many times the log emptied (see Record)
	offOrd   uint64 // the ordinal (Record.ord) of the record at off
	headRead bool   // Open found a head it could read
}

// Open opens (or creates) the outbox in dir.
func Open(dir string, o Options) (*Outbox, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	log, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	head, err := os.OpenFile(filepath.Join(dir, headName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		log.Close()
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	b := &Outbox{o: o, log: log, head: head, notify: make(chan struct{}, 1)}
	if err := b.recover(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// WriteHead writes the head now. A caller whose outbox had no head it
// could read (HeadRead false: a new outbox, or one whose head was lost)
// calls it once it has dealt with that (an agent takes a new id first):
// the next Open then reads a head, and tells of no damage. Writing it in
// Open would let a crash between the two pass a lost head for a known one.
func (b *Outbox) WriteHead() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writeHead()
}

// recover reads the head and checks the records after it, cutting off a
// torn one at the end and setting aside a damaged one (see salvage).
func (b *Outbox) recover() error {
	var h [20]byte
	n, _ := b.head.ReadAt(h[:], 0)
	if n == len(h) && crc32.Checksum(h[:16], crcTable) == binary.LittleEndian.Uint32(h[16:]) {
		b.off = int64(binary.LittleEndian.Uint64(h[0:]))
		b.lastSeq = binary.LittleEndian.Uint64(h[8:])
		b.headRead = true
	} else if hs, err := b.head.Stat(); err == nil && hs.Size() > 0 {
		b.damage = fmt.Sprintf("the head (%d bytes) is damaged: the queue is read from the start, and the sequence numbers given out before are not known", hs.Size())
	}

	st, err := b.log.Stat()
	if err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if b.off > st.Size() {
		b.damage = joinDamage(b.damage, fmt.Sprintf("the head points at offset %d, past the log's end (%d bytes): read from the start", b.off, st.Size()))
		b.off = 0
	}
	pos := b.off
	var stop error
	var prev uint64 // the sequence number of the last whole record
	for pos < st.Size() {
		r, err := b.readAt(pos)
		if err != nil {
			stop = err
			break
		}
		pos = r.end
		b.count++
		b.lastSeq = max(b.lastSeq, r.Seq)
		prev = r.Seq
	}
	b.end = pos
	if pos < st.Size() {
		// A record cut short by a crash at the end is dropped, as it was
		// never appended. Anything else after pos (a damaged record and
		// what follows it) is set aside in a file of its own, and the
		// whole records found in it stay queued: nothing is lost.
		tail, err := b.salvage(pos, st.Size(), prev)
		if err != nil {
			return err
		}
		torn := errors.Is(stop, io.EOF) || errors.Is(stop, io.ErrUnexpectedEOF)
		if !torn || b.salvaged > 0 {
			kept, err := b.setAside(pos, st.Size())
			if err != nil {
				return err
			}
			b.damage = joinDamage(b.damage, fmt.Sprintf("a damaged record at offset %d (%v): the %d bytes from there on are kept in %s, and the %d whole records found among them stay queued",
				pos, stop, st.Size()-pos, kept, b.salvaged))
		}
		if err := b.log.Truncate(pos); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
		if len(tail) > 0 {
			if _, err := b.log.WriteAt(tail, pos); err != nil {
				return cim.Wrap(cim.ErrFailed, err)
			}
			b.end = pos + int64(len(tail))
		}
	}
	return nil
}

// salvage looks through the log's bytes from off to end, past a damaged
// record, for whole records (length in bounds, checksum right) and
// returns them in order, to be queued again with their own sequence
// numbers: nothing whole is lost, and no number is given out twice. Only
// records numbered above prev, each above the one before, are taken. At
// most MaxBytes+maxRecord bytes are looked at.
func (b *Outbox) salvage(off, end int64, prev uint64) ([]byte, error) {
	end = min(end, off+b.o.MaxBytes+maxRecord)
	buf := make([]byte, end-off)
	if _, err := b.log.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	var out []byte
	for i := 1; i+recHeader <= len(buf); {
		n := int(binary.LittleEndian.Uint32(buf[i:]))
		if n > 0 && n <= maxRecord && i+recHeader+n <= len(buf) &&
			crc32.Checksum(buf[i+recHeader:i+recHeader+n], crcTable) == binary.LittleEndian.Uint32(buf[i+4:]) {
			seq := binary.LittleEndian.Uint64(buf[i+8:])
			if seq > prev {
				out = append(out, buf[i:i+recHeader+n]...)
				b.count++
				b.salvaged++
				b.lastSeq = max(b.lastSeq, seq)
				prev = seq
			}
			i += recHeader + n
			continue
		}
		i++
	}
	return out, nil
}

// setAside copies the log's bytes from off to end to a new file beside
// it and returns that file's name.
func (b *Outbox) setAside(off, end int64) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(b.log.Name()), fmt.Sprintf("%s.damaged-at-%d-*", logName, off))
	if err != nil {
		return "", cim.Wrap(cim.ErrFailed, err)
	}
	name := f.Name()
	_, err = io.Copy(f, io.NewSectionReader(b.log, off, end-off))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", cim.Wrap(cim.ErrFailed, err)
	}
	return name, nil
}

// Damage says what Open found damaged in the log and set aside, or "".
func (b *Outbox) Damage() string { return b.damage }

// joinDamage adds what else Open found damaged.
func joinDamage(was, more string) string {
	if was == "" {
		return more
	}
	return was + "; " + more
}

// HeadRead reports whether Open found the head it wrote: without it (a
// new outbox, or a head lost or damaged) the sequence numbers given out
// before are not known, and those of an emptied log start again at 1.
// The caller, knowing whether its outbox is new, decides whether numbers
// may repeat.
func (b *Outbox) HeadRead() bool { return b.headRead }

func (b *Outbox) readAt(pos int64) (Record, error) {
	var h [recHeader]byte
	if _, err := b.log.ReadAt(h[:], pos); err != nil {
		return Record{}, err
	}
	n := binary.LittleEndian.Uint32(h[0:])
	if n > maxRecord {
		return Record{}, fmt.Errorf("record of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := b.log.ReadAt(data, pos+recHeader); err != nil {
		return Record{}, err
	}
	if crc32.Checksum(data, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return Record{}, errors.New("bad checksum")
	}
	return Record{Seq: binary.LittleEndian.Uint64(h[8:]), Data: data, end: pos + recHeader + int64(n), epoch: b.epoch}, nil
}

func (b *Outbox) writeHead() error {
	var h [20]byte
	binary.LittleEndian.PutUint64(h[0:], uint64(b.off))
	binary.LittleEndian.PutUint64(h[8:], b.lastSeq)
	binary.LittleEndian.PutUint32(h[16:], crc32.Checksum(h[:16], crcTable))
	if _, err := b.head.WriteAt(h[:], 0); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if b.o.Sync {
		if err := b.head.Sync(); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
	}
	return nil
}

// Append numbers a record with the next sequence number, has build make
// its data, and queues it. When the outbox is full it returns the number
// and ErrFull: the number is used, the record is lost. A record the file
// did not take is a *WriteError; one refused for what it is (build's
// error, too big) any other.
func (b *Outbox) Append(build func(seq uint64) ([]byte, error)) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seq := b.lastSeq + 1
	data, err := build(seq)
	if err != nil {
		return 0, err
	}
	if len(data) > maxRecord {
		return 0, cim.Errorf(cim.ErrFailed, "a record of %d bytes, more than %d", len(data), maxRecord)
	}
	size := int64(recHeader + len(data))
	if b.end-b.off+size > b.o.MaxBytes {
		b.lastSeq = seq
		if err := b.writeHead(); err != nil {
			return seq, &WriteError{err}
		}
		return seq, ErrFull
	}
	buf := make([]byte, size)
	binary.LittleEndian.PutUint32(buf[0:], uint32(len(data)))
	binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(data, crcTable))
	binary.LittleEndian.PutUint64(buf[8:], seq)
	copy(buf[recHeader:], data)
	if _, err := b.log.WriteAt(buf, b.end); err != nil {
		// Nothing after end counts: the next append writes over it.
		return 0, &WriteError{err}
	}
	if b.o.Sync {
		if err := b.log.Sync(); err != nil {
			return 0, &WriteError{err}
		}
	}
	b.end += size
	b.count++
	b.lastSeq = seq
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return seq, nil
}

// Peek returns up to n records from the front, oldest first.
func (b *Outbox) Peek(n int) ([]Record, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readRecords(b.off, b.offOrd, n)
}

// PeekAfter returns up to n records that follow r (a record Peek or
// PeekAfter returned), oldest first: the next ones to send while r and
// those before it are still on their way. When r is no longer queued it
// reads from the front.
func (b *Outbox) PeekAfter(r Record, n int) ([]Record, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.epoch != b.epoch || r.end <= b.off {
		return b.readRecords(b.off, b.offOrd, n)
	}
	return b.readRecords(r.end, r.ord+1, n)
}

// readBlock is how much of the log readRecords reads at once.
const readBlock = 256 << 10

// readRecords reads up to n records from pos, whose ordinal is ord, a
// block of the log at a time rather than a record at a time.
func (b *Outbox) readRecords(pos int64, ord uint64, n int) ([]Record, error) {
	var out []Record
	for len(out) < n && pos < b.end {
		buf := make([]byte, min(b.end-pos, readBlock))
		if _, err := b.log.ReadAt(buf, pos); err != nil && err != io.EOF {
			return out, cim.Errorf(cim.ErrFailed, "outbox: reading at %d: %v", pos, err)
		}
		parsed := 0
		for len(out) < n && len(buf) >= recHeader {
			size := binary.LittleEndian.Uint32(buf[0:])
			if size > maxRecord {
				return out, cim.Errorf(cim.ErrFailed, "outbox: reading at %d: record of %d bytes", pos, size)
			}
			if int64(len(buf)) < recHeader+int64(size) {
				break // the record goes on past the block
			}
			data := buf[recHeader : recHeader+size : recHeader+size]
			if crc32.Checksum(data, crcTable) != binary.LittleEndian.Uint32(buf[4:]) {
				return out, cim.Errorf(cim.ErrFailed, "outbox: reading at %d: bad checksum", pos)
			}
			end := pos + recHeader + int64(size)
			out = append(out, Record{Seq: binary.LittleEndian.Uint64(buf[8:]), Data: data, end: end, epoch: b.epoch, ord: ord})
			buf = buf[recHeader+size:]
			pos, ord = end, ord+1
			parsed++
		}
		if parsed == 0 && len(out) < n {
			// A record larger than the block: read it alone.
			r, err := b.readAt(pos)
			if err != nil {
				return out, cim.Errorf(cim.ErrFailed, "outbox: reading at %d: %v", pos, err)
			}
			r.ord = ord
			out = append(out, r)
			pos, ord = r.end, ord+1
		}
	}
	return out, nil
}

// Ack lets go of every record up to and including r (a record Peek
// returned). When the outbox is empty then, the log is emptied.
func (b *Outbox) Ack(r Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.epoch != b.epoch || r.end <= b.off {
		return nil // acknowledged already
	}
	if r.end == b.end {
		// Emptied: the head first, at offset 0 and with the last sequence
		// number, which the records leave the log with. Should the
		// truncation not follow (a crash), the records are sent again
		// with their own ids, which the stream drops as repeats; were the
		// log truncated under an old head, the numbers would be given out
		// again, and the stream would drop new events as repeats.
		b.off = 0
		err := b.writeHead()
		if err == nil {
			if err = b.log.Truncate(0); err != nil {
				err = cim.Wrap(cim.ErrFailed, err)
			}
		}
		if err != nil {
			// Acknowledged here, not on disk (the head is older, or the
			// log was not emptied): after a restart the records are sent
			// again, not lost.
			b.count -= int(r.ord - b.offOrd + 1)
			b.off, b.offOrd = r.end, r.ord+1
			return err
		}
		b.count = 0
		b.end, b.offOrd = 0, 0
		b.epoch++
		return nil
	}
	b.count -= int(r.ord - b.offOrd + 1)
	b.off, b.offOrd = r.end, r.ord+1
	return b.writeHead()
}

// Len returns the number of records waiting.
func (b *Outbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// LastSeq returns the last sequence number given out.
func (b *Outbox) LastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastSeq
}

// Notify returns a channel that receives after appends.
func (b *Outbox) Notify() <-chan struct{} { return b.notify }

// Close closes the files.
func (b *Outbox) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e1 := b.log.Close()
	e2 := b.head.Close()
	if err := errors.Join(e1, e2); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}
