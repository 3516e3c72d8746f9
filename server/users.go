package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
)

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
	byName    map[string]access.User
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
	user    access.User
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
			return access.UsersFileError(u.path, err)
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
	users, err := access.ReadUsersFile(u.path)
	if err != nil {
		return err
	}
	m := make(map[string]access.User, len(users))
	for _, x := range users {
		m[x.Name] = x
	}
	u.byName, u.modTime, u.size = m, st.ModTime(), st.Size()
	return nil
}

// Lookup returns the account named name as the file holds it now.
func (u *Users) Lookup(name string) (access.User, bool) {
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
func (u *Users) Authenticate(name, password string) (access.User, bool) {
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
func (u *Users) AuthenticateCached(name, password string) (access.User, bool) {
	_ = u.reload(false)
	u.mu.Lock()
	acct, known := u.byName[name]
	u.mu.Unlock()
	if !known {
		return access.User{}, false
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
	return access.User{}, false
}

// authenticateSlow checks the password with bcrypt, and remembers a
// success.
func (u *Users) authenticateSlow(name, password string) (access.User, bool) {
	u.mu.Lock()
	acct, known := u.byName[name]
	u.mu.Unlock()
	if !known {
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return access.User{}, false
	}
	if bcrypt.CompareHashAndPassword(acct.Hash, []byte(password)) != nil {
		return access.User{}, false
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
