package access

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// TestAddDeleteUser: the users file is written mode 0600, a user is
// replaced in place, deleting one that is not there is CIM_ERR_NOT_FOUND,
// and a bad name or password is refused before anything is written.
func TestAddDeleteUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "users")
	if _, err := ReadUsersFile(path); cim.CodeOf(err) != cim.ErrNotFound {
		t.Fatalf("missing file: %v", err)
	}
	if err := AddUser(path, "alice", []byte("one"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	if err := AddUser(path, "alice", []byte("two"), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, "bob", []byte("b"), false, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	us, err := ReadUsersFile(path)
	if err != nil || len(us) != 2 || us[0].Name != "alice" || us[0].Admin || us[1].Name != "bob" {
		t.Fatalf("after adds: %+v %v", us, err)
	}
	if err := DeleteUser(path, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteUser(path, "bob"); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("delete twice: %v", err)
	}
	for _, bad := range []struct{ name, pass string }{{"", "x"}, {"a:b", "x"}, {"-x", "x"}, {"ok", ""}, {"ok", strings.Repeat("x", 73)}} {
		if err := AddUser(path, bad.name, []byte(bad.pass), false, bcrypt.MinCost); cim.CodeOf(err) != cim.ErrInvalidParameter {
			t.Errorf("AddUser(%q, %d bytes): %v", bad.name, len(bad.pass), err)
		}
	}
	if _, err := ReadUsersFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("/dev/zero: %v", err)
	}
}

// TestIsLoopback: localhost and loopback IPs, with a port or not, are
// loopback; every interface, another address or a name is not.
func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5988": true, "localhost:1": true, "LOCALHOST": true, "[::1]:5988": true, "::1": true, "127.1.2.3:4": true,
		":5988": false, "0.0.0.0:5988": false, "10.0.0.1:1": false, "example.com:1": false, "": false, "[::]:1": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
