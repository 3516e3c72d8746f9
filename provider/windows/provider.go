package windows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/internal/serversess"
	"github.com/cimsess/cimsess/provider/internal/snapcache"
)

// Options configures the providers. Empty fields take the defaults.
type Options struct {
	// Host is the host in the associations' reference paths; default
	// os.Hostname.
	Host string
	// Location is the time zone of StartTime's offset; default time.Local.
	Location *time.Location
	// Timeout bounds one read of the system; default 15 s. Windows calls
	// cannot be interrupted: one that outlives it finishes unseen.
	Timeout time.Duration
	// CacheFor is how long one read answers for, so that one operation
	// that enumerates several classes (an association traversal) reads the
	// system once and sees one state; default 500 ms, negative for none.
	CacheFor time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	o.Host = prop.Host(o.Host)
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	o.CacheFor = snapcache.For(o.CacheFor)
	if o.Now == nil {
		o.Now = time.Now
	}
}

// call runs f off the caller's goroutine and returns its result, or a
// *cim.Error when ctx ends or the timeout passes first.
func call[T any](ctx context.Context, timeout time.Duration, what string, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, cim.Errorf(cim.ErrFailed, "windows: %s did not answer within %s", what, timeout)
		}
		return zero, cim.Wrap(cim.ErrFailed, ctx.Err())
	}
}

// LogonProvider serves Win32_LogonSession from LSA and WTS. It is safe
// for concurrent use.
type LogonProvider struct {
	opts Options
	api  api

	mu    sync.Mutex
	cache snapcache.Cache[[]*cim.Instance]
	provider.SourceLog
}

// NewLogonProvider returns the provider of Win32_LogonSession over this
// system's LSA; on systems other than Windows it answers
// [provider.ErrNotImplemented].
func NewLogonProvider(opts Options) *LogonProvider { return newLogonProvider(opts, systemAPI()) }

func newLogonProvider(opts Options, a api) *LogonProvider {
	opts.defaults()
	return &LogonProvider{opts: opts, api: a}
}

// Name returns "windows-logon".
func (p *LogonProvider) Name() string { return "windows-logon" }

// Classes returns the one class served.
func (p *LogonProvider) Classes() []string { return []string{LogonClass} }

// Enumerate returns the logon sessions the caller may read.
// hint.Keys["logonid"] narrows the result to one.
func (p *LogonProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

// list is Enumerate's whole result.
func (p *LogonProvider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	if !strings.EqualFold(class, LogonClass) {
		return nil, cim.Errorf(cim.ErrInvalidClass, "windows-logon serves %s, not %s", LogonClass, class)
	}
	insts, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*cim.Instance, 0, len(insts))
	for _, in := range insts {
		if serversess.MatchKeys(in, hint.Keys, true) {
			out = append(out, in.Clone())
		}
	}
	return out, nil
}

// snapshot reads the logon sessions, or returns the last read while it
// is fresh.
func (p *LogonProvider) snapshot(ctx context.Context) ([]*cim.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cache.Get(p.opts.Now(), p.opts.CacheFor, func() ([]*cim.Instance, error) { return p.read(ctx) })
}

// read reads LSA and WTS once and maps them. Called with p.mu held.
func (p *LogonProvider) read(ctx context.Context) ([]*cim.Instance, error) {
	type answer struct {
		lsa     []LogonSessionData
		denied  int
		wts     []WTSSession
		wtsNote string
	}
	a, err := call(ctx, p.opts.Timeout, "LSA", func(ctx context.Context) (answer, error) {
		var a answer
		var err error
		if a.lsa, a.denied, err = p.api.LogonSessions(ctx); err != nil {
			return a, err
		}
		wts, werr := p.api.TerminalSessions(ctx)
		if werr != nil {
			// Without WTS the sessions are still there; only their
			// states are not known.
			a.wtsNote = "not readable: " + werr.Error()
			if serviceDown(werr) {
				a.wtsNote = "terminal services not running"
			}
			return a, nil
		}
		a.wts = wts
		return a, nil
	})
	lsaSrc := provider.Source{Name: "lsa", Where: "LsaEnumerateLogonSessions"}
	if err != nil {
		ce := toCIM("logon sessions", err)
		lsaSrc.Note = "failed: " + ce.Description
		if ce.Code == cim.ErrAccessDenied {
			lsaSrc.Note = "access denied"
		}
		p.SetSources(lsaSrc)
		return nil, ce
	}
	lsaSrc.Found = len(a.lsa)
	if a.denied > 0 {
		// A short list must not read as the whole: say what is missing.
		lsaSrc.Note = fmt.Sprintf("%d logon sessions not readable without administrator rights", a.denied)
		lsaSrc.Warn = true
	}
	p.SetSources(lsaSrc, provider.Source{Name: "wts", Where: "WTSEnumerateSessions", Found: len(a.wts), Note: a.wtsNote})
	return MapLogonSessions(a.lsa, a.wts, LogonOptions{Location: p.opts.Location}), nil
}

