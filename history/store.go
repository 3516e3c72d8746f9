package history

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
)

// DefaultPath is where the history database lives unless --db says else.
const DefaultPath = "/var/lib/cimsess/history.db"

// Where a session row came from.
const (
	SourceWtmp = "wtmp" // backfilled from wtmp, never seen live
	SourceLive = "live" // seen live by the recorder (perhaps also in wtmp)
)

// MatchWindow is how far apart the start times of a wtmp login and a
// session seen live may be and still be the same session, given the same
// terminal, user and leader pid.
const MatchWindow = 2 * time.Second

// Session is one session lifecycle as the history holds it.
type Session struct {
	ID         int64     // row id
	Class      string    // CIM class, such as Linux_LogonSession
	LogonID    string    // LogonId (or the relative path's keys for other classes); "" when only wtmp knew it
	Path       string    // canonical object path when seen live
	User       string    // user name
	TTY        string    // terminal line, "" for none
	RemoteHost string    // remote host, "" for a local session
	LogonType  *uint32   // LogonType when known
	PID        int64     // leader process id, 0 when unknown
	Start      time.Time // login
	End        time.Time // logout; zero while open
	How        End       // how it ended; EndNone while open
	Status     string    // last Status seen ("" when never seen live)
	Source     string    // SourceWtmp or SourceLive
}

// Open reports whether the session has not ended.
func (s Session) Open() bool { return s.End.IsZero() }

// StatusChange is one change of a session's Status.
type StatusChange struct {
	SessionID int64
	At        time.Time
	From, To  string
}

