package history

import (
	"errors"
	"fmt"
	"net/url"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// conn is an SQLite connection of its own, outside database/sql, for the
// two paths whose cost grows with the file or the database: a wtmp merge
// ([Store.MergeFile]) and the listing of sessions ([Store.EachSession]).
// Through database/sql, modernc.org/sqlite converts every column of every
// row to a driver.Value (a Go string allocated per text column) and takes
// the connection's mutex several times per column, as its connections are
// opened SQLITE_OPEN_FULLMUTEX; that was most of the time of a merge and
// of printing a history. A conn is opened SQLITE_OPEN_NOMUTEX, binds and
// reads columns in place, and reuses its prepared statements for a whole
// merge. It is the same database file and the same SQLite library, so
// locking, WAL and the busy timeout work between it and the Store's pool
// as between any two connections.
//
// A conn is not safe for concurrent use: it belongs to one merge or one
// listing, on one goroutine, and is closed by it.
type conn struct {
	tls  *libc.TLS
	db   uintptr
	path string // the database file, for errors
}

// static is SQLITE_STATIC: SQLite reads a bound value where it is until
// the parameter is bound again or the statement finalised.
const static = 0

// openConn opens a connection to the store's database with the settings
// of the Store's own: read-only (and immutable) as it was opened, a busy
// timeout, and synchronous=NORMAL (with WAL, a commit is durable against
// a crash of the process; only a crash of the operating system may lose
// the last commits, never corrupt the file). Its page cache is SQLite's
// default 2 MB: a merge appends and a listing reads in order, and a
// larger cache costs more than it saves, as modernc.org/memory hands each
// page beyond its first 4 MiB back to the system one by one when the
// connection closes (16 MiB took 0.24 s of a merge of 1,000,000 records).
func (s *Store) openConn() (*conn, error) {
	c := &conn{tls: libc.NewTLS(), path: s.path}
	q := url.Values{}
	flags := int32(sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI)
	if s.readOnly {
		q.Add("mode", "ro")
		if s.immutable {
			q.Add("immutable", "1")
		}
		flags |= sqlite3.SQLITE_OPEN_READONLY
	} else {
		flags |= sqlite3.SQLITE_OPEN_READWRITE
	}
	uri := "file:" + (&url.URL{Path: s.path}).EscapedPath()
	if len(q) > 0 {
		uri += "?" + q.Encode()
	}
	name, err := libc.CString(uri)
	if err != nil {
		c.tls.Close()
		return nil, dbError(s.path, err)
	}
	defer libc.Xfree(c.tls, name)
	pdb := libc.Xmalloc(c.tls, 8)
	if pdb == 0 {
		c.tls.Close()
		return nil, dbError(s.path, errors.New("out of memory"))
	}
	*(*uintptr)(cmem(pdb)) = 0
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, flags, 0)
	c.db = *(*uintptr)(cmem(pdb))
	libc.Xfree(c.tls, pdb)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, err
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, 10000)
	pragmas := "PRAGMA foreign_keys = 1; PRAGMA cache_size = -2000;"
	if !s.readOnly {
		pragmas += " PRAGMA synchronous = NORMAL;"
	}
	if err := c.exec(pragmas); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// err is the connection's last error as a one-line *cim.Error.
func (c *conn) err(rc int32) error {
	msg := "out of memory"
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	} else if p := sqlite3.Xsqlite3_errstr(c.tls, rc); p != 0 {
		msg = libc.GoString(p)
	}
	return dbError(c.path, errors.New(msg))
}

