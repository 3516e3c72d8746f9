package history

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// DefaultBatch is how many wtmp records a merge commits at a time: an
// interrupted merge keeps every batch it committed and resumes after it.
const DefaultBatch = 8192

// MergeOptions configures [Store.MergeFile].
type MergeOptions struct {
	// Layout is the file's record layout; the zero Layout is
	// [utmp.Native].
	Layout utmp.Layout
	// Batch is how many records are committed at a time; 0 is
	// [DefaultBatch].
	Batch int
	// Progress, when set, is told now and then how many of the records to
	// read are done: after each batch is committed, one call at a time,
	// and not always on the caller's goroutine (a merge into an empty
	// history writes its batches on one of its own).
	Progress func(done, total int)
	// Settled, when set, is moved on after every batch the merge commits,
	// for a listing that follows the merge (see [Settled]). The merge
	// does not finish it: its caller does, with the merge's outcome.
	Settled *Settled
}

// MergeStats says what a merge did.
type MergeStats struct {
	Records int // records read
	Added   int // new rows
	Closed  int // open rows that wtmp closed
	Skipped int // sessions that ended before what retention pruned
	// Implausible counts the records skipped as [utmp.Plausible] finds
	// them not: an unknown type, a time before 1970 or years ahead.
	Implausible int
	From        int64 // the byte the merge started at: where the last one stopped
	Unchanged   bool  // the file was merged before and has not grown since
	// Warning is the [*utmp.TruncatedError] of a partial last record, which
	// is left for a later merge to read once it is whole.
	Warning error
}

// MergeFile merges the wtmp file at path into the history, streaming it:
// logins are paired with what ended them as last(1) pairs them (see
// [PairWtmp]); a session that matches a row already in the history (same
// terminal and user, the same start, or a session seen live with the same
// leader pid and a start within [MatchWindow]) is not added again, and an
// open row is closed when wtmp holds its end, whoever recorded it (a
// recorder that crashed leaves its sessions open); any other session is
// added, unless it ended before what retention pruned.
//
// The merge commits every [MergeOptions.Batch] records together with how
// far it got, keyed by the file's device and inode: a file merged before
// costs a stat and a look-up when it has not grown, and only its new
// records when it has (wtmp is only ever appended to), and an interrupted
// merge resumes where its last batch ended. A file whose first record
// changed (a new file on a reused inode) is merged from its start. A
// partial last record is not merged (see [MergeStats.Warning]); it is read
// again once whole.
//
// The file must be a regular file; it is read up to its size at open. A
// file whose records are not plausible in the layout (another machine's:
// the other byte order or record size) is refused with a
// [*utmp.LayoutError] that names the likely one, before anything is
// written; a single implausible record is skipped (see
// [MergeStats.Implausible]).
func (s *Store) MergeFile(ctx context.Context, path string, opts MergeOptions) (MergeStats, error) {
	st, err := s.mergeFile(ctx, path, opts, true)
	if errors.Is(err, errConflict) {
		// Another writer came between two batches of a merge into an
		// empty history that paired ahead of its writes (see pipeline):
		// go on from what the database holds, as a merge that does not.
		if opts.Settled != nil {
			opts.Settled.spill()
		}
		var again MergeStats
		again, err = s.mergeFile(ctx, path, opts, false)
		again.From = st.From
		again.Records += st.Records
		again.Added += st.Added
		again.Closed += st.Closed
		again.Skipped += st.Skipped
		again.Implausible += st.Implausible
		return again, err
	}
	return st, err
}

