// Package bsd is the provider of logon sessions on macOS (and FreeBSD):
// it turns the USER_PROCESS records of the utmpx file into
// Win32_LogonSession instances. These systems have no audit session ids
// in a /proc and no logind, so a session is its login record; whether it
// still lives is whether its process does.
//
// The rules it keeps:
//
//	LogonId    "utmpx:LINE:PID", the line escaped as utmp.Display does
//	Status     the record's process lives → OK; it is gone (a ghost) →
//	           Lost Comm; it cannot be told → Unknown
//	LogonType  a remote host in the record → 10 RemoteInteractive, else
//	           2 Interactive
//	StartTime  the record's time
package bsd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/sysfile/utmpx"
)

// ClassName is the class this provider serves.
const ClassName = "Win32_LogonSession"

// Status values the sessions take.
const (
	StatusOK       = "OK"
	StatusLostComm = "Lost Comm"
	StatusUnknown  = "Unknown"
)

// LogonType values the sessions take.
const (
	LogonInteractive       uint32 = 2
	LogonRemoteInteractive uint32 = 10
)

// Options configures a [Provider]. Empty fields take the system's defaults.
type Options struct {
	// Format is the file's format; default utmpx.FormatFor(runtime.GOOS).
	Format utmpx.Format
	// Path is the utmpx file; default the format's DefaultPath. A path
	// given here must exist; the default may be missing (no logins).
	Path string
	// Alive tells whether a process lives; known is false when it cannot
	// be told. Default: signal 0 on Unix systems, never known elsewhere.
	Alive func(pid int) (alive, known bool)
	// Location is the time zone of StartTime's offset; default time.Local.
	Location *time.Location
}

// Provider serves Win32_LogonSession from utmpx. It is safe for
// concurrent use.
type Provider struct {
	opts     Options
	explicit bool

	provider.SourceLog
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	if !opts.Format.Valid() {
		opts.Format = utmpx.FormatFor(runtime.GOOS)
	}
	explicit := opts.Path != ""
	if !explicit {
		opts.Path = opts.Format.DefaultPath()
	}
	if opts.Alive == nil {
		opts.Alive = processAlive
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	return &Provider{opts: opts, explicit: explicit}
}

// Name returns "utmpx-logon".
func (p *Provider) Name() string { return "utmpx-logon" }

// Classes returns the one class served.
func (p *Provider) Classes() []string { return []string{ClassName} }

// Enumerate returns one instance per login record. hint.Keys["logonid"]
// narrows the result to one.
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
		return nil, cim.Errorf(cim.ErrInvalidClass, "utmpx-logon serves %s, not %s", ClassName, class)
	}
	byID := map[string]utmpx.Record{}
	warn, err := utmpx.ReadFile(ctx, p.opts.Path, p.opts.Format, func(r utmpx.Record) error {
		if r.UserProcess() {
			id := logonID(r)
			// The same line and pid twice: the later record is the truth.
			byID[id] = r
		}
		return nil
	})
	src := provider.Source{Name: "utmpx", Where: p.opts.Path, Found: len(byID)}
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist) && !p.explicit:
		src.Note = "not present"
	case err != nil:
		return nil, cim.Map(err) // the reader's error, mapped once
	case warn != nil:
		src.Note = fmt.Sprintf("%d login records; %v", len(byID), warn)
	}
	p.SetSources(src)

	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	want, narrowed := hint.Keys["logonid"]
	var out []*cim.Instance
	for _, id := range ids {
		if narrowed {
			if s, ok := want.(string); !ok || !strings.EqualFold(s, id) {
				continue
			}
		}
		out = append(out, p.instance(id, byID[id]))
	}
	return out, nil
}

// logonID is "utmpx:LINE:PID", the line escaped so that the id is valid
// UTF-8 and distinct lines give distinct ids.
func logonID(r utmpx.Record) string {
	return "utmpx:" + utmp.Display(r.Line) + ":" + strconv.Itoa(int(r.PID))
}

// statusOf is the one table for Status: the record's process lives → OK;
// it is gone → Lost Comm (a ghost, never shown as live); the system
// cannot tell → Unknown.
func statusOf(alive, known bool) string {
	switch {
	case !known:
		return StatusUnknown
	case alive:
		return StatusOK
	}
	return StatusLostComm
}

// remoteHost returns the record's host when it names a remote one: not
// empty and not an X display (":0").
func remoteHost(r utmpx.Record) string {
	h := prop.Clean(r.Host)
	if h == "" || strings.HasPrefix(h, ":") {
		return ""
	}
	return h
}

func (p *Provider) instance(id string, r utmpx.Record) *cim.Instance {
	user := prop.Clean(r.User)
	line := prop.Clean(r.Line)
	host := remoteHost(r)
	alive, known := false, false
	if r.PID > 0 {
		alive, known = p.opts.Alive(int(r.PID))
	}
	status := statusOf(alive, known)

	in := cim.NewInstance(ClassName)
	in.Set("LogonId", id)
	if !r.Time.IsZero() {
		in.Set("StartTime", cim.NewDateTime(r.Time.In(p.opts.Location)))
	}
	in.Set("Status", status)
	in.Set("AuthenticationPackage", nil)
	if host != "" {
		in.Set("LogonType", LogonRemoteInteractive)
	} else {
		in.Set("LogonType", LogonInteractive)
	}
	where := line
	if where == "" {
		where = "notty"
	}
	in.Set("Name", user+"@"+where)
	caption := user + " on " + where
	if host != "" {
		caption += " from " + host
	}
	in.Set("Caption", schema.Truncate(caption, 64))
	desc := fmt.Sprintf("Logon session %s of %s on %s", id, user, where)
	if host != "" {
		desc += " from " + host
	}
	desc += fmt.Sprintf(", process %d", r.PID)
	switch status {
	case StatusLostComm:
		desc += "; its process is gone but its record remains"
	case StatusUnknown:
		desc += "; whether its process lives is not known"
	}
	in.Set("Description", desc)
	in.Owner = user
	return in
}
