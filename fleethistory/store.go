package fleethistory

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// IsURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// Options configures Open.
type Options struct {
	// PasswordFile, when set, is a file whose first line is the password,
	// so that it need not be in the URL (nor on a command line). libpq's
	// PGPASSFILE and the URL's passfile parameter work too.
	PasswordFile string
	// MaxConns bounds the connection pool; 0 is pgx's default.
	MaxConns int32
	// ReadOnly skips the migrations (the schema must be there already) and
	// makes every transaction read-only: a reader's pool, such as the
	// timeline's, writes nothing whatever its role may do.
	ReadOnly bool
	// StatementTimeout, when positive, bounds each statement (PostgreSQL's
	// statement_timeout): a reader behind a table lock gives up.
	StatementTimeout time.Duration
	// GapWait is how long numbers of an agent's events must have been
	// missing before Gaps counts them (events on their way leave gaps
	// that close); 0 is DefaultGapWait. A collector's also paces the
	// accounting it writes: give every collector of a database the same.
	GapWait time.Duration
}

// Store is an open fleet history database. It is safe for concurrent use,
// also by several processes (collectors) at once.
type Store struct {
	pool *pgxpool.Pool
	name string // the URL without its password, for messages

	// readWait, when set (a StatementTimeout was given), bounds each read
	// on this side too: a server that stops answering cannot enforce
	// its own statement_timeout.
	readWait time.Duration

	gapWait time.Duration // Options.GapWait, or its default

	mu     sync.Mutex
	months map[time.Time]bool // months whose partitions exist
}

// bounded is ctx within the store's read bound, when it has one.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.readWait <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.readWait)
}

// Open connects to the PostgreSQL database at dsn (a postgres:// URL or a
// libpq key=value string) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	name := Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "fleet history %s: %s", name, prop.OneLine(redactErr(err, dsn)))
	}
	if opts.PasswordFile != "" {
		b, err := readSmall(opts.PasswordFile)
		if err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "fleet history: password file %s: %s", opts.PasswordFile, prop.OneLine(err.Error()))
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		cfg.ConnConfig.Password = strings.TrimRight(pw, "\r")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// A database that stops answering (a partition, stuck I/O) must
	// fail the call that waits on it, not hang it: the server's own
	// statement_timeout cannot end what the server does not answer.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	if cfg.PingTimeout == 0 {
		cfg.PingTimeout = ConnectTimeout
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "cimsess"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dbError(name, err)
	}
	s := &Store{pool: pool, name: name, months: map[time.Time]bool{}, gapWait: opts.GapWait}
	if s.gapWait <= 0 {
		s.gapWait = DefaultGapWait
	}
	if opts.StatementTimeout > 0 {
		s.readWait = opts.StatementTimeout + readSlack
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, s.err(err)
	}
	if !opts.ReadOnly {
		if err := s.migrate(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

// readSmall reads a file of at most 64 KiB.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 64<<10+1)
	n, _ := f.Read(b)
	if n > 64<<10 {
		return nil, errors.New("larger than 64 KiB")
	}
	return b[:n], nil
}

func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "fleet history: %v", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "fleet history: %v", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker), goose.WithTableName("cimsess_schema_version"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "fleet history: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return cim.Errorf(cim.ErrFailed, "fleet history %s: migrating the schema: %s", s.name, prop.OneLine(err.Error()))
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	// pgx's Close waits for every connection, a ping to a database that
	// hangs included (up to a minute after its caller gave up): a
	// program stopping does not wait past closeWait for it.
	done := make(chan struct{})
	go func() {
		s.pool.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
	return nil
}

// ConnectTimeout bounds making a connection to the database and the
// health check of one taken from the pool.
const ConnectTimeout = 10 * time.Second

// readSlack is how much longer than its statement_timeout a read waits
// for a server that does not answer at all.
const readSlack = 5 * time.Second

// closeWait is how long Close waits for the pool's connections to end.
const closeWait = 2 * time.Second

// Name returns the database's URL without its password.
func (s *Store) Name() string { return s.name }

// Pool returns the connection pool, for callers that run their own
// queries (the benchmarks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Redact returns a database URL with its password replaced by "xxxxx",
// fit for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// key=value form: hide password=...
		f := strings.Fields(dsn)
		for i, kv := range f {
			if strings.HasPrefix(strings.ToLower(kv), "password=") {
				f[i] = "password=xxxxx"
			}
		}
		return strings.Join(f, " ")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactErr returns err's text with the password of dsn blanked out (a
// parse error may quote the URL).
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, e := url.Parse(dsn); e == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

func (s *Store) err(err error) error { return dbError(s.name, err) }

// IsDataError reports whether the database refused the data itself (an
// SQLSTATE of class 22, data exception: a NUL in a text; 23, a constraint;
// or 54, a program limit: a value too long for an index): trying the same
// again cannot help.
func IsDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code[:min(2, len(pe.Code))] {
	case "22", "23", "54":
		return true
	}
	return false
}

// dbError turns a database error into a one-line *cim.Error.
func dbError(name string, err error) error {
	var ce *cim.Error
	if errors.As(err, &ce) {
		return ce
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		code := cim.ErrFailed
		switch pe.Code {
		case "28000", "28P01", "42501", "25006": // 25006: a write in a read-only store's transaction
			code = cim.ErrAccessDenied
		case "3D000":
			code = cim.ErrNotFound
		}
		e := cim.Errorf(code, "fleet history %s: %s (SQLSTATE %s)", name, prop.OneLine(pe.Message), pe.Code)
		e.Err = pe // IsDataError looks at it
		return e
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return cim.Errorf(cim.ErrNotFound, "fleet history %s: no such row", name)
	}
	return cim.Errorf(cim.ErrFailed, "fleet history %s: %s", name, prop.OneLine(err.Error()))
}
