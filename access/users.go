package access

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/cim"
)

// DefaultUsersFile is where `cimsess user`, `cimsessd serve` and the
// timeline of `cimsessd collect` look for the users file unless told
// otherwise.
const DefaultUsersFile = "/etc/cimsess/users"

// User is one account of the users file.
type User struct {
	Name  string
	Hash  []byte // bcrypt hash of the password
	Admin bool   // an administrator sees every instance; others only their own
}

// The users file holds one account a line, "name:bcrypt-hash:role" with
// role "admin" or "user"; blank lines and lines starting with '#' are
// ignored. It is written with mode 0600.

// ValidUserName reports whether name can be a user name: 1 to 64 letters,
// digits and ._@- characters, not starting with '-'.
func ValidUserName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return false
		}
	}
	return true
}

// ParseUsers reads the users file format.
func ParseUsers(data []byte) ([]User, error) {
	var out []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		parts := strings.Split(t, ":")
		if len(parts) != 3 {
			return nil, cim.Errorf(cim.ErrFailed, "users file line %d: want name:hash:role", line)
		}
		name, hash, role := parts[0], parts[1], parts[2]
		if !ValidUserName(name) {
			return nil, cim.Errorf(cim.ErrFailed, "users file line %d: bad user name %q", line, name)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "users file line %d: %s's hash is not a bcrypt hash", line, name)
		}
		if role != "admin" && role != "user" {
			return nil, cim.Errorf(cim.ErrFailed, "users file line %d: role %q is not admin or user", line, role)
		}
		if seen[name] {
			return nil, cim.Errorf(cim.ErrFailed, "users file line %d: %s appears twice", line, name)
		}
		seen[name] = true
		out = append(out, User{Name: name, Hash: []byte(hash), Admin: role == "admin"})
	}
	return out, sc.Err()
}

// FormatUsers writes users in the users file format.
func FormatUsers(users []User) []byte {
	var b bytes.Buffer
	b.WriteString("# cimsess users: name:bcrypt-hash:role (admin or user). Manage with `cimsess user`.\n")
	for _, u := range users {
		role := "user"
		if u.Admin {
			role = "admin"
		}
		fmt.Fprintf(&b, "%s:%s:%s\n", u.Name, u.Hash, role)
	}
	return b.Bytes()
}

// ReadUsersFile reads and parses a users file.
func ReadUsersFile(path string) ([]User, error) {
	data, err := ReadCapped(path, "users file")
	if err != nil {
		if cim.CodeOf(err) == cim.ErrInvalidParameter {
			return nil, err
		}
		return nil, UsersFileError(path, err)
	}
	return ParseUsers(data)
}

// UsersFileError says why a users file could not be read, and what to do:
// err is what opening or reading it returned.
func UsersFileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cim.Errorf(cim.ErrNotFound, "users file %s does not exist (create it with `cimsess user add`)", path)
	case errors.Is(err, fs.ErrPermission):
		return cim.Errorf(cim.ErrAccessDenied, "users file %s: this user may not read it; run as its owner, or give --users FILE of your own (cimsess user add --users FILE NAME --admin makes one)", path)
	}
	return cim.Wrap(cim.ErrAccessDenied, err)
}

// writeUsersFile replaces the file atomically, mode 0600.
func writeUsersFile(path string, users []User) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return cim.Wrap(cim.ErrAccessDenied, err)
	}
	f, err := os.CreateTemp(dir, ".users-*")
	if err != nil {
		return cim.Wrap(cim.ErrAccessDenied, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return cim.Wrap(cim.ErrFailed, err)
	}
	if _, err := f.Write(FormatUsers(users)); err != nil {
		f.Close()
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := f.Close(); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}

// AddUser adds the user to the users file (creating it), or replaces the
// password and role of an existing one. cost 0 is bcrypt's default.
func AddUser(path, name string, password []byte, admin bool, cost int) error {
	if !ValidUserName(name) {
		return cim.Errorf(cim.ErrInvalidParameter, "bad user name %q: use 1 to 64 letters, digits and ._@-", name)
	}
	if len(password) == 0 {
		return cim.Errorf(cim.ErrInvalidParameter, "empty password")
	}
	if len(password) > 72 {
		return cim.Errorf(cim.ErrInvalidParameter, "password longer than 72 bytes (bcrypt's limit)")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	users, err := ReadUsersFile(path)
	if err != nil && cim.CodeOf(err) != cim.ErrNotFound {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	u := User{Name: name, Hash: hash, Admin: admin}
	replaced := false
	for i := range users {
		if users[i].Name == name {
			users[i], replaced = u, true
		}
	}
	if !replaced {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	return writeUsersFile(path, users)
}

// DeleteUser removes a user from the users file; CIM_ERR_NOT_FOUND if
// there is no such user.
func DeleteUser(path, name string) error {
	users, err := ReadUsersFile(path)
	if err != nil {
		return err
	}
	out := users[:0]
	for _, u := range users {
		if u.Name != name {
			out = append(out, u)
		}
	}
	if len(out) == len(users) {
		return cim.Errorf(cim.ErrNotFound, "no user %q in %s", name, path)
	}
	return writeUsersFile(path, out)
}
