//go:build !unix

package testenv

import "time"

// ProcessCPU returns 0 where getrusage is not to be had.
func ProcessCPU() time.Duration { return 0 }
