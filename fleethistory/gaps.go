package fleethistory

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cimsess/cimsess/cim"
)

// DefaultGapWait is how long numbers must have been missing before
// [Store.Gaps] counts them, unless Options.GapWait says otherwise. Events
// on their way make gaps that close: a batch another collector holds
// (written within its apply timeout, 30 s, or given back at once when it
// stops), one of a collector killed (delivered again after the
// acknowledgement wait, a minute by default), a later event stored before
// an earlier one across a stream leader change (seconds). Five minutes is
// more than twice the default acknowledgement wait, so that one such
// redelivery and its write, or a short database restart, never shows as a
// loss; a loss is told within minutes, soon enough for an archive.
const DefaultGapWait = 5 * time.Minute

// maxSeq is the largest event number counted: the range after it must
// end within a bigint.
const maxSeq = math.MaxInt64 - 1

// maxAgentBytes bounds an agent's name in the accounting (the collector
// refuses longer event ids already).
const maxAgentBytes = 1024

// SeqRun is a run of an agent's event numbers, From to To inclusive.
type SeqRun struct{ From, To uint64 }

// Gap is an agent whose event numbers have runs that never came: events
// lost before they reached the stream (an agent's full outbox gives an
// event a number and loses it), or that the stream dropped before a
// collector read them.
type Gap struct {
	// Host is the host, as its events name it (in lower case).
	Host string
	// Agent is the agent: its events' ids less their number
	// (<hosttoken>.<agent id>).
	Agent string
	// Lowest and Highest are the lowest and highest numbers that came,
	// Came how many distinct numbers came.
	Lowest, Highest, Came uint64
	// Missing counts the numbers in Runs and Forgotten: those between
	// Lowest and Highest that never came, and have been missing for the
	// store's gap wait. Numbers missing for less are not counted yet:
	// their events may be on their way.
	Missing uint64
	Runs    []SeqRun
	// Forgotten counts the missing numbers no longer in Runs: those of
	// the oldest holes of an agent with more than a row keeps (counted in
	// Missing, before Runs).
	Forgotten uint64
	// Changed is when numbers of the agent last came.
	Changed time.Time
}

// agentSeqs are a batch's event numbers, by agent.
type agentSeqs map[string]*agentBatch

type agentBatch struct {
	host string
	seqs []uint64
}

// agentSeq splits an event id (<hosttoken>.<agent id>.<seq>) into its
// agent and its number; ok is false for an id of another form.
func agentSeq(id string) (agent string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 || i > maxAgentBytes || strings.IndexByte(id[:i], 0) >= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || seq == 0 || seq > maxSeq {
		return "", 0, false
	}
	return id[:i], seq, true
}

// seqsOf gathers the numbers of the changes' events by agent: those
// with a host and an id of the agents' form.
func seqsOf(changes []Change) agentSeqs {
	m := agentSeqs{}
	for _, c := range changes {
		h := c.Session.Host
		if h == "" || len(h) > maxAgentBytes || strings.IndexByte(h, 0) >= 0 {
			continue
		}
		agent, seq, ok := agentSeq(c.MsgID)
		if !ok {
			continue
		}
		b := m[agent]
		if b == nil {
			b = &agentBatch{host: h}
			m[agent] = b
		}
		b.seqs = append(b.seqs, seq)
	}
	return m
}

// multirange returns the numbers as an int8multirange's text:
// {[1,4),[7,8)}.
func multirange(seqs []uint64) string {
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] <= seqs[j]+1 {
			j++
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(strconv.FormatUint(seqs[i], 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatUint(seqs[j]+1, 10))
		b.WriteByte(')')
		i = j + 1
	}
	b.WriteByte('}')
	return b.String()
}

// parseRuns reads an int8multirange's text ({[1,4),[7,8)}, each range
// canonical: lower bound included, upper excluded) as inclusive runs.
func parseRuns(s string) ([]SeqRun, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, false
	}
	s = s[1 : len(s)-1]
	if s == "" {
		return nil, true
	}
	var runs []SeqRun
	for _, r := range strings.Split(s, "),") {
		r = strings.TrimSuffix(strings.TrimPrefix(r, "["), ")")
		lo, hi, ok := strings.Cut(r, ",")
		if !ok {
			return nil, false
		}
		from, err1 := strconv.ParseUint(lo, 10, 64)
		to, err2 := strconv.ParseUint(hi, 10, 64)
		if err1 != nil || err2 != nil || to <= from {
			return nil, false
		}
		runs = append(runs, SeqRun{From: from, To: to - 1})
	}
	return runs, true
}

