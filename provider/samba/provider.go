package samba

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/internal/serversess"
	"github.com/cimsess/cimsess/provider/internal/snapcache"
	"github.com/cimsess/cimsess/sysfile/procfs"
)

// Options configures a [Provider].
type Options struct {
	// Command is the smbstatus program; default "smbstatus" from PATH (or
	// /usr/bin/smbstatus). It may hold arguments before ours, separated by
	// spaces, for tests ("sh fake-smbstatus.sh").
	Command string
	// Conf is passed as "-s CONF" when set.
	Conf string
	// Host is the host in the associations' reference paths; default
	// os.Hostname.
	Host string
	// Proc is the procfs root read for smbd's start times and whether smbd
	// runs; default /proc.
	Proc string
	// GuestAccount is the account Samba maps guests to; default "nobody".
	GuestAccount string
	// UserName names a uid for Owner when Samba printed the user as a number.
	UserName func(uid uint32) (string, bool)
	// Timeout bounds one smbstatus run; default 15 s.
	Timeout time.Duration
	// CacheFor is how long one smbstatus run answers for, so that one
	// operation that enumerates the three classes (an association
	// traversal) runs it once and sees one consistent state; default 500 ms,
	// negative for no cache.
	CacheFor time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Provider serves Win32_ServerSession, Win32_ServerConnection and
// Win32_SessionConnection from smbstatus. It is safe for concurrent use.
type Provider struct {
	opts Options
	proc *procfs.FS

	mu    sync.Mutex
	cache snapcache.Cache[Snapshot]
	provider.SourceLog
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	if opts.Command == "" {
		opts.Command = "smbstatus"
	}
	opts.Host = prop.Host(opts.Host)
	if opts.Proc == "" {
		opts.Proc = procfs.DefaultRoot
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	opts.CacheFor = snapcache.For(opts.CacheFor)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{opts: opts, proc: procfs.New(opts.Proc)}
}

// Name returns "samba".
func (p *Provider) Name() string { return "samba" }

// Classes returns the three classes served.
func (p *Provider) Classes() []string {
	return []string{SessionClass, ConnectionClass, AssociationClass}
}

// Enumerate returns the instances of one of the three classes. Hint.Keys
// and Hint.RefersTo narrow the result; smbstatus is run once either way.
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	insts, err := p.list(ctx, class, hint)
	if err != nil {
		return err
	}
	return provider.EmitSlice(ctx, insts, emit)
}

// list is Enumerate's whole result.
func (p *Provider) list(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var insts []*cim.Instance
	switch {
	case strings.EqualFold(class, SessionClass):
		insts = snap.Sessions
	case strings.EqualFold(class, ConnectionClass):
		insts = snap.Connections
	case strings.EqualFold(class, AssociationClass):
		insts = snap.Links
	default:
		return nil, cim.Errorf(cim.ErrInvalidClass, "samba: does not serve %s", class)
	}
	out := make([]*cim.Instance, 0, len(insts))
	for _, in := range insts {
		if !serversess.MatchKeys(in, hint.Keys, true) || !serversess.RefersTo(in, hint.RefersTo) {
			continue
		}
		out = append(out, in.Clone()) // the cache stays the provider's own
	}
	return out, nil
}

// snapshot runs smbstatus, or returns the last run's result while it is
// fresh.
func (p *Provider) snapshot(ctx context.Context) (Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	return p.cache.Get(now, p.opts.CacheFor, func() (Snapshot, error) { return p.read(ctx, now) })
}

// read runs smbstatus once and maps its output. Called with p.mu held.
func (p *Provider) read(ctx context.Context, now time.Time) (Snapshot, error) {
	args := strings.Fields(p.opts.Command)
	if p.opts.Conf != "" {
		args = append(args, "-s", p.opts.Conf)
	}
	args = append(args, "--json")
	where := strings.Join(args, " ")
	src := provider.Source{Name: "smbstatus", Where: where}
	setNote := func(note string) { src.Note = note; p.SetSources(src) }

	path, err := lookPath(args[0])
	if err != nil {
		if strings.ContainsRune(args[0], '/') {
			// A path the user gave, not smbstatus looked for in PATH: say
			// that it is wrong, as a warning shown beside the answer.
			src.Warn = true
			setNote("not found: " + args[0])
			return Snapshot{}, nil
		}
		setNote("smbstatus not installed")
		return Snapshot{}, nil
	}
	// Without smbd there is no session to ask about, and smbstatus is not
	// run: it costs tens of milliseconds, and a recorder asks every
	// second. Where /proc cannot tell, it is run all the same.
	if running, known := smbdRunning(ctx, p.proc); known && !running {
		setNote("smbd not running")
		return Snapshot{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args[1:]...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	all := msg + "\n" + stdout.String()
	switch {
	case strings.Contains(all, "only works as root"):
		setNote("access denied: smbstatus needs root")
		return Snapshot{}, cim.Errorf(cim.ErrAccessDenied, "samba: SMB sessions are visible to root only (smbstatus: %s)", firstLine(msg))
	case ctx.Err() != nil:
		setNote("timed out")
		return Snapshot{}, cim.Errorf(cim.ErrFailed, "samba: %s did not answer within %s", where, p.opts.Timeout)
	case runErr != nil && (strings.Contains(all, "--json") || strings.Contains(all, "unknown option")):
		setNote("smbstatus has no --json (Samba 4.16 or later needed)")
		return Snapshot{}, cim.Errorf(cim.ErrNotSupported, "samba: %s: this smbstatus has no --json option; Samba 4.16 or later is needed (%s)", where, firstLine(msg))
	case runErr != nil:
		setNote("failed: " + firstLine(msg))
		return Snapshot{}, cim.Errorf(cim.ErrFailed, "samba: %s: %w: %s", where, runErr, firstLine(msg))
	}
	if strings.Contains(all, "not initialised") {
		// Samba's lock database was never created: smbd has not run.
		setNote("smbd not running")
		return Snapshot{}, nil
	}
	if strings.Contains(msg, "Can't load") {
		setNote("failed: " + firstLine(msg))
		return Snapshot{}, cim.Errorf(cim.ErrFailed, "samba: %s: %s", where, firstLine(msg))
	}
	st, err := Parse(stdout.Bytes())
	if err != nil {
		setNote("unreadable output")
		return Snapshot{}, err
	}
	snap := Map(st, MapOptions{Now: now, Host: p.opts.Host, GuestAccount: p.opts.GuestAccount, UserName: p.opts.UserName,
		ProcStart: func(pid int) (time.Time, bool) { return procStart(p.proc, pid) }})
	src.Found = len(snap.Sessions)
	p.SetSources(src)
	return snap, nil
}

// lookPath finds the program in PATH or, as root's PATH may lack them, in
// the usual bin folders.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if !strings.ContainsRune(name, '/') {
		for _, d := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/samba/bin"} {
			if p, err := exec.LookPath(d + "/" + name); err == nil {
				return p, nil
			}
		}
	}
	return "", errors.New(name + " not found")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