// mergeFile is MergeFile; pipe allows a merge into an empty history to
// write its batches beside its pairing (see pipeline).
func (s *Store) mergeFile(ctx context.Context, path string, opts MergeOptions, pipe bool) (MergeStats, error) {
	var st MergeStats
	l := opts.Layout
	if !l.Valid() {
		l = utmp.Native
	}
	f, size, err := utmp.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	if err := utmp.CheckLayout(f, size, path, l); err != nil {
		return st, err
	}
	fi, err := f.Stat()
	if err != nil {
		return st, cim.Errorf(cim.ErrFailed, "wtmp %s: %v", path, err)
	}
	whole := size - size%int64(l.Size)
	if size%int64(l.Size) != 0 {
		st.Warning = &utmp.TruncatedError{Offset: whole, Have: int(size - whole), Size: l.Size, Source: "utmp"}
	}
	file := wtmpFile{path: path, layout: l.String(), size: whole}
	if dev, ino, ok := fileID(fi); ok && whole > 0 {
		file.dev, file.ino, file.known = int64(dev), int64(ino), true
		head := make([]byte, l.Size)
		if _, err := f.ReadAt(head, 0); err != nil {
			return st, cim.Errorf(cim.ErrFailed, "wtmp %s: reading its first record: %v", path, err)
		}
		h := fnv.New64a()
		h.Write(head)
		file.head = int64(h.Sum64())
		if r, ok := utmp.Decode(head, l); ok {
			file.first = us(r.Time)
		}
	}
	if file.known {
		// A file merged before and unchanged since costs one read of the
		// database: no connection of the merge's own, no write lock.
		var head, merged int64
		var layout string
		err := s.db.QueryRowContext(ctx, `SELECT head, merged, layout FROM wtmp_files WHERE dev = ? AND ino = ?`, file.dev, file.ino).
			Scan(&head, &merged, &layout)
		if err == nil && head == file.head && layout == file.layout && merged == whole {
			st.From, st.Unchanged = merged, true
			return st, nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return st, dbError(s.path, err)
		}
	}
	m, err := s.newMerger(ctx, opts, file)
	if err != nil {
		return st, err
	}
	defer m.close()
	if err := m.sync(); err != nil {
		return st, err
	}
	st.From = m.file.merged
	if m.file.merged >= whole {
		st.Unchanged = m.file.known
		return st, m.commit()
	}
	// A history with no rows at all: the merge's own are then all there
	// are, which it may hand a listing (see Settled) and write beside
	// its pairing (see pipeline).
	empty, err := m.empty()
	if err != nil {
		return st, err
	}
	pipe = pipe && empty
	if opts.Settled != nil && empty {
		m.keep, m.listing = true, opts.Settled
		opts.Settled.keep()
	}
	// The times of the records ahead, for the listing: read on a
	// goroutine of their own while the merge pairs its first batch, which
	// needs them only at its end (a twentieth of a merge, when it read
	// them first).
	var times *recordTimes
	var scanned chan error
	if opts.Settled != nil {
		scanned = make(chan error, 1)
		go func() {
			var err error
			times, err = scanTimes(f, st.From, whole, l, m.batch)
			scanned <- err
		}()
		defer func() { // before the file is closed
			if scanned != nil {
				<-scanned
			}
		}()
	}
	var rd *readAhead
	defer func() {
		if rd != nil {
			rd.close()
		}
	}()
	at := int64(-1)
	total := int((whole - st.From) / int64(l.Size))
	if total > m.batch {
		m.checkpointBeside()
	}
	// awaitTimes waits for the times of the records ahead.
	awaitTimes := func() error {
		if scanned != nil {
			err := <-scanned
			scanned = nil
			if err != nil {
				return cim.Errorf(cim.ErrFailed, "wtmp %s: reading its times: %v", path, err)
			}
		}
		return nil
	}
	if pipe {
		pl := m.startPipeline(ctx, opts.Settled, opts.Progress, total)
		stopped := false
		defer func() { // a panic of the pairing's: before the connection closes
			if !stopped {
				pl.stop()
			}
		}()
		rd = newReadAhead(f, m.file.merged, whole, l)
		err := m.pairAhead(ctx, pl, rd, m.file.merged, whole, int64(l.Size), awaitTimes, func() *recordTimes { return times })
		stopped = true
		if werr := pl.stop(); werr != nil {
			err = werr // the writer's, such as errConflict, comes first
			// Only what was committed counts: a merge after this one
			// reads the rest again.
			m.st.Implausible, m.st.Skipped = pl.committed.implausible, pl.committed.skipped
		}
		m.st.From, m.st.Warning = st.From, st.Warning
		return m.st, err
	}
	for {
		if at != m.file.merged {
			// First, or another process merged this file meanwhile: read
			// on from where the database says it stopped.
			at = m.file.merged
			if rd != nil {
				rd.close()
			}
			rd = newReadAhead(f, at, whole, l)
		}
		n, err := m.pairBatch(rd)
		if err != nil {
			return m.st, err
		}
		m.st.Records += n
		at += int64(n) * int64(l.Size)
		if err := m.checkpoint(at); err != nil {
			return m.st, err
		}
		if err := awaitTimes(); err != nil {
			return m.st, err
		}
		if times != nil {
			shutdownAhead := at < times.shutdowns
			if m.keep && !shutdownAhead {
				// Past the last shutdown, a boot stays open to the end: its
				// row is as it will stay, and the time passes it.
				for _, p := range m.pr.boots {
					if !p.kept {
						m.keepRow(p.id, p.lc)
						p.kept = true
					}
				}
			}
			if !opts.Settled.advance(m.settled(times.earliest(at), shutdownAhead), m.kept) {
				m.keep = false
			}
			clear(m.kept)
			m.kept = m.kept[:0]
		}
		if opts.Progress != nil { // after the advance: a listing may run already
			opts.Progress(min(m.st.Records, total), total)
		}
		if at >= whole {
			break
		}
		if err := ctx.Err(); err != nil {
			return m.st, cim.Wrap(cim.ErrFailed, err)
		}
		if err := m.sync(); err != nil {
			return m.st, err
		}
	}
	if m.keep {
		// The rows still open: every one has its row since the last batch.
		for _, p := range m.pr.pending() {
			if !p.kept {
				m.keepRow(p.id, p.lc)
			}
		}
		opts.Settled.hand(m.kept)
	}
	m.st.From, m.st.Warning = st.From, st.Warning
	return m.st, nil
}

