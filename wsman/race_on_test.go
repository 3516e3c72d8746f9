//go:build race

package wsman

import "time"

// idleOf is a context's idle time for a test that waits less than it
// between Pulls: ten times longer under the race detector, where parsing
// a page of a hundred instances can take longer than 300 ms.
func idleOf(d time.Duration) time.Duration { return 10 * d }
