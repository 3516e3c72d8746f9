package server

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/cim"
)

// DefaultUsersFile is where `cimsess serve` and `cimsess user` look for
// the users file unless told otherwise.
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
	data, err := readCapped(path, "users file")
	if err != nil {
		if cim.CodeOf(err) == cim.ErrInvalidParameter {
			return nil, err
		}
		return nil, usersFileError(path, err)
	}
	return ParseUsers(data)
}

// usersFileError says why a users file could not be read, and what to do.
func usersFileError(path string, err error) error {
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

// Users authenticates against a users file, which it re-reads when it
// changes (checked at most every two seconds), so that `cimsess user`
// takes effect without a restart.
//
// bcrypt is slow on purpose; a successful check is remembered for a
// minute, under an HMAC of the name, password and hash with a key made at
// start, so that a client's requests after the first cost little. An
// unknown user costs a full bcrypt comparison against a dummy hash, so
// that the time taken does not say which names exist.
type Users struct {
	path string

	mu        sync.Mutex
	byName    map[string]User
	modTime   time.Time
	size      int64
	lastCheck time.Time

	warning string // what OpenUsers found unwise (see Warning)

	dummy   []byte
	key     [32]byte
	cacheMu sync.Mutex
	cache   map[[32]byte]cached
}

type cached struct {
	user    User
	expires time.Time
}

// usersRecheck is how often the users file is checked for changes.
var usersRecheck = 2 * time.Second

const (
	cacheTTL  = time.Minute
	cacheSize = 4096
)

// Warning says what OpenUsers found unwise about the file, which is
// served all the same (one its group or others may read), or "".
func (u *Users) Warning() string { return u.warning }

// OpenUsers loads the users file at path.
func OpenUsers(path string) (*Users, error) {
	u := &Users{path: path, cache: map[[32]byte]cached{}}
	if _, err := rand.Read(u.key[:]); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	if err := u.reload(true); err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o044 != 0 && runtime.GOOS != "windows" {
		u.warning = fmt.Sprintf("users file %s may be read by its group or others (mode %04o): its password hashes can be guessed at offline; chmod 0600 it", path, st.Mode().Perm())
	}
	cost := bcrypt.DefaultCost
	for _, x := range u.byName {
		if c, err := bcrypt.Cost(x.Hash); err == nil {
			cost = c
			break
		}
	}
	d, err := bcrypt.GenerateFromPassword([]byte("cimsess-dummy-password"), cost)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	u.dummy = d
	return u, nil
}

// Path returns the users file's path.
func (u *Users) Path() string { return u.path }

// reload re-reads the file if it changed. Errors after the first load
// keep the accounts already loaded.
func (u *Users) reload(force bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(u.lastCheck) < usersRecheck {
		return nil
	}
	u.lastCheck = now
	st, err := os.Stat(u.path)
	if err != nil {
		if force {
			return usersFileError(u.path, err)
		}
		return nil
	}
	if !force && st.ModTime().Equal(u.modTime) && st.Size() == u.size {
		return nil
	}
	if mode := st.Mode().Perm(); mode&0o022 != 0 && runtime.GOOS != "windows" {
		// Whoever may write it may make themselves an administrator: a
		// server refuses it at start, and a running one keeps the
		// accounts it had rather than take what such a file now says.
		if force {
			return cim.Errorf(cim.ErrAccessDenied, "users file %s may be written by its group or others (mode %04o): refusing it; chmod 0600 it", u.path, mode)
		}
		return nil
	}
	users, err := ReadUsersFile(u.path)
	if err != nil {
		return err
	}
	m := make(map[string]User, len(users))
	for _, x := range users {
		m[x.Name] = x
	}
	u.byName, u.modTime, u.size = m, st.ModTime(), st.Size()
	return nil
}

// Lookup returns the account named name as the file holds it now.
func (u *Users) Lookup(name string) (User, bool) {
	_ = u.reload(false)
	u.mu.Lock()
	defer u.mu.Unlock()
	acct, ok := u.byName[name]
	return acct, ok
}

// Count returns the number of accounts.
func (u *Users) Count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.byName)
}

// Authenticate checks a user name and password and returns the account.
func (u *Users) Authenticate(name, password string) (User, bool) {
	if acct, ok := u.AuthenticateCached(name, password); ok {
		return acct, true
	}
	return u.authenticateSlow(name, password)
}

// AuthenticateCached checks a user name and password against the
// remembered successful checks only: it costs an HMAC, never a bcrypt,
// and false says only that the check was not remembered. A remembered
// check stays so while it is used at least once a cacheTTL; a changed
// password or a removed account ends it at once.
func (u *Users) AuthenticateCached(name, password string) (User, bool) {
	_ = u.reload(false)
	u.mu.Lock()
	acct, known := u.byName[name]
	u.mu.Unlock()
	if !known {
		return User{}, false
	}
	key := u.cacheKey(name, password, acct.Hash)
	now := time.Now()
	u.cacheMu.Lock()
	defer u.cacheMu.Unlock()
	c, hit := u.cache[key]
	if hit && now.Before(c.expires) && subtle.ConstantTimeCompare(c.user.Hash, acct.Hash) == 1 {
		c.expires = now.Add(cacheTTL)
		u.cache[key] = c
		return acct, true
	}
	return User{}, false
}

// authenticateSlow checks the password with bcrypt, and remembers a
// success.
func (u *Users) authenticateSlow(name, password string) (User, bool) {
	u.mu.Lock()
	acct, known := u.byName[name]
	u.mu.Unlock()
	if !known {
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return User{}, false
	}
	if bcrypt.CompareHashAndPassword(acct.Hash, []byte(password)) != nil {
		return User{}, false
	}
	key := u.cacheKey(name, password, acct.Hash)
	now := time.Now()
	u.cacheMu.Lock()
	if len(u.cache) >= cacheSize {
		for k, v := range u.cache {
			if now.After(v.expires) || len(u.cache) >= cacheSize {
				delete(u.cache, k)
			}
		}
	}
	u.cache[key] = cached{user: acct, expires: now.Add(cacheTTL)}
	u.cacheMu.Unlock()
	return acct, true
}

func (u *Users) cacheKey(name, password string, hash []byte) [32]byte {
	m := hmac.New(sha256.New, u.key[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	m.Write([]byte{0})
	m.Write(hash)
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}
