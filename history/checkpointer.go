package history

// checkpointer copies what a merge commits from the write-ahead log into
// the database file on a goroutine and a connection of its own, so that
// the merge goroutine goes on pairing and inserting meanwhile.
//
// By default SQLite checkpoints in the connection that commits, once the
// log holds 1,000 pages: the merge would stop each time its log grew by
// about 4 MB to copy the pages and fsync the log and the file (a sixth of
// the wall time of merging 1,000,000 records on a disk whose fsync takes
// milliseconds).
// SQLite's WAL documentation suggests the other way for a busy writer: run
// the checkpoints on another thread. A PASSIVE checkpoint takes no writer
// lock, so the merge's next batch is written to the log while the last
// ones are copied.
//
// The merge pokes it after every commit; pokes that come while a
// checkpoint runs are folded into one, so that on a slow disk the
// checkpoints run back to back and on a fast one after every batch. The
// merge keeps an automatic checkpoint of its own, at backstopPages, in
// case this one falls behind or fails (a failed checkpoint loses nothing:
// the pages stay in the log for the next).
type checkpointer struct {
	poked chan struct{}
	done  chan struct{}
}

// backstopPages is the log size, in pages, at which the merge's own
// connection checkpoints while a checkpointer runs beside it: ten times
// SQLite's default, reached only when the checkpointer falls behind.
const backstopPages = 10000

// startCheckpointer opens the checkpointer's connection and starts its
// goroutine.
func (s *Store) startCheckpointer() (*checkpointer, error) {
	c, err := s.openConn()
	if err != nil {
		return nil, err
	}
	cp := &checkpointer{poked: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(cp.done)
		defer c.close()
		for range cp.poked {
			// SQLITE_BUSY (another process checkpoints) and any other
			// failure leave the pages in the log for the next one.
			_ = c.exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
	return cp, nil
}

// poke asks for a checkpoint without waiting for it.
func (cp *checkpointer) poke() {
	select {
	case cp.poked <- struct{}{}:
	default: // one is asked for already
	}
}

// stop lets a checkpoint that runs finish, then closes the connection.
func (cp *checkpointer) stop() {
	close(cp.poked)
	<-cp.done
}
