package history

import (
	"bytes"
	"context"
	"io"
	"math"
	"sync"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// Settled tells a listing how far a merge running beside it has settled
// the history, so that the listing can print the oldest sessions while the
// merge still writes the newer ones (see [Store.EachSettled]): a merge
// given one in [MergeOptions.Settled] moves it on after every batch it
// commits, to a time before which every row is as the merge will leave
// it, and whoever ran the merge calls [Settled.Finish] when it has ended.
//
// The time is the earliest of the starts of the sessions the merge still
// holds open (an open row may yet be closed, one in memory yet be added)
// and of the records it has still to read (less [MatchWindow], as a login
// may close a row that starts that much before it). A boot counts only
// while a shutdown may still come to end it: past the file's last one, a
// boot stays open to the merge's end, as it is. wtmp is in time order, so
// the time follows the merge closely; one session left open from the
// file's start holds it there, and the listing then waits for the end as
// it did before there was a Settled.
//
// A Settled is safe for concurrent use.
type Settled struct {
	mu     sync.Mutex
	before int64 // µs: rows that start before it are settled
	done   bool  // every row is
	err    error // the merge's, once done
	wake   chan struct{}
}

// NewSettled returns a Settled before which nothing is settled yet.
func NewSettled() *Settled {
	return &Settled{before: math.MinInt64, wake: make(chan struct{})}
}

// advance moves the time on (never back).
func (s *Settled) advance(before int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || before <= s.before {
		return
	}
	s.before = before
	close(s.wake)
	s.wake = make(chan struct{})
}

// Finish says the merge has ended: with err nil every row is settled;
// otherwise the merge failed, and a listing that follows s stops with err
// after the rows settled until then. Only the first call counts.
func (s *Settled) Finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done, s.err = true, err
	close(s.wake)
}

// wait blocks until the time is past after or the merge has ended, and
// returns the time and whether the merge has ended (with its error).
func (s *Settled) wait(ctx context.Context, after int64) (before int64, done bool, err error) {
	for {
		s.mu.Lock()
		before, done, err, wake := s.before, s.done, s.err, s.wake
		s.mu.Unlock()
		if done || before > after {
			return before, done, err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return before, false, cim.Wrap(cim.ErrFailed, ctx.Err())
		}
	}
}

// recordTimes is what a merge that settles a listing knows of the records
// ahead of it: the earliest second of each block of records from the
// merge's start, and of all the blocks after each (a suffix minimum), so
// that "the earliest start still to come" costs a look-up; and where the
// last record that may be a shutdown ends. It is read from the records'
// heads ([utmp.Layout.Head]) before the merge begins.
type recordTimes struct {
	from  int64   // the byte the blocks start at
	end   int64   // and the byte after the last
	block int64   // bytes in a block
	after []int64 // after[k]: the earliest second in blocks k and on
	// shutdowns: the byte after the last record that may end boots (see
	// mayEndBoots); from when there is none.
	shutdowns int64
}

// mayEndBoots reports whether a record may be one that ends the boots
// (as [pairing.add] takes it, by [lastType]: a shutdown, or a change to
// run level 0 or 6), from its head alone: every record that is one, and a
// few that are not.
func mayEndBoots(h utmp.Head) bool {
	t := h.Type
	if len(h.Line) > 0 && h.Line[0] == '~' {
		switch {
		case bytes.HasPrefix(h.User, []byte("shutdown")):
			return true
		case bytes.HasPrefix(h.User, []byte("reboot")):
			return false
		case bytes.HasPrefix(h.User, []byte("runlevel")):
			t = utmp.RunLevel
		}
	}
	// lastType turns other types into a run level only as above.
	x := byte(h.PID & 255)
	return t == utmp.RunLevel && (x == '0' || x == '6')
}

// scanTimes reads the head of every whole record of f in [from, whole).
func scanTimes(f io.ReaderAt, from, whole int64, l utmp.Layout, records int) (*recordTimes, error) {
	rt := &recordTimes{from: from, block: int64(records) * int64(l.Size), end: whole, shutdowns: from}
	buf := make([]byte, (1<<20)/l.Size*l.Size)
	least := int64(math.MaxInt64)
	var k int64
	for at := from; at < whole; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), whole-at)], at)
		n -= n % l.Size
		if n == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		for i := 0; i < n; i += l.Size {
			if (at+int64(i)-from)/rt.block != k {
				rt.after = append(rt.after, least)
				least, k = math.MaxInt64, k+1
			}
			h := l.Head(buf[i:])
			least = min(least, h.Sec)
			if mayEndBoots(h) {
				rt.shutdowns = at + int64(i+l.Size)
			}
		}
		at += int64(n)
	}
	rt.after = append(rt.after, least)
	for k := len(rt.after) - 2; k >= 0; k-- {
		rt.after[k] = min(rt.after[k], rt.after[k+1])
	}
	return rt, nil
}

// earliest returns the earliest start, in µs, of a record at or after
// byte at (the whole of at's block counts: an earlier one is no harm);
// math.MaxInt64 when there are none.
func (rt *recordTimes) earliest(at int64) int64 {
	if at >= rt.end {
		return math.MaxInt64
	}
	k := max(at-rt.from, 0) / rt.block
	if k >= int64(len(rt.after)) || rt.after[k] == math.MaxInt64 {
		return math.MaxInt64
	}
	switch sec := rt.after[k]; {
	case sec >= math.MaxInt64/1_000_000:
		return math.MaxInt64 // years ahead: never a session's start
	case sec <= math.MinInt64/1_000_000:
		return math.MinInt64
	default:
		return sec * 1e6 // a zero tv_sec, no time, is a start of 0 too
	}
}
