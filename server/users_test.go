package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/cim"
)

const testHash = "$2a$04$abcdefghijklmnopqrstuu5Zo6PaWl9C1iU2Z4D8HbD7K2PQv7Hy2" // any well-formed bcrypt hash

var parseUsersCases = []struct {
	name, in string
	n        int
	ok       bool
}{
	{"empty", "", 0, true},
	{"comments", "# x\n\n   \n", 0, true},
	{"two", "alice:" + testHash + ":admin\nbob:" + testHash + ":user\n", 2, true},
	{"crlf", "alice:" + testHash + ":admin\r\n", 1, true},
	{"bad role", "alice:" + testHash + ":root\n", 0, false},
	{"bad hash", "alice:plain:admin\n", 0, false},
	{"bad name", "al ice:" + testHash + ":admin\n", 0, false},
	{"too few fields", "alice:" + testHash + "\n", 0, false},
	{"duplicate", "a:" + testHash + ":user\na:" + testHash + ":user\n", 0, false},
}

func TestParseUsers(t *testing.T) {
	for _, tc := range parseUsersCases {
		t.Run(tc.name, func(t *testing.T) {
			us, err := ParseUsers([]byte(tc.in))
			if (err == nil) != tc.ok || len(us) != tc.n {
				t.Fatalf("got %d users, err %v", len(us), err)
			}
			if tc.ok {
				back, err := ParseUsers(FormatUsers(us))
				if err != nil || len(back) != len(us) {
					t.Errorf("round trip: %v", err)
				}
			}
		})
	}
}

func FuzzParseUsers(f *testing.F) {
	for _, tc := range parseUsersCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		us, err := ParseUsers(data)
		if err != nil {
			if _, ok := err.(*cim.Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		for _, u := range us {
			if !ValidUserName(u.Name) {
				t.Fatalf("accepted name %q", u.Name)
			}
		}
		back, err := ParseUsers(FormatUsers(us))
		if err != nil || len(back) != len(us) {
			t.Fatalf("round trip: %d → %d, %v", len(us), len(back), err)
		}
	})
}

func TestUsersAuthenticate(t *testing.T) {
	old := usersRecheck
	usersRecheck = 0
	defer func() { usersRecheck = old }()
	path := filepath.Join(t.TempDir(), "users")
	if _, err := OpenUsers(path); cim.CodeOf(err) != cim.ErrNotFound {
		t.Fatalf("missing file: %v", err)
	}
	if err := AddUser(path, "alice", []byte("one"), true, bcrypt.MinCost); err != nil {
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
	if err := AddUser(path, "alice", []byte("two"), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, "bob", []byte("b"), false, bcrypt.MinCost); err != nil {
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
	if err := DeleteUser(path, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Authenticate("bob", "b"); ok {
		t.Error("deleted user accepted")
	}
	if err := DeleteUser(path, "bob"); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("delete twice: %v", err)
	}
	// Argument checks.
	for _, bad := range []struct{ name, pass string }{{"", "x"}, {"a:b", "x"}, {"-x", "x"}, {"ok", ""}, {"ok", strings.Repeat("x", 73)}} {
		if err := AddUser(path, bad.name, []byte(bad.pass), false, bcrypt.MinCost); cim.CodeOf(err) != cim.ErrInvalidParameter {
			t.Errorf("AddUser(%q, %d bytes): %v", bad.name, len(bad.pass), err)
		}
	}
}

// TestUnknownUserCostsABcrypt checks that an unknown name is answered no
// faster than a wrong password, so that timing does not tell names apart.
func TestUnknownUserCostsABcrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := AddUser(path, "alice", []byte("pw"), false, 8); err != nil { // ~15 ms a check
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