// empty reports whether the history holds no rows at all, as the merge's
// first transaction sees it, and then notes the database's data_version,
// by which the merge sees another writer's commits from then on.
func (m *merger) empty() (bool, error) {
	if m.maxID != 0 {
		return false, nil
	}
	if id, err := m.maxRowID(); err != nil || id != 0 {
		return false, err
	}
	var err error
	m.version, err = m.dataVersion()
	return err == nil, err
}

// pairAhead reads and pairs the records of rd, from byte at to byte
// whole, a batch at a time, and sends each batch to the writer of pl.
// times returns the times of the records ahead once awaitTimes has
// returned, nil when no listing follows the merge.
func (m *merger) pairAhead(ctx context.Context, pl *pipeline, rd *readAhead, at, whole, size int64,
	awaitTimes func() error, times func() *recordTimes) error {
	records := 0
	for {
		n, err := m.pairBatch(rd)
		if err != nil {
			return err
		}
		records += n
		at += int64(n) * size
		if err := awaitTimes(); err != nil {
			return err
		}
		job := pl.cur
		if rt := times(); rt != nil {
			shutdownAhead := at < rt.shutdowns
			if !shutdownAhead {
				// Past the last shutdown, a boot stays open to the end (see
				// MergeFile).
				for _, p := range m.pr.boots {
					if !p.kept {
						p.kept = true
						job.kept = append(job.kept, pendOp{p, p.lc})
					}
				}
			}
			job.before, job.settle = m.settled(rt.earliest(at), shutdownAhead), true
		}
		last := at >= whole
		if last {
			for _, p := range m.pr.pending() {
				if !p.kept {
					job.final = append(job.final, pendOp{p, p.lc})
				}
			}
			job.last = true
		}
		if err := pl.send(ctx, at, records); err != nil {
			return err
		}
		if last {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
	}
}

// pairBatch reads and pairs up to a batch of records from rd, and
// returns how many it read.
func (m *merger) pairBatch(rd *readAhead) (int, error) {
	n := 0
	for ; n < m.batch; n++ {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if err := m.add(r); err != nil {
			return n, err
		}
	}
	return n, nil
}

// dataVersion is SQLite's data_version, which moves on when another
// connection commits (not when this one does, nor with a checkpoint).
func (m *merger) dataVersion() (int64, error) {
	q := m.stmts.version
	defer q.reset()
	if _, err := q.step(); err != nil {
		return 0, err
	}
	return q.colInt(0), nil
}

// maxRowID is the largest row id of sessions, 0 for none.
func (m *merger) maxRowID() (int64, error) {
	q := m.stmts.maxID
	defer q.reset()
	if _, err := q.step(); err != nil {
		return 0, err
	}
	return q.colInt(0), nil // NULL reads as 0
}

// keepRow keeps row id, session lc as it is now written, for the
// listing.
func (m *merger) keepRow(id int64, lc Lifecycle) {
	m.kept = append(m.kept, keptOf(id, lc))
}

// stopKeeping leaves the listing to read the database: another writer's
// rows may be in it.
func (m *merger) stopKeeping() {
	if m.keep {
		m.keep, m.kept = false, nil
		m.listing.spill()
	}
}

// MergeRecords merges wtmp records held in memory, in one batch, with
// no memory of them: each call matches them again against the rows there
// are, as [Store.MergeFile] does with a file it does not know.
func (s *Store) MergeRecords(ctx context.Context, recs []utmp.Record) (MergeStats, error) {
	m, err := s.newMerger(ctx, MergeOptions{}, wtmpFile{})
	if err != nil {
		return MergeStats{}, err
	}
	defer m.close()
	if err := m.sync(); err != nil {
		return m.st, err
	}
	for _, r := range recs {
		if err := m.add(r); err != nil {
			return m.st, err
		}
	}
	m.st.Records = len(recs)
	return m.st, m.checkpoint(0)
}

// wtmpFile is a wtmp file as the history remembers it.
type wtmpFile struct {
	known    bool  // it has a device and inode (and is not empty)
	id       int64 // its row in wtmp_files; 0 until it has one
	dev, ino int64
	head     int64 // FNV-1a of its first record
	first    int64 // its first record's time, in microseconds
	layout   string
	path     string
	size     int64 // whole records' bytes at open
	merged   int64 // bytes merged
}

// merger is one merge: a transaction per batch on a connection of its
// own (see [conn]), with its statements prepared once; the pairing of the
// records read so far, and the rows that were there when it began (the
// only ones a login is matched against: a record repeated in one file is
// two sessions, as last shows them).
type merger struct {
	s     *Store
	c     *conn
	ctx   context.Context
	now   time.Time // what "years ahead" is counted from
	batch int
	file  wtmpFile
	// synced: the pairing holds what the file left open up to file.merged.
	synced bool
	inTx   bool
	stmts  struct {
		insert, insertN, close, match *stmt
		tag, water, fileGet, fileAdd  *stmt
		fileReset, fileUntag, fileSet *stmt
		open, maxID, version          *stmt
	}
	pr    pairing
	seq   int
	water int64 // retention's watermark
	// The rows before the merge: ids up to maxID, starts in
	// [minStart, maxStart]; none when maxID is 0.
	maxID              int64
	minStart, maxStart int64
	st                 MergeStats
	queue              []Lifecycle // closed sessions to add at the batch's end
	order              []queued    // the queue by start (see flush)
	// keep: the merge hands listing every row it writes (see empty),
	// the rows of a batch in kept until it ends; version is the
	// database's data_version when it began, by which it sees another
	// writer's commits; lastID is the last row it wrote.
	keep    bool
	listing *Settled
	kept    []keptRow
	version int64
	lastID  int64
	// ckpt, when not nil, checkpoints what the merge commits beside it.
	ckpt *checkpointer
	// pipe, when not nil, writes the batches beside the pairing.
	pipe *pipeline
}

// insertRows is how many rows one INSERT adds: a statement per row costs
// SQLite's per-statement work for each (a third more CPU than 16 a time),
// and 64 a time took a tenth less time than 16 for a new history of
// 1,000,000 records, now that a batch writes its rows at once.
const insertRows = 64

// insertSQL adds n rows of sessions from wtmp.
func insertSQL(n int) string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, 'wtmp', ?)`
	return `INSERT INTO sessions(class, user, tty, remote_host, logon_type, pid, start_us, end_us, how, source, wtmp_file) VALUES ` +
		row + strings.Repeat(", "+row, n-1)
}

// matchSQL finds the row of the same session as a login (see
// [Store.MergeFile]) through the index on start_us.
const matchSQL = `SELECT id, end_us IS NULL, wtmp_file FROM sessions
	WHERE tty = ? AND user = ? AND start_us BETWEEN ? AND ? AND id <= ?
	AND (start_us = ? OR (source <> 'wtmp' AND pid = ? AND pid <> 0))
	AND (?9 = 0 OR wtmp_file <> ?9)
	ORDER BY abs(start_us - ?8), id LIMIT 1`

func (s *Store) newMerger(ctx context.Context, opts MergeOptions, file wtmpFile) (*merger, error) {
	c, err := s.openConn()
	if err != nil {
		return nil, err
	}
	m := &merger{s: s, c: c, ctx: ctx, batch: opts.Batch, file: file, now: time.Now()}
	if m.batch <= 0 {
		m.batch = DefaultBatch
	}
	m.pr.login, m.pr.end = m.login, m.end
	m.pr.boot = func(r utmp.Record) (*pend, error) { return m.pending(bootOf(r)) }
	for _, p := range []struct {
		st **stmt
		q  string
	}{
		{&m.stmts.insert, insertSQL(1)},
		{&m.stmts.insertN, insertSQL(insertRows)},
		{&m.stmts.close, `UPDATE sessions SET end_us = ?, how = ? WHERE id = ? AND end_us IS NULL`},
		{&m.stmts.match, matchSQL},
		{&m.stmts.tag, `UPDATE sessions SET wtmp_file = ? WHERE id = ? AND wtmp_file = 0`},
		{&m.stmts.water, `SELECT value FROM meta WHERE key = 'pruned_before_us'`},
		{&m.stmts.fileGet, `SELECT id, head, merged, layout FROM wtmp_files WHERE dev = ? AND ino = ?`},
		{&m.stmts.fileAdd, `INSERT INTO wtmp_files(dev, ino, head, merged, layout, path) VALUES(?, ?, ?, 0, ?, ?)`},
		{&m.stmts.fileReset, `UPDATE wtmp_files SET head = ?, merged = 0, layout = ?, path = ? WHERE id = ?`},
		{&m.stmts.fileUntag, `UPDATE sessions SET wtmp_file = 0 WHERE wtmp_file = ?`},
		{&m.stmts.fileSet, `UPDATE wtmp_files SET merged = ?, path = ? WHERE id = ?`},
		{&m.stmts.open, `SELECT id, tty, class, start_us FROM sessions WHERE wtmp_file = ? AND end_us IS NULL ORDER BY start_us, id`},
		{&m.stmts.maxID, `SELECT max(id) FROM sessions`},
		{&m.stmts.version, `PRAGMA data_version`},
	} {
		if *p.st, err = c.prepare(p.q); err != nil {
			m.close()
			return nil, err
		}
	}
	q, err := c.prepare(`SELECT max(id), min(start_us), max(start_us) FROM sessions`)
	if err != nil {
		m.close()
		return nil, err
	}
	ok, err := q.step()
	if ok {
		m.maxID, m.minStart, m.maxStart = q.colInt(0), q.colInt(1), q.colInt(2)
	}
	q.close() // before the connection, whichever way
	if err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// sync begins a batch's transaction and takes up the file where the
// database says its merge stopped (another process may have merged it
// meanwhile): with the sessions left open there.
func (m *merger) sync() error {
	if err := m.c.exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	m.inTx = true
	if m.keep {
		if v, err := m.dataVersion(); err != nil {
			return err
		} else if v != m.version {
			m.stopKeeping() // another writer's rows, or changes to these
		}
	}
	ok, err := m.stmts.water.step()
	if err != nil {
		return err
	}
	m.water = 0
	if ok {
		m.water = m.stmts.water.colInt(0)
	}
	m.stmts.water.reset()
	if !m.file.known {
		return nil
	}
	get := m.stmts.fileGet
	get.int(1, m.file.dev)
	get.int(2, m.file.ino)
	ok, err = get.step()
	if err != nil {
		return err
	}
	var id, merged int64
	if !ok {
		get.reset()
		if err := m.stmts.fileAdd.exec(m.file.dev, m.file.ino, m.file.head, m.file.layout, m.file.path); err != nil {
			return err
		}
		m.file.id = m.c.lastID()
		m.file.merged = 0
		if adopted, err := m.adoptRotated(); err != nil || !adopted {
			return err
		}
		id = m.file.id // take up the sessions it adopted, below
	} else {
		var head int64
		var layout string
		id, head, merged, layout = get.colInt(0), get.colInt(1), get.colInt(2), get.colText(3)
		get.reset()
		m.file.id = id
		if head != m.file.head || layout != m.file.layout || merged > m.file.size {
			// Another file on the same inode (or read another way): what was
			// merged of the old one stays; its open sessions are no longer
			// this file's to close.
			if err := m.stmts.fileUntag.exec(id); err != nil {
				return err
			}
			if err := m.stmts.fileReset.exec(m.file.head, m.file.layout, m.file.path, id); err != nil {
				return err
			}
			merged = 0
		}
		if m.synced && merged == m.file.merged {
			return nil // where this merge stopped: its pairing is up to date
		}
	}
	// Take up the sessions this file left open where the merge stopped.
	m.stopKeeping() // another merge went on meanwhile; its rows are not kept
	m.file.merged = merged
	m.pr.lines, m.pr.noLine = nil, nil
	m.pr.boots = nil
	open := m.stmts.open
	defer open.reset()
	open.int(1, id)
	for {
		ok, err := open.step()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		rid, tty, class := open.colInt(0), open.colText(1), open.colText(2)
		m.seq++
		p := &pend{seq: m.seq, id: rid, start: open.colInt(3)}
		if class == "" && tty == BootLine {
			m.pr.boots = append(m.pr.boots, p)
		} else if tty == "" {
			m.pr.noLine = append(m.pr.noLine, p)
		} else {
			if m.pr.lines == nil {
				m.pr.lines = map[string]*pend{}
			}
			m.pr.lines[tty] = p
		}
	}
	m.synced = true
	return nil
}

// adoptRotated makes the sessions (and the boot) that the file merged
// before at this file's path left open this file's, when this file,
// new to the history, begins at or after the last of them began: the
// other was this one before a rotation (logrotate moves wtmp to wtmp.1
// and starts a new one), and this one's logouts, shutdowns and boots end
// them, as last(1) ends them reading the two files as one. A file that
// begins before (another machine's copy merged into the same history, an
// old file merged again) adopts nothing. It reports whether it adopted
// any.
func (m *merger) adoptRotated() (bool, error) {
	q, err := m.c.prepare(`SELECT id FROM wtmp_files WHERE path = ? AND id <> ? ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return false, err
	}
	defer q.close()
	q.bind(m.file.path, m.file.id)
	ok, err := q.step()
	if err != nil || !ok {
		return false, err
	}
	prev := q.colInt(0)
	last, err := m.c.prepare(`SELECT max(start_us) FROM sessions WHERE wtmp_file = ?`)
	if err != nil {
		return false, err
	}
	defer last.close()
	last.int(1, prev)
	if ok, err := last.step(); err != nil || !ok || last.isNull(0) || last.colInt(0) > m.file.first {
		return false, err
	}
	move, err := m.c.prepare(`UPDATE sessions SET wtmp_file = ? WHERE wtmp_file = ? AND end_us IS NULL`)
	if err != nil {
		return false, err
	}
	defer move.close()
	if err := move.exec(m.file.id, prev); err != nil {
		return false, err
	}
	return m.c.changes() > 0, nil
}

