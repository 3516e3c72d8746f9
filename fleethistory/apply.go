package fleethistory

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cimsess/cimsess/history"
)

// Session is one session lifecycle of one host as the fleet history holds
// it: the local history's row ([history.Session]; its ID and Source are
// not used) with the host and what the fleet adds.
type Session struct {
	history.Session
	Host          string          // the host's name, as its agent gives it
	UID           *uint32         // numeric user id when known
	RemoteAddress string          // the address logged in from, "" when unknown
	Props         json.RawMessage // the instance's properties as last seen (a JSON object), or nil
	Seen          time.Time       // time of the latest event applied to the row
}

// Key identifies a session row: what every event of the session carries.
type Key struct {
	Host, Class, LogonID string
	Start                time.Time
}

// Key returns the row key of s.
func (s *Session) Key() Key {
	return Key{Host: s.Host, Class: s.Class, LogonID: s.LogonID, Start: s.Start.UTC().Truncate(time.Microsecond)}
}

// Kind says what an event did to a session.
type Kind int

// The kinds of [Change].
const (
	Begin  Kind = iota // a session appeared (creation)
	Update             // its properties changed (modification)
	Finish             // it went away (deletion)
	// Skip is an event of a class the history does not record: nothing
	// is written, only its number is counted, so that it is not taken
	// for an event that never came (see [Store.Gaps]). Only its MsgID and
	// Session.Host are used.
	Skip
)

// Change is one event of the fleet's stream, mapped onto a session.
type Change struct {
	// MsgID is the event's unique id (the stream message's Nats-Msg-Id):
	// a change whose id was applied before is skipped.
	MsgID string
	Kind  Kind
	// Time is when the agent saw the change: the end of a Finish, the time
	// of a Status change.
	Time time.Time
	// Session is the session as the event's instance shows it. A zero
	// Start (an instance without StartTime) is resolved to the row of the
	// same host, class and LogonId that started last before Time, or to
	// Time for a new one.
	Session Session
	// How is how a Finish ended the session (history.EndLogout,
	// history.EndGhost, …); EndLogout when empty.
	How history.End
	// PrevStatus is the Status before an Update; a Status change is
	// recorded when it differs from Session.Status (and for a Begin with a
	// Status).
	PrevStatus string
	// PrevStart is the session's start before an Update that moved it
	// (the agent learnt a better one: sshd's utmp record after the first
	// process); zero when it did not move. The row moves to the new start
	// and events of the old start find it there.
	PrevStart time.Time
}

// ApplyStats says what Apply did.
type ApplyStats struct {
	Applied   int // changes written
	Duplicate int // changes whose message id was applied before
	Invalid   int // changes refused (no host or class, times out of range)
	Expired   int // changes older than the retention (Options.Keep)
}

// validTime bounds the times a change may carry: a partition is made for
// each month, so a garbage year must not make one.
func validTime(t, now time.Time) bool {
	return t.Year() >= 1970 && t.Before(now.Add(366*24*time.Hour))
}

// Apply writes a batch of changes in one transaction, and is idempotent:
// a change whose message id is already in the database is skipped, so a
// batch (or part of one) applied again changes nothing. The changes of one
// session meet in one row whatever their order: fields take the newest
// non-empty value, the end is the first end seen, Status the newest by
// time. When Apply returns nil, everything it applied is committed; on an
// error nothing is. keep, when positive, skips changes older than the
// retention (see [Store.Retain]). In the same transaction, the number of
// every change's event (its message id's last part; a Skip, one out of
// range or older than the retention included: they came) is added to its
// agent's in the gap accounting ([Store.Gaps]).
func (s *Store) Apply(ctx context.Context, changes []Change, keep time.Duration) (ApplyStats, error) {
	var st ApplyStats
	now := time.Now()
	var floor time.Time
	if keep > 0 {
		floor = MonthOf(now.Add(-keep))
	}
	seqs := seqsOf(changes)
	valid := make([]Change, 0, len(changes))
	monthSet := map[time.Time]bool{}
	for _, c := range changes {
		if c.Kind == Skip {
			continue
		}
		ss := &c.Session
		if c.MsgID == "" || ss.Host == "" || ss.Class == "" || ss.LogonID == "" || !validTime(c.Time, now) ||
			(!ss.Start.IsZero() && !validTime(ss.Start, now)) {
			st.Invalid++
			continue
		}
		if !floor.IsZero() && (c.Time.Before(floor) || (!ss.Start.IsZero() && ss.Start.Before(floor))) {
			st.Expired++
			continue
		}
		monthSet[MonthOf(c.Time)] = true
		if !ss.Start.IsZero() {
			monthSet[MonthOf(ss.Start)] = true
		}
		valid = append(valid, c)
	}
	if len(valid) == 0 && len(seqs) == 0 {
		return st, nil
	}
	months := make([]time.Time, 0, len(monthSet))
	for m := range monthSet {
		months = append(months, m)
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if err = s.ensureMonths(ctx, months); err != nil {
			return st, err
		}
		var n, dup int
		n, dup, err = s.apply(ctx, valid, seqs, now)
		if err == nil {
			st.Applied, st.Duplicate = n, dup
			return st, nil
		}
		// A partition another collector's retention dropped: make it again.
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23514" {
			s.mu.Lock()
			s.months = map[time.Time]bool{}
			s.mu.Unlock()
			continue
		}
		break
	}
	return st, s.err(err)
}