// migrations are applied in order; PRAGMA user_version counts how many a
// database has had. Append, never edit.
var migrations = []string{
	`CREATE TABLE sessions (
		id          INTEGER PRIMARY KEY,
		class       TEXT    NOT NULL,
		logon_id    TEXT    NOT NULL DEFAULT '',
		path        TEXT    NOT NULL DEFAULT '',
		user        TEXT    NOT NULL DEFAULT '',
		tty         TEXT    NOT NULL DEFAULT '',
		remote_host TEXT    NOT NULL DEFAULT '',
		logon_type  INTEGER,
		pid         INTEGER NOT NULL DEFAULT 0,
		start_us    INTEGER NOT NULL,
		end_us      INTEGER,
		how         TEXT    NOT NULL DEFAULT '',
		status      TEXT    NOT NULL DEFAULT '',
		source      TEXT    NOT NULL
	);
	CREATE INDEX sessions_tty_start ON sessions(tty, start_us);
	CREATE INDEX sessions_start ON sessions(start_us);
	CREATE INDEX sessions_open ON sessions(path) WHERE end_us IS NULL;
	CREATE TABLE status_changes (
		session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
		at_us      INTEGER NOT NULL,
		old_status TEXT    NOT NULL,
		new_status TEXT    NOT NULL
	);
	CREATE INDEX status_changes_session ON status_changes(session_id);
	CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
	// 2: sessions matched by their identity (start, terminal, user)
	// through an index that also orders them, and how far each wtmp file
	// (by device and inode) was merged. Start comes first: wtmp is in time
	// order, so new rows go to the index's end, and a match is a range of
	// a few seconds of it.
	`CREATE TABLE wtmp_files (
		id     INTEGER PRIMARY KEY,
		dev    INTEGER NOT NULL,
		ino    INTEGER NOT NULL,
		head   INTEGER NOT NULL,
		merged INTEGER NOT NULL,
		layout TEXT    NOT NULL,
		path   TEXT    NOT NULL,
		UNIQUE(dev, ino)
	);
	ALTER TABLE sessions ADD COLUMN wtmp_file INTEGER NOT NULL DEFAULT 0;
	DROP INDEX sessions_tty_start;
	DROP INDEX sessions_start;
	CREATE INDEX sessions_identity ON sessions(start_us, tty, user);
	CREATE INDEX sessions_wtmp_open ON sessions(wtmp_file) WHERE end_us IS NULL;`,
	// 3: the identity index narrows to the start alone. A match is a
	// range of a few seconds of starts, whose rows are checked for
	// terminal and user; the start and the row id alone make an index
	// entry a third of the size, which a merge writes for every session
	// (a few per cent less time for a new history), and they order the
	// listing by (start, id) with no sort.
	`DROP INDEX sessions_identity;
	CREATE INDEX sessions_start ON sessions(start_us);`,
	// 4: users, terminals and hosts that an earlier cimsess merged from
	// wtmp as their raw bytes become what prop.Clean, the rule every
	// login is read by today, makes of them (bytes that are not UTF-8
	// become U+FFFD, NULs go), so that the same login read again matches
	// its row instead of adding a second one. cimsess_clean is prop.Clean
	// (see registerClean), called only for the values in which SQLite's
	// own GLOB and instr find a byte outside printable ASCII: a call from
	// SQLite into Go costs tens of microseconds, and three for every row
	// took 40 s for a history of 500,000 sessions, where this takes 1 s.
	`UPDATE sessions SET
		user = CASE WHEN user GLOB '*[^ -~]*' OR instr(user, char(0)) THEN cimsess_clean(user) ELSE user END,
		tty = CASE WHEN tty GLOB '*[^ -~]*' OR instr(tty, char(0)) THEN cimsess_clean(tty) ELSE tty END,
		remote_host = CASE WHEN remote_host GLOB '*[^ -~]*' OR instr(remote_host, char(0)) THEN cimsess_clean(remote_host) ELSE remote_host END
	WHERE user GLOB '*[^ -~]*' OR tty GLOB '*[^ -~]*' OR remote_host GLOB '*[^ -~]*'
		OR instr(user, char(0)) OR instr(tty, char(0)) OR instr(remote_host, char(0));`,
}

// readableFrom is the oldest schema version a read-only open reads: the
// migrations after it change values (migration 4 cleans raw bytes), not
// the tables and columns a reader uses, so that a user who may only read
// the history is not refused it until the recorder, run as root, has
// opened the database after an upgrade.
const readableFrom = 3

// registerClean makes prop.Clean the SQL function cimsess_clean of the
// connections the driver opens from then on, once per process, for
// migration 4.
var registerClean = sync.OnceValue(func() error {
	return sqlite.RegisterDeterministicScalarFunction("cimsess_clean", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return prop.Clean(v), nil // copied into SQLite before the argument goes
			case []byte:
				return prop.Clean(string(v)), nil
			default:
				return v, nil // NULL, a number: nothing to clean
			}
		})
})

// Store is an open history database. It is safe for concurrent use, also
// by several processes (SQLite's WAL mode and a busy timeout).
type Store struct {
	db   *sql.DB
	path string
	// How it was opened, for its own connections (see openConn).
	readOnly, immutable bool
}

// Options configures Open.
type Options struct {
	// ReadOnly opens an existing database without writing to it.
	ReadOnly bool
}

// Open opens (creating it and its folder when missing, unless ReadOnly)
// the history database at path and brings its schema up to date. Errors
// are one-line [*cim.Error]s: CIM_ERR_ACCESS_DENIED when the file or its
// folder may not be written, CIM_ERR_NOT_FOUND for a read-only open of a
// missing file, CIM_ERR_FAILED for a file that is not a history database.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		path = DefaultPath
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fsError(path, err)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		code := cim.ErrFailed
		if errors.Is(err, fs.ErrPermission) {
			code = cim.ErrAccessDenied
		}
		return nil, cim.Errorf(code, "history database %s: cannot create its folder: %s", path, prop.OneLine(err.Error()))
	}
	if !opts.ReadOnly {
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	}
	s, err := open(ctx, path, opts.ReadOnly, false)
	// Two processes that create a database at once both try to turn it to
	// WAL mode, and SQLite answers one of them SQLITE_BUSY at once, without
	// waiting out the busy timeout: try again, for a bounded time.
	for try := 0; err != nil && isBusy(err) && try < 100; try++ {
		select {
		case <-ctx.Done():
			return nil, dbError(path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		s, err = open(ctx, path, opts.ReadOnly, false)
	}
	if err != nil && opts.ReadOnly {
		// A WAL database whose -shm file is missing cannot be read by one
		// who may not create it; with no writer about, it is immutable.
		if s2, err2 := open(ctx, path, true, true); err2 == nil {
			return s2, nil
		}
	}
	return s, err
}

func open(ctx context.Context, path string, readOnly, immutable bool) (*Store, error) {
	if err := registerClean(); err != nil {
		return nil, dbError(path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	// A bounded page cache (16 MiB) that holds the pages a merge touches.
	q.Add("_pragma", "cache_size(-16384)")
	if readOnly {
		q.Add("mode", "ro")
		if immutable {
			q.Add("immutable", "1")
		}
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, dbError(path, err)
	}
	s := &Store{db: db, path: path, readOnly: readOnly, immutable: immutable}
	if err := s.migrate(ctx, readOnly); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, readOnly bool) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return dbError(s.path, err)
	}
	if v == 0 && readOnly {
		if err := s.notOurs(ctx, s.db); err != nil {
			return err
		}
	}
	if v > len(migrations) {
		return cim.Errorf(cim.ErrNotSupported, "history database %s: schema version %d is newer than this cimsess knows (%d)", s.path, v, len(migrations))
	}
	if v == len(migrations) {
		return nil
	}
	if readOnly {
		if v >= readableFrom {
			return nil // what is left to do changes values, not how they are read
		}
		return cim.Errorf(cim.ErrFailed, "history database %s: schema version %d needs upgrading to %d; open it writable once", s.path, v, len(migrations))
	}
	for v < len(migrations) {
		// Each step is an immediate transaction: another process that
		// creates or upgrades the same database at the same moment waits,
		// and the version is read again under the lock, so that a step is
		// never applied twice.
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return dbError(s.path, err)
		}
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			tx.Rollback()
			return dbError(s.path, err)
		}
		if v >= len(migrations) {
			tx.Rollback()
			break
		}
		if v == 0 {
			if err := s.notOurs(ctx, tx); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return dbError(s.path, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return dbError(s.path, err)
		}
		if err := tx.Commit(); err != nil {
			return dbError(s.path, err)
		}
		v++
	}
	return nil
}

// createPrivate creates a new database file readable by its owner alone
// (SQLite gives its -wal and -shm files the same mode), and refuses a path
// that is a symbolic link, as O_NOFOLLOW would: one planted where the
// history is to be created must not make cimsess write through it.
func createPrivate(path string) error {
	fi, err := os.Lstat(path)
	if err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return cim.Errorf(cim.ErrAccessDenied, "history database %s: is a symbolic link; cimsess does not follow one to a file it writes", path)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fsError(path, err)
	}
	// O_EXCL: never through a link another process planted meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return createPrivate(path) // another process made it: look again
	}
	if err != nil {
		return fsError(path, err)
	}
	return f.Close()
}

// isBusy reports whether err is dbError's "locked by another process".
func isBusy(err error) bool {
	return strings.Contains(err.Error(), "locked by another process")
}

// notOurs fails for a database of version 0 that holds tables: a file
// SQLite reads but that is not a history database. Asked under the
// migration's lock, so that a history another process has just created is
// not taken for one.
func (s *Store) notOurs(ctx context.Context, q queryer) error {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return dbError(s.path, err)
	}
	if n > 0 {
		return cim.Errorf(cim.ErrFailed, "history database %s: not a cimsess history database (it holds other tables)", s.path)
	}
	return nil
}

// fsError turns a file-system error into a one-line *cim.Error.
func fsError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return cim.Errorf(cim.ErrAccessDenied, "history database %s: permission denied", path)
	case errors.Is(err, fs.ErrNotExist):
		return cim.Errorf(cim.ErrNotFound, "history database %s: no such file", path)
	}
	return cim.Errorf(cim.ErrFailed, "history database %s: %s", path, prop.OneLine(err.Error()))
}

// dbError turns a database error into a one-line *cim.Error.
func dbError(path string, err error) error {
	var ce *cim.Error
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return cim.Errorf(cim.ErrFailed, "history database %s: %v", path, err)
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "not a database"), strings.Contains(low, "malformed"), strings.Contains(low, "corrupt"):
		return cim.Errorf(cim.ErrFailed, "history database %s: not a valid SQLite database (corrupt or another kind of file); move it away to start a new history", path)
	case strings.Contains(low, "readonly"), strings.Contains(low, "read-only"), strings.Contains(low, "permission denied"),
		strings.Contains(low, "unable to open"):
		return cim.Errorf(cim.ErrAccessDenied, "history database %s: cannot open it for writing (%s)", path, prop.OneLine(msg))
	case strings.Contains(low, "database is locked"), strings.Contains(low, "busy"):
		return cim.Errorf(cim.ErrFailed, "history database %s: locked by another process for too long", path)
	}
	return cim.Errorf(cim.ErrFailed, "history database %s: %s", path, prop.OneLine(msg))
}

// us converts a time to the stored microseconds; the zero Time is 1970,
// as a zero ut_tv is.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time { return time.UnixMicro(v) }

const sessionCols = `id, class, logon_id, path, user, tty, remote_host, logon_type, pid, start_us, end_us, how, status, source`

// numSessionCols is how many columns sessionCols names.
const numSessionCols = 14

type scanner interface{ Scan(dest ...any) error }

func scanSession(r scanner) (Session, error) {
	var s Session
	var lt, end sql.NullInt64
	var start int64
	var how string
	if err := r.Scan(&s.ID, &s.Class, &s.LogonID, &s.Path, &s.User, &s.TTY, &s.RemoteHost, &lt, &s.PID, &start, &end, &how, &s.Status, &s.Source); err != nil {
		return s, err
	}
	if lt.Valid {
		v := uint32(lt.Int64)
		s.LogonType = &v
	}
	if start != 0 {
		s.Start = fromUS(start) // 0: no time (a zero tv_sec), not 1970
	}
	if end.Valid {
		s.End = fromUS(end.Int64)
	}
	s.How = End(how)
	return s, nil
}

// fleetKey marks in the meta table a database that collect writes: the
// fleet's sessions, each path naming its host.
const fleetKey = "fleet"

// MarkFleet marks the database as a fleet's, which collect writes: no
// host's own wtmp or live sessions go into it (see Fleet).
func (s *Store) MarkFleet(ctx context.Context) error {
	if err := setMeta(ctx, s.db, fleetKey, 1); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

// Fleet reports whether the database is a fleet's (MarkFleet): history
// reads it without merging this host's wtmp in, and record and serve
// refuse to write this host's sessions into it, which would be taken for
// the fleet's.
func (s *Store) Fleet(ctx context.Context) (bool, error) {
	v, err := s.meta(ctx, s.db, fleetKey)
	return v == 1, err
}

// meta reads one number of the meta table; 0 when unset.
func (s *Store) meta(ctx context.Context, q queryer, key string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, dbError(s.path, err)
	}
	return v, nil
}

func setMeta(ctx context.Context, q queryer, key string, v int64) error {
	_, err := q.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, v)
	return err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// findMatch returns the row of the same session as a login on tty by user
// at start with leader pid, or sql.ErrNoRows. The same session has the
// same start to the microsecond (the Linux provider takes StartTime from
// the utmp record that wtmp repeats); a row of the other origin also
// matches with the same leader pid and a start within MatchWindow (a
// session seen before its utmp record). Quick logins on one line stay
// apart.
func findMatch(ctx context.Context, q queryer, tty, user string, start time.Time, pid int64, source string) (Session, error) {
	st := us(start)
	w := MatchWindow.Microseconds()
	// A range of the index on start_us: the cost does not
	// grow with the rows of the terminal or the database.
	row := q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE tty = ? AND user = ? AND start_us BETWEEN ? AND ? AND (start_us = ? OR (source <> ? AND pid = ? AND pid <> 0))
		ORDER BY abs(start_us - ?), id LIMIT 1`, tty, user, st-w, st+w, st, source, pid, st)
	return scanSession(row)
}