// add pairs one record; an implausible one (see [utmp.Plausible]: an
// unknown type, a time before 1970 or years ahead) is counted and
// skipped, so that no such row is ever written.
func (m *merger) add(r utmp.Record) error {
	if !utmp.Plausible(r, m.now) {
		m.st.Implausible++
		return nil
	}
	return m.pr.add(r)
}

// login makes the pending session of a login record: a row already in
// the history when one matches (nil when that row is closed: there is
// nothing to end), else the login in memory until it ends or the batch
// is committed.
func (m *merger) login(r utmp.Record) (*pend, error) { return m.pending(lifecycleOf(r)) }

// pending makes the pending session of a login or boot (see login).
func (m *merger) pending(lc Lifecycle) (*pend, error) {
	m.seq++
	start := us(lc.Start)
	w := MatchWindow.Microseconds()
	if m.maxID > 0 && start >= m.minStart-w && start <= m.maxStart+w {
		q := m.stmts.match
		q.text(1, lc.Line)
		q.text(2, lc.User)
		q.int(3, start-w)
		q.int(4, start+w)
		q.int(5, m.maxID)
		q.int(6, start)
		q.int(7, int64(lc.PID))
		q.int(8, start)
		// Not a row of this file: it holds the file's records before
		// this one, and a record repeated in one file is two sessions,
		// however the file was merged (at once or as it grew).
		q.int(9, m.file.id)
		ok, err := q.step()
		if err != nil {
			return nil, err
		}
		if ok {
			id, open, tag := q.colInt(0), q.colInt(1) != 0, q.colInt(2)
			q.reset()
			if !open {
				return nil, nil
			}
			if tag == 0 && m.file.id != 0 {
				if err := m.stmts.tag.exec(m.file.id, id); err != nil {
					return nil, err
				}
			}
			// The row starts within the window of the login.
			return &pend{seq: m.seq, id: id, start: start - w}, nil
		}
		q.reset()
	}
	return &pend{seq: m.seq, lc: lc, start: start}, nil
}

