// Package snapcache holds the one rule the providers that read a whole
// system state at once (smbstatus, LSA, the Server service) share: one
// read answers for a short while (Options.CacheFor, [Default] 500 ms), so
// that one operation that enumerates several classes, as an association
// traversal does, reads the system once and sees one consistent state.
package snapcache

import "time"

// Default is how long one read answers for when a provider's CacheFor
// option is left 0.
const Default = 500 * time.Millisecond

// For returns the CacheFor option with its default filled in: [Default]
// for 0; a negative value (no caching) is kept.
func For(d time.Duration) time.Duration {
	if d == 0 {
		return Default
	}
	return d
}

// Fresh reports whether a value read at at still answers at now, for a
// cache lifetime of ttl: ttl is positive, at is set, and now lies in
// [at, at+ttl) (a clock that went back makes it stale).
func Fresh(at, now time.Time, ttl time.Duration) bool {
	if ttl <= 0 || at.IsZero() {
		return false
	}
	age := now.Sub(at)
	return age >= 0 && age < ttl
}

// Cache is one value and when it was read. It is not safe for concurrent
// use: its owner holds its own lock across [Cache.Get], so that callers
// that come together share one read.
type Cache[T any] struct {
	v  T
	at time.Time
}

// Get returns the cached value while it is [Fresh] at now, else calls
// read and keeps its value as of now. An error is returned with read's
// value and not kept: the next Get reads again.
func (c *Cache[T]) Get(now time.Time, ttl time.Duration, read func() (T, error)) (T, error) {
	if Fresh(c.at, now, ttl) {
		return c.v, nil
	}
	v, err := read()
	if err != nil {
		var zero T
		c.v, c.at = zero, time.Time{}
		return v, err
	}
	c.v, c.at = v, now
	return v, nil
}