// exec runs statements that take no parameters.
func (c *conn) exec(sql string) error {
	z, err := libc.CString(sql)
	if err != nil {
		return dbError(c.path, err)
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

// changes is how many rows the last statement changed.
func (c *conn) changes() int64 { return sqlite3.Xsqlite3_changes64(c.tls, c.db) }

// lastID is the row id of the last row inserted.
func (c *conn) lastID() int64 { return sqlite3.Xsqlite3_last_insert_rowid(c.tls, c.db) }

// close closes the connection; with the last statement finalised, this
// is at once (sqlite3_close_v2 also waits for any left).
func (c *conn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// stmt is a prepared statement of a conn. Its parameters are bound by
// position from 1, its columns read by position from 0; a bind error is
// kept and reported by the next step.
type stmt struct {
	c   *conn
	p   uintptr
	err error
	// texts holds each text parameter's value in C memory of its own,
	// bound SQLITE_STATIC: SQLite reads it in place when the statement
	// runs instead of allocating a copy at every bind (a tenth of a
	// merge's CPU). A parameter's memory changes only when that parameter
	// is bound again, which replaces the binding that points at it.
	texts []cbuf
}

// cbuf is C memory of n bytes.
type cbuf struct {
	p uintptr
	n int
}

// prepare compiles one statement.
func (c *conn) prepare(sql string) (*stmt, error) {
	z, err := libc.CString(sql)
	if err != nil {
		return nil, dbError(c.path, err)
	}
	defer libc.Xfree(c.tls, z)
	pp := libc.Xmalloc(c.tls, 8)
	if pp == 0 {
		return nil, dbError(c.path, errors.New("out of memory"))
	}
	defer libc.Xfree(c.tls, pp)
	*(*uintptr)(cmem(pp)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, z, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	return &stmt{c: c, p: *(*uintptr)(cmem(pp))}, nil
}

func (st *stmt) bound(rc int32) {
	if rc != sqlite3.SQLITE_OK && st.err == nil {
		st.err = st.c.err(rc)
	}
}

// int binds an integer.
func (st *stmt) int(i int, v int64) {
	st.bound(sqlite3.Xsqlite3_bind_int64(st.c.tls, st.p, int32(i), v))
}

// null binds NULL.
func (st *stmt) null(i int) { st.bound(sqlite3.Xsqlite3_bind_null(st.c.tls, st.p, int32(i))) }

// text binds a string ("" is the empty string, not NULL).
func (st *stmt) text(i int, v string) {
	c := st.c
	if i > len(st.texts) {
		st.texts = append(st.texts, make([]cbuf, i-len(st.texts))...)
	}
	b := &st.texts[i-1]
	if b.p == 0 || len(v) > b.n {
		n := max(len(v), 2*b.n, 32)
		p := libc.Xrealloc(c.tls, b.p, libc.Tsize_t(n))
		if p == 0 {
			if st.err == nil {
				st.err = dbError(c.path, errors.New("out of memory"))
			}
			return
		}
		b.p, b.n = p, n
	}
	copy(unsafe.Slice((*byte)(cmem(b.p)), len(v)), v)
	st.bound(sqlite3.Xsqlite3_bind_text(c.tls, st.p, int32(i), b.p, int32(len(v)), static))
}

// bind binds each argument in turn from parameter 1: an int64, int,
// string or nil. For the statements run once or per batch; the hot paths
// bind by type.
func (st *stmt) bind(args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			st.int(i+1, v)
		case int:
			st.int(i+1, int64(v))
		case string:
			st.text(i+1, v)
		case nil:
			st.null(i + 1)
		default:
			if st.err == nil {
				st.err = dbError(st.c.path, fmt.Errorf("cannot bind a %T", a))
			}
		}
	}
}

// step runs the statement to its next row: true when there is one.
func (st *stmt) step() (bool, error) {
	if err := st.err; err != nil {
		st.err = nil
		sqlite3.Xsqlite3_reset(st.c.tls, st.p)
		return false, err
	}
	switch rc := sqlite3.Xsqlite3_step(st.c.tls, st.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		err := st.c.err(rc)
		sqlite3.Xsqlite3_reset(st.c.tls, st.p)
		return false, err
	}
}

// exec binds args, runs the statement to its end and resets it.
func (st *stmt) exec(args ...any) error {
	st.bind(args...)
	_, err := st.step()
	st.reset()
	return err
}

// reset makes the statement ready to run again (its bindings stay).
func (st *stmt) reset() { sqlite3.Xsqlite3_reset(st.c.tls, st.p) }

// isNull reports whether column i of the row is NULL.
func (st *stmt) isNull(i int) bool {
	return sqlite3.Xsqlite3_column_type(st.c.tls, st.p, int32(i)) == sqlite3.SQLITE_NULL
}

// colInt is column i of the row as an integer (0 for NULL).
func (st *stmt) colInt(i int) int64 { return sqlite3.Xsqlite3_column_int64(st.c.tls, st.p, int32(i)) }

// colBytes is column i of the row as text, in SQLite's memory: valid
// until the next step, reset or read of the column as another type.
func (st *stmt) colBytes(i int) []byte {
	p := sqlite3.Xsqlite3_column_text(st.c.tls, st.p, int32(i))
	n := sqlite3.Xsqlite3_column_bytes(st.c.tls, st.p, int32(i))
	if p == 0 || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cmem(p)), n)
}

// colText is column i of the row as a Go string.
func (st *stmt) colText(i int) string { return string(st.colBytes(i)) }

// close finalises the statement.
func (st *stmt) close() {
	if st.p != 0 {
		sqlite3.Xsqlite3_finalize(st.c.tls, st.p)
		st.p = 0
	}
	for _, b := range st.texts {
		if b.p != 0 {
			libc.Xfree(st.c.tls, b.p)
		}
	}
	st.texts = nil
}

// cmem is the address of memory that SQLite or modernc.org/libc allocated
// as an unsafe.Pointer. That memory is not Go's: the collector neither
// tracks nor moves it, so the address stays valid until it is freed.
func cmem(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