// settled returns the time before which every row is as this merge will
// leave it (see [Settled]), given the earliest start among the records
// still to read and whether a shutdown may still come: the earliest of
// the sessions still open, of the boots when a shutdown may end them, and
// of those records, less [MatchWindow] for the rows the records may match.
func (m *merger) settled(ahead int64, shutdownAhead bool) int64 {
	least := ahead
	if w := MatchWindow.Microseconds(); least != math.MaxInt64 && least > math.MinInt64+w {
		least -= w
	}
	for _, p := range m.pr.lines {
		least = min(least, p.start)
	}
	for _, p := range m.pr.noLine {
		least = min(least, p.start)
	}
	if shutdownAhead {
		for _, p := range m.pr.boots {
			least = min(least, p.start)
		}
	}
	return least
}

// end ends a pending session: a row is closed, a login in memory is
// added as a closed row (unless retention pruned its time).
func (m *merger) end(p *pend, at time.Time, how End) error {
	if m.pipe != nil {
		return m.pipe.end(p, at, how)
	}
	if p.id != 0 {
		if err := m.closeRow(p.id, at, how); err != nil {
			return err
		}
		if m.keep {
			p.lc.End, p.lc.How = at, how
			m.keepRow(p.id, p.lc)
		}
		return nil
	}
	if m.pruned(at) {
		return nil
	}
	p.lc.End, p.lc.How = at, how
	return m.insert(p.lc, nil)
}

