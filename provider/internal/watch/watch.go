// Package watch holds the fsnotify loop the session providers share to
// tell the object manager of logins and logouts at once: watch a few
// folders (not files, so that a file replaced or created later is still
// seen), and call back on every event about a path of interest, and when
// the kernel's queue overflowed and events were lost.
package watch

import (
	"context"
	"strings"

	"github.com/fsnotify/fsnotify"

	"github.com/cimsess/cimsess/cim"
)

// Dirs watches the folders dirs and calls changed for every event whose
// path match accepts, and whenever events were lost, until ctx ends (it
// then returns nil). Folders that cannot be watched are passed over; when
// none can, it fails with [cim.ErrNotFound]. A watcher that cannot be
// made fails with [cim.ErrFailed].
func Dirs(ctx context.Context, dirs []string, match func(path string) bool, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "watching %s: %v", strings.Join(dirs, ", "), err)
	}
	defer w.Close()
	watched := 0
	var last error
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			last = err
			continue
		}
		watched++
	}
	if watched == 0 {
		if len(dirs) == 1 {
			return cim.Errorf(cim.ErrNotFound, "%s cannot be watched: %v", dirs[0], last)
		}
		return cim.Errorf(cim.ErrNotFound, "none of %s can be watched", strings.Join(dirs, ", "))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if match(ev.Name) {
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
