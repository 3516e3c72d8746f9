//go:build unix

package logind

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestFIFOSkipped(t *testing.T) {
	// A FIFO (logind's ID.ref files are FIFOs) must not be opened.
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "5"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "6"), []byte("UID=5\n"), 0o644)
	done := make(chan Snapshot)
	go func() { s, _ := Read(context.Background(), dir); done <- s }()
	select {
	case s := <-done:
		if len(s.Sessions) != 1 || s.Sessions[0].ID != "6" || len(s.Warnings) != 1 {
			t.Errorf("with a FIFO: %+v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read blocked on a FIFO")
	}
}
