// Package process serves Win32_Process from Linux's /proc: one instance per
// process, keyed by Handle (the pid in decimal), with what /proc tells of
// it. It also gives the association providers the cheap join they need:
// which processes belong to which kernel audit session ([Provider.SessionPIDs]),
// reading one small file per process instead of building every instance.
//
// How /proc maps onto the class:
//
//   - Handle is the pid as a string; ProcessId and ParentProcessId are the
//     pid and the ppid from /proc/PID/stat.
//   - Name is the base name of the executable (/proc/PID/exe), or stat's
//     command name when the executable cannot be read (kernel threads,
//     zombies, other users' processes without root). Caption and
//     Description are Name, as WMI sets them.
//   - ExecutablePath is /proc/PID/exe; CommandLine is argv joined by spaces,
//     with arguments holding spaces or quotes in double quotes. Both NULL
//     when unknown.
//   - SessionId is the kernel audit session id (/proc/PID/sessionid), the
//     id pam_loginuid gives every process of one login. It is Linux's
//     closest meaning of Win32_Process.SessionId ("the session the process
//     belongs to, from logon to logoff"), and it is the LogonId of that
//     login's Linux_LogonSession. NULL when unset (4294967295).
//   - CreationDate is the start time (stat's starttime after the boot time
//     in /proc/stat); ThreadCount, VirtualSize, WorkingSetSize (resident
//     pages times the page size), UserModeTime and KernelModeTime (in 100
//     ns units) come from stat too. Priority and ExecutionState are NULL:
//     Linux's scheduling classes and states do not map onto Windows' scale.
//   - CSName is the host name, OSName the operating system's name
//     (PRETTY_NAME of /etc/os-release, else "Linux").
//   - Owner is the user name of the process's effective uid.
package process

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// ClassName is the class this package serves.
const ClassName = "Win32_Process"

// Options configures a [Provider].
type Options struct {
	// Proc is the procfs root; default /proc. With the default, Enumerate
	// returns provider.ErrNotImplemented on systems other than Linux.
	Proc string
	// Host is CSName and the host of the paths built by [Provider.Path];
	// default os.Hostname.
	Host string
	// OSName is OSName; default PRETTY_NAME of /etc/os-release, or "Linux".
	OSName string
	// UserName names a uid for Owner; default: the uid in decimal.
	UserName func(uid uint32) string
}

// Provider serves Win32_Process. It is safe for concurrent use.
type Provider struct {
	opts Options
	osOK bool

	mu      sync.Mutex
	sources []provider.Source
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	p := &Provider{osOK: opts.Proc != "" || runtime.GOOS == "linux"}
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
		if opts.Host == "" {
			opts.Host = "localhost"
		}
	}
	if opts.OSName == "" {
		opts.OSName = osName()
	}
	if opts.UserName == nil {
		opts.UserName = func(uid uint32) string { return strconv.FormatUint(uint64(uid), 10) }
	}
	p.opts = opts
	return p
}

func osName() string {
	data, err := os.ReadFile("/etc/os-release")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				if v = strings.Trim(strings.TrimSpace(v), `"'`); v != "" && utf8.ValidString(v) {
					return truncate(v, 256)
				}
			}
		}
	}
	return "Linux"
}

// Name returns "process".
func (p *Provider) Name() string { return "process" }

// Classes returns Win32_Process.
func (p *Provider) Classes() []string { return []string{ClassName} }

// Sources reports what the last Enumerate read.
func (p *Provider) Sources() []provider.Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]provider.Source(nil), p.sources...)
}

func (p *Provider) setSource(found int, note string) {
	p.mu.Lock()
	p.sources = []provider.Source{{Name: "procfs", Where: p.opts.Proc, Found: found, Note: note}}
	p.mu.Unlock()
}

// Path returns the object path of process pid:
// \\HOST\root\cimv2:Win32_Process.Handle="PID".
func (p *Provider) Path(pid int) cim.ObjectPath {
	return cim.ObjectPath{Host: p.opts.Host, Namespace: "root/cimv2", ClassName: ClassName,
		Keys: []cim.KeyBinding{{Name: "Handle", Value: strconv.Itoa(pid)}}}
}

