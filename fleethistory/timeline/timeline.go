// Package timeline serves a web page that draws the fleet's session
// history as bars on a time axis, one lane per host or per user: zoom and
// pan with the mouse or the keyboard, a time range to pick, live updates
// as a collector writes events (Server-Sent Events), ghosts and crashes
// marked, and a click on a bar (or Enter) shows the session's properties
// and Status changes. The
// page is plain SVG and a small hand-written script, embedded in the
// binary: nothing to build.
//
// Authentication is the server's ([server.Login]): HTTP Basic against a
// users file, bcrypt checks bounded and failed logins throttled per
// source; an administrator sees every session, any other user only their
// own (by user name). A live stream ends once its user is deleted, demoted
// or given a new password. With no users file every request is an
// administrator's, which the command line allows on loopback only.
package timeline

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/server"
)

//go:embed static
var static embed.FS

// Limits of the API.
const (
	// MaxSessions bounds the sessions one request returns.
	MaxSessions = 5000
	// MaxBytes bounds about how many bytes of sessions one request
	// returns: names are not bounded where they are collected, and 5,000
	// sessions of 100 KB names took a collector to 1.5 GB.
	MaxBytes = 16 << 20
	// MaxRange bounds the time range of one request.
	MaxRange = 400 * 24 * time.Hour
	// MaxWatchers bounds the live connections, MaxWatchersPerUser those
	// of one user, so that one user cannot take them all.
	MaxWatchers        = 64
	MaxWatchersPerUser = 8
)

// AccountRecheck is how often a live stream checks that its user's account
// is as it was (a variable for tests).
var AccountRecheck = 5 * time.Second

// Handler is the timeline's http.Handler. Create it with New.
type Handler struct {
	store *fleethistory.Store
	login *server.Login
	mux   *http.ServeMux

	mu       sync.Mutex
	watchers map[chan []byte]string // channel -> restricted user ("" for an administrator)
	perUser  map[string]int         // live connections by user name
	closed   bool
}

// New returns the timeline of store. login authenticates the requests;
// nil serves everyone as an administrator.
func New(store *fleethistory.Store, login *server.Login) *Handler {
	h := &Handler{store: store, login: login, mux: http.NewServeMux(), watchers: map[chan []byte]string{}, perUser: map[string]int{}}
	sub, _ := fs.Sub(static, "static")
	files := http.FileServer(http.FS(sub))
	h.mux.Handle("GET /", files)
	h.mux.HandleFunc("GET /api/sessions", h.sessions)
	h.mux.HandleFunc("GET /api/session", h.session)
	h.mux.HandleFunc("GET /api/events", h.events)
	return h
}

type viewerKey struct{}

// viewer is who asks: restricted users see their own sessions only.
type viewer struct {
	user       string
	restricted bool
}

func viewerOf(ctx context.Context) viewer {
	v, _ := ctx.Value(viewerKey{}).(viewer)
	return v
}

// ServeHTTP authenticates the request and serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
	v := viewer{}
	if h.login != nil {
		cv, ok := h.login.Check(w, r)
		if !ok {
			return
		}
		v = viewer{user: cv.User, restricted: cv.Restricted}
	} else if !server.LoopbackHost(r.Host) {
		server.Fault(w, r, http.StatusForbidden, server.NoAuthHostRefused, nil)
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
}

// Session is a session as the API returns it.
type Session struct {
	Host          string          `json:"host"`
	Class         string          `json:"class"`
	LogonID       string          `json:"logonId"`
	User          string          `json:"user"`
	UID           *uint32         `json:"uid,omitempty"`
	TTY           string          `json:"tty,omitempty"`
	RemoteHost    string          `json:"remoteHost,omitempty"`
	RemoteAddress string          `json:"remoteAddress,omitempty"`
	LogonType     *uint32         `json:"logonType,omitempty"`
	PID           int64           `json:"pid,omitempty"`
	Start         time.Time       `json:"start"`
	End           *time.Time      `json:"end,omitempty"`
	How           string          `json:"how,omitempty"`
	Status        string          `json:"status,omitempty"`
	Props         json.RawMessage `json:"props,omitempty"`
	Changes       []StatusChange  `json:"changes,omitempty"`
}

