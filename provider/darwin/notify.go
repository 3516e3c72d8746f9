package darwin

import (
	"context"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"github.com/cimsess/cimsess/cim"
)

// Watch calls changed whenever the utmpx file changes, until ctx ends, so
// that logins and logouts are seen at once (kqueue on macOS and FreeBSD).
// It watches the file's folder rather than the file, so that a file that
// is replaced or created later is still seen. A process that dies without
// a logout record is not notified: the next rescan finds the ghost.
func (p *Provider) Watch(ctx context.Context, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "watching %s: %v", p.opts.Path, err)
	}
	defer w.Close()
	dir, name := filepath.Split(filepath.Clean(p.opts.Path))
	if err := w.Add(filepath.Clean(dir)); err != nil {
		return cim.Errorf(cim.ErrNotFound, "%s cannot be watched: %v", dir, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) == name {
				changed()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if err == fsnotify.ErrEventOverflow {
				changed() // events were lost: say something changed
			}
		}
	}
}
