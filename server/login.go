package server

import (
	"net/http"
	"runtime"
	"time"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cimom"
)

// Login checks HTTP Basic credentials against a users file as the server
// does, for any HTTP front end: a good login is remembered (no bcrypt for
// the next request with the same password), at most a few bcrypt checks
// run at once (the others wait a moment, then get 503), and a source that
// fails too often within a window waits it out (429) without a bcrypt
// spent on it. The server's Authenticated and the fleet timeline each use
// one.
type Login struct {
	users *Users
	realm string
	sem   chan struct{}
	fails *loginThrottle
}

// NewLogin returns a Login against users, with its challenge's realm,
// maxChecks bcrypt checks at once and maxFailures failed logins of a
// source within window (zeros take the server's defaults).
func NewLogin(users *Users, realm string, maxChecks, maxFailures int, window time.Duration) *Login {
	if maxChecks <= 0 {
		maxChecks = max(2, runtime.GOMAXPROCS(0))
	}
	if maxFailures <= 0 {
		maxFailures = DefaultMaxLoginFailures
	}
	if window <= 0 {
		window = DefaultLoginFailureWindow
	}
	return &Login{users: users, realm: realm, sem: make(chan struct{}, maxChecks), fails: newLoginThrottle(maxFailures, window)}
}

// Check authenticates r. On success it returns the viewer the user is
// (an administrator, or a user restricted to what they own); otherwise it
// has answered the request (401, 429 or 503, through Fault) and returns
// false.
func (l *Login) Check(w http.ResponseWriter, r *http.Request) (cimom.Viewer, bool) {
	challenge := http.Header{"Www-Authenticate": {`Basic realm="` + l.realm + `"`}}
	name, pass, ok := r.BasicAuth()
	if !ok {
		Fault(w, r, http.StatusUnauthorized, "authentication required", challenge)
		return cimom.Viewer{}, false
	}
	Info(r.Context()).User = name
	u, ok := l.users.AuthenticateCached(name, pass)
	if !ok {
		src := sourceOf(r.RemoteAddr)
		// refused answers 429 when the source has failed too often.
		refused := func() bool {
			wait := l.fails.blocked(src, time.Now())
			if wait <= 0 {
				return false
			}
			Fault(w, r, http.StatusTooManyRequests, "too many failed logins from this address; retry later",
				http.Header{"Retry-After": {retryAfter(wait)}})
			return true
		}
		if refused() {
			return cimom.Viewer{}, false
		}
		t := time.NewTimer(authWait)
		select {
		case l.sem <- struct{}{}:
			t.Stop()
		case <-t.C:
			Fault(w, r, http.StatusServiceUnavailable, "too many logins at once; retry", http.Header{"Retry-After": {"1"}})
			return cimom.Viewer{}, false
		case <-r.Context().Done():
			t.Stop()
			Fault(w, r, http.StatusServiceUnavailable, "the client went away", nil)
			return cimom.Viewer{}, false
		}
		// Again now that it is its turn: the failures of the checks it
		// waited behind count, so that a burst gets no more guesses
		// than the throttle allows.
		if refused() {
			<-l.sem
			return cimom.Viewer{}, false
		}
		u, ok = l.users.authenticateSlow(name, pass)
		<-l.sem
		if !ok {
			l.fails.fail(src, time.Now())
			Fault(w, r, http.StatusUnauthorized, "wrong user name or password", challenge)
			return cimom.Viewer{}, false
		}
	}
	return cimom.Viewer{User: u.Name, Restricted: !u.Admin}, true
}

// Account returns the account named name as the users file holds it now
// (re-read when it changed): a long-lived answer (a stream of events)
// compares it with the one it began with, and ends once its user is
// deleted, demoted or given a new password.
func (l *Login) Account(name string) (access.User, bool) { return l.users.Lookup(name) }
