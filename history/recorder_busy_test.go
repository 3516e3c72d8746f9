package history

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// TestRecorderWaitsOutALock: a write that another process's lock holds up
// is tried again, with one notice, until it works, where the recorder used
// to stop; an error of another kind still stops it.
func TestRecorderWaitsOutALock(t *testing.T) {
	defer func(d time.Duration) { busyRetry = d }(busyRetry)
	busyRetry = time.Millisecond
	var logs []string
	r := &Recorder{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	tries := 0
	err := r.retryBusy(context.Background(), func() error {
		if tries++; tries < 5 {
			return cim.Errorf(cim.ErrFailed, "history database h.db: locked by another process for too long")
		}
		return nil
	})
	if err != nil || tries != 5 || len(logs) != 2 || !strings.Contains(logs[0], "waiting for it") || !strings.Contains(logs[1], "takes writes again") {
		t.Errorf("after %d tries: %v; log %q", tries, err, logs)
	}
	other := errors.New("disk I/O error")
	if err := r.retryBusy(context.Background(), func() error { return other }); err != other {
		t.Errorf("another error: %v", err)
	}
}