// ServerProvider serves Win32_ServerSession, Win32_ServerConnection and
// Win32_SessionConnection from the Server service. It is safe for
// concurrent use.
type ServerProvider struct {
	opts Options
	api  api

	mu    sync.Mutex
	cache snapcache.Cache[ServerSnapshot]
	provider.SourceLog
}

// NewServerProvider returns the provider of the SMB server's sessions and
// connections over this system's Server service; on systems other than
// Windows it answers [provider.ErrNotImplemented].
func NewServerProvider(opts Options) *ServerProvider { return newServerProvider(opts, systemAPI()) }

func newServerProvider(opts Options, a api) *ServerProvider {
	opts.defaults()
	return &ServerProvider{opts: opts, api: a}
}

// Name returns "windows-server".
func (p *ServerProvider) Name() string { return "windows-server" }

// Classes returns the three classes served.
func (p *ServerProvider) Classes() []string {
	return []string{SessionClass, ConnectionClass, AssociationClass}
}

// Enumerate returns the instances of one of the three classes; Hint.Keys
// and Hint.RefersTo narrow the result.
func (p *ServerProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

// list is Enumerate's whole result.
func (p *ServerProvider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	var pick func(ServerSnapshot) []*cim.Instance
	switch {
	case strings.EqualFold(class, SessionClass):
		pick = func(s ServerSnapshot) []*cim.Instance { return s.Sessions }
	case strings.EqualFold(class, ConnectionClass):
		pick = func(s ServerSnapshot) []*cim.Instance { return s.Connections }
	case strings.EqualFold(class, AssociationClass):
		pick = func(s ServerSnapshot) []*cim.Instance { return s.Links }
	default:
		return nil, cim.Errorf(cim.ErrInvalidClass, "windows-server does not serve %s", class)
	}
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	insts := pick(snap)
	out := make([]*cim.Instance, 0, len(insts))
	for _, in := range insts {
		if serversess.MatchKeys(in, hint.Keys, true) && serversess.RefersTo(in, hint.RefersTo) {
			out = append(out, in.Clone())
		}
	}
	return out, nil
}

// snapshot reads the SMB sessions, or returns the last read while it is
// fresh.
func (p *ServerProvider) snapshot(ctx context.Context) (ServerSnapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cache.Get(p.opts.Now(), p.opts.CacheFor, func() (ServerSnapshot, error) { return p.read(ctx) })
}

// read reads the Server service once and maps its answer. Called with
// p.mu held.
func (p *ServerProvider) read(ctx context.Context) (ServerSnapshot, error) {
	type answer struct {
		sessions []SessionInfo502
		conns    map[string][]ConnectionInfo1
	}
	src := provider.Source{Name: "netapi", Where: "NetSessionEnum"}
	a, err := call(ctx, p.opts.Timeout, "the Server service", func(ctx context.Context) (answer, error) {
		var a answer
		var err error
		if a.sessions, err = p.api.ServerSessions(ctx); err != nil {
			return a, err
		}
		a.conns = map[string][]ConnectionInfo1{}
		for _, s := range a.sessions {
			if _, done := a.conns[s.ComputerName]; done || computerName(s.ComputerName) == "" {
				continue
			}
			if err := ctx.Err(); err != nil {
				return a, err
			}
			q := s.ComputerName
			if !strings.HasPrefix(q, `\\`) {
				q = `\\` + q
			}
			cs, err := p.api.ServerConnections(ctx, q)
			if clientGone(err) {
				// The client left between the two calls: its session
				// is listed, with no connection.
				cs, err = nil, nil
			}
			if err != nil {
				return a, fmt.Errorf("connections from %s: %w", computerName(s.ComputerName), err)
			}
			a.conns[s.ComputerName] = cs
		}
		return a, nil
	})
	var inner error = err
	for {
		if u := errors.Unwrap(inner); u != nil {
			inner = u
			continue
		}
		break
	}
	switch {
	case err != nil && serviceDown(inner):
		// No Server service: no SMB sessions, which is not a failure.
		src.Note = "Server service not running"
		p.SetSources(src)
		return ServerSnapshot{}, nil
	case err != nil:
		var ce *cim.Error
		if accessDenied(inner) {
			ce = cim.Errorf(cim.ErrAccessDenied, "windows: reading SMB sessions: access denied; only administrators may list them (%v)", err)
			src.Note = "access denied"
		} else {
			ce = toCIM("SMB sessions", err)
			src.Note = "failed: " + ce.Description
		}
		p.SetSources(src)
		return ServerSnapshot{}, ce
	}
	snap := MapServer(a.sessions, a.conns, ServerOptions{Host: p.opts.Host})
	src.Found = len(snap.Sessions)
	p.SetSources(src)
	return snap, nil
}