// remoteHost is the RemoteHost of a login's ut_host by the Linux
// provider's rule, so that enum and history agree: an X display (":0",
// ":1.0") is a local screen, not a remote host, and leaves it empty.
func remoteHost(host string) string {
	if strings.HasPrefix(host, ":") {
		return ""
	}
	return host
}

// wtmpLogonType is the LogonType of a wtmp login, by the Linux
// provider's rule: a terminal and a remote host is RemoteInteractive
// (10), a terminal alone (or an X display such as ":0") Interactive (2).
func wtmpLogonType(lc Lifecycle) int64 {
	if remoteHost(lc.Host) != "" {
		return 10
	}
	return 2
}

// Begin records a session seen live and returns its row id. A row of the
// same session (same terminal and user, start within [MatchWindow]) that
// wtmp or an earlier run put there is taken over rather than duplicated;
// a still open row with the same path and start is returned as it is.
func (s *Store) Begin(ctx context.Context, sess Session) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError(s.path, err)
	}
	defer tx.Rollback()
	id, err := s.begin(ctx, tx, sess)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, dbError(s.path, err)
	}
	return id, nil
}

func (s *Store) begin(ctx context.Context, tx *sql.Tx, sess Session) (int64, error) {
	var lt any
	if sess.LogonType != nil {
		lt = int64(*sess.LogonType)
	}
	// The same live session again (a restart that finds it still there).
	if sess.Path != "" {
		row := tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE path = ? AND end_us IS NULL ORDER BY id DESC LIMIT 1`, sess.Path)
		if old, err := scanSession(row); err == nil {
			return old.ID, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, dbError(s.path, err)
		}
	}
	if sess.TTY != "" {
		old, err := findMatch(ctx, tx, sess.TTY, sess.User, sess.Start, sess.PID, SourceLive)
		if err == nil && old.Path == "" && old.Open() {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET class = ?, logon_id = ?, path = ?, remote_host = ?, logon_type = ?,
				pid = ?, status = ?, source = ? WHERE id = ?`,
				sess.Class, sess.LogonID, sess.Path, sess.RemoteHost, lt, sess.PID, sess.Status, SourceLive, old.ID)
			if err != nil {
				return 0, dbError(s.path, err)
			}
			return old.ID, nil
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, dbError(s.path, err)
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO sessions(class, logon_id, path, user, tty, remote_host, logon_type, pid, start_us, status, source)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.Class, sess.LogonID, sess.Path, sess.User, sess.TTY, sess.RemoteHost, lt, sess.PID, us(sess.Start), sess.Status, SourceLive)
	if err != nil {
		return 0, dbError(s.path, err)
	}
	return res.LastInsertId()
}

