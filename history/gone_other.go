//go:build !linux

package history

import "time"

// bootTime: not known here; no session is taken for gone by it.
func bootTime() time.Time { return time.Time{} }

// phantom: this system has no /proc to ask.
func phantom(Session) bool { return false }