// StatusChange is one change of a session's Status.
type StatusChange struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

func apiSession(s fleethistory.Session, props bool) Session {
	out := Session{Host: s.Host, Class: s.Class, LogonID: s.LogonID, User: s.User, UID: s.UID, TTY: s.TTY,
		RemoteHost: s.RemoteHost, RemoteAddress: s.RemoteAddress, LogonType: s.LogonType, PID: s.PID,
		Start: s.Start.UTC(), How: string(s.How), Status: s.Status}
	if !s.Open() {
		e := s.End.UTC()
		out.End = &e
	}
	if props {
		out.Props = s.Props
	}
	return out
}

func badRequest(w http.ResponseWriter, msg string) {
	http.Error(w, msg, http.StatusBadRequest)
}

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// LaneCut is a lane whose sessions an answer holds only some of: its
// newest Shown of Total.
type LaneCut struct {
	Lane  string `json:"lane"`
	Shown int    `json:"shown"`
	Total int    `json:"total"`
}

// sessions answers GET /api/sessions?from=T&to=T[&host=GLOB][&user=U][&group=host|user]:
// the sessions open at some time in [from, to], oldest first. When they
// are more than one answer holds, each lane (host, or user with
// group=user) keeps its newest, an equal share (see
// fleethistory.Store.SessionsByLane), and the answer lists the lanes cut
// with how many sessions each has ("cut"); "lanesLeftOut" says that some
// lanes got none (more lanes than an answer holds sessions).
func (h *Handler) sessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to := time.Now()
	from := to.Add(-24 * time.Hour)
	var err error
	if s := q.Get("from"); s != "" {
		if from, err = parseTime(s); err != nil {
			badRequest(w, "from: not an RFC 3339 time")
			return
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = parseTime(s); err != nil {
			badRequest(w, "to: not an RFC 3339 time")
			return
		}
	}
	if !to.After(from) || to.Sub(from) > MaxRange {
		badRequest(w, "the range must be positive and at most 400 days")
		return
	}
	group := fleethistory.LaneHost
	switch q.Get("group") {
	case "", "host":
	case "user":
		group = fleethistory.LaneUser
	default:
		badRequest(w, "group: host or user")
		return
	}
	host, user := q.Get("host"), q.Get("user")
	if len(host) > maxFilter || len(user) > maxFilter {
		badRequest(w, fmt.Sprintf("host and user are at most %d bytes", maxFilter))
		return
	}
	if !plainText(host) || !plainText(user) {
		badRequest(w, "host and user must be UTF-8 text without control characters")
		return
	}
	f := fleethistory.Filter{Since: from, Until: to, Host: host, User: user, Limit: MaxSessions + 1}
	if v := viewerOf(r.Context()); v.restricted {
		f.User = v.user
	}
	type tally struct{ shown, total int }
	lanes := map[string]*tally{} // of the sessions kept: at most MaxSessions
	out := []Session{}
	truncated, leftOut, size := false, false, 0
	err = h.store.SessionsByLane(r.Context(), f, group, func(s fleethistory.Ranked) error {
		a := apiSession(s.Session, false)
		size += a.size()
		if len(out) == MaxSessions || size > MaxBytes {
			truncated, leftOut = true, s.Rank == 1
			return errEnough
		}
		lane := s.Host
		if group == fleethistory.LaneUser {
			lane = s.User
		}
		t := lanes[lane]
		if t == nil {
			t = &tally{total: s.LaneTotal}
			lanes[lane] = t
		}
		t.shown++
		out = append(out, a)
		return nil
	})
	if err != nil && err != errEnough {
		h.unavailable(w, r, err)
		return
	}
	cut := []LaneCut{}
	for l, t := range lanes {
		if t.shown < t.total {
			cut = append(cut, LaneCut{Lane: l, Shown: t.shown, Total: t.total})
		}
	}
	slices.SortFunc(cut, func(a, b LaneCut) int { return strings.Compare(a.Lane, b.Lane) })
	slices.SortStableFunc(out, func(a, b Session) int { return a.Start.Compare(b.Start) })
	writeJSON(w, map[string]any{"from": from.UTC(), "to": to.UTC(), "group": string(group), "sessions": out,
		"truncated": truncated, "cut": cut, "lanesLeftOut": leftOut})
}