// countSeqsSQL adds a batch's numbers to their agents' rows, one row per
// agent, in the order of the agents (so that two collectors lock the same
// rows in the same order). A row whose numbers are all there already (a
// redelivery) is left as it is. Past the gap wait ($4, in µs) since the
// newer span was kept, the newer span becomes the older and the span
// before this batch the newer. A row keeps at most $5 runs (maxRuns)
// where it can: the holes before them that have lasted the gap wait
// (oldSpan) are filled and their numbers counted as forgotten
// (migration 00005); a younger hole may be a batch on its way.
const countSeqsSQL = `INSERT INTO agent_seqs AS a (agent, host, seqs, changed_at, span0, span0_at, span1, span1_at)
SELECT u.agent, u.host, u.seqs::int8multirange, now(), 'empty', now(), 'empty', now()
	FROM unnest($1::text[], $2::text[], $3::text[]) AS u(agent, host, seqs) ORDER BY 1
ON CONFLICT (agent) DO UPDATE SET
	seqs = cimsess_seq_bound(a.seqs + EXCLUDED.seqs, $5, upper(` + oldSpan + `)),
	forgotten = a.forgotten + cimsess_seq_count(cimsess_seq_bound(a.seqs + EXCLUDED.seqs, $5, upper(` + oldSpan + `))) - cimsess_seq_count(a.seqs + EXCLUDED.seqs),
	changed_at = now(),
	span0 = CASE WHEN a.span1_at <= now() - $4::bigint * interval '1 microsecond' THEN a.span1 ELSE a.span0 END,
	span0_at = CASE WHEN a.span1_at <= now() - $4::bigint * interval '1 microsecond' THEN a.span1_at ELSE a.span0_at END,
	span1 = CASE WHEN a.span1_at <= now() - $4::bigint * interval '1 microsecond' THEN range_merge(a.seqs) ELSE a.span1 END,
	span1_at = CASE WHEN a.span1_at <= now() - $4::bigint * interval '1 microsecond' THEN now() ELSE a.span1_at END
WHERE NOT a.seqs @> EXCLUDED.seqs`

// oldSpan is, in countSeqsSQL, the span of an agent's numbers as it was
// at least the gap wait ($4) ago, as gapsSQL reads it: its holes have
// lasted, and only those may be filled.
const oldSpan = `CASE
		WHEN a.changed_at <= now() - $4::bigint * interval '1 microsecond' THEN range_merge(a.seqs)
		WHEN a.span1_at <= now() - $4::bigint * interval '1 microsecond' THEN a.span1
		WHEN a.span0_at <= now() - $4::bigint * interval '1 microsecond' THEN a.span0
		ELSE 'empty'::int8range END`

// countSeqs adds the numbers of a batch to the gap accounting, in tx.
func (s *Store) countSeqs(ctx context.Context, tx pgx.Tx, seqs agentSeqs) error {
	if len(seqs) == 0 {
		return nil
	}
	agents := make([]string, 0, len(seqs))
	for a := range seqs {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	hosts := make([]string, len(agents))
	ranges := make([]string, len(agents))
	for i, a := range agents {
		hosts[i], ranges[i] = seqs[a].host, multirange(seqs[a].seqs)
	}
	_, err := tx.Exec(ctx, countSeqsSQL, agents, hosts, ranges, s.gapWait.Microseconds(), maxRuns)
	return err
}

// maxRuns bounds the runs of numbers an agent's row keeps (see
// countSeqsSQL): some 4 KB, where a row of every other number lost grew
// by a run an event.
const maxRuns = 256

// gapsSQL reads the agents with holes ($1: the gap wait in µs) and, of
// each, the holes that count: within the span of the numbers as they were
// at least the gap wait ago (all of them when nothing came since).
const gapsSQL = `SELECT agent, host, seqs::text, changed_at, (int8multirange(CASE
		WHEN changed_at <= now() - $1::bigint * interval '1 microsecond' THEN range_merge(seqs)
		WHEN span1_at <= now() - $1::bigint * interval '1 microsecond' THEN span1
		WHEN span0_at <= now() - $1::bigint * interval '1 microsecond' THEN span0
		ELSE 'empty'::int8range END) - seqs)::text, forgotten
	FROM agent_seqs WHERE (NOT isempty(holes) OR forgotten > 0)`

// Gaps returns the agents whose event numbers have runs that have been
// missing for the store's gap wait (Options.GapWait), by host then agent:
// events that never reached the history. host, when not empty, is a host
// name or a glob of them, as Filter.Host. It reads one small row per
// agent with holes.
func (s *Store) Gaps(ctx context.Context, host string) ([]Gap, error) {
	q := gapsSQL
	args := []any{s.gapWait.Microseconds()}
	if host != "" {
		h := strings.ToLower(host)
		if strings.ContainsAny(h, "*?") {
			q += " AND host LIKE $2"
			args = append(args, globToLike(h))
		} else {
			q += " AND host = $2"
			args = append(args, h)
		}
	}
	q += " ORDER BY host, agent"
	var gaps []Gap
	err := s.walk(ctx, q, args, func(r pgx.Rows) error {
		var g Gap
		var seqs, holes string
		if err := r.Scan(&g.Agent, &g.Host, &seqs, &g.Changed, &holes, &g.Forgotten); err != nil {
			return s.err(err)
		}
		came, ok1 := parseRuns(seqs)
		runs, ok2 := parseRuns(holes)
		if !ok1 || !ok2 || len(came) == 0 {
			return cim.Errorf(cim.ErrFailed, "fleet history %s: agent %s: numbers %q, holes %q: not a multirange of bigint", s.name, g.Agent, seqs, holes)
		}
		if len(runs) == 0 && g.Forgotten == 0 {
			return nil // holes not old enough yet
		}
		g.Lowest, g.Highest, g.Runs = came[0].From, came[len(came)-1].To, runs
		for _, r := range came {
			g.Came += r.To - r.From + 1
		}
		g.Came -= g.Forgotten // the forgotten are in seqs, filled
		g.Missing = g.Forgotten
		for _, r := range runs {
			g.Missing += r.To - r.From + 1
		}
		g.Changed = g.Changed.UTC()
		gaps = append(gaps, g)
		return nil
	})
	return gaps, err
}
