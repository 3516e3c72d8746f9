package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func appendN(t *testing.T, b *Outbox, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := b.Append(func(seq uint64) ([]byte, error) { return []byte(fmt.Sprintf("event %d", seq)), nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOrderAckReopen(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, b, 100)
	rs, err := b.Peek(10)
	if err != nil || len(rs) != 10 {
		t.Fatalf("%d %v", len(rs), err)
	}
	for i, r := range rs {
		if r.Seq != uint64(i+1) || string(r.Data) != fmt.Sprintf("event %d", i+1) {
			t.Fatalf("record %d: %d %q", i, r.Seq, r.Data)
		}
	}
	if err := b.Ack(rs[4]); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// A torn record at the end, as a crash in the middle of a write leaves.
	f, _ := os.OpenFile(filepath.Join(dir, logName), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2})
	f.Close()

	b, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 95 || b.LastSeq() != 100 {
		t.Fatalf("after reopening: %d records, last seq %d", b.Len(), b.LastSeq())
	}
	appendN(t, b, 1)
	rs, _ = b.Peek(1000)
	if len(rs) != 96 || rs[0].Seq != 6 || rs[95].Seq != 101 {
		t.Fatalf("%d records from %d to %d", len(rs), rs[0].Seq, rs[len(rs)-1].Seq)
	}
	if err := b.Ack(rs[95]); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, logName)); st.Size() != 0 || b.Len() != 0 {
		t.Fatalf("an empty outbox keeps %d bytes, %d records", st.Size(), b.Len())
	}
	b.Close()
	// The sequence goes on after the log was emptied.
	b, _ = Open(dir, Options{})
	defer b.Close()
	if seq, _ := b.Append(func(uint64) ([]byte, error) { return []byte("x"), nil }); seq != 102 {
		t.Fatalf("sequence restarted at %d", seq)
	}
}

func TestFull(t *testing.T) {
	b, err := Open(t.TempDir(), Options{MaxBytes: 90, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	appendN(t, b, 3) // 3 × (16 + 7) = 69 bytes
	seq, err := b.Append(func(uint64) ([]byte, error) { return []byte("a longer event"), nil })
	if !errors.Is(err, ErrFull) || seq != 4 {
		t.Fatalf("append to a full outbox: %d %v", seq, err)
	}
	rs, _ := b.Peek(10)
	b.Ack(rs[2])
	if seq, err := b.Append(func(uint64) ([]byte, error) { return []byte("a longer event"), nil }); err != nil || seq != 5 {
		t.Fatalf("after the outbox drained: %d %v", seq, err)
	}
}
