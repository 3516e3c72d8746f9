// Package logind reads systemd-logind's session state files,
// /run/systemd/sessions/ID: one file per login session, in systemd's
// env-file syntax (UID=1000, USER=alice, STATE=active, REMOTE_HOST=…).
//
// logind says in the file itself that it is private data; it is also what
// sd-login and loginctl read, it is written atomically (a temporary file
// renamed into place), and it needs no D-Bus. The folder is watched with
// inotify for changes. When logind does not run the folder is missing:
// [Read] reports that as [Snapshot.Present] false, not as an error.
//
// Values are taken as systemd's parse_env_file takes them, except that the
// keys logind writes C-escaped (REMOTE_HOST, REMOTE_USER, SERVICE,
// DESKTOP) are unescaped when written bare, so that a host name holding
// "\n" or non-ASCII bytes comes back as it was given to logind.
package logind

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// DefaultRoot is the folder logind keeps its session files in.
const DefaultRoot = "/run/systemd/sessions"

// maxFileSize bounds a session file; logind's are a few hundred bytes.
const maxFileSize = 64 << 10

// Session is one logind session file.
type Session struct {
	ID    string // the file name: logind's session id ("3", "c1")
	UID   uint32 // UID
	User  string // USER
	State string // STATE: "online", "active", "closing" or "opening"
	// Type is TYPE: "tty", "x11", "wayland", "mir", "web" or "unspecified".
	Type string
	// Class is CLASS: "user", "greeter", "lock-screen", "background",
	// "manager", "user-early", "user-incomplete", "none"…
	Class      string
	Service    string // SERVICE: the PAM service ("sshd", "login", "gdm-password")
	Desktop    string // DESKTOP
	TTY        string // TTY: "pts/3", "tty1"
	Display    string // DISPLAY: ":0"
	Seat       string // SEAT: "seat0"
	RemoteHost string // REMOTE_HOST
	RemoteUser string // REMOTE_USER
	Scope      string // SCOPE: the session's systemd unit ("session-3.scope")
	Remote     bool   // REMOTE
	Active     bool   // ACTIVE: the session is in the foreground of its seat
	IdleHint   bool   // IDLE_HINT, when the file has one
	VTNr       int    // VTNR: the virtual terminal number, 0 for none
	Leader     int    // LEADER: the pid of the session's leader process, 0 for none
	// AuditID is AUDIT: the kernel audit session id of the session's
	// processes (usually equal to ID), 0 when none.
	AuditID uint32
	// Start is REALTIME (µs since the epoch): when the session began; zero
	// when the file does not say.
	Start time.Time
	// IdleSince is IDLE_SINCE_HINT (µs since the epoch), when present.
	IdleSince time.Time
	// Extra holds every other key of the file (MONOTONIC, IS_DISPLAY,
	// ORIGINAL_TYPE, POSITION, FIFO, SCOPE_JOB, CONTROLLER…); nil if none.
	Extra map[string]string
}

// ParseFile parses the session file named name (the session id) from r.
// It fails, with a plain error, when the file
// has no valid UID or a number that does not parse, or is larger than
// 64 KiB. Unknown keys go to [Session.Extra].
func ParseFile(name string, r io.Reader) (Session, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return Session{}, fmt.Errorf("logind: reading session %s: %w", name, err)
	}
	if len(b) > maxFileSize {
		return Session{}, fmt.Errorf("logind: session file %s is larger than %d bytes", name, maxFileSize)
	}
	return parse(name, b)
}

