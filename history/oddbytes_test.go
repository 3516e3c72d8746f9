package history

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestOddBytesReadTheSameEverywhere follows one login whose user,
// terminal and host are not UTF-8 (and hold a control character) through
// the Linux provider and the history: the row merged from wtmp holds what
// the provider's instance shows, and the row the recorder writes from that
// instance is the wtmp row, whichever comes first, not a second one.
func TestOddBytesReadTheSameEverywhere(t *testing.T) {
	ctx := context.Background()
	const pid = 4_000_001 // above any pid_max: a ghost
	line := "pts/\xfe1"
	recs := []utmp.Record{boot(0), login(1, "b\xffob\x01", line, "h\xffst.example.org", pid)}
	path := filepath.Join(t.TempDir(), "utmp")
	if err := utmp.WriteFile(path, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	lp := linux.New(linux.Options{UtmpPath: path, ProcRoot: t.TempDir(), LogindRoot: t.TempDir(), StatePath: "-"})
	insts, err := provider.Collect(ctx, lp, "Linux_LogonSession", provider.Hint{})
	if err != nil || len(insts) != 1 {
		t.Fatalf("provider: %d instances, %v", len(insts), err)
	}
	in := insts[0]
	want := SessionOf(in, at(2))
	if want.User != "b\uFFFDob\x01" || want.TTY != "pts/\uFFFD1" || want.RemoteHost != "h\uFFFDst.example.org" {
		t.Fatalf("the provider's values: user %q tty %q host %q", want.User, want.TTY, want.RemoteHost)
	}
	sessions := func(s *Store) []Session {
		t.Helper()
		got, err := s.Sessions(ctx, Filter{Classes: []string{"Linux_LogonSession"}})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("wtmp first", func(t *testing.T) {
		s := openTemp(t)
		if _, err := s.MergeRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got := sessions(s)
		if len(got) != 1 || got[0].User != want.User || got[0].TTY != want.TTY || got[0].RemoteHost != want.RemoteHost {
			t.Fatalf("merged from wtmp: %+v, want the provider's %q %q %q", got, want.User, want.TTY, want.RemoteHost)
		}
		if _, err := s.Begin(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got := sessions(s); len(got) != 1 {
			t.Fatalf("recorded live beside the wtmp row instead of adopting it: %+v", got)
		}
	})
	t.Run("live first", func(t *testing.T) {
		s := openTemp(t)
		if _, err := s.Begin(ctx, want); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MergeRecords(ctx, append(recs, logout(5, line, pid))); err != nil {
			t.Fatal(err)
		}
		got := sessions(s)
		if len(got) != 1 || !got[0].End.Equal(at(5)) || got[0].How != EndLogout {
			t.Fatalf("wtmp did not close the row recorded live: %+v", got)
		}
	})
}

// TestMigrationCleansRawBytes checks migration 4: a history that an
// earlier cimsess filled with a wtmp login's raw bytes gets the values
// prop.Clean makes of them, other rows stay as they are, and the same
// login read again from wtmp matches the row instead of adding one.
func TestMigrationCleansRawBytes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const pid = 4_000_001
	raw := login(1, "b\xffob\x00", "pts/\xfe1", "h\xffst.example.org", pid)
	insert := `INSERT INTO sessions(class, user, tty, remote_host, pid, start_us, source) VALUES('Linux_LogonSession', ?, ?, ?, ?, ?, 'wtmp')`
	if _, err := s.db.ExecContext(ctx, insert, raw.User, raw.Line, raw.Host, pid, us(raw.Time)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, insert, "alice", "pts/2", "10.0.0.1", 4_000_002, us(at(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version = 3"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Read-only, the history of schema version 3 is read as it is.
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of schema version 3: %v", err)
	}
	if got, err := ro.Sessions(ctx, Filter{}); err != nil || len(got) != 2 || got[0].User != raw.User {
		t.Fatalf("read-only: %+v %v", got, err)
	}
	ro.Close()

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d (%v), want %d", v, err, len(migrations))
	}
	got, err := s.Sessions(ctx, Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	if g := got[0]; g.User != "b\uFFFDob" || g.TTY != "pts/\uFFFD1" || g.RemoteHost != "h\uFFFDst.example.org" {
		t.Errorf("the raw row after the migration: user %q tty %q host %q", g.User, g.TTY, g.RemoteHost)
	}
	if g := got[1]; g.User != "alice" || g.TTY != "pts/2" || g.RemoteHost != "10.0.0.1" {
		t.Errorf("a clean row changed: %+v", g)
	}
	if _, err := s.MergeRecords(ctx, []utmp.Record{raw, logout(5, raw.Line, pid)}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Sessions(ctx, Filter{})
	if err != nil || len(got) != 2 || !got[0].End.Equal(at(5)) {
		t.Fatalf("the login read again did not match its cleaned row: %+v %v", got, err)
	}
}