// PIDOf returns the pid a Win32_Process path names, and false when the
// path is not such a path.
func PIDOf(path cim.ObjectPath) (int, bool) {
	v, ok := path.Key("Handle")
	if !ok {
		return 0, false
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	default:
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != s {
		return 0, false
	}
	return pid, true
}

func (p *Provider) reader(ctx context.Context) (*reader, error) {
	if !p.osOK {
		return nil, provider.ErrNotImplemented
	}
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	return newReader(p.opts.Proc), nil
}

// Enumerate returns the processes as Win32_Process instances. Hint.Keys
// "handle" reads only that process.
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint) ([]*cim.Instance, error) {
	if !strings.EqualFold(class, ClassName) {
		return nil, cim.Errorf(cim.ErrInvalidClass, "process: does not serve %s", class)
	}
	r, err := p.reader(ctx)
	if err != nil {
		return nil, err
	}
	if h, ok := hint.Keys["handle"]; ok {
		pid, ok := PIDOf(cim.ObjectPath{Keys: []cim.KeyBinding{{Name: "Handle", Value: h}}})
		if !ok {
			return nil, nil
		}
		pr, ok := r.read(pid)
		if !ok {
			p.setSource(0, "")
			return nil, nil
		}
		p.setSource(1, "")
		return []*cim.Instance{p.Instance(pr)}, nil
	}
	pids, err := r.pids()
	if err != nil {
		p.setSource(0, err.Error())
		return nil, cim.Errorf(cim.ErrFailed, "process: %v", err)
	}
	out := make([]*cim.Instance, 0, len(pids))
	for i, pid := range pids {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, cim.Wrap(cim.ErrFailed, ctx.Err())
		}
		if pr, ok := r.read(pid); ok { // gone between the listing and the read: skipped
			out = append(out, p.Instance(pr))
		}
	}
	p.setSource(len(out), "")
	return out, nil
}

// SessionPIDs returns the pids of the processes whose audit session id is
// one of ids (every set id when ids is nil), by session id. It reads only
// /proc/PID/sessionid of each process.
func (p *Provider) SessionPIDs(ctx context.Context, ids map[uint32]bool) (map[uint32][]int, error) {
	r, err := p.reader(ctx)
	if err != nil {
		return nil, err
	}
	pids, err := r.pids()
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "process: %v", err)
	}
	out := map[uint32][]int{}
	for _, pid := range pids {
		sid, ok := r.sessionID(pid)
		if !ok || sid == UnsetSessionID || (ids != nil && !ids[sid]) {
			continue
		}
		out[sid] = append(out[sid], pid)
	}
	return out, nil
}

// SessionOf returns the audit session id of process pid; false when the
// process is gone or has none.
func (p *Provider) SessionOf(ctx context.Context, pid int) (uint32, bool) {
	r, err := p.reader(ctx)
	if err != nil {
		return 0, false
	}
	sid, ok := r.sessionID(pid)
	return sid, ok && sid != UnsetSessionID
}

// Instance maps one process onto a Win32_Process instance (see the
// package documentation).
func (p *Provider) Instance(pr Proc) *cim.Instance {
	name := pr.Comm
	if pr.Exe != "" {
		name = filepath.Base(strings.TrimSuffix(pr.Exe, " (deleted)"))
	}
	name = clean(name)
	in := cim.NewInstance(ClassName)
	in.Owner = p.opts.UserName(pr.UID)
	in.Set("Handle", strconv.Itoa(pr.PID)).
		Set("ProcessId", uint32(pr.PID)).
		Set("ParentProcessId", uint32(pr.PPID)).
		Set("Name", name).
		Set("Caption", truncate(name, 64)).
		Set("Description", name).
		Set("ExecutablePath", nullIfEmpty(clean(pr.Exe))).
		Set("CommandLine", nullIfEmpty(clean(JoinCommandLine(pr.Cmdline)))).
		Set("CSName", truncate(p.opts.Host, 256)).
		Set("OSName", truncate(p.opts.OSName, 256)).
		Set("ThreadCount", pr.Threads).
		Set("VirtualSize", pr.VSize).
		Set("WorkingSetSize", pr.RSSPages*uint64(os.Getpagesize())).
		Set("UserModeTime", pr.UTimeTicks*(10_000_000/clockTicks)).
		Set("KernelModeTime", pr.STimeTicks*(10_000_000/clockTicks))
	if pr.SessionID != UnsetSessionID {
		in.Set("SessionId", pr.SessionID)
	} else {
		in.Set("SessionId", nil)
	}
	if !pr.StartTime.IsZero() {
		in.Set("CreationDate", cim.NewDateTime(pr.StartTime))
	}
	return in
}

// JoinCommandLine joins argv into one command line, putting arguments
// that are empty or hold spaces, tabs or double quotes in double quotes
// (with inner quotes and backslashes escaped).
func JoinCommandLine(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n\"") {
			b.WriteString(a)
			continue
		}
		b.WriteString(cim.QuoteString(a))
	}
	return b.String()
}

func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max])
}
