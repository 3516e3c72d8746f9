package outbox

import (
	"bytes"
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

// TestPeekAfter reads ahead of what is acknowledged, as a publisher with
// events on their way does: the records after a given one, in order, and
// after the log empties and starts again, from the front — an old
// record's offset names nothing in the new log, and acknowledging it
// again lets go of nothing.
func TestPeekAfter(t *testing.T) {
	b, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Records larger than the block read at once, among small ones.
	for i := 0; i < 40; i++ {
		size := 10
		if i%7 == 3 {
			size = readBlock + 1000
		}
		if _, err := b.Append(func(seq uint64) ([]byte, error) {
			d := make([]byte, size)
			copy(d, fmt.Sprintf("event %d", seq))
			return d, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []Record
	rs, err := b.Peek(5)
	for err == nil && len(rs) > 0 {
		got = append(got, rs...)
		rs, err = b.PeekAfter(rs[len(rs)-1], 5)
	}
	if err != nil || len(got) != 40 {
		t.Fatalf("%d records, %v", len(got), err)
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) || !bytes.HasPrefix(r.Data, []byte(fmt.Sprintf("event %d\x00", i+1))) && !bytes.Equal(r.Data, []byte(fmt.Sprintf("event %d", i+1))) {
			t.Fatalf("record %d: %d %.20q", i, r.Seq, r.Data)
		}
	}
	if err := b.Ack(got[9]); err != nil || b.Len() != 30 {
		t.Fatalf("after 10 acknowledged: %d waiting, %v", b.Len(), err)
	}
	if rs, err := b.PeekAfter(got[3], 1); err != nil || len(rs) != 1 || rs[0].Seq != 11 {
		t.Fatalf("after an acknowledged record: %+v %v", rs, err)
	}
	if err := b.Ack(got[39]); err != nil || b.Len() != 0 {
		t.Fatalf("after all acknowledged: %d waiting, %v", b.Len(), err)
	}
	appendN(t, b, 3)
	if rs, err := b.PeekAfter(got[0], 10); err != nil || len(rs) != 3 || rs[0].Seq != 41 {
		t.Fatalf("after the log emptied: %+v %v", rs, err)
	}
	if err := b.Ack(got[39]); err != nil || b.Len() != 3 {
		t.Fatalf("an old record acknowledged again: %d waiting, %v", b.Len(), err)
	}
}
