package bsd

import (
	"context"
	"path/filepath"

	"github.com/cimsess/cimsess/provider/internal/watch"
)

// Watch calls changed whenever the utmpx file changes, until ctx ends, so
// that logins and logouts are seen at once (kqueue on macOS and FreeBSD).
// It watches the file's folder rather than the file, so that a file that
// is replaced or created later is still seen. A process that dies without
// a logout record is not notified: the next rescan finds the ghost.
func (p *Provider) Watch(ctx context.Context, changed func()) error {
	dir, name := filepath.Split(filepath.Clean(p.opts.Path))
	return watch.Dirs(ctx, []string{filepath.Clean(dir)},
		func(path string) bool { return filepath.Base(path) == name }, changed)
}
