package history

import (
	"io"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// readAhead decodes a part of a wtmp file on a goroutine of its own, a
// chunk of aheadRecords records ahead of its caller, so that on a second
// CPU a merge pairs and writes records while the next ones are read: the
// reading was a sixth of a merge's time, on its one goroutine. Two chunks
// take turns, so memory does not grow with the file.
type readAhead struct {
	full chan aheadChunk
	free chan []utmp.Record
	stop chan struct{}
	done chan struct{}
	cur  aheadChunk // the chunk being handed out, from cur.recs[next]
	next int
}

// aheadChunk is the records of a chunk in file order, and the error that
// ended the reading after them (io.EOF at the part's end), if any.
type aheadChunk struct {
	recs []utmp.Record
	err  error
}

// aheadRecords is how many records a chunk of a readAhead holds: with the
// hand-over a thousand records apart, it costs nothing that shows.
const aheadRecords = 1024

// newReadAhead starts reading the records of f, in layout l, from byte
// from up to byte to (a whole number of records).
func newReadAhead(f io.ReaderAt, from, to int64, l utmp.Layout) *readAhead {
	a := &readAhead{
		full: make(chan aheadChunk, 1),
		free: make(chan []utmp.Record, 2),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range 2 {
		a.free <- make([]utmp.Record, 0, aheadRecords)
	}
	go a.read(utmp.NewReader(io.NewSectionReader(f, from, to-from), l))
	return a
}

// read fills the free chunks in turn until the part ends, the reading
// fails, or close stops it.
func (a *readAhead) read(rd *utmp.Reader) {
	defer close(a.done)
	for {
		var recs []utmp.Record
		select {
		case recs = <-a.free:
		case <-a.stop:
			return
		}
		var err error
		for len(recs) < cap(recs) {
			var r utmp.Record
			if r, err = rd.Next(); err != nil {
				break
			}
			recs = append(recs, r)
		}
		select {
		case a.full <- aheadChunk{recs, err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Next returns the next record, or the error that ended the reading
// (io.EOF at the part's end), as [utmp.Reader.Next] does.
func (a *readAhead) Next() (utmp.Record, error) {
	for a.next == len(a.cur.recs) {
		if a.cur.err != nil {
			return utmp.Record{}, a.cur.err
		}
		if a.cur.recs != nil {
			clear(a.cur.recs) // its strings are the caller's now
			a.free <- a.cur.recs[:0]
		}
		a.cur, a.next = <-a.full, 0
	}
	a.next++
	return a.cur.recs[a.next-1], nil
}

// close stops the reading and waits for its goroutine to end, after which
// the file may be closed.
func (a *readAhead) close() {
	close(a.stop)
	<-a.done
}