func parse(name string, b []byte) (Session, error) {
	s := Session{ID: name}
	var bad error
	haveUID := false
	fail := func(key, v string) {
		if bad == nil {
			bad = fmt.Errorf("logind: session %s: bad %s=%q", name, key, v)
		}
	}
	uint := func(key, v string, bits int) uint64 {
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			fail(key, v)
		}
		return n
	}
	boolean := func(key, v string) bool {
		switch v {
		case "1", "yes", "y", "true", "t", "on":
			return true
		case "0", "no", "n", "false", "f", "off", "":
			return false
		}
		fail(key, v)
		return false
	}
	usec := func(key, v string) time.Time {
		n := uint(key, v, 63)
		if n == 0 {
			return time.Time{}
		}
		return time.UnixMicro(int64(n))
	}
	parseEnvFile(b, func(key, v, raw string, bare bool) {
		switch key {
		case "UID":
			s.UID = uint32(uint(key, v, 32))
			haveUID = true
		case "USER":
			s.User = v
		case "STATE":
			s.State = v
		case "TYPE":
			s.Type = v
		case "CLASS":
			s.Class = v
		case "TTY":
			s.TTY = v
		case "DISPLAY":
			s.Display = v
		case "SEAT":
			s.Seat = v
		case "SCOPE":
			s.Scope = v
		case "REMOTE_HOST", "REMOTE_USER", "SERVICE", "DESKTOP":
			if bare {
				v = cunescape(raw)
			}
			switch key {
			case "REMOTE_HOST":
				s.RemoteHost = v
			case "REMOTE_USER":
				s.RemoteUser = v
			case "SERVICE":
				s.Service = v
			default:
				s.Desktop = v
			}
		case "REMOTE":
			s.Remote = boolean(key, v)
		case "ACTIVE":
			s.Active = boolean(key, v)
		case "IDLE_HINT":
			s.IdleHint = boolean(key, v)
		case "VTNR":
			s.VTNr = int(uint(key, v, 31))
		case "LEADER":
			s.Leader = int(uint(key, v, 31))
		case "AUDIT":
			s.AuditID = uint32(uint(key, v, 32))
		case "REALTIME":
			s.Start = usec(key, v)
		case "IDLE_SINCE_HINT":
			s.IdleSince = usec(key, v)
		default:
			if s.Extra == nil {
				s.Extra = make(map[string]string)
			}
			s.Extra[key] = v
		}
	})
	if bad != nil {
		return Session{}, bad
	}
	if !haveUID {
		return Session{}, fmt.Errorf("logind: session %s: no UID", name)
	}
	return s, nil
}

// Snapshot is what [Read] found in a session folder.
type Snapshot struct {
	// Root is the folder read.
	Root string
	// Present is false when the folder does not exist: logind is not
	// running (or not installed). Sessions is empty then.
	Present bool
	// Sessions are the sessions read, ordered by id (numbers by value).
	Sessions []Session
	// Warnings name the files that were skipped because they could not be
	// read or parsed; each is a plain error wrapping its cause.
	Warnings []error
}

// ValidID reports whether id is a name logind gives a session: letters
// and digits only. Other names in the folder (logind's temporary files
// ".#3XXXXXX") are not sessions.
func ValidID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Read reads every session file in root ("" means [DefaultRoot]). A
// missing folder is no error: Present is false. A file that cannot be read
// or parsed is skipped and named in Warnings; a file that disappears while
// it is read (the session ended) is skipped silently. Read fails, with a
// plain error wrapping the cause (for the provider to map, cim.Map), only
// when root exists but cannot be listed, or ctx ends.
func Read(ctx context.Context, root string) (Snapshot, error) {
	if root == "" {
		root = DefaultRoot
	}
	snap := Snapshot{Root: root}
	if err := ctx.Err(); err != nil {
		return snap, err
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return snap, nil
		}
		return snap, fmt.Errorf("logind: %w", err)
	}
	snap.Present = true
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return snap, err
		}
		name := e.Name()
		if !ValidID(name) || e.IsDir() {
			continue // logind's temporary files, the FIFOs "ID.ref"
		}
		if !e.Type().IsRegular() {
			// Never open a FIFO or device: it could block.
			snap.Warnings = append(snap.Warnings, fmt.Errorf("logind: %s is not a regular file", filepath.Join(root, name)))
			continue
		}
		s, err := readFile(filepath.Join(root, name), name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the session ended between listing and reading
			}
			snap.Warnings = append(snap.Warnings, err)
			continue
		}
		snap.Sessions = append(snap.Sessions, s)
	}
	slices.SortFunc(snap.Sessions, func(a, b Session) int { return compareIDs(a.ID, b.ID) })
	return snap, nil
}

// ReadDir returns the sessions of [Read], dropping its warnings; a missing
// folder gives no sessions and no error.
func ReadDir(ctx context.Context, root string) ([]Session, error) {
	snap, err := Read(ctx, root)
	return snap.Sessions, err
}

func readFile(path, name string) (Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return Session{}, err
	}
	defer f.Close()
	return ParseFile(name, f)
}

// compareIDs orders numeric ids by value, before the others ("c1").
func compareIDs(a, b string) int {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	switch {
	case ea == nil && eb == nil:
		return cmp.Compare(na, nb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return cmp.Compare(a, b)
}