// Update fills in what a session row says of an open session seen live
// (user, terminal, remote host, LogonType, leader, start), for a session
// whose sources filled in as it came up: a login is often seen through
// /proc a moment before its utmp record names its terminal. It never
// erases: a field the new state leaves empty keeps what the row knew, as
// at logout, when the utmp record goes a moment before the session's last
// processes. The start moves only to a start read with the terminal's
// record (utmp's, to the microsecond) or while the row names no terminal,
// so a process-derived start (to the second) never replaces utmp's.
// Status has its own history: see SetStatus.
func (s *Store) Update(ctx context.Context, id int64, sess Session) error {
	var lt any
	if sess.LogonType != nil {
		lt = int64(*sess.LogonType)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET
		user = COALESCE(NULLIF(?1, ''), user),
		start_us = CASE WHEN ?2 != '' OR tty = '' THEN ?3 ELSE start_us END,
		tty = COALESCE(NULLIF(?2, ''), tty),
		remote_host = COALESCE(NULLIF(?4, ''), remote_host),
		logon_type = COALESCE(?5, logon_type),
		pid = COALESCE(NULLIF(?6, 0), pid)
		WHERE id = ?7 AND end_us IS NULL`, sess.User, sess.TTY, us(sess.Start), sess.RemoteHost, lt, sess.PID, id); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

// Finish closes an open session row at end, ended as how. A row that is
// already closed keeps its end.
func (s *Store) Finish(ctx context.Context, id int64, end time.Time, how End) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET end_us = ?, how = ? WHERE id = ? AND end_us IS NULL`,
		us(end), string(how), id); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

// SetStatus records that the session's Status became status at at; no
// change is recorded when it already had that Status.
func (s *Store) SetStatus(ctx context.Context, id int64, at time.Time, status string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(s.path, err)
	}
	defer tx.Rollback()
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM sessions WHERE id = ?`, id).Scan(&old); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return cim.Errorf(cim.ErrNotFound, "history: no session row %d", id)
		}
		return dbError(s.path, err)
	}
	if old == status {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET status = ? WHERE id = ?`, status, id); err != nil {
		return dbError(s.path, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO status_changes(session_id, at_us, old_status, new_status) VALUES(?, ?, ?, ?)`,
		id, us(at), old, status); err != nil {
		return dbError(s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

// StatusChanges returns the Status changes of one session, oldest first.
func (s *Store) StatusChanges(ctx context.Context, id int64) ([]StatusChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id, at_us, old_status, new_status FROM status_changes WHERE session_id = ? ORDER BY at_us, rowid`, id)
	if err != nil {
		return nil, dbError(s.path, err)
	}
	defer rows.Close()
	var out []StatusChange
	for rows.Next() {
		var c StatusChange
		var at int64
		if err := rows.Scan(&c.SessionID, &at, &c.From, &c.To); err != nil {
			return nil, dbError(s.path, err)
		}
		c.At = fromUS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(s.path, err)
	}
	return out, nil
}

