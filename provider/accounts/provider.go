package accounts

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// ClassName is the class this package serves.
const ClassName = "Win32_UserAccount"

// namespace is the namespace of the paths this package builds.
const namespace = "root/cimv2"

func utf8Valid(b []byte) bool { return utf8.Valid(b) }

// DB is a loaded user database: the accounts of passwd with their shadow
// entries. It is immutable once loaded.
type DB struct {
	Accounts    []Account
	ShadowRead  bool // shadow was read (it may not be readable without root)
	BadLines    int  // malformed lines skipped in passwd and shadow
	byName      map[string]int
	byUID       map[uint32]int
	passwdPath  string
	shadowPath  string
	shadowError error
}

// Load reads root/etc/passwd and, if it can, root/etc/shadow. A missing
// or unreadable passwd is an error (CIM_ERR_FAILED, or
// CIM_ERR_ACCESS_DENIED); an unreadable shadow is not, and leaves the
// shadow-only facts unknown.
func Load(root string) (*DB, error) {
	if root == "" {
		root = "/"
	}
	db := &DB{passwdPath: filepath.Join(root, "etc", "passwd"), shadowPath: filepath.Join(root, "etc", "shadow")}
	data, err := os.ReadFile(db.passwdPath)
	if err != nil {
		code := cim.ErrFailed
		if errors.Is(err, fs.ErrPermission) {
			code = cim.ErrAccessDenied
		}
		return nil, cim.Errorf(code, "accounts: %w", err)
	}
	var bad int
	db.Accounts, bad = ParsePasswd(data)
	db.BadLines += bad
	if sdata, err := os.ReadFile(db.shadowPath); err == nil {
		entries, bad := ParseShadow(sdata)
		db.BadLines += bad
		db.ShadowRead = true
		for i := range db.Accounts {
			db.Accounts[i].Shadow = entries[db.Accounts[i].Name]
		}
	} else {
		db.shadowError = err
		for i := range db.Accounts {
			db.Accounts[i].ShadowUnread = true
		}
	}
	db.index()
	return db, nil
}

// NewDB builds a database from parsed accounts (for tests and for callers
// that have the files' contents already).
func NewDB(accts []Account, shadowRead bool) *DB {
	db := &DB{Accounts: accts, ShadowRead: shadowRead}
	db.index()
	return db
}

func (db *DB) index() {
	db.byName = make(map[string]int, len(db.Accounts))
	db.byUID = make(map[uint32]int, len(db.Accounts))
	for i, a := range db.Accounts {
		if _, dup := db.byName[a.Name]; !dup {
			db.byName[a.Name] = i
		}
		if _, dup := db.byUID[a.UID]; !dup { // the first line wins, as getpwuid does
			db.byUID[a.UID] = i
		}
	}
}

// Lookup returns the account named name.
func (db *DB) Lookup(name string) (Account, bool) {
	if i, ok := db.byName[name]; ok {
		return db.Accounts[i], true
	}
	return Account{}, false
}

// LookupUID returns the first account with the uid, as getpwuid does.
func (db *DB) LookupUID(uid uint32) (Account, bool) {
	if i, ok := db.byUID[uid]; ok {
		return db.Accounts[i], true
	}
	return Account{}, false
}

