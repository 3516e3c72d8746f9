package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

func TestDirs(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- Dirs(ctx, []string{dir, filepath.Join(dir, "missing")},
			func(p string) bool { return filepath.Base(p) == "utmp" },
			func() { changed <- struct{}{} })
	}()
	// The watch starts asynchronously: write until it is seen.
	deadline := time.After(5 * time.Second)
	os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o644)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-changed:
			break loop
		case <-tick.C:
			os.WriteFile(filepath.Join(dir, "utmp"), []byte("x"), 0o644)
		case err := <-done:
			t.Fatalf("the watch ended before seeing a change: %v", err)
		case <-deadline:
			t.Fatal("no change seen")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, dirs := range [][]string{{filepath.Join(dir, "a")}, {filepath.Join(dir, "a"), filepath.Join(dir, "b")}} {
		if err := Dirs(context.Background(), dirs, nil, nil); cim.CodeOf(err) != cim.ErrNotFound {
			t.Errorf("Dirs(%v) = %v", dirs, err)
		}
	}
}