// pruned reports (and counts) a session that ended before what retention
// pruned: it is not added.
func (m *merger) pruned(at time.Time) bool {
	if m.water != 0 && us(at) < m.water {
		m.st.Skipped++
		return true
	}
	return false
}

// closeRow closes row id, when it is open, at at as how.
func (m *merger) closeRow(id int64, at time.Time, how End) error {
	q := m.stmts.close
	q.int(1, us(at))
	q.text(2, string(how))
	q.int(3, id)
	_, err := q.step()
	q.reset()
	if err != nil {
		return err
	}
	if m.c.changes() > 0 {
		m.st.Closed++
	}
	return nil
}

// insert adds a session as a row; p, when not nil, is told its row id.
// A closed session (p nil) is queued until the batch's end (see flush);
// an open one is added at once, after the queue.
func (m *merger) insert(lc Lifecycle, p *pend) error {
	if p == nil {
		m.queue = append(m.queue, lc)
		return nil
	}
	if err := m.flush(); err != nil {
		return err
	}
	id, err := m.insertOpen(lc)
	if err != nil {
		return err
	}
	p.id = id
	if !m.keep {
		p.lc = Lifecycle{} // only the row is needed now
	}
	return nil
}

// insertOpen adds a session still open as a row, and returns its id.
func (m *merger) insertOpen(lc Lifecycle) (int64, error) {
	q := m.stmts.insert
	m.bindRow(q, 0, lc)
	_, err := q.step()
	q.reset()
	if err != nil {
		return 0, err
	}
	m.lastID = m.c.lastID()
	m.st.Added++
	return m.lastID, nil
}

