// Package assoc serves the associations that tie a logon session to its
// user account and to its processes: Win32_LoggedOnUser (Antecedent a
// Win32_UserAccount, Dependent the logon session) and Win32_SessionProcess
// (Antecedent the logon session, Dependent a Win32_Process).
//
// The logon sessions come from a function given at construction (in
// practice the Linux logon provider's Enumerate), the accounts from
// provider/accounts and the processes from provider/process; the package
// knows none of the object manager.
//
// A process belongs to a session when its kernel audit session id
// (/proc/PID/sessionid) is the session's AuditSessionId — or, for a session
// instance without that property, its LogonId read as a number. A session
// without an audit session id (no pam_loginuid) has no processes here.
// A session belongs to the account of its UserName (or of its UserId when
// UserName is empty) when passwd has that account; a session of a user
// passwd does not know has no Win32_LoggedOnUser, since its Antecedent
// would name nothing.
//
// Both honour Hint.RefersTo: asked for the associations of one session,
// Win32_SessionProcess asks for that session only and reads just the
// sessionid file of each process, building no process instances; asked for
// those of one process, it reads that process's sessionid alone.
//
// The sessions' answer is reused for Options.CacheFor (500 ms), so that one
// traversal, which asks for both classes, reads the sessions once; a
// session that began within that time may be missed by the next one.
//
// The Owner of an association is the Owner of both the objects it names,
// or none (administrators only) when they differ: a user sees the
// associations of their own sessions, and of a session only the processes
// that are theirs (a session's Win32_SessionProcess to root's privileged
// sshd is not theirs to see). Win32_LoggedOnUser's Owner is the account's
// user, whose session it names.
package assoc

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/process"
)

// The classes this package serves.
const (
	LoggedOnUserClass   = "Win32_LoggedOnUser"
	SessionProcessClass = "Win32_SessionProcess"
)

// Sessions returns logon session instances (Win32_LogonSession or a
// subclass, with at least LogonId). It may use hint as a provider's
// Enumerate does (Keys "logonid" for one session) or ignore it.
type Sessions func(ctx context.Context, hint provider.Hint) ([]*cim.Instance, error)

// Options configures a [Provider]. Sessions, Accounts and Processes are
// required.
type Options struct {
	Sessions  Sessions
	Accounts  *accounts.Provider
	Processes *process.Provider
	// Host is the host of the session paths built here; default the
	// accounts provider's.
	Host string
	// CacheFor is how long one answer of Sessions is reused, so that one
	// association traversal, which asks for both classes, reads the
	// sessions once; default 500 ms, negative for no cache.
	CacheFor time.Duration
	// Now is the clock of the cache; default time.Now.
	Now func() time.Time
}

// Provider serves Win32_LoggedOnUser and Win32_SessionProcess. It is safe
// for concurrent use.
type Provider struct {
	opts Options

	mu    sync.Mutex
	cache map[string]cached // LogonId asked for ("" for all) → answer
}

type cached struct {
	at    time.Time
	insts []*cim.Instance
}

// New returns a provider over the given sources.
func New(opts Options) *Provider {
	if opts.CacheFor == 0 {
		opts.CacheFor = 500 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{opts: opts, cache: map[string]cached{}}
}

// Name returns "assoc".
func (p *Provider) Name() string { return "assoc" }

// Classes returns the two association classes.
func (p *Provider) Classes() []string { return []string{LoggedOnUserClass, SessionProcessClass} }

// Enumerate returns the association instances of class; with
// Hint.RefersTo, only those that refer to that object.
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

// list is Enumerate's whole result.
func (p *Provider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	if p.opts.Sessions == nil || p.opts.Accounts == nil || p.opts.Processes == nil {
		return nil, cim.Errorf(cim.ErrFailed, "assoc: provider built without its sources")
	}
	switch {
	case strings.EqualFold(class, LoggedOnUserClass):
		return p.loggedOnUser(ctx, hint.RefersTo)
	case strings.EqualFold(class, SessionProcessClass):
		return p.sessionProcess(ctx, hint.RefersTo)
	}
	return nil, cim.Errorf(cim.ErrInvalidClass, "assoc: does not serve %s", class)
}

// logonID returns the LogonId key of a path, if it has one.
func logonID(path *cim.ObjectPath) (string, bool) {
	if path == nil {
		return "", false
	}
	v, ok := path.Key("LogonId")
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		if i, isInt := v.(int64); isInt {
			return strconv.FormatInt(i, 10), true
		}
	}
	return s, ok
}

// sessions returns the sessions, only the one with LogonId id when id is
// not "".
func (p *Provider) sessions(ctx context.Context, id string) ([]*cim.Instance, error) {
	all, err := p.cachedSessions(ctx, id)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return all, nil
	}
	var out []*cim.Instance
	for _, s := range all {
		if s.String("LogonId") == id {
			out = append(out, s)
		}
	}
	return out, nil
}

