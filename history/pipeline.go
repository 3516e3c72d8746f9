package history

import (
	"context"
	"errors"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// pipeline writes the batches of a merge into an empty history on a
// goroutine of its own, while the merge reads and pairs the next batch:
// the pairing was a fifth of the merge's time, and SQLite the rest. In an
// empty history a batch needs nothing from the database while it pairs (no
// login is matched against a row, and a row the merge added open is closed
// by its pend, whose id the writer alone reads), so the pairing of batch
// k+1 needs only that batch k is on its way. The writer takes the batches
// in turn, each in one transaction as [merger.checkpoint] writes it.
//
// Another writer's commit between two batches (SQLite's data_version moves
// on) may have been another merge of the same file, which the pairing ahead
// did not see: the writer then rolls back the batch, and the merge starts
// again from what the database holds, as a merge that does not pipeline.
type pipeline struct {
	m      *merger
	jobs   chan *batchJob // to the writer
	free   chan *batchJob // back from it
	failed chan struct{}  // closed when the writer stopped on an error
	ended  chan struct{}  // closed when the writer has returned
	err    error          // the writer's, once failed is closed
	cur    *batchJob      // the batch being paired
	// committed: the pairing's counts up to the last batch committed
	// (the writer's until it has returned).
	committed struct{ implausible, skipped int }
}

// batchJob is one batch as the pairing leaves it for the writer.
type batchJob struct {
	queue  []Lifecycle // sessions the batch closed, to add
	closes []pendOp    // rows added open before that the batch closed (lc holds the end)
	opens  []pendOp    // sessions still open, to add open
	kept   []pendOp    // rows added open that the listing may take as they are
	final  []pendOp    // the rows still open at the merge's end, for the listing
	at     int64       // the byte the batch ends at
	// before is the settled time after the batch, when settle.
	before  int64
	settle  bool
	records int // records read up to the batch's end
	// implausible and skipped: MergeStats' counts up to the batch's end.
	implausible, skipped int
	last                 bool
}

// pendOp is a pending session and its lifecycle as the batch leaves it.
type pendOp struct {
	p  *pend
	lc Lifecycle
}

// errConflict: another connection committed between two batches.
var errConflict = errors.New("another writer changed the history during the merge")

// startPipeline starts the writer; the merge's first transaction is open.
func (m *merger) startPipeline(ctx context.Context, listing *Settled, progress func(done, total int), total int) *pipeline {
	pl := &pipeline{m: m, jobs: make(chan *batchJob, 1), free: make(chan *batchJob, 2),
		failed: make(chan struct{}), ended: make(chan struct{}), cur: &batchJob{}}
	pl.free <- &batchJob{}
	m.pipe = pl
	go func() {
		defer close(pl.ended)
		first := true
		for job := range pl.jobs {
			if pl.err == nil && ctx.Err() != nil {
				// Stopped: not a batch more, as a merge that does not pipeline.
				pl.err = cim.Wrap(cim.ErrFailed, ctx.Err())
				close(pl.failed)
			}
			if pl.err == nil {
				if err := pl.write(job, first, listing, progress, total); err != nil {
					pl.err = err
					close(pl.failed)
				}
			}
			first = false
			job.reset()
			pl.free <- job
		}
	}()
	return pl
}

// reset empties a job for its next batch, keeping its memory.
func (j *batchJob) reset() {
	clear(j.queue)
	clear(j.closes)
	clear(j.opens)
	clear(j.kept)
	clear(j.final)
	*j = batchJob{queue: j.queue[:0], closes: j.closes[:0], opens: j.opens[:0], kept: j.kept[:0], final: j.final[:0]}
}

// end ends a pending session while pairing (see merger.end): a row the
// writer adds or added open is closed by it, any other is queued.
func (pl *pipeline) end(p *pend, at time.Time, how End) error {
	lc := p.lc
	lc.End, lc.How = at, how
	if p.written {
		pl.cur.closes = append(pl.cur.closes, pendOp{p, lc})
		return nil
	}
	if pl.m.pruned(at) {
		return nil
	}
	pl.cur.queue = append(pl.cur.queue, lc)
	return nil
}

// send hands the batch paired up to byte at over to the writer, with the
// sessions it leaves open; it fails with the writer's error, once there
// is one.
func (pl *pipeline) send(ctx context.Context, at int64, records int) error {
	job := pl.cur
	for _, p := range pl.m.pr.pending() {
		if !p.written {
			p.written = true
			job.opens = append(job.opens, pendOp{p, p.lc})
		}
	}
	job.at, job.records = at, records
	job.implausible, job.skipped = pl.m.st.Implausible, pl.m.st.Skipped
	select {
	case <-pl.failed: // first: no batch more to pair in vain
		return pl.err
	default:
	}
	select {
	case pl.jobs <- job:
	case <-pl.failed:
		return pl.err
	case <-ctx.Done():
		return cim.Wrap(cim.ErrFailed, ctx.Err())
	}
	select {
	case pl.cur = <-pl.free:
	case <-pl.failed:
		return pl.err
	case <-ctx.Done():
		return cim.Wrap(cim.ErrFailed, ctx.Err())
	}
	return nil
}

// stop ends the writer after the batches sent, and returns its error.
func (pl *pipeline) stop() error {
	close(pl.jobs)
	<-pl.ended
	pl.m.pipe = nil
	return pl.err
}

// write writes one batch in a transaction: the first batch's is open
// already (the merge's sync began it).
func (pl *pipeline) write(job *batchJob, first bool, listing *Settled, progress func(done, total int), total int) error {
	m := pl.m
	if !first {
		if err := m.c.exec("BEGIN IMMEDIATE"); err != nil {
			return err
		}
		m.inTx = true
		v, err := m.dataVersion()
		if err != nil {
			return err
		}
		if v != m.version {
			m.inTx = false
			if err := m.c.exec("ROLLBACK"); err != nil {
				return err
			}
			return errConflict
		}
	}
	for _, op := range job.closes {
		if err := m.closeRow(op.p.id, op.lc.End, op.lc.How); err != nil {
			return err
		}
		if m.keep {
			m.keepRow(op.p.id, op.lc)
		}
	}
	if err := m.flushRows(job.queue); err != nil {
		return err
	}
	for _, op := range job.opens {
		id, err := m.insertOpen(op.lc)
		if err != nil {
			return err
		}
		op.p.id = id
	}
	if err := m.finishBatch(job.at); err != nil {
		return err
	}
	m.st.Records = job.records
	pl.committed.implausible, pl.committed.skipped = job.implausible, job.skipped
	if listing != nil {
		if m.keep {
			for _, op := range job.kept {
				m.keepRow(op.p.id, op.lc)
			}
		}
		if job.settle && !listing.advance(job.before, m.kept) {
			m.keep = false
		}
		clear(m.kept)
		m.kept = m.kept[:0]
		if job.last && m.keep {
			for _, op := range job.final {
				m.keepRow(op.p.id, op.lc)
			}
			listing.hand(m.kept)
		}
	}
	if progress != nil { // after the advance: a listing may run already
		progress(min(job.records, total), total)
	}
	return nil
}
