package fleethistory

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/history"
)

// Filter selects sessions. Zero fields select everything.
type Filter struct {
	// Host is a host name or a glob of them ('*' any run of characters,
	// '?' one); host names are compared in lower case.
	Host string
	// User is an exact user name.
	User string
	// From is where the session came from: an IP address, a CIDR prefix
	// (10.0.0.0/8), or a remote host name (a glob, in lower case).
	From string
	// Since and Until select sessions that were open at some time in
	// [Since, Until].
	Since, Until time.Time
	// At selects sessions open at that instant: started by At and not
	// ended by it.
	At time.Time
	// Classes selects any of these classes (case-insensitive).
	Classes []string
	// OpenOnly selects sessions not ended.
	OpenOnly bool
	// Limit bounds the rows returned; 0 is no bound.
	Limit int
}

const sessionCols = `host, class, logon_id, start_at, path, user_name, uid, logon_type, tty, remote_host,
	host(remote_addr) AS remote_addr_text, pid, end_at, how, status, seen_at, props`

// until is when a session stopped being open: its end, or infinity while
// it is open; the indexes sessions_host_until, sessions_user_until and
// sessions_until are on this expression (migration 00003).
const until = "COALESCE(end_at, 'infinity'::timestamptz)"

// where builds the WHERE clause of f.
func (f Filter) where() (string, []any, error) {
	var w []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Host != "" {
		h := strings.ToLower(f.Host)
		if strings.ContainsAny(h, "*?") {
			w = append(w, "host LIKE "+arg(globToLike(h)))
		} else {
			w = append(w, "host = "+arg(h))
		}
	}
	if f.User != "" {
		w = append(w, "user_name = "+arg(f.User))
	}
	if f.From != "" {
		if p, err := netip.ParsePrefix(f.From); err == nil {
			w = append(w, "remote_addr <<= "+arg(p.Masked()))
		} else if a, err := netip.ParseAddr(f.From); err == nil {
			w = append(w, "(remote_addr = "+arg(a.Unmap())+" OR remote_host = "+arg(f.From)+")")
		} else {
			from := strings.ToLower(f.From)
			if strings.ContainsAny(from, "*?") {
				w = append(w, "lower(remote_host) LIKE "+arg(globToLike(from)))
			} else {
				w = append(w, "lower(remote_host) = "+arg(from))
			}
		}
	}
	if !f.Since.IsZero() {
		w = append(w, until+" >= "+arg(f.Since.UTC()))
	}
	if !f.Until.IsZero() {
		w = append(w, "start_at <= "+arg(f.Until.UTC()))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return "", nil, cim.Errorf(cim.ErrInvalidParameter, "fleet history: --until is before --since")
	}
	if !f.At.IsZero() {
		a := arg(f.At.UTC())
		w = append(w, "start_at <= "+a+" AND "+until+" > "+a)
	}
	if len(f.Classes) > 0 {
		lc := make([]string, len(f.Classes))
		for i, c := range f.Classes {
			lc[i] = strings.ToLower(c)
		}
		w = append(w, "lower(class) = ANY("+arg(lc)+")")
	}
	if f.OpenOnly {
		w = append(w, "end_at IS NULL")
	}
	if len(w) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(w, " AND "), args, nil
}

// globToLike turns a glob ('*', '?') into a LIKE pattern, escaping LIKE's
// own wildcards.
func globToLike(g string) string {
	var b strings.Builder
	for _, r := range g {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Sessions calls fn with each session the filter selects, by start time
// (then host), streaming: rows are not gathered in memory. An error from
// fn stops the walk and is returned.
func (s *Store) Sessions(ctx context.Context, f Filter, fn func(Session) error) error {
	where, args, err := f.where()
	if err != nil {
		return err
	}
	q := "SELECT " + sessionCols + " FROM sessions" + where + " ORDER BY start_at, host, class, logon_id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.walk(ctx, q, args, func(r pgx.Rows) error {
		sess, err := scanSession(r)
		if err != nil {
			return s.err(err)
		}
		return fn(sess)
	})
}

// walk runs q and calls fn with each row; an error of fn is returned as
// it is.
func (s *Store) walk(ctx context.Context, q string, args []any, fn func(pgx.Rows) error) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return s.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.err(err)
	}
	return nil
}

// Lane is what groups sessions into the lanes of a timeline.
type Lane string

// The lanes of a timeline: one per host, or one per user name.
const (
	LaneHost Lane = "host"
	LaneUser Lane = "user"
)

// column is the sessions table's column of the lane.
func (l Lane) column() (string, error) {
	switch l {
	case LaneHost:
		return "host", nil
	case LaneUser:
		return "user_name", nil
	}
	return "", cim.Errorf(cim.ErrInvalidParameter, "fleet history: no lanes by %q", string(l))
}

// Ranked is a session as SessionsByLane gives it.
type Ranked struct {
	Session
	// Rank is the session's place in its lane, newest first: 1 for the
	// session that started last.
	Rank int
	// LaneTotal is how many sessions the filter selects in its lane.
	LaneTotal int
}