// Filter selects sessions. Zero fields select everything.
type Filter struct {
	// Since and Until select sessions that were open at some time in
	// [Since, Until]: started no later than Until, ended (if they have)
	// no earlier than Since.
	Since, Until time.Time
	User         string   // exact user name
	Classes      []string // any of these classes (case-insensitive)
	OpenOnly     bool     // only sessions not ended
}

// selects reports whether the filter selects s, as EachSettled's query
// does: by the values the row holds.
func (f *Filter) selects(s *Session) bool {
	if !f.Since.IsZero() && !s.End.IsZero() && us(s.End) < us(f.Since) {
		return false
	}
	if !f.Until.IsZero() && us(s.Start) > us(f.Until) {
		return false
	}
	if f.User != "" && s.User != f.User {
		return false
	}
	if len(f.Classes) > 0 && !slices.ContainsFunc(f.Classes, func(c string) bool { return lowerIs(s.Class, strings.ToLower(c)) }) {
		return false
	}
	return !f.OpenOnly || s.End.IsZero()
}

// lowerIs reports whether SQLite's lower() of s, which lowers ASCII
// letters only, is lower.
func lowerIs(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Sessions returns the sessions the filter selects, by start time.
func (s *Store) Sessions(ctx context.Context, f Filter) ([]Session, error) {
	var out []Session
	err := s.EachSession(ctx, f, func(sess Session) error {
		out = append(out, sess)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachSession calls fn with each session the filter selects, by start
// time, as it reads them (through the index on the start), so that
// memory does not grow with their number. It stops at the first error fn
// returns and returns it.
func (s *Store) EachSession(ctx context.Context, f Filter, fn func(Session) error) error {
	return s.EachSettled(ctx, f, nil, fn)
}

// EachSettled is [Store.EachSession] beside a merge into the same history
// that moves settled on (see [MergeOptions.Settled]): it lists the
// sessions that start before settled's time as soon as the merge has
// committed them, then waits for the time to move on, until the merge has
// finished; so the oldest sessions of a long wtmp are out while the merge
// still writes the newer ones, and the listing's reading and formatting
// take the other core. The sessions and their order are those
// EachSession would list after the merge. A merge that fails ends the
// listing with its error, after the sessions settled until then. With
// settled nil, EachSettled is EachSession.
//
// Each stretch of time is read in a read transaction of its own, so
// another process's writes meanwhile (a recorder's) show in the stretches
// read after them: as in a listing started a moment later. Beside a merge
// into an empty history, the stretches come from the rows the merge
// handed over (see [Settled]) until it stops keeping them.
func (s *Store) EachSettled(ctx context.Context, f Filter, settled *Settled, fn func(Session) error) error {
	where := []string{"start_us >= ?", "start_us <= ?"}
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "(end_us IS NULL OR end_us >= ?)")
		args = append(args, us(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "start_us <= ?")
		args = append(args, us(f.Until))
	}
	if f.User != "" {
		where = append(where, "user = ?")
		args = append(args, f.User)
	}
	if len(f.Classes) > 0 {
		ph := make([]string, len(f.Classes))
		for i, c := range f.Classes {
			ph[i] = "?"
			args = append(args, strings.ToLower(c))
		}
		where = append(where, "lower(class) IN ("+strings.Join(ph, ",")+")")
	}
	if f.OpenOnly {
		where = append(where, "end_us IS NULL")
	}
	q := "SELECT " + sessionCols + " FROM sessions WHERE " + strings.Join(append(where, "1"), " AND ")
	// A connection of its own (see conn): the rows are read in place, each
	// string made once (and a repeated one, such as a user or a terminal,
	// not again), not through database/sql's conversions.
	c, err := s.openConn()
	if err != nil {
		return err
	}
	defer c.close()
	// In the order of the index on start_us, whose entries end in the
	// row id: SQLite reads (start_us, id) order with no sort of its own.
	st, err := c.prepare(q + " ORDER BY start_us, id")
	if err != nil {
		return err
	}
	defer st.close()
	st.bind(append([]any{int64(0), int64(0)}, args...)...)
	var strs interner
	var kept []keptRow
	var keys []rowKey
	taking := settled != nil && settled.claim()
	n := 0
	for lo := int64(math.MinInt64); ; {
		hi, done := int64(math.MaxInt64), true
		if settled != nil {
			before, end, err := settled.wait(ctx, lo)
			if err != nil {
				return err
			}
			if !end {
				hi, done = before-1, false
			}
		}
		if taking {
			// The rows of a merge into an empty history, when it kept
			// them: no need to read them back.
			var ok bool
			if kept, keys, ok = settled.take(hi, kept[:0], keys[:0]); !ok {
				taking, kept, keys = false, nil, nil
			} else {
				for _, k := range keys {
					if n++; n%1024 == 0 {
						if err := ctx.Err(); err != nil {
							return dbError(s.path, err)
						}
					}
					if sess := kept[k.i].session(); f.selects(&sess) {
						if err := fn(sess); err != nil {
							return err
						}
					}
				}
				clear(kept)
				if done {
					return nil
				}
				lo = hi + 1
				continue
			}
		}
		st.int(1, lo)
		st.int(2, hi)
		for {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					st.reset()
					return dbError(s.path, err)
				}
			}
			ok, err := st.step()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := fn(strs.session(st)); err != nil {
				st.reset()
				return err
			}
		}
		st.reset() // ends the stretch's read transaction
		if done {
			return nil
		}
		lo = hi + 1
	}
}

// interner makes each distinct string of a listing once (up to a bound);
// a column whose value repeats the last row's (the class, the source and
// how sessions ended mostly do) costs a comparison, not a look-up, and a
// column whose values the look-up mostly does not find (a remote host per
// session, as on a server many addresses reach) is no longer looked up
// once internMisses of its first internTries look-ups have missed.
type interner struct {
	seen          map[string]string
	last          [numSessionCols]string // by column
	tries, misses [numSessionCols]int32
}

// internTries and internMisses: see interner.
const (
	internTries  = 1024
	internMisses = internTries / 2
)

// str returns b, column col of a row, as a string.
func (in *interner) str(col int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v := in.last[col]; v == string(b) {
		return v
	}
	if in.misses[col] >= internMisses {
		v := string(b)
		in.last[col] = v
		return v
	}
	v, ok := in.seen[string(b)]
	if in.tries[col] < internTries {
		in.tries[col]++
		if !ok {
			in.misses[col]++
		}
	}
	if !ok {
		v = string(b)
		if in.seen == nil {
			in.seen = map[string]string{}
		}
		if len(in.seen) < 4096 {
			in.seen[v] = v
		}
	}
	in.last[col] = v
	return v
}

// session is the row of st, a SELECT of sessionCols, as a Session.
func (in *interner) session(st *stmt) Session {
	s := Session{
		ID:         st.colInt(0),
		Class:      in.str(1, st.colBytes(1)),
		LogonID:    string(st.colBytes(2)), // one per session: not kept
		Path:       string(st.colBytes(3)),
		User:       in.str(4, st.colBytes(4)),
		TTY:        in.str(5, st.colBytes(5)),
		RemoteHost: in.str(6, st.colBytes(6)),
		PID:        st.colInt(8),
		How:        End(in.str(11, st.colBytes(11))),
		Status:     in.str(12, st.colBytes(12)),
		Source:     in.str(13, st.colBytes(13)),
	}
	if !st.isNull(7) {
		v := uint32(st.colInt(7))
		s.LogonType = &v
	}
	if start := st.colInt(9); start != 0 {
		s.Start = fromUS(start) // 0: no time (a zero tv_sec), not 1970
	}
	if !st.isNull(10) {
		s.End = fromUS(st.colInt(10))
	}
	return s
}

// Prune applies retention: it deletes sessions that ended before now-keep
// (when keep > 0), then the oldest ended sessions beyond maxRows rows
// (when maxRows > 0), and remembers the newest end it deleted so that a
// later Backfill does not bring them back from wtmp. It returns how many
// rows it deleted. Open sessions are never pruned.
func (s *Store) Prune(ctx context.Context, now time.Time, keep time.Duration, maxRows int) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbError(s.path, err)
	}
	defer tx.Rollback()
	water, err := s.meta(ctx, tx, "pruned_before_us")
	if err != nil {
		return 0, err
	}
	total := 0
	if keep > 0 {
		cut := us(now.Add(-keep))
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE end_us IS NOT NULL AND end_us < ?`, cut)
		if err != nil {
			return 0, dbError(s.path, err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		if n > 0 && cut > water {
			water = cut
		}
	}
	if maxRows > 0 {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&count); err != nil {
			return 0, dbError(s.path, err)
		}
		if extra := count - maxRows; extra > 0 {
			var maxEnd sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT max(end_us) FROM (SELECT end_us FROM sessions WHERE end_us IS NOT NULL ORDER BY end_us, id LIMIT ?)`, extra).Scan(&maxEnd); err != nil {
				return 0, dbError(s.path, err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE end_us IS NOT NULL ORDER BY end_us, id LIMIT ?)`, extra)
			if err != nil {
				return 0, dbError(s.path, err)
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if maxEnd.Valid && maxEnd.Int64+1 > water {
				water = maxEnd.Int64 + 1
			}
		}
	}
	if err := setMeta(ctx, tx, "pruned_before_us", water); err != nil {
		return 0, dbError(s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, dbError(s.path, err)
	}
	return total, nil
}

// Heartbeat records that the recorder was running at t.
func (s *Store) Heartbeat(ctx context.Context, t time.Time) error {
	if err := setMeta(ctx, s.db, "heartbeat_us", us(t)); err != nil {
		return dbError(s.path, err)
	}
	return nil
}

// LastHeartbeat returns the last time a recorder said it was running, or
// the zero Time.
func (s *Store) LastHeartbeat(ctx context.Context) (time.Time, error) {
	v, err := s.meta(ctx, s.db, "heartbeat_us")
	if err != nil || v == 0 {
		return time.Time{}, err
	}
	return fromUS(v), nil
}