// errEnough stops a walk over the sessions once the answer is full.
var errEnough = errors.New("enough")

// size is about how many bytes s takes in an answer: its texts as JSON
// writes them, six bytes for each character it escapes as \u00XX.
func (s *Session) size() int {
	n := 256
	for _, v := range [...]string{s.Host, s.Class, s.LogonID, s.User, s.TTY, s.RemoteHost, s.RemoteAddress, s.How, s.Status} {
		n += jsonLen(v)
	}
	return n
}

// jsonLen is how many bytes encoding/json writes for the text of s (its
// quotes aside): <, > and & (escaped for HTML), control characters and
// U+2028/U+2029 as \u00XX, a quote or backslash as two.
func jsonLen(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '<' || r == '>' || r == '&' || r < 0x20 || r == 0x2028 || r == 0x2029:
			n += 6
		case r == '"' || r == '\\':
			n += 2
		default:
			n += utf8.RuneLen(r) // an invalid byte is written as U+FFFD, three
		}
	}
	return n
}

// unavailable answers a request the fleet history failed: 503 with a
// body that says so and no more (the database's name, user and address
// are not a viewer's business), the error itself in the request's log.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	server.Fault(w, r, http.StatusServiceUnavailable, "the fleet history is unavailable; retry later", http.Header{"Retry-After": {"5"}})
	// After Fault, which records its own text as the detail.
	server.Info(r.Context()).Detail = err.Error()
}