// UserName returns the name of the uid's account, or the uid in decimal
// when passwd has none (as ls and ps show unknown owners).
func (db *DB) UserName(uid uint32) string {
	if a, ok := db.LookupUID(uid); ok {
		return a.Name
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// SID returns the security identifier Samba gives the Unix user uid:
// S-1-22-1-UID.
func SID(uid uint32) string { return "S-1-22-1-" + strconv.FormatUint(uint64(uid), 10) }

// Disabled reports whether the account cannot log in (see the package
// documentation for the rule), on the day now.
func (a Account) Disabled(now time.Time) bool {
	d, _ := a.DisabledKnown(now)
	return d
}

// DisabledKnown is Disabled, and whether it is known: not when the
// password is kept in shadow and shadow could not be read (an ordinary
// user's view), unless the shell settles it.
func (a Account) DisabledKnown(now time.Time) (disabled, known bool) {
	switch path.Base(a.Shell) {
	case "nologin", "false":
		return true, true
	}
	if s := a.Shadow; s != nil {
		if strings.HasPrefix(s.Password, "!") || s.Password == "*" {
			return true, true
		}
		if s.Expire >= 0 && now.Unix()/86400 >= s.Expire {
			return true, true
		}
		return false, true
	}
	if strings.HasPrefix(a.Password, "!") || a.Password == "*" {
		return true, true // locked in passwd itself
	}
	return false, !(a.ShadowUnread && a.Password == "x")
}

// Options configures a [Provider].
type Options struct {
	// Root is the folder holding etc/passwd and etc/shadow; default "/".
	// On Windows and macOS, where passwd is not the user database, an empty
	// Root makes Enumerate return provider.ErrNotImplemented.
	Root string
	// Domain is the Domain of every account and the HOST of Caption;
	// default os.Hostname.
	Domain string
	// Host is the host put in reference paths (\\HOST\root\cimv2:…); default
	// Domain.
	Host string
	// Now is the clock for account expiry; default time.Now.
	Now func() time.Time
}

// Provider serves Win32_UserAccount. It is safe for concurrent use.
type Provider struct {
	opts Options

	provider.SourceLog
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	if opts.Domain == "" {
		opts.Domain = hostname()
	}
	if opts.Host == "" {
		opts.Host = opts.Domain
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{opts: opts}
}

func hostname() string {
	h := prop.Host("")
	if i := strings.IndexByte(h, '.'); i > 0 { // the short name, as a computer's domain is
		h = h[:i]
	}
	return h
}

// Name returns "accounts".
func (p *Provider) Name() string { return "accounts" }

// Classes returns Win32_UserAccount.
func (p *Provider) Classes() []string { return []string{ClassName} }

// Domain returns the Domain the provider gives its accounts.
func (p *Provider) Domain() string { return p.opts.Domain }

// Path returns the object path of user name's account:
// \\HOST\root\cimv2:Win32_UserAccount.Domain="HOST",Name="name".
func (p *Provider) Path(name string) cim.ObjectPath {
	return cim.ObjectPath{Host: p.opts.Host, Namespace: namespace, ClassName: ClassName,
		Keys: []cim.KeyBinding{{Name: "Domain", Value: p.opts.Domain}, {Name: "Name", Value: name}}}
}

// DB loads the user database from the provider's root.
func (p *Provider) DB(ctx context.Context) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	if p.opts.Root == "" && (runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios") {
		return nil, provider.ErrNotImplemented
	}
	return Load(p.opts.Root)
}

// Enumerate returns the accounts of passwd as Win32_UserAccount instances.
// Hint.Keys "name" (and "domain") narrow it to one account.
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

// list is Enumerate's whole result.
func (p *Provider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	if !strings.EqualFold(class, ClassName) {
		return nil, cim.Errorf(cim.ErrInvalidClass, "accounts: does not serve %s", class)
	}
	db, err := p.DB(ctx)
	if err != nil {
		p.setSources([]provider.Source{{Name: "passwd", Where: p.passwdWhere(), Note: err.Error()}})
		return nil, err
	}
	src := []provider.Source{{Name: "passwd", Where: db.passwdPath, Found: len(db.Accounts)}}
	if db.BadLines > 0 {
		src[0].Note = strconv.Itoa(len(db.Accounts)) + " records, " + strconv.Itoa(db.BadLines) + " malformed lines skipped"
	}
	if !db.ShadowRead && db.shadowError != nil {
		src = append(src, provider.Source{Name: "shadow", Where: db.shadowPath, Warn: true,
			Note: "not read: " + shortErr(db.shadowError) + "; whether an account is locked is not known: Disabled is NULL, Status Unknown"})
	}
	p.setSources(src)
	if d, ok := hint.Keys["domain"].(string); ok && !strings.EqualFold(d, p.opts.Domain) {
		return nil, nil
	}
	now := p.opts.Now()
	if n, ok := hint.Keys["name"].(string); ok {
		if a, found := db.Lookup(n); found {
			return []*cim.Instance{p.Instance(a, now)}, nil
		}
		// WMI compares key strings whatever their case: ROOT finds root
		// (and every account that differs from it only in case).
		var out []*cim.Instance
		seen := map[string]bool{}
		for _, a := range db.Accounts {
			if strings.EqualFold(a.Name, n) && !seen[a.Name] {
				seen[a.Name] = true
				out = append(out, p.Instance(a, now))
			}
		}
		return out, nil
	}
	out := make([]*cim.Instance, 0, len(db.Accounts))
	seen := map[string]bool{}
	for _, a := range db.Accounts {
		if seen[a.Name] { // a name twice in passwd: the first wins, as getpwnam does
			continue
		}
		seen[a.Name] = true
		out = append(out, p.Instance(a, now))
	}
	return out, nil
}

func (p *Provider) passwdWhere() string {
	root := p.opts.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, "etc", "passwd")
}

func shortErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (p *Provider) setSources(s []provider.Source) {
	p.SetSources(s...)
}

// Instance maps one account onto a Win32_UserAccount instance (see the
// package documentation). The shadow facts are NULL when a has no shadow
// entry.
func (p *Provider) Instance(a Account, now time.Time) *cim.Instance {
	in := cim.NewInstance(ClassName)
	in.Owner = a.Name
	disabled, known := a.DisabledKnown(now)
	status := "OK"
	var disabledValue any = disabled
	switch {
	case !known:
		// Its password lives in a shadow this user may not read.
		status, disabledValue = "Unknown", nil
	case disabled:
		status = "Degraded"
	}
	in.Set("Caption", schema.Truncate(p.opts.Domain+`\`+a.Name, 64)).
		Set("Domain", p.opts.Domain).
		Set("Name", a.Name).
		Set("FullName", prop.NullIfEmpty(a.FullName())).
		Set("Description", prop.NullIfEmpty(gecosRest(a.GECOS))).
		Set("SID", SID(a.UID)).
		Set("SIDType", uint8(1)).
		Set("LocalAccount", true).
		Set("AccountType", uint32(512)).
		Set("Disabled", disabledValue).
		Set("Status", status).
		Set("Lockout", nil)
	var required, expires, changeable any
	pw := a.Password
	if a.Shadow != nil {
		pw = a.Shadow.Password
	}
	if pw != "x" || a.Shadow != nil {
		required = pw != ""
	}
	if s := a.Shadow; s != nil {
		expires = s.MaxAge >= 0 && s.MaxAge < 99999
		changeable = !(s.MinAge >= 0 && s.MaxAge >= 0 && s.MinAge > s.MaxAge)
	}
	in.Set("PasswordRequired", required).Set("PasswordExpires", expires).Set("PasswordChangeable", changeable)
	return in
}

// gecosRest returns GECOS's fields after the full name, the empty ones
// left out, joined by ", ".
func gecosRest(gecos string) string {
	f := strings.Split(gecos, ",")
	var rest []string
	for _, s := range f[1:] {
		if s = strings.TrimSpace(s); s != "" {
			rest = append(rest, s)
		}
	}
	return strings.Join(rest, ", ")
}
