package samba

import (
	"context"
	"strings"
	"time"

	"github.com/cimsess/cimsess/sysfile/procfs"
)

// procStart returns when process pid started, from procfs (its stat and
// the boot time).
func procStart(fs *procfs.FS, pid int) (time.Time, bool) {
	p, err := fs.GetFields(pid, procfs.FieldStartTime)
	if err != nil {
		return time.Time{}, false
	}
	return p.StartTime, true
}

// smbdRunning reports whether a process named smbd runs, and whether that
// could be known at all (false when the procfs root cannot be read, as on
// systems without /proc). It reads only each process's stat.
func smbdRunning(ctx context.Context, fs *procfs.FS) (running, known bool) {
	procs, err := fs.ListFields(ctx, 0)
	if err != nil {
		return false, false
	}
	for _, p := range procs {
		// A zombie left by a stopped smbd does not serve anyone.
		if (p.Comm == "smbd" || strings.HasPrefix(p.Comm, "smbd-")) && p.State != 'Z' {
			return true, true
		}
	}
	return false, true
}
