package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestMergeCheckpointsBeside checks that what a merge of several batches
// commits reaches the database file before the merge returns, copied by
// its checkpointer: the merge's own connection checkpoints only at
// backstopPages, far more than this merge writes, so without the
// checkpointer the pages would still be in the write-ahead log alone. A
// merge of one batch runs no checkpointer: its pages stay in the log.
func TestMergeCheckpointsBeside(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	size := func() (file, db int64) {
		t.Helper()
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		var pages, pageSize int64
		if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
			t.Fatal(err)
		}
		return fi.Size(), pages * pageSize
	}
	before, _ := size()
	small := filepath.Join(t.TempDir(), "wtmp.1")
	writeWtmp(t, small, busyWtmp(400))
	if _, err := s.MergeFile(ctx, small, MergeOptions{Batch: 500}); err != nil {
		t.Fatal(err)
	}
	if file, db := size(); file != before || db <= before {
		t.Errorf("database file %d bytes after a merge of one batch (%d before), the database %d: want its pages in the log alone", file, before, db)
	}
	path := filepath.Join(t.TempDir(), "wtmp")
	writeWtmp(t, path, busyWtmp(3000))
	st, err := s.MergeFile(ctx, path, MergeOptions{Batch: 500})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added < 1000 {
		t.Fatalf("merge added %d rows, want over 1000: %+v", st.Added, st)
	}
	file, db := size()
	if db/4096 >= backstopPages {
		t.Fatalf("the database has %d bytes: the merge's own checkpoint may have run; use a smaller file", db)
	}
	if file != db || file <= before {
		t.Errorf("database file %d bytes after the merge (%d before), the database %d: its pages were not checkpointed into it", file, before, db)
	}
}
