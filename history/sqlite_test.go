package history

import (
	"context"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// TestConn checks the store's own connection: text of any length and
// with NUL bytes bound and read back as it was, NULL and integers, the
// empty string apart from NULL, and errors as one-line *cim.Errors.
func TestConn(t *testing.T) {
	s := openTemp(t)
	c, err := s.openConn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.exec(`CREATE TABLE t(a TEXT, b INTEGER)`); err != nil {
		t.Fatal(err)
	}
	ins, err := c.prepare(`INSERT INTO t(a, b) VALUES(?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x\x00é", 5000) // past the first scratch buffer
	for _, v := range []any{"short", long, "", nil} {
		if err := ins.exec(v, int64(-1)<<40); err != nil {
			t.Fatal(err)
		}
	}
	if err := ins.exec(1.5, 0); err == nil || !strings.Contains(err.Error(), "cannot bind a float64") {
		t.Errorf("binding a float: %v", err)
	}
	ins.close()
	q, err := c.prepare(`SELECT a, b FROM t ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	var got []string
	for {
		ok, err := q.step()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if q.colInt(1) != int64(-1)<<40 {
			t.Errorf("integer %d", q.colInt(1))
		}
		v := q.colText(0)
		if q.isNull(0) {
			v = "NULL"
		}
		got = append(got, v)
	}
	if len(got) != 4 || got[0] != "short" || got[1] != long || got[2] != "" || got[3] != "NULL" {
		t.Errorf("read back %d values: %.20q", len(got), got)
	}
	_, err = c.prepare(`SELECT x FROM nowhere`)
	if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(err.Error(), "no such table: nowhere") || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad statement: %v", err)
	}
}

// TestEachSessionStops checks that a listing stops at fn's error and at a
// cancelled context, and leaves the store usable.
func TestEachSessionStops(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	if _, err := s.MergeRecords(ctx, busyWtmp(3000)); err != nil {
		t.Fatal(err)
	}
	n := 0
	stop := cim.Errorf(cim.ErrFailed, "enough")
	if err := s.EachSession(ctx, Filter{}, func(Session) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	}); err != stop || n != 10 {
		t.Errorf("fn's error: %v after %d", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.EachSession(cctx, Filter{}, func(Session) error { return nil }); err == nil {
		t.Error("a cancelled listing did not fail")
	}
	all, err := s.Sessions(ctx, Filter{})
	if err != nil || len(all) < 1000 {
		t.Errorf("after: %d sessions, %v", len(all), err)
	}
}