// row is a session row's change from one batch: the merge of the batch's
// changes of one session.
type row struct {
	key                            Key
	path, user, tty, rhost, status string
	uid, logonType, pid            *int64
	raddr                          *netip.Addr
	end, statusAt                  *time.Time
	how                            string
	seen                           time.Time
	props                          [][]byte // in time order
}

// lastProps returns the newest of the row's props that is valid JSON, or
// nil: validated once a row, not once a change.
func (r *row) lastProps() []byte {
	for i := len(r.props) - 1; i >= 0; i-- {
		if json.Valid(r.props[i]) {
			return r.props[i]
		}
	}
	return nil
}

// apply writes the changes and counts the agents' numbers seqs in one
// transaction.
func (s *Store) apply(ctx context.Context, changes []Change, seqs agentSeqs, now time.Time) (applied, dup int, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx)
	if len(changes) > 0 {
		if applied, dup, err = s.write(ctx, tx, changes); err != nil {
			return 0, 0, err
		}
	}
	// Last, after the sessions' rows: every writer locks in the same
	// order (and holds an agent's row only until its commit).
	if err := s.countSeqs(ctx, tx, seqs); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, err
	}
	return applied, dup, nil
}

// write writes the changes in tx: it claims their message ids and writes
// those not claimed before.
func (s *Store) write(ctx context.Context, tx pgx.Tx, changes []Change) (applied, dup int, err error) {
	// 1. Claim the message ids; those already there were applied before.
	ids := make([]string, len(changes))
	ats := make([]time.Time, len(changes))
	order := make([]int, len(changes))
	for i := range changes {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return changes[order[a]].MsgID < changes[order[b]].MsgID })
	for i, j := range order {
		ids[i], ats[i] = changes[j].MsgID, changes[j].Time.UTC()
	}
	rows, err := tx.Query(ctx, `INSERT INTO applied_events(msg_id, at)
		SELECT * FROM unnest($1::text[], $2::timestamptz[]) ORDER BY 1
		ON CONFLICT DO NOTHING RETURNING msg_id`, ids, ats)
	if err != nil {
		return 0, 0, err
	}
	fresh := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, err
		}
		fresh[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	var todo []Change
	seenID := map[string]bool{}
	for _, c := range changes {
		if fresh[c.MsgID] && !seenID[c.MsgID] {
			seenID[c.MsgID] = true
			todo = append(todo, c)
		}
	}
	dup = len(changes) - len(todo)
	if len(todo) == 0 {
		return 0, dup, nil
	}

	// 2. Resolve missing starts and moved ones, then merge the changes
	// per session.
	todo = byTime(todo)
	for i := range todo {
		if todo[i].Session.Start.IsZero() {
			if err := resolveStart(ctx, tx, &todo[i]); err != nil {
				return 0, 0, err
			}
		}
	}
	mv, err := s.moveStarts(ctx, tx, todo)
	if err != nil {
		return 0, 0, err
	}
	byKey := map[Key]*row{}
	var keys []Key
	var sc statusBatch
	for _, c := range todo {
		k := mv.resolve(c.Session.Key())
		r := byKey[k]
		if r == nil {
			r = &row{key: k}
			byKey[k] = r
			keys = append(keys, k)
		}
		r.merge(c)
		if c.Session.Status != "" && (c.Kind == Begin || c.Kind == Update) && c.PrevStatus != c.Session.Status {
			sc.add(k, c.Time, c.PrevStatus, c.Session.Status, c.MsgID)
		}
	}
	sort.Slice(keys, func(a, b int) bool { return keyLess(keys[a], keys[b]) })

	// 3. Upsert the rows, in key order (two collectors lock rows in the
	// same order and so never deadlock).
	var b sessionBatch
	for _, k := range keys {
		b.add(byKey[k])
	}
	if _, err := tx.Exec(ctx, upsertSQL, b.args()...); err != nil {
		return 0, 0, err
	}
	if len(sc.host) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO status_changes(host, class, logon_id, start_at, at, old_status, new_status, msg_id)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[])`,
			sc.host, sc.class, sc.logon, sc.start, sc.at, sc.old, sc.new, sc.msg); err != nil {
			return 0, 0, err
		}
	}
	return len(todo), dup, nil
}

// byTime returns the changes in time order (stable), moving each change
// once rather than at every swap of a sort.
func byTime(cs []Change) []Change {
	idx := make([]int, len(cs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return cs[idx[a]].Time.Before(cs[idx[b]].Time) })
	out := make([]Change, len(cs))
	for i, j := range idx {
		out[i] = cs[j]
	}
	return out
}

func keyLess(a, b Key) bool {
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if a.Class != b.Class {
		return a.Class < b.Class
	}
	if a.LogonID != b.LogonID {
		return a.LogonID < b.LogonID
	}
	return a.Start.Before(b.Start)
}

// moves maps a session's old start to the one it moved to.
type moves map[Key]time.Time

// resolve follows the moves of k's start (a few at most).
func (m moves) resolve(k Key) Key {
	for i := 0; i < 8; i++ {
		to, ok := m[k]
		if !ok || to.Equal(k.Start) {
			break
		}
		k.Start = to
	}
	return k
}

// moveStarts records the batch's moves of session starts, moves the rows
// (and their Status changes) that are at an old start to the new one,
// merging them with a row already there, and returns every move known
// for the batch's sessions.
func (s *Store) moveStarts(ctx context.Context, tx pgx.Tx, todo []Change) (moves, error) {
	type move struct {
		from Key
		to   time.Time
	}
	var fresh []move
	triples := map[[3]string]bool{}
	for _, c := range todo {
		triples[[3]string{c.Session.Host, c.Session.Class, c.Session.LogonID}] = true
		if c.Kind != Update || c.PrevStart.IsZero() || c.Session.Start.IsZero() {
			continue
		}
		from := c.Session.Key()
		from.Start = c.PrevStart.UTC().Truncate(time.Microsecond)
		if to := c.Session.Key().Start; !to.Equal(from.Start) {
			fresh = append(fresh, move{from, to})
		}
	}
	m := moves{}
	var hosts, classes, ids []string
	for t := range triples {
		hosts, classes, ids = append(hosts, t[0]), append(classes, t[1]), append(ids, t[2])
	}
	rows, err := tx.Query(ctx, `SELECT m.host, m.class, m.logon_id, m.old_start, m.new_start FROM session_moves m
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(host, class, logon_id) USING (host, class, logon_id)`, hosts, classes, ids)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k Key
		var to time.Time
		if err := rows.Scan(&k.Host, &k.Class, &k.LogonID, &k.Start, &to); err != nil {
			rows.Close()
			return nil, err
		}
		k.Start = k.Start.UTC()
		m[k] = to.UTC()
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, f := range fresh {
		if _, ok := m[f.from]; ok {
			continue // known: its row moved then
		}
		m[f.from] = f.to
		if _, err := tx.Exec(ctx, `INSERT INTO session_moves(host, class, logon_id, old_start, new_start)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, f.from.Host, f.from.Class, f.from.LogonID, f.from.Start, f.to); err != nil {
			return nil, err
		}
		to := m.resolve(f.from).Start
		if _, err := tx.Exec(ctx, moveRowSQL, f.from.Host, f.from.Class, f.from.LogonID, f.from.Start, to); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE status_changes SET start_at = $5
			WHERE host = $1 AND class = $2 AND logon_id = $3 AND start_at = $4`, f.from.Host, f.from.Class, f.from.LogonID, f.from.Start, to); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// resolveStart gives a change without a start the start of the row of
// the same session that started last by the change's time, or the
// change's time.
func resolveStart(ctx context.Context, tx pgx.Tx, c *Change) error {
	var start time.Time
	err := tx.QueryRow(ctx, `SELECT start_at FROM sessions WHERE host = $1 AND class = $2 AND logon_id = $3 AND start_at <= $4
		ORDER BY start_at DESC LIMIT 1`, c.Session.Host, c.Session.Class, c.Session.LogonID, c.Time).Scan(&start)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		c.Session.Start = c.Time
	case err != nil:
		return err
	default:
		c.Session.Start = start
	}
	return nil
}

// merge folds one change (given in time order) into the row.
func (r *row) merge(c Change) {
	s := &c.Session
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&r.path, s.Path)
	set(&r.user, s.User)
	set(&r.tty, s.TTY)
	set(&r.rhost, s.RemoteHost)
	if s.UID != nil {
		v := int64(*s.UID)
		r.uid = &v
	}
	if s.LogonType != nil {
		v := int64(*s.LogonType)
		r.logonType = &v
	}
	if s.PID != 0 {
		v := s.PID
		r.pid = &v
	}
	if s.RemoteAddress != "" {
		if a, err := netip.ParseAddr(s.RemoteAddress); err == nil {
			a = a.Unmap()
			r.raddr = &a
		}
	}
	if s.Status != "" {
		r.status = s.Status
		t := c.Time.UTC()
		r.statusAt = &t
	}
	if len(s.Props) > 0 {
		r.props = append(r.props, s.Props) // the last valid one is written
	}
	if c.Kind == Finish && r.end == nil {
		t := c.Time.UTC()
		if t.Before(r.key.Start) {
			t = r.key.Start
		}
		r.end = &t
		r.how = string(c.How)
		if r.how == "" {
			r.how = string(history.EndLogout)
		}
	}
	if t := c.Time.UTC(); t.After(r.seen) {
		r.seen = t
	}
}

// upsertSQL writes a batch of merged rows. A newer batch's non-empty
// values win; an older one (a late delivery) only fills in what the row
// lacks. The first end stays; the newest Status by time wins.
var upsertSQL = `INSERT INTO sessions AS s (host, class, logon_id, start_at, path, user_name, uid, logon_type, tty,
	remote_host, remote_addr, pid, end_at, how, status, status_at, seen_at, props)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::bigint[],
	$8::integer[], $9::text[], $10::text[], $11::inet[], $12::bigint[], $13::timestamptz[], $14::text[], $15::text[],
	$16::timestamptz[], $17::timestamptz[], $18::jsonb[])
