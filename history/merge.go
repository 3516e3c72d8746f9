package history

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"io"
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
	// read are done.
	Progress func(done, total int)
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
	}
	m, err := s.newMerger(ctx, opts, file)
	if err != nil {
		return st, err
	}
	defer m.rollback()
	if err := m.sync(); err != nil {
		return st, err
	}
	st.From = m.file.merged
	if m.file.merged >= whole {
		st.Unchanged = m.file.known
		return st, m.commit()
	}
	var rd *utmp.Reader
	at := int64(-1)
	total := int((whole - st.From) / int64(l.Size))
	for {
		if at != m.file.merged {
			// First, or another process merged this file meanwhile: read
			// on from where the database says it stopped.
			at = m.file.merged
			rd = utmp.NewReader(io.NewSectionReader(f, at, whole-at), l)
		}
		n := 0
		for ; n < m.batch; n++ {
			r, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return m.st, err
			}
			if err := m.add(r); err != nil {
				return m.st, err
			}
		}
		m.st.Records += n
		at += int64(n) * int64(l.Size)
		if err := m.checkpoint(at); err != nil {
			return m.st, err
		}
		if opts.Progress != nil {
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
	m.st.From, m.st.Warning = st.From, st.Warning
	return m.st, nil
}

// MergeRecords merges wtmp records held in memory, in one batch, with
// no memory of them: each call matches them again against the rows there
// are, as [Store.MergeFile] does with a file it does not know.
func (s *Store) MergeRecords(ctx context.Context, recs []utmp.Record) (MergeStats, error) {
	m, err := s.newMerger(ctx, MergeOptions{}, wtmpFile{})
	if err != nil {
		return MergeStats{}, err
	}
	defer m.rollback()
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
	layout   string
	path     string
	size     int64 // whole records' bytes at open
	merged   int64 // bytes merged
}

// merger is one merge: a transaction per batch, the pairing of the
// records read so far, and the rows that were there when it began (the
// only ones a login is matched against: a record repeated in one file is
// two sessions, as last shows them).
type merger struct {
	s     *Store
	ctx   context.Context
	now   time.Time // what "years ahead" is counted from
	batch int
	file  wtmpFile
	// synced: the pairing holds what the file left open up to file.merged.
	synced bool
	tx     *sql.Tx
	stmts  struct{ insert, close, match, tag *sql.Stmt }
	pr     pairing
	seq    int
	water  int64 // retention's watermark
	// The rows before the merge: ids up to maxID, starts in
	// [minStart, maxStart]; none when maxID is 0.
	maxID              int64
	minStart, maxStart int64
	st                 MergeStats
	queue              []queued // rows to add
	args               []any
}