// cachedSessions asks Sessions for session id (all when ""), or returns
// its answer of less than CacheFor ago. The instances are only read here.
func (p *Provider) cachedSessions(ctx context.Context, id string) ([]*cim.Instance, error) {
	now := p.opts.Now()
	if p.opts.CacheFor > 0 {
		p.mu.Lock()
		c, ok := p.cache[id]
		if !ok && id != "" {
			c, ok = p.cache[""] // all sessions answer for one
		}
		p.mu.Unlock()
		if ok && now.Sub(c.at) >= 0 && now.Sub(c.at) < p.opts.CacheFor {
			return c.insts, nil
		}
	}
	var hint provider.Hint
	if id != "" {
		hint.Keys = map[string]any{"logonid": id}
	}
	insts, err := p.opts.Sessions(ctx, hint)
	if err != nil {
		return nil, err
	}
	if p.opts.CacheFor > 0 {
		p.mu.Lock()
		for k, c := range p.cache { // keep the map small
			if now.Sub(c.at) >= p.opts.CacheFor || now.Sub(c.at) < 0 {
				delete(p.cache, k)
			}
		}
		p.cache[id] = cached{at: now, insts: insts}
		p.mu.Unlock()
	}
	return insts, nil
}

// sessionPath returns the object path of a session instance.
func (p *Provider) sessionPath(s *cim.Instance) cim.ObjectPath {
	host := p.opts.Host
	if host == "" {
		host = p.opts.Accounts.Path("").Host
	}
	return cim.ObjectPath{Host: host, Namespace: "root/cimv2", ClassName: s.ClassName,
		Keys: []cim.KeyBinding{{Name: "LogonId", Value: s.String("LogonId")}}}
}

// auditID returns the audit session id of a session instance.
func auditID(s *cim.Instance) (uint32, bool) {
	if v, has := s.Get("AuditSessionId"); has {
		id, ok := v.(uint32)
		return id, ok
	}
	id, err := strconv.ParseUint(s.String("LogonId"), 10, 32)
	if err != nil || id == process.UnsetSessionID {
		return 0, false
	}
	return uint32(id), true
}

func (p *Provider) sessionProcess(ctx context.Context, refersTo *cim.ObjectPath) ([]*cim.Instance, error) {
	var sessions []*cim.Instance
	var err error
	onePID := 0
	id, isSession := logonID(refersTo)
	switch {
	case refersTo == nil:
		sessions, err = p.sessions(ctx, "")
	case isSession:
		sessions, err = p.sessions(ctx, id)
	default:
		pid, ok := process.PIDOf(*refersTo)
		if !ok {
			return nil, nil // it names neither a session nor a process
		}
		sid, ok := p.opts.Processes.SessionOf(ctx, pid)
		if !ok {
			return nil, nil
		}
		onePID = pid
		all, err := p.sessions(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, s := range all {
			if a, ok := auditID(s); ok && a == sid {
				sessions = append(sessions, s)
			}
		}
	}
	if err != nil || len(sessions) == 0 {
		return nil, err
	}
	ids := map[uint32]bool{}
	for _, s := range sessions {
		if a, ok := auditID(s); ok {
			ids[a] = true
		}
	}
	var pids map[uint32][]int
	if onePID != 0 {
		for id := range ids {
			pids = map[uint32][]int{id: {onePID}}
		}
	} else if len(ids) > 0 {
		if pids, err = p.opts.Processes.SessionPIDs(ctx, ids); err != nil {
			return nil, err
		}
	}
	var out []*cim.Instance
	for _, s := range sessions {
		a, ok := auditID(s)
		if !ok {
			continue
		}
		list := pids[a]
		sort.Ints(list)
		sp := p.sessionPath(s)
		for _, pid := range list {
			in := cim.NewInstance(SessionProcessClass)
			// The link is the session owner's only if the process is
			// theirs too: a user's session holds root's privileged sshd,
			// whose pid is not theirs to see.
			if owner, ok := p.opts.Processes.OwnerOf(ctx, pid); ok && owner == s.Owner {
				in.Owner = s.Owner
			}
			in.Set("Antecedent", sp).Set("Dependent", p.opts.Processes.Path(pid))
			out = append(out, in)
		}
	}
	return out, nil
}

func (p *Provider) loggedOnUser(ctx context.Context, refersTo *cim.ObjectPath) ([]*cim.Instance, error) {
	id, _ := logonID(refersTo)
	wantUser := ""
	if refersTo != nil && id == "" {
		d, _ := refersTo.Key("Domain")
		n, _ := refersTo.Key("Name")
		ds, _ := d.(string)
		ns, ok := n.(string)
		if !ok || !strings.EqualFold(ds, p.opts.Accounts.Domain()) {
			return nil, nil // names neither a session nor one of our accounts
		}
		wantUser = ns
	}
	sessions, err := p.sessions(ctx, id)
	if err != nil || len(sessions) == 0 {
		return nil, err
	}
	db, err := p.opts.Accounts.DB(ctx)
	if err != nil {
		return nil, err
	}
	var out []*cim.Instance
	for _, s := range sessions {
		name := s.String("UserName")
		if name == "" {
			uid, ok := s.Value("UserId").(uint32)
			if !ok {
				continue
			}
			a, found := db.LookupUID(uid)
			if !found {
				continue
			}
			name = a.Name
		}
		if _, found := db.Lookup(name); !found || (wantUser != "" && name != wantUser) {
			continue
		}
		in := cim.NewInstance(LoggedOnUserClass)
		in.Owner = name
		in.Set("Antecedent", p.opts.Accounts.Path(name)).Set("Dependent", p.sessionPath(s))
		out = append(out, in)
	}
	return out, nil
}
