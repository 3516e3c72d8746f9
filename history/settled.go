package history

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"math"
	"slices"
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
// A merge into an empty history also hands the listing the rows it wrote,
// as they settle, so that the listing need not read back from the
// database what the merge has just written there (reading them back was a
// quarter of a new history's CPU samples). The listing then gives
// them in the same order with the same fields, and filters them as the
// database would. The rows kept are bounded ([maxKept]): past the bound,
// and whenever another writer may have changed the history meanwhile, the
// merge stops keeping them and the listing reads the rest from the
// database, as it always did. Only the first listing that follows a
// Settled takes the rows; any other reads the database.
//
// A Settled is safe for concurrent use.
type Settled struct {
	mu     sync.Mutex
	before int64 // µs: rows that start before it are settled
	done   bool  // every row is
	err    error // the merge's, once done
	wake   chan struct{}
	// keeping: the merge hands over every row it writes (see keep);
	// rows holds those the listing has not taken.
	keeping bool
	rows    []keptRow // in the order they came
	lent    int       // rows the listing took last, which it may still hold
	claimed bool      // a listing takes the rows (see claim)
	limit   int       // maxKept; less in tests
	taken   int       // rows the listing took, for tests
}

// maxKept bounds the rows a Settled keeps, and those the listing took
// last, together: about 1.5 MiB of them, besides the batch the merge is
// writing. A row is kept from when the merge writes it until the listing
// takes it, once the time passes its start; the time moves on once a
// batch, so a merge of a busy wtmp keeps one or two batches' rows (up to
// 7,700 in the benchmarks' files). One session open from the file's start
// holds the time there, and the rows then go past the bound and are read
// from the database instead.
const maxKept = 16384

// keptRow is a row a merge wrote from wtmp, with what the listing needs
// to give it as the database would (see session).
type keptRow struct {
	start, end, id  int64 // start_us and end_us as the row holds them
	user, tty, host string
	how             End
	pid             int32
	boot, open      bool
}

// keptOf is row id, session lc as the merge writes it (see bindRow).
func keptOf(id int64, lc Lifecycle) keptRow {
	_, host, _, _ := wtmpRow(lc)
	return keptRow{start: us(lc.Start), end: us(lc.End), id: id, user: lc.User, tty: lc.Line, host: host,
		how: lc.How, pid: lc.PID, boot: lc.Boot, open: lc.How == EndNone}
}

// session is the row as a listing reads it back from the database (see
// interner.session).
func (r *keptRow) session() Session {
	class, _, lt, hasLT := wtmpRow(Lifecycle{Host: r.host, Boot: r.boot})
	s := Session{ID: r.id, Class: class, User: r.user, TTY: r.tty, RemoteHost: r.host, PID: int64(r.pid), How: r.how, Source: SourceWtmp}
	if hasLT {
		v := uint32(lt)
		s.LogonType = &v
	}
	if r.start != 0 {
		s.Start = fromUS(r.start) // 0: no time (a zero tv_sec), not 1970
	}
	if !r.open {
		s.End = fromUS(r.end)
	}
	return s
}

// NewSettled returns a Settled before which nothing is settled yet.
func NewSettled() *Settled {
	return &Settled{before: math.MinInt64, wake: make(chan struct{}), limit: maxKept}
}

// keep says that the merge, into a history that holds no rows but its
// own, hands over every row it writes (with advance and hand), before it
// first moves the time on.
func (s *Settled) keep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keeping = !s.done && s.before == math.MinInt64
}

// spill says that the rows are no longer all kept: the listing reads
// from the database from where it is.
func (s *Settled) spill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keeping, s.rows = false, nil
}

// hand takes over rows the merge wrote, as they are now (and will stay),
// while it keeps them; past its limit ([maxKept]) it spills them all. It
// reports whether it still keeps them.
func (s *Settled) hand(rows []keptRow) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handLocked(rows)
}

func (s *Settled) handLocked(rows []keptRow) bool {
	if !s.keeping {
		return false
	}
	if len(s.rows)+s.lent+len(rows) > s.limit {
		s.keeping, s.rows = false, nil
		return false
	}
	s.rows = append(s.rows, rows...)
	return true
}

// claim makes the caller the listing that takes the rows; only the
// first call returns true.
func (s *Settled) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.claimed
	s.claimed = true
	return first
}

// rowKey is a taken row's place in the listing's order, and in the rows
// taken: the rows are sorted by their keys, a fourth of their size.
type rowKey struct {
	start, id int64
	i         int32
}

// take moves to dst the kept rows that start no later than hi, for the
// listing that claimed them, which gives up those it took before, and
// returns in keys the listing's order of them (start, then id); ok is
// false when the rows are not kept (and the listing reads the database).
func (s *Settled) take(hi int64, dst []keptRow, keys []rowKey) (_ []keptRow, _ []rowKey, ok bool) {
	s.mu.Lock()
	s.lent = 0
	if !s.keeping {
		s.mu.Unlock()
		return dst, keys, false
	}
	w := 0
	for _, r := range s.rows {
		if r.start <= hi {
			dst = append(dst, r)
		} else {
			s.rows[w] = r
			w++
		}
	}
	clear(s.rows[w:])
	s.rows = s.rows[:w]
	s.taken += len(dst)
	s.lent = len(dst)
	s.mu.Unlock()
	for i := range dst {
		keys = append(keys, rowKey{dst[i].start, dst[i].id, int32(i)})
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return dst, keys, true
}

// advance moves the time on (never back), after taking over the rows the
// merge wrote meanwhile (see hand, whose report it returns).
func (s *Settled) advance(before int64, rows []keptRow) (keeping bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keeping = s.handLocked(rows)
	if s.done || before <= s.before {
		return keeping
	}
	s.before = before
	close(s.wake)
	s.wake = make(chan struct{})
	return keeping
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
