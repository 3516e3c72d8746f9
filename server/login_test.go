package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
)

// TestLoginBurst: a burst of wrong passwords from one source gets no more
// password checks than the throttle allows (and the checks already under
// way): those that waited for a bcrypt turn look at the throttle again.
func TestLoginBurst(t *testing.T) {
	// A cost that makes the burst queue for its bcrypt turns (a few ms
	// a check), yet lets the ten failures finish well within the second
	// a request waits for a turn on a loaded machine or under -race:
	// cost 10 did not (7 of 10 checked, the rest 503).
	path := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(path, "alice", []byte(alicePass), false, 7); err != nil {
		t.Fatal(err)
	}
	users, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	const maxChecks, maxFailures = 2, 10
	l := NewLogin(users, Realm, maxChecks, maxFailures, time.Minute)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth("alice", "guess")
			w := httptest.NewRecorder()
			if _, ok := l.Check(w, r); ok {
				t.Error("a wrong password let in")
			}
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := codes[http.StatusUnauthorized]; n < maxFailures || n > maxFailures+maxChecks {
		t.Errorf("40 wrong passwords at once: %v, want %d to %d checked (401)", codes, maxFailures, maxFailures+maxChecks)
	}
	// The right password from elsewhere still works.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.9:1234"
	r.SetBasicAuth("alice", alicePass)
	if v, ok := l.Check(httptest.NewRecorder(), r); !ok || v.User != "alice" || !v.Restricted {
		t.Errorf("alice from another address: %+v %v", v, ok)
	}
}

// TestUsersFileWritableByOthers: a users file its group or others may
// write is refused at start, and a running server does not take in what
// such a file says once it changes.
func TestUsersFileWritableByOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(path, "alice", []byte(alicePass), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	users, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if users.Warning() != "" {
		t.Errorf("a 0600 file: %s", users.Warning())
	}
	// One that others may read is served, with a warning.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if readable, err := OpenUsers(path); err != nil {
		t.Errorf("OpenUsers of a 0644 file: %v", err)
	} else if !strings.Contains(readable.Warning(), "may be read by its group or others (mode 0644)") {
		t.Errorf("OpenUsers of a 0644 file: warning %q", readable.Warning())
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenUsers(path); cim.CodeOf(err) != cim.ErrAccessDenied || !strings.Contains(err.Error(), "chmod 0600") {
		t.Errorf("OpenUsers of a 0666 file: %v", err)
	}
	// Someone else adds an administrator to it.
	if err := access.AddUser(path, "eve", []byte("eve-pw"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	time.Sleep(usersRecheck + 100*time.Millisecond)
	if _, ok := users.Authenticate("eve", "eve-pw"); ok {
		t.Error("a running server took in an administrator from a file anyone may write")
	}
	if _, ok := users.Authenticate("alice", alicePass); !ok {
		t.Error("the accounts it had are gone")
	}
}