// flush adds the queued sessions, insertRows a statement, in the order of
// their starts (and of their ends, as they were queued, for one start):
// a listing reads the rows by start, and SQLite finds a row whose id is
// one past the last row's without a search from the table's root, which
// was a fifth of a long listing's time when the ids followed the ends.
func (m *merger) flush() error {
	if err := m.flushRows(m.queue); err != nil {
		return err
	}
	clear(m.queue)
	m.queue = m.queue[:0]
	return nil
}

// flushRows adds the sessions of queue (see flush).
func (m *merger) flushRows(queue []Lifecycle) error {
	n := len(queue)
	if n == 0 {
		return nil
	}
	order := m.order[:0]
	for i := range queue {
		order = append(order, queued{us(queue[i].Start), int32(i)})
	}
	slices.SortFunc(order, func(a, b queued) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	m.order = order
	for k := 0; k < n; {
		q, rows := m.stmts.insertN, insertRows
		if n-k < insertRows {
			q, rows = m.stmts.insert, 1
		}
		for i := range rows {
			m.bindRow(q, 10*i, queue[order[k+i].i])
		}
		_, err := q.step()
		q.reset()
		if err != nil {
			return err
		}
		// One statement's rows have the ids up to the last, in order.
		m.lastID = m.c.lastID()
		if m.keep {
			for i := range rows {
				m.keepRow(m.lastID-int64(rows-1-i), queue[order[k+i].i])
			}
		}
		k += rows
	}
	m.st.Added += n
	return nil
}

// queued is a queued session's start (µs) and place in the queue.
type queued struct {
	start int64
	i     int32
}

// bindRow binds a session to the ten parameters of insertSQL's row after
// parameter base.
func (m *merger) bindRow(q *stmt, base int, lc Lifecycle) {
	class, host, lt, hasLT := wtmpRow(lc)
	q.text(base+1, class)
	if hasLT {
		q.int(base+5, lt)
	} else {
		q.null(base + 5)
	}
	q.text(base+2, lc.User)
	q.text(base+3, lc.Line)
	q.text(base+4, host)
	q.int(base+6, int64(lc.PID))
	q.int(base+7, us(lc.Start))
	if lc.How != EndNone {
		q.int(base+8, us(lc.End))
	} else {
		q.null(base + 8)
	}
	q.text(base+9, string(lc.How))
	q.int(base+10, m.file.id)
}

// wtmpRow is what a wtmp session's row holds besides its lifecycle's own
// fields: its class, remote host and LogonType (none for a boot, which is
// no session of any class and keeps the kernel's release as its host).
func wtmpRow(lc Lifecycle) (class, host string, logonType int64, hasLogonType bool) {
	if lc.Boot {
		return "", lc.Host, 0, false
	}
	return "Linux_LogonSession", remoteHost(lc.Host), wtmpLogonType(lc), true
}

// checkpoint writes the sessions still open as open rows, records that
// the file is merged up to at, and commits.
func (m *merger) checkpoint(at int64) error {
	for _, p := range m.pr.pending() {
		if p.id == 0 {
			if err := m.insert(p.lc, p); err != nil {
				return err
			}
		}
	}
	if err := m.flush(); err != nil {
		return err
	}
	return m.finishBatch(at)
}

// finishBatch records that the file is merged up to at, and commits.
func (m *merger) finishBatch(at int64) error {
	if m.file.id != 0 {
		if err := m.stmts.fileSet.exec(at, m.file.path, m.file.id); err != nil {
			return err
		}
	}
	m.file.merged, m.synced = at, true
	return m.commit()
}

func (m *merger) commit() error {
	m.inTx = false
	if err := m.c.exec("COMMIT"); err != nil {
		return err
	}
	if m.ckpt != nil {
		m.ckpt.poke()
	}
	return nil
}

// checkpointBeside starts a [checkpointer] for a merge of more than one
// batch, and leaves the merge's own connection only a backstop. (A merge
// of one batch, such as the few records appended since the last, keeps
// SQLite's way: it seldom fills the log enough for a checkpoint at all,
// where a checkpointer would run one and fsync twice.) When the
// checkpointer's connection cannot be opened, the merge checkpoints as
// SQLite does by default.
func (m *merger) checkpointBeside() {
	cp, err := m.s.startCheckpointer()
	if err != nil {
		return
	}
	if err := m.c.exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", backstopPages)); err != nil {
		cp.stop()
		return
	}
	m.ckpt = cp
}

// close rolls back a transaction left open (a failed batch) and closes
// the merge's connection.
func (m *merger) close() {
	if m.inTx {
		m.c.exec("ROLLBACK")
		m.inTx = false
	}
	if m.ckpt != nil {
		m.ckpt.stop()
		m.ckpt = nil
	}
	for _, st := range []*stmt{m.stmts.insert, m.stmts.insertN, m.stmts.close, m.stmts.match, m.stmts.tag, m.stmts.water,
		m.stmts.fileGet, m.stmts.fileAdd, m.stmts.fileReset, m.stmts.fileUntag, m.stmts.fileSet, m.stmts.open, m.stmts.maxID, m.stmts.version} {
		if st != nil {
			st.close()
		}
	}
	m.c.close()
}