` + mergeSQL

// moveRowSQL moves the row of a session ($1-$4) to a new start ($5),
// merged as a batch's row would be with a row already there.
var moveRowSQL = `WITH old AS (DELETE FROM sessions WHERE host = $1 AND class = $2 AND logon_id = $3 AND start_at = $4
	RETURNING path, user_name, uid, logon_type, tty, remote_host, remote_addr, pid, end_at, how, status, status_at, seen_at, props)
INSERT INTO sessions AS s (host, class, logon_id, start_at, path, user_name, uid, logon_type, tty,
	remote_host, remote_addr, pid, end_at, how, status, status_at, seen_at, props)
SELECT $1, $2, $3, $5, path, user_name, uid, logon_type, tty, remote_host, remote_addr, pid,
	CASE WHEN end_at IS NULL THEN NULL ELSE GREATEST(end_at, $5) END, how, status, status_at, seen_at, props FROM old
` + mergeSQL

// mergeSQL merges a written row with the one already there.
var mergeSQL = `ON CONFLICT (host, class, logon_id, start_at) DO UPDATE SET
	path = ` + pick("path") + `,
	user_name = ` + pick("user_name") + `,
	tty = ` + pick("tty") + `,
	remote_host = ` + pick("remote_host") + `,
	uid = CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(EXCLUDED.uid, s.uid) ELSE COALESCE(s.uid, EXCLUDED.uid) END,
	logon_type = CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(EXCLUDED.logon_type, s.logon_type) ELSE COALESCE(s.logon_type, EXCLUDED.logon_type) END,
	remote_addr = CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(EXCLUDED.remote_addr, s.remote_addr) ELSE COALESCE(s.remote_addr, EXCLUDED.remote_addr) END,
	pid = CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(NULLIF(EXCLUDED.pid, 0), s.pid) ELSE COALESCE(NULLIF(s.pid, 0), EXCLUDED.pid) END,
	props = CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(EXCLUDED.props, s.props) ELSE COALESCE(s.props, EXCLUDED.props) END,
	end_at = COALESCE(LEAST(s.end_at, EXCLUDED.end_at), s.end_at, EXCLUDED.end_at),
	how = CASE WHEN s.end_at IS NULL OR (EXCLUDED.end_at IS NOT NULL AND EXCLUDED.end_at < s.end_at) THEN EXCLUDED.how ELSE s.how END,
	status = CASE WHEN EXCLUDED.status_at IS NOT NULL AND (s.status_at IS NULL OR EXCLUDED.status_at >= s.status_at) THEN EXCLUDED.status ELSE s.status END,
	status_at = GREATEST(s.status_at, EXCLUDED.status_at),
	seen_at = GREATEST(s.seen_at, EXCLUDED.seen_at)`

func pick(col string) string {
	return "CASE WHEN EXCLUDED.seen_at >= s.seen_at THEN COALESCE(NULLIF(EXCLUDED." + col + ", ''), s." + col +
		") ELSE COALESCE(NULLIF(s." + col + ", ''), EXCLUDED." + col + ") END"
}

// sessionBatch holds the upsert's columns.
type sessionBatch struct {
	host, class, logon, path, user, tty, rhost, how, status []string
	start, seen                                             []time.Time
	end, statusAt                                           []*time.Time
	uid, pid                                                []*int64
	logonType                                               []*int32
	raddr                                                   []*netip.Addr
	props                                                   [][]byte
}

func (b *sessionBatch) add(r *row) {
	b.host = append(b.host, r.key.Host)
	b.class = append(b.class, r.key.Class)
	b.logon = append(b.logon, r.key.LogonID)
	b.start = append(b.start, r.key.Start)
	b.path = append(b.path, r.path)
	b.user = append(b.user, r.user)
	b.uid = append(b.uid, r.uid)
	var lt *int32
	if r.logonType != nil {
		v := int32(*r.logonType)
		lt = &v
	}
	b.logonType = append(b.logonType, lt)
	b.tty = append(b.tty, r.tty)
	b.rhost = append(b.rhost, r.rhost)
	b.raddr = append(b.raddr, r.raddr)
	pid := int64(0)
	if r.pid != nil {
		pid = *r.pid
	}
	b.pid = append(b.pid, &pid)
	b.end = append(b.end, r.end)
	b.how = append(b.how, r.how)
	b.status = append(b.status, r.status)
	b.statusAt = append(b.statusAt, r.statusAt)
	b.seen = append(b.seen, r.seen)
	b.props = append(b.props, r.lastProps())
}

func (b *sessionBatch) args() []any {
	// pgx writes a []byte for jsonb as the JSON text it is, nil as NULL.
	return []any{b.host, b.class, b.logon, b.start, b.path, b.user, b.uid, b.logonType, b.tty, b.rhost, b.raddr,
		b.pid, b.end, b.how, b.status, b.statusAt, b.seen, b.props}
}

// statusBatch holds the status changes' columns.
type statusBatch struct {
	host, class, logon, old, new, msg []string
	start, at                         []time.Time
}

func (b *statusBatch) add(k Key, at time.Time, old, new, msg string) {
	b.host = append(b.host, k.Host)
	b.class = append(b.class, k.Class)
	b.logon = append(b.logon, k.LogonID)
	b.start = append(b.start, k.Start)
	b.at = append(b.at, at.UTC())
	b.old = append(b.old, old)
	b.new = append(b.new, new)
	b.msg = append(b.msg, msg)
}