// plainText reports whether s is UTF-8 without control characters (a NUL
// is an error of PostgreSQL's, not an empty answer).
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// session answers GET /api/session?host=H&class=C&logonId=L&start=T: one
// session with its properties and Status changes.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := parseTime(q.Get("start"))
	if err != nil {
		badRequest(w, "start: not an RFC 3339 time")
		return
	}
	k := fleethistory.Key{Host: q.Get("host"), Class: q.Get("class"), LogonID: q.Get("logonId"), Start: start}
	if !plainText(k.Host) || !plainText(k.Class) || !plainText(k.LogonID) {
		badRequest(w, "host, class and logonId must be UTF-8 text without control characters")
		return
	}
	s, err := h.store.Session(r.Context(), k)
	if v := viewerOf(r.Context()); err == nil && v.restricted && s.User != v.user {
		err = fleethistory.ErrNoSession // another's is none of theirs
	}
	if errors.Is(err, fleethistory.ErrNoSession) {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	out := apiSession(s, true)
	changes, err := h.store.StatusChanges(r.Context(), k)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	for _, c := range changes {
		out.Changes = append(out.Changes, StatusChange{At: c.At.UTC(), From: c.From, To: c.To})
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// maxFilter bounds a host glob or user name given to /api/sessions: a
// longer one is refused rather than cut into a different filter.
const maxFilter = 256

// change is what the live stream says of a batch: which hosts and users
// had changes, and the earliest and latest time touched.
type change struct {
	Count int       `json:"count"`
	Hosts []string  `json:"hosts"`
	Users []string  `json:"users"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// Publish tells the live viewers about a batch a collector committed.
func (h *Handler) Publish(changes []fleethistory.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.watchers) == 0 || len(changes) == 0 {
		return
	}
	all := summarize(changes, "")
	perUser := map[string][]byte{}
	for ch, user := range h.watchers {
		var msg []byte
		if user == "" {
			msg = all
		} else {
			if _, ok := perUser[user]; !ok {
				perUser[user] = summarize(changes, user)
			}
			msg = perUser[user]
		}
		if msg == nil {
			continue
		}
		select {
		case ch <- msg:
		default: // a slow viewer misses an update; the next one refreshes it
		}
	}
}

func summarize(changes []fleethistory.Change, user string) []byte {
	var c change
	hosts, users := map[string]bool{}, map[string]bool{}
	for _, x := range changes {
		if user != "" && x.Session.User != user {
			continue
		}
		c.Count++
		hosts[x.Session.Host] = true
		users[x.Session.User] = true
		for _, t := range []time.Time{x.Time, x.Session.Start} {
			if t.IsZero() {
				continue
			}
			if c.From.IsZero() || t.Before(c.From) {
				c.From = t.UTC()
			}
			if t.After(c.To) {
				c.To = t.UTC()
			}
		}
	}
	if c.Count == 0 {
		return nil
	}
	for k := range hosts {
		c.Hosts = append(c.Hosts, k)
	}
	for k := range users {
		c.Users = append(c.Users, k)
	}
	b, _ := json.Marshal(c)
	return b
}

// Close ends the live streams.
func (h *Handler) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.watchers {
		close(ch)
		delete(h.watchers, ch)
	}
}

// rcFlusher flushes through a ResponseController.
type rcFlusher struct{ rc *http.ResponseController }

// Flush sends what was written.
func (f rcFlusher) Flush() { _ = f.rc.Flush() }

// events answers GET /api/events: a text/event-stream of "change" events.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	// Flushed through the writers that wrap it (the request log's), as
	// http.ResponseController finds them.
	rc := http.NewResponseController(w)
	fl := rcFlusher{rc}
	v := viewerOf(r.Context())
	// still reports whether the account is as it was when the stream
	// began: one deleted, demoted or given a new password ends it.
	still := func() bool { return true }
	if h.login != nil {
		was, _ := h.login.Account(v.user)
		still = func() bool {
			now, ok := h.login.Account(v.user)
			return ok && now.Admin == was.Admin && bytes.Equal(now.Hash, was.Hash)
		}
	}
	ch := make(chan []byte, 8)
	h.mu.Lock()
	if h.closed || len(h.watchers) >= MaxWatchers || h.perUser[v.user] >= MaxWatchersPerUser {
		h.mu.Unlock()
		http.Error(w, "too many live viewers", http.StatusServiceUnavailable)
		return
	}
	user := ""
	if v.restricted {
		user = v.user
	}
	h.watchers[ch] = user
	h.perUser[v.user]++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if _, ok := h.watchers[ch]; ok {
			delete(h.watchers, ch)
			close(ch)
		}
		if h.perUser[v.user]--; h.perUser[v.user] <= 0 {
			delete(h.perUser, v.user)
		}
		h.mu.Unlock()
	}()
	// The stream outlives the server's read and write timeouts (a read
	// deadline passed would cancel the request).
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	var b strings.Builder
	b.WriteString("retry: 2000\n: connected\n\n")
	_, _ = w.Write([]byte(b.String()))
	if err := rc.Flush(); err != nil {
		return // a writer that cannot stream: nothing live can be sent
	}
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	recheck := time.NewTicker(AccountRecheck)
	defer recheck.Stop()
	n := 0
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			if !ok || !still() {
				return
			}
			n++
			if _, err := w.Write([]byte("id: " + strconv.Itoa(n) + "\nevent: change\ndata: " + string(msg) + "\n\n")); err != nil {
				return
			}
			fl.Flush()
		case <-recheck.C:
			if !still() {
				return
			}
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
