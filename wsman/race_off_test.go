//go:build !race

package wsman

import "time"

// idleOf is a context's idle time for a test that waits less than it
// between Pulls (see race_on_test.go).
func idleOf(d time.Duration) time.Duration { return d }
