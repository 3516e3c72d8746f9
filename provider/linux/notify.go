package linux

import (
	"context"
	"os"
	"path/filepath"

	"github.com/cimsess/cimsess/provider/internal/watch"
)

// Watch calls changed whenever the utmp file or logind's session folder
// changes, until ctx ends: login and logout write both at once, so the
// object manager need not wait for its next rescan to see them. It watches
// the utmp file's folder rather than the file, so that a file that is
// replaced or created later is still seen. Sessions known only through
// /proc (no utmp record, no logind) are not notified: the rescan finds them.
func (p *Provider) Watch(ctx context.Context, changed func()) error {
	utmpDir, utmpName := filepath.Split(filepath.Clean(p.opts.UtmpPath))
	dirs := []string{filepath.Clean(utmpDir)}
	logindRoot := filepath.Clean(p.opts.LogindRoot)
	if fi, err := os.Stat(logindRoot); err == nil && fi.IsDir() {
		dirs = append(dirs, logindRoot)
	}
	return watch.Dirs(ctx, dirs, func(path string) bool {
		dir, name := filepath.Split(path)
		return filepath.Clean(dir) == logindRoot || name == utmpName
	}, changed)
}
