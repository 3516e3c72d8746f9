package history

import (
	"io"

	"github.com/cimsess/cimsess/internal/ahead"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// readAhead decodes a part of a wtmp file on a goroutine of its own, a
// chunk of aheadRecords records ahead of its caller, so that on a second
// CPU a merge pairs and writes records while the next ones are read: the
// reading was a sixth of a merge's time, on its one goroutine.
type readAhead struct {
	chunks *ahead.Reader[utmp.Record]
	cur    []utmp.Record // the chunk being handed out, from cur[next]
	next   int
}

// aheadRecords is how many records a chunk of a readAhead holds: with the
// hand-over a thousand records apart, it costs nothing that shows.
const aheadRecords = 1024

// aheadChunks is how many chunks a readAhead may fill ahead of its
// merge: a batch's worth ([DefaultBatch]). The merge works in bursts: a
// serial merge pairs a batch and then writes it, a pipelined one pairs
// ahead until it waits for its writer; meanwhile the next batch is
// decoded. With two chunks, a serial merge waited for the decoding after
// every 2,048 records, a sixth of its time, and a pipelined merge of
// 1,000,000 records took 13 % longer (four chunks: 6 % at 100,000).
const aheadChunks = DefaultBatch/aheadRecords + 1

// newReadAhead starts reading the records of f, in layout l, from byte
// from up to byte to (a whole number of records).
func newReadAhead(f io.ReaderAt, from, to int64, l utmp.Layout) *readAhead {
	rd := utmp.NewReader(io.NewSectionReader(f, from, to-from), l)
	return &readAhead{chunks: ahead.StartN(aheadRecords, aheadChunks, func(fl *ahead.Filler[utmp.Record]) error {
		for {
			r := fl.Add()
			if r == nil {
				return nil // closed
			}
			var err error
			if *r, err = rd.Next(); err != nil {
				fl.Drop()
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	})}
}

// Next returns the next record, or the error that ended the reading
// (io.EOF at the part's end), as [utmp.Reader.Next] does.
func (a *readAhead) Next() (utmp.Record, error) {
	for a.next == len(a.cur) {
		var err error
		a.cur, err = a.chunks.Next()
		a.next = 0
		if err != nil {
			return utmp.Record{}, err
		}
	}
	a.next++
	return a.cur[a.next-1], nil
}

// close stops the reading and waits for its goroutine to end, after which
// the file may be closed.
func (a *readAhead) close() { a.chunks.Close() }
