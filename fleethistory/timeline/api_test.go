package timeline

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/server"
)

// TestNoLoginOnlyLoopbackNames: without a login the timeline answers only
// requests that name it by a loopback name, so that a web page re-bound to
// 127.0.0.1 (DNS rebinding) cannot read the fleet's history as its own.
func TestNoLoginOnlyLoopbackNames(t *testing.T) {
	h := New(nil, nil)
	for host, want := range map[string]int{
		"127.0.0.1:8080": http.StatusOK, "localhost:8080": http.StatusOK, "[::1]:8080": http.StatusOK,
		"rebind.attacker.example:8080": http.StatusForbidden, "127.0.0.1.nip.io": http.StatusForbidden,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %s: HTTP %d, want %d", host, w.Code, want)
		}
	}
}

// get asks h for path as an administrator on loopback.
func get(h http.Handler, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	r.Host = "127.0.0.1"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// session is a session of host started at start, with user name user.
func session(host, id, user string, start time.Time) fleethistory.Session {
	return fleethistory.Session{Session: history.Session{Class: "Linux_LogonSession", LogonID: id, User: user, TTY: "pts/1",
		Start: start, Status: "OK", Path: `Linux_LogonSession.LogonId="` + id + `"`}, Host: host}
}

// apply writes the sessions, ended a minute after they start unless open.
func apply(t *testing.T, s *fleethistory.Store, sessions []fleethistory.Session, open map[string]bool) {
	t.Helper()
	var cs []fleethistory.Change
	for _, x := range sessions {
		cs = append(cs, fleethistory.Change{MsgID: "b" + x.Host + x.LogonID, Kind: fleethistory.Begin, Time: x.Start, Session: x})
		if !open[x.LogonID] {
			cs = append(cs, fleethistory.Change{MsgID: "f" + x.Host + x.LogonID, Kind: fleethistory.Finish, Time: x.Start.Add(time.Minute), Session: x})
		}
	}
	for len(cs) > 0 {
		n := min(len(cs), 2000)
		if _, err := s.Apply(context.Background(), cs[:n], 0); err != nil {
			t.Fatal(err)
		}
		cs = cs[n:]
	}
}

// answer is what /api/sessions answers.
type answer struct {
	Sessions     []Session `json:"sessions"`
	Truncated    bool      `json:"truncated"`
	Cut          []LaneCut `json:"cut"`
	LanesLeftOut bool      `json:"lanesLeftOut"`
}

func sessionsOf(t *testing.T, h http.Handler, from, to time.Time, more ...string) (answer, int) {
	t.Helper()
	w := get(h, "/api/sessions?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339))+strings.Join(more, ""))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a, w.Body.Len()
}

// TestTruncatedFairPerLane: one host's thousands of sessions open for
// months no longer push every other host's recent sessions out of an
// answer (all open sessions were kept first, and narrowing the range did
// not help, as open sessions overlap any range): each lane keeps its
// newest, the busy one what is left, and the answer names the lane cut
// with its count. The answer stays oldest first.
func TestTruncatedFairPerLane(t *testing.T) {
	s := openStore(t)
	h := New(s, nil)
	now := time.Now().Truncate(time.Second)
	const big = MaxSessions + 200
	all, open := busyFleet(now, big, time.Minute)
	// "carol"'s on web-00 newer than any of big-db's.
	all = append(all, session("web-00", "late", "carol", now.Add(-10*time.Minute)))
	apply(t, s, all, open)

	a, _ := sessionsOf(t, h, now.Add(-6*time.Hour), now)
	perHost := map[string]int{}
	for _, x := range a.Sessions {
		perHost[x.Host]++
	}
	if len(perHost) != 30 {
		t.Fatalf("%d hosts in the answer, want 30: %v", len(perHost), perHost)
	}
	for host, n := range perHost {
		want := 40
		switch host {
		case "big-db":
			want = MaxSessions - 29*40 - 1
		case "web-00":
			want = 41
		}
		if n != want {
			t.Errorf("%s: %d sessions, want %d", host, n, want)
		}
	}
	if !a.Truncated || len(a.Sessions) != MaxSessions || a.LanesLeftOut {
		t.Errorf("%d sessions, truncated %v, lanes left out %v", len(a.Sessions), a.Truncated, a.LanesLeftOut)
	}
	if len(a.Cut) != 1 || a.Cut[0] != (LaneCut{Lane: "big-db", Shown: perHost["big-db"], Total: big}) {
		t.Errorf("cut %+v, want big-db's %d of %d", a.Cut, perHost["big-db"], big)
	}
	// big-db keeps its newest: the oldest it shows is the one that many
	// back from its last.
	for _, x := range a.Sessions {
		if x.Host == "big-db" {
			if want := "big" + strconv.Itoa(big-perHost["big-db"]); x.LogonID != want {
				t.Errorf("big-db's oldest shown is %s, want %s", x.LogonID, want)
			}
			break
		}
	}
	for i := 1; i < len(a.Sessions); i++ {
		if a.Sessions[i].Start.Before(a.Sessions[i-1].Start) {
			t.Fatalf("session %d starts before the one before it", i)
		}
	}

	// Lanes per user share by user: carol's one session is there.
	a, _ = sessionsOf(t, h, now.Add(-6*time.Hour), now, "&group=user")
	users := map[string]int{}
	for _, x := range a.Sessions {
		users[x.User]++
	}
	if users["carol"] != 1 || users["alice"] != 29*40 || len(a.Cut) != 1 || a.Cut[0].Lane != "postgres" || a.Cut[0].Total != big {
		t.Errorf("per user: %v, cut %+v", users, a.Cut)
	}
	if w := get(h, "/api/sessions?group=tty"); w.Code != http.StatusBadRequest {
		t.Errorf("group=tty: HTTP %d", w.Code)
	}
}

// TestAnswerBytesBounded: names are not bounded where they are collected,
// so an answer is bounded in bytes as well as in sessions.
func TestAnswerBytesBounded(t *testing.T) {
	s := openStore(t)
	h := New(s, nil)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	big := strings.Repeat("t", 6000) // a terminal's name: user names are indexed, and an index entry holds 8 KB at most
	var all []fleethistory.Session
	for i := range 3500 {
		x := session("web-1", strconv.Itoa(i), "alice", start.Add(time.Duration(i)*time.Millisecond))
		x.TTY = big
		all = append(all, x)
	}
	apply(t, s, all, nil)
	a, n := sessionsOf(t, h, start.Add(-time.Minute), time.Now())
	if !a.Truncated || len(a.Sessions) == 0 || len(a.Sessions) == 3500 || n > MaxBytes+(1<<20) {
		t.Errorf("%d sessions in %d bytes, truncated %v; want at most about %d bytes", len(a.Sessions), n, a.Truncated, MaxBytes)
	}
}

// TestDatabaseErrors: a database that fails is 503 with a body that
// names no database, user or address, and not "no such session"; the
// request's log line has the database's error (it had only the body's
// text); a NUL in a filter is the client's error.
func TestDatabaseErrors(t *testing.T) {
	s := openStore(t)
	var logged strings.Builder
	h := server.LogRequests(slog.New(slog.NewTextHandler(&logged, nil)), nil, "timeline", New(s, nil))
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	apply(t, s, []fleethistory.Session{session("web-1", "1", "alice", start)}, nil)
	detail := "/api/session?host=web-1&class=Linux_LogonSession&logonId=1&start=" + url.QueryEscape(start.Format(time.RFC3339))
	if w := get(h, detail); w.Code != http.StatusOK {
		t.Fatalf("the session: HTTP %d %s", w.Code, w.Body)
	}
	if w := get(h, strings.Replace(detail, "logonId=1", "logonId=2", 1)); w.Code != http.StatusNotFound {
		t.Errorf("no such session: HTTP %d %s", w.Code, w.Body)
	}
	if w := get(h, "/api/sessions?host=%00"); w.Code != http.StatusBadRequest {
		t.Errorf("a NUL in host: HTTP %d %s", w.Code, w.Body)
	}
	s.Close()
	for _, path := range []string{"/api/sessions", detail} {
		w := get(h, path)
		if body := w.Body.String(); w.Code != http.StatusServiceUnavailable || strings.Contains(body, "postgres") || strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s with the database gone: HTTP %d %q", path, w.Code, body)
		}
	}
	// The log's lines of the two 503s say what the database said.
	for _, line := range strings.Split(logged.String(), "\n") {
		if strings.Contains(line, "http_status=503") && !strings.Contains(line, "closed pool") {
			t.Errorf("the log of a 503 has not the database's error: %s", line)
		}
	}
	if n := strings.Count(logged.String(), "http_status=503"); n != 2 {
		t.Errorf("%d lines of a 503 in the log:\n%s", n, logged.String())
	}
}

// TestLiveViewThroughTheRequestLog: the live stream works behind the
// request log that collect --http puts around the timeline (it answered
// 500 "streaming unsupported" there, the log's writer hiding the flusher).
func TestLiveViewThroughTheRequestLog(t *testing.T) {
	h := New(nil, nil)
	defer h.Close()
	srv := httptest.NewServer(server.LogRequests(slog.New(slog.DiscardHandler), nil, "timeline", h))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasPrefix(line, "retry:") {
		t.Errorf("HTTP %d %s, first line %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), line, err)
	}
}

// TestAnswerBytesCountEscapes: the byte bound counts what JSON writes,
// six bytes for each <, which it escapes.
func TestAnswerBytesCountEscapes(t *testing.T) {
	s := Session{RemoteHost: strings.Repeat("<", 1000)}
	if n := s.size(); n < 6000 {
		t.Errorf("size %d for 1,000 escaped characters", n)
	}
	if n := jsonLen("a\"é\u2028\x01"); n != 1+2+2+6+6 {
		t.Errorf("jsonLen = %d", n)
	}
}
