package outbox

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedRecordSetAside: a record damaged in the middle of the log (a
// flipped bit, not a torn end) is not silently dropped with everything
// after it: the records before and after it stay queued with their own
// numbers, the bytes from it on are set aside in a file beside the log,
// and Damage says so.
func TestDamagedRecordSetAside(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, b, 10)
	rs, _ := b.Peek(10)
	b.Close()
	logPath := filepath.Join(dir, logName)
	data, _ := os.ReadFile(logPath)
	fifth := rs[3].end // start of the fifth record
	data[fifth+recHeader] ^= 0x40
	if err := os.WriteFile(logPath, data, 0o600); err != nil {
		t.Fatal(err)
	}

	b, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Len() != 9 {
		t.Fatalf("%d records kept, want the 9 around the damaged one", b.Len())
	}
	got, _ := b.Peek(20)
	for i, r := range got {
		want := uint64(i + 1)
		if i >= 4 {
			want++
		}
		if r.Seq != want {
			t.Fatalf("record %d is number %d, want %d", i, r.Seq, want)
		}
	}
	if !strings.Contains(b.Damage(), "damaged record at offset") {
		t.Fatalf("Damage() = %q", b.Damage())
	}
	aside, err := filepath.Glob(logPath + ".damaged-*")
	if err != nil || len(aside) != 1 {
		t.Fatalf("set-aside files %v %v", aside, err)
	}
	kept, _ := os.ReadFile(aside[0])
	if !bytes.Equal(kept, data[fifth:]) {
		t.Fatalf("set aside %d bytes, want the %d from the damaged record on", len(kept), len(data)-int(fifth))
	}
	// New records go on after the kept ones, numbered after the last seen.
	if seq, err := b.Append(func(uint64) ([]byte, error) { return []byte("x"), nil }); err != nil || seq != 11 {
		t.Fatalf("append after recovery: %d %v", seq, err)
	}
}

// TestTornEndNotDamage: a record cut short at the end is what a crash
// leaves; it is dropped without a word.
func TestTornEndNotDamage(t *testing.T) {
	dir := t.TempDir()
	b, _ := Open(dir, Options{})
	appendN(t, b, 3)
	b.Close()
	f, _ := os.OpenFile(filepath.Join(dir, logName), os.O_WRONLY|os.O_APPEND, 0)
	var h [recHeader]byte
	binary.LittleEndian.PutUint32(h[:], 100)
	f.Write(h[:])
	f.Write([]byte("short"))
	f.Close()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Len() != 3 || b.Damage() != "" {
		t.Fatalf("%d records, damage %q", b.Len(), b.Damage())
	}
}

// FuzzOpen: whatever the log and head files hold, Open neither panics nor
// hangs; what it keeps can be read, acknowledged and appended to, and
// reopening finds the same.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b.Append(func(seq uint64) ([]byte, error) { return []byte("event"), nil })
	}
	rs, _ := b.Peek(1)
	b.Ack(rs[0])
	b.Close()
	log, _ := os.ReadFile(filepath.Join(dir, logName))
	head, _ := os.ReadFile(filepath.Join(dir, headName))
	f.Add(log, head)
	f.Add(log[:len(log)-3], head)
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64), head)
	f.Fuzz(func(t *testing.T, log, head []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, logName), log, 0o600)
		os.WriteFile(filepath.Join(dir, headName), head, 0o600)
		b, err := Open(dir, Options{})
		if err != nil {
			return
		}
		if !b.HeadRead() {
			if err := b.WriteHead(); err != nil { // as the agent does
				t.Fatal(err)
			}
		}
		n := b.Len()
		rs, err := b.Peek(n + 1)
		if err != nil || len(rs) != n {
			t.Fatalf("Len %d, Peek %d records, %v", n, len(rs), err)
		}
		seq, err := b.Append(func(uint64) ([]byte, error) { return []byte("new"), nil })
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		b, err = Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Len() != n+1 || b.LastSeq() != seq || b.Damage() != "" {
			t.Fatalf("reopened: %d records (want %d), last %d (want %d), damage %q", b.Len(), n+1, b.LastSeq(), seq, b.Damage())
		}
		if rs, _ := b.Peek(n + 1); len(rs) > 0 {
			if err := b.Ack(rs[len(rs)-1]); err != nil || b.Len() != 0 {
				t.Fatalf("ack all: %v, %d left", err, b.Len())
			}
		}
	})
}

// TestHeadLost: an outbox whose head is damaged says so and that it does
// not know the numbers given out before (HeadRead false); a new one does
// not know them either, but nothing is damaged; after an emptying Ack the
// head on disk keeps the last number.
func TestHeadLost(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.HeadRead() || b.Damage() != "" {
		t.Fatalf("a new outbox: HeadRead %v, Damage %q", b.HeadRead(), b.Damage())
	}
	// Its user writes the head once it has dealt with a head not read;
	// opened again before anything was acknowledged, the head is known
	// (an agent must not take a new id at every start).
	if err := b.WriteHead(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if b, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if !b.HeadRead() {
		t.Fatal("a new outbox opened again: its head is not read")
	}
	appendN(t, b, 3)
	rs, _ := b.Peek(3)
	if err := b.Ack(rs[2]); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if b, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if !b.HeadRead() || b.LastSeq() != 3 || b.Len() != 0 {
		t.Fatalf("reopened after an emptying Ack: HeadRead %v, last %d, %d queued", b.HeadRead(), b.LastSeq(), b.Len())
	}
	b.Close()
	if err := os.WriteFile(filepath.Join(dir, headName), []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if b.HeadRead() || !strings.Contains(b.Damage(), "the head (3 bytes) is damaged") {
		t.Fatalf("a damaged head: HeadRead %v, Damage %q", b.HeadRead(), b.Damage())
	}
	// Not written again until its user says: a crash before the agent has
	// taken a new id must find the head still lost.
	b.Close()
	if b, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.HeadRead() {
		t.Fatal("a lost head read as known after an Open alone")
	}
}

// TestEmptyingAckThatCannotTruncate: an acknowledgement that empties the
// queue but cannot empty the log leaves the outbox consistent: nothing
// queued in memory, and the records sent again after a restart, not lost.
func TestEmptyingAckThatCannotTruncate(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, b, 3)
	rs, _ := b.Peek(3)
	if err := b.Ack(rs[0]); err != nil {
		t.Fatal(err)
	}
	rw := b.log
	if b.log, err = os.Open(filepath.Join(dir, logName)); err != nil { // read-only: Truncate fails
		t.Fatal(err)
	}
	if err := b.Ack(rs[2]); err == nil {
		t.Fatal("the emptying Ack did not fail")
	}
	if got, _ := b.Peek(10); b.Len() != 0 || len(got) != 0 {
		t.Errorf("after it: Len %d, Peek %d records", b.Len(), len(got))
	}
	b.log.Close()
	b.log = rw
	b.Close()
	if b, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, _ := b.Peek(10); len(got) == 0 || got[len(got)-1].Seq != 3 {
		t.Errorf("after a restart: %d records queued, want those not emptied from the log", len(got))
	}
}