func (s *Store) newMerger(ctx context.Context, opts MergeOptions, file wtmpFile) (*merger, error) {
	m := &merger{s: s, ctx: ctx, batch: opts.Batch, file: file, now: time.Now()}
	if m.batch <= 0 {
		m.batch = DefaultBatch
	}
	m.pr.login, m.pr.end = m.login, m.end
	m.pr.boot = func(r utmp.Record) (*pend, error) { return m.pending(bootOf(r)) }
	var maxID, minStart, maxStart sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(id), min(start_us), max(start_us) FROM sessions`).Scan(&maxID, &minStart, &maxStart); err != nil {
		return nil, dbError(s.path, err)
	}
	m.maxID, m.minStart, m.maxStart = maxID.Int64, minStart.Int64, maxStart.Int64
	return m, nil
}

// sync begins a batch's transaction and takes up the file where the
// database says its merge stopped (another process may have merged it
// meanwhile): with the sessions left open there.
func (m *merger) sync() error {
	tx, err := m.s.db.BeginTx(m.ctx, nil)
	if err != nil {
		return dbError(m.s.path, err)
	}
	m.tx = tx
	if m.water, err = m.s.meta(m.ctx, tx, "pruned_before_us"); err != nil {
		return err
	}
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&m.stmts.insert, insertSQL(insertBatch)},
		{&m.stmts.close, `UPDATE sessions SET end_us = ?, how = ? WHERE id = ? AND end_us IS NULL`},
		{&m.stmts.match, `SELECT id, end_us IS NULL, wtmp_file FROM sessions
			WHERE tty = ? AND user = ? AND start_us BETWEEN ? AND ? AND id <= ?
			AND (start_us = ? OR (source <> 'wtmp' AND pid = ? AND pid <> 0))
			ORDER BY abs(start_us - ?), id LIMIT 1`},
		{&m.stmts.tag, `UPDATE sessions SET wtmp_file = ? WHERE id = ? AND wtmp_file = 0`},
	} {
		if *p.st, err = tx.PrepareContext(m.ctx, p.q); err != nil {
			return dbError(m.s.path, err)
		}
	}
	if !m.file.known {
		return nil
	}
	var id, head, merged int64
	var layout string
	err = tx.QueryRowContext(m.ctx, `SELECT id, head, merged, layout FROM wtmp_files WHERE dev = ? AND ino = ?`, m.file.dev, m.file.ino).
		Scan(&id, &head, &merged, &layout)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(m.ctx, `INSERT INTO wtmp_files(dev, ino, head, merged, layout, path) VALUES(?, ?, ?, 0, ?, ?)`,
			m.file.dev, m.file.ino, m.file.head, m.file.layout, m.file.path)
		if err != nil {
			return dbError(m.s.path, err)
		}
		m.file.id, _ = res.LastInsertId()
		m.file.merged = 0
		return nil
	case err != nil:
		return dbError(m.s.path, err)
	}
	m.file.id = id
	if head != m.file.head || layout != m.file.layout || merged > m.file.size {
		// Another file on the same inode (or read another way): what was
		// merged of the old one stays; its open sessions are no longer
		// this file's to close.
		if _, err := tx.ExecContext(m.ctx, `UPDATE sessions SET wtmp_file = 0 WHERE wtmp_file = ?`, id); err != nil {
			return dbError(m.s.path, err)
		}
		if _, err := tx.ExecContext(m.ctx, `UPDATE wtmp_files SET head = ?, merged = 0, layout = ?, path = ? WHERE id = ?`,
			m.file.head, m.file.layout, m.file.path, id); err != nil {
			return dbError(m.s.path, err)
		}
		merged = 0
	}
	if m.synced && merged == m.file.merged {
		return nil // where this merge stopped: its pairing is up to date
	}
	// Take up the sessions this file left open where the merge stopped.
	m.file.merged = merged
	m.pr.lines, m.pr.noLine = nil, nil
	m.pr.boots = nil
	rows, err := tx.QueryContext(m.ctx, `SELECT id, tty, class FROM sessions WHERE wtmp_file = ? AND end_us IS NULL ORDER BY start_us, id`, id)
	if err != nil {
		return dbError(m.s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid int64
		var tty, class string
		if err := rows.Scan(&rid, &tty, &class); err != nil {
			return dbError(m.s.path, err)
		}
		m.seq++
		p := &pend{seq: m.seq, id: rid}
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
	if err := rows.Err(); err != nil {
		return dbError(m.s.path, err)
	}
	m.synced = true
	return nil
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
		var id, tag int64
		var open bool
		err := m.stmts.match.QueryRowContext(m.ctx, lc.Line, lc.User, start-w, start+w, m.maxID, start, lc.PID, start).Scan(&id, &open, &tag)
		switch {
		case err == nil:
			if !open {
				return nil, nil
			}
			if tag == 0 && m.file.id != 0 {
				if _, err := m.stmts.tag.ExecContext(m.ctx, m.file.id, id); err != nil {
					return nil, dbError(m.s.path, err)
				}
			}
			return &pend{seq: m.seq, id: id}, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, dbError(m.s.path, err)
		}
	}
	return &pend{seq: m.seq, lc: lc}, nil
}

// end ends a pending session: a row is closed, a login in memory is
// added as a closed row (unless retention pruned its time).
func (m *merger) end(p *pend, at time.Time, how End) error {
	if p.id != 0 {
		res, err := m.stmts.close.ExecContext(m.ctx, us(at), string(how), p.id)
		if err != nil {
			return dbError(m.s.path, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			m.st.Closed++
		}
		return nil
	}
	if m.water != 0 && us(at) < m.water {
		m.st.Skipped++
		return nil
	}
	p.lc.End, p.lc.How = at, how
	return m.insert(p.lc, nil)
}

// insert queues a session to be added; p, when not nil, is told its row
// id once it is. Rows are added insertBatch at a time, by one statement.
func (m *merger) insert(lc Lifecycle, p *pend) error {
	m.queue = append(m.queue, queued{lc, p})
	if len(m.queue) < insertBatch {
		return nil
	}
	return m.flush()
}

// insertBatch is how many rows one INSERT adds.
const insertBatch = 64

type queued struct {
	lc Lifecycle
	p  *pend
}

const insertRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, 'wtmp', ?)`

func insertSQL(n int) string {
	return `INSERT INTO sessions(class, user, tty, remote_host, logon_type, pid, start_us, end_us, how, source, wtmp_file) VALUES ` +
		strings.TrimSuffix(strings.Repeat(insertRow+",", n), ",")
}

// flush adds the queued rows.
func (m *merger) flush() error {
	n := len(m.queue)
	if n == 0 {
		return nil
	}
	args := m.args[:0]
	for _, q := range m.queue {
		lc := q.lc
		var end any
		if lc.How != EndNone {
			end = us(lc.End)
		}
		class, lt := "Linux_LogonSession", any(wtmpLogonType(lc))
		if lc.Boot {
			class, lt = "", nil // a boot is no session of any class
		}
		host := lc.Host
		if !lc.Boot {
			host = remoteHost(host)
		}
		args = append(args, class, lc.User, lc.Line, host, lt, lc.PID, us(lc.Start), end, string(lc.How), m.file.id)
	}
	m.args = args
	var res sql.Result
	var err error
	if n == insertBatch {
		res, err = m.stmts.insert.ExecContext(m.ctx, args...)
	} else {
		res, err = m.tx.ExecContext(m.ctx, insertSQL(n), args...)
	}
	if err != nil {
		return dbError(m.s.path, err)
	}
	// One statement adds its rows with consecutive ids, the last one's
	// last.
	last, err := res.LastInsertId()
	if err != nil {
		return dbError(m.s.path, err)
	}
	for i, q := range m.queue {
		if q.p != nil {
			q.p.id = last - int64(n-1-i)
			q.p.lc = Lifecycle{}
		}
	}
	m.st.Added += n
	clear(m.queue)
	m.queue = m.queue[:0]
	return nil
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
	if m.file.id != 0 {
		if _, err := m.tx.ExecContext(m.ctx, `UPDATE wtmp_files SET merged = ?, path = ? WHERE id = ?`, at, m.file.path, m.file.id); err != nil {
			return dbError(m.s.path, err)
		}
	}
	m.file.merged, m.synced = at, true
	return m.commit()
}

func (m *merger) commit() error {
	tx := m.tx
	m.tx = nil
	if err := tx.Commit(); err != nil {
		return dbError(m.s.path, err)
	}
	return nil
}

func (m *merger) rollback() {
	if m.tx != nil {
		m.tx.Rollback()
		m.tx = nil
	}
}
