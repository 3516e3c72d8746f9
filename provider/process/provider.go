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
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/procfs"
)

// UnsetSessionID is what /proc/PID/sessionid holds when no audit session
// was set for the process (no pam_loginuid in its ancestry): [procfs.Unset]
// as an untyped constant, to compare with ids of any integer type.
const UnsetSessionID = 1<<32 - 1

// fields is what Win32_Process needs of each process.
const fields = procfs.FieldStartTime | procfs.FieldEUID | procfs.FieldSessionID |
	procfs.FieldArgs | procfs.FieldExe | procfs.FieldUsage | procfs.FieldIO

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
	fs   *procfs.FS

	provider.SourceLog
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	p := &Provider{osOK: opts.Proc != "" || runtime.GOOS == "linux"}
	if opts.Proc == "" {
		opts.Proc = procfs.DefaultRoot
	}
	opts.Host = prop.Host(opts.Host)
	if opts.OSName == "" {
		opts.OSName = osName()
	}
	if opts.UserName == nil {
		opts.UserName = func(uid uint32) string { return strconv.FormatUint(uint64(uid), 10) }
	}
	p.opts = opts
	p.fs = procfs.New(opts.Proc)
	return p
}

func osName() string {
	data, err := os.ReadFile("/etc/os-release")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				if v = strings.Trim(strings.TrimSpace(v), `"'`); v != "" && utf8.ValidString(v) {
					return schema.Truncate(v, 256)
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

func (p *Provider) setSource(found int, note string) {
	p.SetSources(provider.Source{Name: "procfs", Where: p.opts.Proc, Found: found, Note: note})
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

// ready reports why the provider cannot read now: not on this system, or
// ctx has ended.
func (p *Provider) ready(ctx context.Context) error {
	if !p.osOK {
		return provider.ErrNotImplemented
	}
	if err := ctx.Err(); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}

// failed maps an error of procfs, once, as this provider's: the processes
// could not be read (CIM_ERR_FAILED, or the code of a *cim.Error in its
// chain), with procfs's error kept as the cause (errors.Is(err,
// fs.ErrNotExist) for a missing /proc).
func failed(err error) error {
	return cim.Wrapf(cim.ErrFailed, err, "process")
}

// Enumerate returns the processes as Win32_Process instances. Hint.Keys
// "handle" reads only that process.
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
		return nil, cim.Errorf(cim.ErrInvalidClass, "process: does not serve %s", class)
	}
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	if h, ok := hint.Keys["handle"]; ok {
		pid, ok := PIDOf(cim.ObjectPath{Keys: []cim.KeyBinding{{Name: "Handle", Value: h}}})
		if !ok {
			return nil, nil
		}
		pr, err := p.fs.GetFields(pid, fields)
		if cim.CodeOf(err) == cim.ErrNotFound {
			p.setSource(0, "")
			return nil, nil
		}
		if err != nil {
			p.setSource(0, err.Error())
			return nil, failed(err)
		}
		p.setSource(1, "")
		return []*cim.Instance{p.Instance(pr)}, nil
	}
	procs, err := p.fs.ListFields(ctx, fields) // processes gone between the listing and the read are skipped
	if err != nil {
		if ctx.Err() != nil {
			return nil, cim.Wrap(cim.ErrFailed, ctx.Err())
		}
		p.setSource(0, err.Error())
		return nil, failed(err)
	}
	out := make([]*cim.Instance, len(procs))
	for i := range procs {
		out[i] = p.Instance(procs[i])
	}
	p.setSource(len(out), "")
	return out, nil
}

// SessionPIDs returns the pids of the processes whose audit session id is
// one of ids (every set id when ids is nil), by session id. It reads only
// /proc/PID/sessionid of each process ([procfs.FS.SessionPIDs]).
func (p *Provider) SessionPIDs(ctx context.Context, ids map[uint32]bool) (map[uint32][]int, error) {
	if err := p.ready(ctx); err != nil {
		return nil, err
	}
	out, err := p.fs.SessionPIDs(ctx, ids)
	if err != nil {
		return nil, failed(err)
	}
	return out, nil
}

// SessionOf returns the audit session id of process pid; false when the
// process is gone or has none.
func (p *Provider) SessionOf(ctx context.Context, pid int) (uint32, bool) {
	if p.ready(ctx) != nil {
		return 0, false
	}
	sid, ok := p.fs.SessionID(pid)
	return sid, ok && sid != UnsetSessionID
}

// OwnerOf returns the Owner a process's instance has (the user name of
// its effective uid), reading /proc/PID/status alone; false when the
// process is gone.
func (p *Provider) OwnerOf(ctx context.Context, pid int) (string, bool) {
	if p.ready(ctx) != nil {
		return "", false
	}
	pr, err := p.fs.GetFields(pid, procfs.FieldEUID)
	if err != nil {
		return "", false
	}
	return p.opts.UserName(pr.EUID), true
}

// Instance maps one process onto a Win32_Process instance (see the
// package documentation).
func (p *Provider) Instance(pr procfs.Process) *cim.Instance {
	name := pr.Comm
	if pr.Exe != "" {
		name = filepath.Base(strings.TrimSuffix(pr.Exe, " (deleted)"))
	}
	name = prop.Clean(name)
	in := cim.NewInstance(ClassName)
	in.Owner = p.opts.UserName(pr.EUID)
	in.Set("Handle", strconv.Itoa(pr.PID)).
		Set("ProcessId", uint32(pr.PID)).
		Set("ParentProcessId", uint32(pr.PPID)).
		Set("Name", name).
		Set("Caption", schema.Truncate(name, 64)).
		Set("Description", name).
		Set("ExecutablePath", prop.NullIfEmpty(prop.Clean(pr.Exe))).
		Set("CommandLine", prop.NullIfEmpty(prop.Clean(JoinCommandLine(pr.Args)))).
		Set("CSName", schema.Truncate(p.opts.Host, 256)).
		Set("OSName", schema.Truncate(p.opts.OSName, 256)).
		Set("ThreadCount", pr.Threads).
		Set("VirtualSize", pr.VSize).
		Set("WorkingSetSize", pr.RSSPages*uint64(os.Getpagesize())).
		Set("UserModeTime", pr.UTimeTicks*(10_000_000/procfs.ClockTicks)).
		Set("KernelModeTime", pr.STimeTicks*(10_000_000/procfs.ClockTicks)).
		Set("CreationClassName", ClassName).
		Set("CSCreationClassName", "Win32_ComputerSystem").
		Set("OSCreationClassName", "Win32_OperatingSystem").
		Set("PageFaults", uint32(min(pr.PageFaults, 1<<32-1))).
		Set("Priority", windowsPriority(pr.Priority, pr.Nice))
	if pr.IO != nil {
		in.Set("ReadTransferCount", pr.IO.ReadBytes).
			Set("WriteTransferCount", pr.IO.WriteBytes).
			Set("ReadOperationCount", pr.IO.ReadCalls).
			Set("WriteOperationCount", pr.IO.WriteCalls)
	}
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

// windowsPriority maps a process's kernel priority and nice value onto
// the base priority of Windows' priority classes that Win32_Process
// reports: real-time 24, then by nice: high 13 (-15 and below), above
// normal 10, normal 8 (-4 to 4), below normal 6, idle 4 (15 and above).
func windowsPriority(prio, nice int64) uint32 {
	switch {
	case prio < 0:
		return 24
	case nice <= -15:
		return 13
	case nice < -4:
		return 10
	case nice <= 4:
		return 8
	case nice < 15:
		return 6
	}
	return 4
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
