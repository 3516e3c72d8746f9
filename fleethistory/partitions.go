package fleethistory

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitioned are the tables partitioned by month, each partition named
// <table>_pYYYYMM, in the order Apply writes them: creating or dropping a
// partition locks the parent table, and taking the locks in the same
// order as the writers keeps the two from deadlocking.
var partitioned = []string{"applied_events", "sessions", "status_changes"}

// partitionLock is the advisory lock key under which partitions are
// created and dropped, so that collectors doing it at once do not collide.
const partitionLock = 0x63696d73 // "cims"

// MonthOf returns the first instant of t's month, in UTC: the lower bound
// of the partition t falls in.
func MonthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(table string, month time.Time) string {
	return fmt.Sprintf("%s_p%04d%02d", table, month.Year(), int(month.Month()))
}

// EnsurePartitions creates the partitions of the month of now and of the
// ahead months after it, where they are missing.
func (s *Store) EnsurePartitions(ctx context.Context, now time.Time, ahead int) error {
	m := MonthOf(now)
	months := make([]time.Time, 0, ahead+1)
	for i := 0; i <= ahead; i++ {
		months = append(months, m.AddDate(0, i, 0))
	}
	return s.ensureMonths(ctx, months)
}

// ensureMonths creates the partitions of the given months that this store
// has not seen exist yet.
func (s *Store) ensureMonths(ctx context.Context, months []time.Time) error {
	s.mu.Lock()
	var missing []time.Time
	for _, m := range months {
		if !s.months[m] {
			missing = append(missing, m)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Before(missing[j]) })
	// Those another store made already need no DDL (and no lock).
	have, err := s.partitionNames(ctx)
	if err != nil {
		return err
	}
	need := false
	for _, m := range missing {
		for _, t := range partitioned {
			need = need || !have[partitionName(t, m)]
		}
	}
	if need {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
				return err
			}
			// Again under the lock: another store may have just made them.
			have, err := partitionNamesTx(ctx, tx)
			if err != nil {
				return err
			}
			for _, m := range missing {
				for _, t := range partitioned {
					name := partitionName(t, m)
					if have[name] {
						continue
					}
					// A table of its own, then attached: ATTACH PARTITION
					// takes a SHARE UPDATE EXCLUSIVE lock on the parent,
					// which neither the writers nor the readers wait for
					// (CREATE TABLE … PARTITION OF would take an exclusive
					// one and could deadlock with a reader of several
					// tables).
					q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
						ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`,
						name, t, t, name, m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339))
					if _, err := tx.Exec(ctx, q); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	if err != nil {
		return s.err(err)
	}
	s.mu.Lock()
	for _, m := range missing {
		s.months[m] = true
	}
	s.mu.Unlock()
	return nil
}

// partitionNames returns the names of the partitions that exist.
func (s *Store) partitionNames(ctx context.Context) (map[string]bool, error) {
	have, err := partitionNamesTx(ctx, s.pool)
	if err != nil {
		return nil, s.err(err)
	}
	return have, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func partitionNamesTx(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = ANY($1) AND p.relnamespace = c.relnamespace`, partitioned)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// Partitions returns the months that have partitions, oldest first.
func (s *Store) Partitions(ctx context.Context) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'sessions' AND p.relnamespace = c.relnamespace`)
	if err != nil {
		return nil, s.err(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.err(err)
	}
	var out []time.Time
	for _, n := range names {
		if m, ok := parsePartition(n, "sessions"); ok {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

func parsePartition(name, table string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, table+"_p")
	if !ok || len(rest) != 6 {
		return time.Time{}, false
	}
	m, err := time.Parse("200601", rest)
	if err != nil {
		return time.Time{}, false
	}
	return m, true
}

// Retain applies retention: it drops the partitions (sessions, their
// status changes and the applied message ids) of every month that ended
// before now-keep, and returns those months; it forgets the gap
// accounting of the agents that sent nothing since then. A session is kept or dropped
// with the month it started in. keep <= 0 keeps everything.
func (s *Store) Retain(ctx context.Context, now time.Time, keep time.Duration) ([]time.Time, error) {
	if keep <= 0 {
		return nil, nil
	}
	cut := MonthOf(now.Add(-keep))
	// The gap accounting of agents silent since the cut goes too: their
	// gaps are as old as the sessions dropped.
	if _, err := s.pool.Exec(ctx, "DELETE FROM agent_seqs WHERE changed_at < $1", cut); err != nil {
		return nil, s.err(err)
	}
	months, err := s.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	var drop []time.Time
	for _, m := range months {
		if m.AddDate(0, 1, 0).After(cut) {
			break
		}
		drop = append(drop, m)
	}
	if len(drop) == 0 {
		return nil, nil
	}
	// One month at a time, each waiting at most a few seconds for its
	// locks (dropping a partition locks its parent exclusively): what
	// cannot be dropped now is dropped the next time.
	var done []time.Time
	for _, m := range drop {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
				return err
			}
			for _, t := range partitioned {
				if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+partitionName(t, m)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			break
		}
		done = append(done, m)
	}
	drop = done
	if len(done) > 0 && err == nil {
		// The moves of sessions' starts go with the months they moved to.
		if _, e := s.pool.Exec(ctx, "DELETE FROM session_moves WHERE new_start < $1", done[len(done)-1].AddDate(0, 1, 0)); e != nil {
			err = e
		}
	}
	if err != nil {
		s.mu.Lock()
		for _, m := range drop {
			delete(s.months, m)
		}
		s.mu.Unlock()
		return drop, s.err(err)
	}
	s.mu.Lock()
	for _, m := range drop {
		delete(s.months, m)
	}
	s.mu.Unlock()
	return drop, nil
}
