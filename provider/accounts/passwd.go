// Package accounts serves Win32_UserAccount from the local user database:
// /etc/passwd, and /etc/shadow where it can be read. It parses the files
// itself (pure Go, no NSS), so it works on a copy of another machine's files
// under an injectable root, and it gives the other providers one place to
// turn a uid into a user name ([DB.LookupUID]) and a user into the object
// path of its account ([Provider.Path]).
//
// How the Unix facts map onto the Windows class:
//
//   - Domain is the host name (a local account's domain on Windows is the
//     computer's name), Caption is "HOST\name".
//   - SID is the one Samba gives Unix users it maps (winbind's "Unix User"
//     domain): S-1-22-1-UID. SIDType is 1 (SidTypeUser).
//   - FullName is the first comma-separated field of GECOS; the other GECOS
//     fields (room, phones, other), when set, become Description.
//   - Disabled is true when the account cannot log in with a password or at
//     all: its shadow password starts with "!" (locked by passwd -l or
//     usermod -L) or is "*" (no password was ever set), its shadow account
//     expiry date has passed, or its shell is nologin or false. A disabled
//     account has Status "Degraded", as WMI reports disabled accounts;
//     others "OK". When shadow cannot be read (not root) and the shell does
//     not settle it, Disabled is NULL and Status "Unknown": a locked
//     password is shadow's to say.
//   - PasswordRequired is false only when the password field is empty.
//     PasswordExpires is true when shadow sets a maximum password age
//     (other than empty or 99999). PasswordChangeable is false when shadow's
//     minimum age exceeds its maximum. These three are NULL when shadow
//     cannot be read (not root), since passwd alone does not say.
//   - Lockout (locked out after failed logons) is NULL: faillock's state is
//     not read.
//   - AccountType is 512 (UF_NORMAL_ACCOUNT); LocalAccount is TRUE.
//   - Owner is the user's own name, so a user sees their own account.
package accounts

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Account is one line of passwd, with what shadow adds when it was read.
type Account struct {
	Name  string
	UID   uint32
	GID   uint32
	GECOS string
	Home  string
	Shell string
	// Password is passwd's second field, usually "x" (see shadow).
	Password string
	// Shadow is the account's shadow entry; nil when shadow was not read
	// or has no line for the account.
	Shadow *Shadow
	// ShadowUnread says that shadow could not be read (no root): what
	// only it tells (a locked password) is not known.
	ShadowUnread bool
}

// Shadow is one line of /etc/shadow. Day counts are days since 1970-01-01;
// -1 means the field is empty.
type Shadow struct {
	Name       string
	Password   string // the hash, or "!…" (locked), "*" (no password), "" (none needed)
	LastChange int64
	MinAge     int64
	MaxAge     int64
	Warn       int64
	Inactive   int64
	Expire     int64
}

// FullName returns the first comma-separated field of GECOS.
func (a Account) FullName() string {
	name, _, _ := strings.Cut(a.GECOS, ",")
	return name
}

// ParsePasswd parses passwd(5) text. Lines that are empty, comments, NIS
// compat entries ("+…", "-…") or malformed (fewer than seven fields, a
// uid or gid that is not a 32-bit number, an empty name) are skipped; the
// count of malformed lines is returned so a caller can say so.
func ParsePasswd(data []byte) (accts []Account, bad int) {
	for _, line := range splitLines(data) {
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 7 || f[0] == "" || !utf8Valid([]byte(f[0])) {
			// A name that is not UTF-8 cannot be a key of a path.
			bad++
			continue
		}
		for i := 1; i < len(f); i++ {
			f[i] = field(f[i])
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			bad++
			continue
		}
		accts = append(accts, Account{Name: f[0], Password: f[1], UID: uint32(uid), GID: uint32(gid),
			GECOS: f[4], Home: f[5], Shell: strings.Join(f[6:], ":")})
	}
	return accts, bad
}

// ParseShadow parses shadow(5) text into entries by user name. Malformed
// lines (fewer than two fields, or numeric fields that are not numbers)
// are skipped and counted.
func ParseShadow(data []byte) (entries map[string]*Shadow, bad int) {
	entries = map[string]*Shadow{}
	for _, line := range splitLines(data) {
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 || f[0] == "" || !utf8Valid([]byte(f[0])) {
			bad++
			continue
		}
		s := &Shadow{Name: f[0], Password: f[1]}
		nums := []*int64{&s.LastChange, &s.MinAge, &s.MaxAge, &s.Warn, &s.Inactive, &s.Expire}
		ok := true
		for i, p := range nums {
			*p = -1
			if 2+i >= len(f) || f[2+i] == "" {
				continue
			}
			n, err := strconv.ParseInt(f[2+i], 10, 64)
			if err != nil {
				ok = false
				break
			}
			*p = n
		}
		if !ok {
			bad++
			continue
		}
		entries[s.Name] = s
	}
	return entries, bad
}

// splitLines splits text into lines without their "\n" or "\r\n".
// Lines need not be UTF-8: the parsers decode each field (see field).
func splitLines(data []byte) []string {
	var out []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		out = append(out, string(line))
	}
	return out
}

// field decodes a passwd field that is not UTF-8 (a GECOS written in
// Latin-1, as older systems and chfn in a Latin-1 locale did) as Latin-1,
// with the C1 control bytes 0x80-0x9F, which Latin-1 leaves unprintable,
// escaped as \xNN. UTF-8 text is returned as it is.
func field(s string) string {
	if utf8Valid([]byte(s)) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
