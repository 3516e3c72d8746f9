package timeline

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/server"
)

// newLogin returns a Login over a users file holding admin and bob.
func newLogin(t *testing.T) (*server.Login, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	for _, u := range []struct {
		name  string
		admin bool
	}{{"admin", true}, {"bob", false}} {
		if err := access.AddUser(path, u.name, []byte(u.name+"-pw"), u.admin, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	users, err := server.OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	return server.NewLogin(users, "cimsess timeline", 0, 0, 0), path
}

// TestLoginThrottled: the timeline checks passwords as the server does, so
// a source that keeps guessing is refused (429) without more checks.
func TestLoginThrottled(t *testing.T) {
	login, _ := newLogin(t)
	h := New(nil, login)
	codes := map[int]int{}
	for range 15 {
		r := httptest.NewRequest("GET", "/api/events", nil)
		r.SetBasicAuth("bob", "guess")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes[w.Code]++
	}
	if codes[http.StatusUnauthorized] != server.DefaultMaxLoginFailures || codes[http.StatusTooManyRequests] != 15-server.DefaultMaxLoginFailures {
		t.Errorf("15 wrong passwords: %v", codes)
	}
}

// TestStreamEndsWithItsAccount: a live stream ends once its user is
// deleted, and one user cannot hold every live connection.
func TestStreamEndsWithItsAccount(t *testing.T) {
	defer func(d time.Duration) { AccountRecheck = d }(AccountRecheck)
	AccountRecheck = 50 * time.Millisecond
	login, path := newLogin(t)
	h := New(nil, login)
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	open := func(user string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/api/events", nil)
		req.SetBasicAuth(user, user+"-pw")
		return http.DefaultClient.Do(req)
	}
	var held []*http.Response
	defer func() {
		for _, r := range held {
			r.Body.Close()
		}
	}()
	for i := range MaxWatchersPerUser + 1 {
		resp, err := open("bob")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp)
		want := http.StatusOK
		if i == MaxWatchersPerUser {
			want = http.StatusServiceUnavailable
		}
		if resp.StatusCode != want {
			t.Fatalf("stream %d of bob: HTTP %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	resp, err := open("admin")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the administrator's stream beside bob's: %v %v", resp.StatusCode, err)
	}
	defer resp.Body.Close()
	if err := access.DeleteUser(path, "bob"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(held[0].Body)
		for sc.Scan() {
		}
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("bob's stream goes on after bob was deleted")
	}
	// The administrator's stays.
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry:") {
		t.Errorf("the administrator's stream: %q %v", line, err)
	}
}