// SessionsByLane calls fn with each session the filter selects, shared
// fairly among lanes: in rounds, each lane's newest session (latest
// start) in lane order, then each lane's second newest, and so on. A walk
// cut at any point (f.Limit, or fn's error) has thus given every lane it
// reached its newest sessions, as many as every other lane's or one fewer,
// unless the lane has no more: one lane of many sessions, thousands of
// them open for months, no longer crowds out the other lanes' recent
// ones. Each session comes with its rank in its lane and the lane's total.
// The rows carry no Props (see Session for one row in full). Rows are not
// gathered in memory here; PostgreSQL sorts the range's rows (by the
// columns the timeline draws, not their properties) to rank them.
func (s *Store) SessionsByLane(ctx context.Context, f Filter, lane Lane, fn func(Ranked) error) error {
	col, err := lane.column()
	if err != nil {
		return err
	}
	where, args, err := f.where()
	if err != nil {
		return err
	}
	// The inner query's columns are sessionCols but props.
	const inner = `host, class, logon_id, start_at, path, user_name, uid, logon_type, tty, remote_host,
	host(remote_addr) AS remote_addr_text, pid, end_at, how, status, seen_at`
	const outer = `host, class, logon_id, start_at, path, user_name, uid, logon_type, tty, remote_host,
	remote_addr_text, pid, end_at, how, status, seen_at, NULL::jsonb AS props`
	q := "SELECT " + outer + ", lane_rank, lane_total FROM (SELECT " + inner +
		", row_number() OVER (PARTITION BY " + col + " ORDER BY start_at DESC, host DESC, class DESC, logon_id DESC) AS lane_rank" +
		", count(*) OVER (PARTITION BY " + col + ") AS lane_total FROM sessions" + where + ") ranked" +
		" ORDER BY lane_rank, " + col + ", start_at DESC, host, class, logon_id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.walk(ctx, q, args, func(r pgx.Rows) error {
		var x Ranked
		var rank, total int64
		var err error
		x.Session, err = scanSession(r, &rank, &total)
		if err != nil {
			return s.err(err)
		}
		x.Rank, x.LaneTotal = int(rank), int(total)
		return fn(x)
	})
}

// SessionList returns the sessions the filter selects (see Sessions).
func (s *Store) SessionList(ctx context.Context, f Filter) ([]Session, error) {
	var out []Session
	err := s.Sessions(ctx, f, func(x Session) error {
		out = append(out, x)
		return nil
	})
	return out, err
}

// ErrNoSession is the cause of Session's CIM_ERR_NOT_FOUND: no such row
// (where a missing database is CIM_ERR_NOT_FOUND too).
var ErrNoSession = errors.New("no such session")

// Session returns the row of one session; CIM_ERR_NOT_FOUND, wrapping
// ErrNoSession, when there is none.
func (s *Store) Session(ctx context.Context, k Key) (Session, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+sessionCols+" FROM sessions WHERE host = $1 AND class = $2 AND logon_id = $3 AND start_at = $4",
		k.Host, k.Class, k.LogonID, k.Start.UTC())
	if err != nil {
		return Session{}, s.err(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Session{}, s.err(err)
		}
		return Session{}, cim.Errorf(cim.ErrNotFound, "fleet history: %w: %s %s on %s at %s", ErrNoSession, k.Class, k.LogonID, k.Host, k.Start.Format(time.RFC3339))
	}
	sess, err := scanSession(rows)
	if err != nil {
		return Session{}, s.err(err)
	}
	return sess, nil
}

// scanSession reads a row of sessionCols, and of more columns into more.
func scanSession(r pgx.Rows, more ...any) (Session, error) {
	var x Session
	var uid, pid *int64
	var lt *int32
	var addr *string
	var end *time.Time
	var how string
	var props []byte
	dst := append([]any{&x.Host, &x.Class, &x.LogonID, &x.Start, &x.Path, &x.User, &uid, &lt, &x.TTY, &x.RemoteHost,
		&addr, &pid, &end, &how, &x.Status, &x.Seen, &props}, more...)
	if err := r.Scan(dst...); err != nil {
		return x, err
	}
	if uid != nil {
		v := uint32(*uid)
		x.UID = &v
	}
	if lt != nil {
		v := uint32(*lt)
		x.LogonType = &v
	}
	if addr != nil {
		x.RemoteAddress = *addr
	}
	if pid != nil {
		x.PID = *pid
	}
	if end != nil {
		x.End = *end
	}
	x.How = history.End(how)
	x.Source = "fleet"
	if len(props) > 0 {
		x.Props = props
	}
	return x, nil
}

// StatusChanges returns the Status changes of one session, oldest first
// (SessionID is 0: fleet rows are keyed by [Key]).
func (s *Store) StatusChanges(ctx context.Context, k Key) ([]history.StatusChange, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT at, old_status, new_status FROM status_changes
		WHERE host = $1 AND class = $2 AND logon_id = $3 AND start_at = $4 ORDER BY at, msg_id`,
		k.Host, k.Class, k.LogonID, k.Start.UTC())
	if err != nil {
		return nil, s.err(err)
	}
	defer rows.Close()
	var out []history.StatusChange
	for rows.Next() {
		var c history.StatusChange
		if err := rows.Scan(&c.At, &c.From, &c.To); err != nil {
			return nil, s.err(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.err(err)
	}
	return out, nil
}

// Count returns how many session rows there are.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM sessions").Scan(&n); err != nil {
		return 0, s.err(err)
	}
	return n, nil
}
