package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
)

func TestUsersAuthenticate(t *testing.T) {
	old := usersRecheck
	usersRecheck = 0
	defer func() { usersRecheck = old }()
	path := filepath.Join(t.TempDir(), "users")
	if _, err := OpenUsers(path); cim.CodeOf(err) != cim.ErrNotFound {
		t.Fatalf("missing file: %v", err)
	}
	if err := access.AddUser(path, "alice", []byte("one"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	u, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, pass string
		ok         bool
	}{{"alice", "one", true}, {"alice", "one", true}, {"alice", "two", false}, {"Alice", "one", false}, {"bob", "one", false}, {"alice", "", false}} {
		got, ok := u.Authenticate(tc.name, tc.pass)
		if ok != tc.ok || ok && (!got.Admin || got.Name != "alice") {
			t.Errorf("Authenticate(%q, %q) = %+v, %v", tc.name, tc.pass, got, ok)
		}
	}
	// A changed password takes effect at once, cache or not; so do new
	// and deleted users.
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	if err := access.AddUser(path, "alice", []byte("two"), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := access.AddUser(path, "bob", []byte("b"), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Authenticate("alice", "one"); ok {
		t.Error("old password still accepted")
	}
	if got, ok := u.Authenticate("alice", "two"); !ok || got.Admin {
		t.Errorf("new password: %+v %v", got, ok)
	}
	if _, ok := u.Authenticate("bob", "b"); !ok {
		t.Error("new user refused")
	}
	if err := access.DeleteUser(path, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Authenticate("bob", "b"); ok {
		t.Error("deleted user accepted")
	}
	if err := access.DeleteUser(path, "bob"); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("delete twice: %v", err)
	}
	// Argument checks.
	for _, bad := range []struct{ name, pass string }{{"", "x"}, {"a:b", "x"}, {"-x", "x"}, {"ok", ""}, {"ok", strings.Repeat("x", 73)}} {
		if err := access.AddUser(path, bad.name, []byte(bad.pass), false, bcrypt.MinCost); cim.CodeOf(err) != cim.ErrInvalidParameter {
			t.Errorf("AddUser(%q, %d bytes): %v", bad.name, len(bad.pass), err)
		}
	}
}

// TestUnknownUserCostsABcrypt checks that an unknown name is answered no
// faster than a wrong password, so that timing does not tell names apart.
func TestUnknownUserCostsABcrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(path, "alice", []byte("pw"), false, 8); err != nil { // ~15 ms a check
		t.Fatal(err)
	}
	u, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	measure := func(name string) time.Duration {
		best := time.Hour
		for i := 0; i < 5; i++ {
			start := time.Now()
			u.Authenticate(name, "wrong")
			if d := time.Since(start); d < best {
				best = d
			}
		}
		return best
	}
	known, unknown := measure("alice"), measure("mallory")
	if unknown < known/3 {
		t.Errorf("unknown user answered in %v, known user with a wrong password in %v", unknown, known)
	}
}
