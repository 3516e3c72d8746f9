package server

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// sourceOf names the client a remote address ("host:port") comes from:
// its IPv4 address, or the /64 network of an IPv6 address (one host
// commonly holds a whole /64).
func sourceOf(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// loginThrottle counts failed logins per source: one that fails more than
// max times within window is refused (429) until the window ends, without
// a bcrypt being spent on it. The table is bounded; when full, expired
// entries go first, then arbitrary ones.
type loginThrottle struct {
	max    int
	window time.Duration

	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

// maxThrottled bounds the sources a loginThrottle remembers.
const maxThrottled = 16384

func newLoginThrottle(max int, window time.Duration) *loginThrottle {
	return &loginThrottle{max: max, window: window, m: map[string]*failures{}}
}

// blocked returns how long the source must still wait, 0 if it may try.
func (t *loginThrottle) blocked(src string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[src]
	if f == nil {
		return 0
	}
	end := f.start.Add(t.window)
	if !now.Before(end) {
		delete(t.m, src)
		return 0
	}
	if f.n < t.max {
		return 0
	}
	return end.Sub(now)
}

// fail counts one failed login of the source.
func (t *loginThrottle) fail(src string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.m[src]
	if f != nil && !now.Before(f.start.Add(t.window)) {
		f = nil
	}
	if f == nil {
		if len(t.m) >= maxThrottled {
			for k, v := range t.m {
				if !now.Before(v.start.Add(t.window)) || len(t.m) >= maxThrottled {
					delete(t.m, k)
				}
			}
		}
		f = &failures{start: now}
		t.m[src] = f
	}
	f.n++
}

// retryAfter spells a wait in whole seconds, at least 1, for Retry-After.
func retryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// connLimiter caps the connections the server holds, per source and in
// total. At the total cap it closes an idle keep-alive connection (or one
// that has sent nothing for a second) to make room, so that a pile of
// idle sockets cannot keep a legitimate client out; a source at its own
// cap has its new connection closed at once.
type connLimiter struct {
	max, perSource int
	log            *slog.Logger

	mu       sync.Mutex
	total    int
	bySource map[string]int
	waiting  map[net.Conn]time.Time // connections idle or not yet active, since when
	lastWarn time.Time
	refused  int
}

func newConnLimiter(max, perSource int, log *slog.Logger) *connLimiter {
	return &connLimiter{max: max, perSource: perSource, log: log, bySource: map[string]int{}, waiting: map[net.Conn]time.Time{}}
}

// listener returns ln with the limiter's caps applied to what it accepts.
func (c *connLimiter) listener(ln net.Listener) net.Listener { return &capListener{Listener: ln, c: c} }

type capListener struct {
	net.Listener
	c *connLimiter
}

// Accept returns the next connection within the caps, closing those
// beyond them.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceOf(conn.RemoteAddr().String())
		if l.c.admit(src) {
			return &capConn{Conn: conn, c: l.c, src: src}, nil
		}
		_ = conn.Close()
	}
}

// admit counts a new connection from src, or reports that it is over a cap.
func (c *connLimiter) admit(src string) bool {
	for tries := 0; ; tries++ {
		c.mu.Lock()
		if c.bySource[src] >= c.perSource {
			c.refuseLocked("a source reached its connection cap", src)
			c.mu.Unlock()
			return false
		}
		if c.total < c.max {
			c.total++
			c.bySource[src]++
			c.mu.Unlock()
			return true
		}
		victim := c.victimLocked(time.Now())
		if victim == nil || tries >= 8 {
			c.refuseLocked("the server reached its total connection cap", src)
			c.mu.Unlock()
			return false
		}
		delete(c.waiting, victim)
		c.mu.Unlock()
		abort(victim)
	}
}

// victimLocked picks the connection to close for room: the one waiting
// longest, if it has waited a second.
func (c *connLimiter) victimLocked(now time.Time) net.Conn {
	var v net.Conn
	var since time.Time
	for conn, t := range c.waiting {
		if v == nil || t.Before(since) {
			v, since = conn, t
		}
	}
	if v == nil || now.Sub(since) < time.Second {
		return nil
	}
	return v
}

// refuseLocked counts a refused connection and warns at most every ten
// seconds.
func (c *connLimiter) refuseLocked(why, src string) {
	c.refused++
	if now := time.Now(); now.Sub(c.lastWarn) >= 10*time.Second {
		c.log.Warn("connection refused", "reason", why, "source", src, "refused_since_last_warning", c.refused,
			"max_connections", c.max, "max_connections_per_source", c.perSource)
		c.lastWarn, c.refused = now, 0
	}
}

// state follows the http.Server's view of each connection (ConnState).
func (c *connLimiter) state(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		c.waiting[conn] = time.Now()
	default:
		delete(c.waiting, conn)
	}
}

type capConn struct {
	net.Conn
	c    *connLimiter
	src  string
	once sync.Once
}

// CloseWrite shuts down the sending side of the connection, when the
// connection can, for a lingering close.
func (cc *capConn) CloseWrite() error {
	if hc, ok := cc.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Close closes the connection and gives its place back.
func (cc *capConn) Close() error {
	err := cc.Conn.Close()
	cc.once.Do(func() {
		cc.c.mu.Lock()
		cc.c.total--
		if cc.c.bySource[cc.src]--; cc.c.bySource[cc.src] <= 0 {
			delete(cc.c.bySource, cc.src)
		}
		cc.c.mu.Unlock()
	})
	return err
}
