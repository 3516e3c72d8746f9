package linux

import (
	"context"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"github.com/cimsess/cimsess/cim"
)

// Watch calls changed whenever the utmp file or logind's session folder
// changes, until ctx ends: login and logout write both at once, so the
// object manager need not wait for its next rescan to see them. It watches
// the utmp file's folder rather than the file, so that a file that is
// replaced or created later is still seen. Sessions known only through
// /proc (no utmp record, no logind) are not notified: the rescan finds them.
func (p *Provider) Watch(ctx context.Context, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "watching the session sources: %v", err)
	}
	defer w.Close()
	utmpDir, utmpName := filepath.Split(filepath.Clean(p.opts.UtmpPath))
	watched := 0
	if err := w.Add(filepath.Clean(utmpDir)); err == nil {
		watched++
	}
	logindRoot := filepath.Clean(p.opts.LogindRoot)
	if fi, err := os.Stat(logindRoot); err == nil && fi.IsDir() {
		if err := w.Add(logindRoot); err == nil {
			watched++
		}
	}
	if watched == 0 {
		return cim.Errorf(cim.ErrNotFound, "neither %s nor %s can be watched", utmpDir, logindRoot)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			dir, name := filepath.Split(ev.Name)
			if filepath.Clean(dir) == logindRoot || name == utmpName {
				changed()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflowed queue lost events: say something changed.
			if err == fsnotify.ErrEventOverflow {
				changed()
			}
		}
	}
}
