// Package procfs reads what the session providers need about processes
// from Linux's /proc: parent, command, real and login uid, the kernel
// audit session id that pam_loginuid gives every process of a login,
// controlling terminal and start time.
//
// The root is injectable ([New]), and the package only reads files, so it
// builds everywhere and its tests run on fixture trees on every operating
// system; on a system without /proc, reads fail with [cim.ErrNotFound].
// A process that exits while it is being read is skipped by [FS.List]
// and reported as not found by [FS.Get], never as a failure.
package procfs

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// DefaultRoot is where Linux mounts procfs.
const DefaultRoot = "/proc"

// Unset is the value of /proc/PID/loginuid and /proc/PID/sessionid for a
// process outside any login (and of both when the kernel has no audit
// support): (uint32)-1.
const Unset uint32 = 4294967295

// ClockTicks is USER_HZ, the unit of the start time in /proc/PID/stat.
// It is 100 on every architecture Go supports.
const ClockTicks = 100

// Process is what procfs says about one process.
type Process struct {
	PID  int // the process id
	PPID int // the parent's process id (0 for init and kthreadd)
	// State is the state letter of /proc/PID/stat: R, S, D, Z, T, t, X, I...
	State byte
	// Comm is the command name (at most 15 bytes; it may hold spaces and
	// parentheses, and bytes that are not UTF-8).
	Comm string
	// Cmdline is the argument list joined by spaces ("" for kernel threads
	// and zombies).
	Cmdline string
	// Exe is the target of /proc/PID/exe, "" when it may not be read
	// (another user's process) or the process has none.
	Exe string
	// UID is the real user id (the first Uid: field of /proc/PID/status).
	UID uint32
	// LoginUID is /proc/PID/loginuid; [Unset] when the process is not part
	// of a login or the kernel has no audit support.
	LoginUID uint32
	// SessionID is the audit session id, /proc/PID/sessionid; [Unset] when
	// none. Every process of one login shares it.
	SessionID uint32
	// TTY is tty_nr of /proc/PID/stat, the controlling terminal's device
	// number (0 for none), and TTYName its name under /dev ("pts/3",
	// "tty1"), "" for none or a device [TTYName] does not know.
	TTY     uint64
	TTYName string
	// StartTicks is the start time in clock ticks since boot (stat field
	// 22); with PID it identifies a process across pid reuse.
	StartTicks uint64
	// StartTime is when the process started, to the second boot time
	// gives: btime of /proc/stat plus StartTicks.
	StartTime time.Time
}

// HasSession reports whether the process belongs to an audit session.
func (p Process) HasSession() bool { return p.SessionID != Unset }

// HasLoginUID reports whether the process has a login uid.
func (p Process) HasLoginUID() bool { return p.LoginUID != Unset }

// FS reads one procfs tree. It is safe for concurrent use.
type FS struct {
	root string

	mu       sync.Mutex
	btime    time.Time
	btimeAt  time.Time
	bufs     sync.Pool
	bootOnce bool
}

// New returns an FS reading the procfs mounted at root ("" means
// [DefaultRoot]).
func New(root string) *FS {
	if root == "" {
		root = DefaultRoot
	}
	f := &FS{root: root}
	f.bufs.New = func() any { return &reader{buf: make([]byte, 4096)} }
	return f
}

// Root returns the directory the FS reads.
func (f *FS) Root() string { return f.root }

// errVanished marks a process that went away while it was being read.
var errVanished = errors.New("process vanished")

// BootTime returns when the system booted, from the btime line of
// /proc/stat.
func (f *FS) BootTime() (time.Time, error) {
	r := f.getReader()
	defer f.bufs.Put(r)
	return f.readBootTime(r)
}

func (f *FS) readBootTime(r *reader) (time.Time, error) {
	b, err := r.readFile(filepath.Join(f.root, "stat"), 1<<20)
	if err != nil {
		return time.Time{}, fileError("reading boot time", err)
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return time.Time{}, cim.Errorf(cim.ErrFailed, "procfs: bad btime in %s: %q", filepath.Join(f.root, "stat"), v)
			}
			t := time.Unix(sec, 0)
			f.mu.Lock()
			f.btime, f.btimeAt, f.bootOnce = t, time.Now(), true
			f.mu.Unlock()
			return t, nil
		}
	}
	return time.Time{}, cim.Errorf(cim.ErrFailed, "procfs: no btime line in %s", filepath.Join(f.root, "stat"))
}

// bootTime returns btime read at most a minute ago, else reads it again.
func (f *FS) bootTime(r *reader) (time.Time, error) {
	f.mu.Lock()
	t, at, ok := f.btime, f.btimeAt, f.bootOnce
	f.mu.Unlock()
	if ok && time.Since(at) < time.Minute {
		return t, nil
	}
	return f.readBootTime(r)
}

func (f *FS) getReader() *reader { return f.bufs.Get().(*reader) }

// List returns every process, in pid order. Processes that exit while
// they are read, or whose stat may not be read, are left out. It fails
// only when the root itself cannot be read (or ctx ends), with a
// [*cim.Error].
func (f *FS) List(ctx context.Context) ([]Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	d, err := os.Open(f.root)
	if err != nil {
		return nil, fileError("listing processes", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fileError("listing processes", err)
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, ok := parsePID(n); ok {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)

	r := f.getReader()
	boot, err := f.readBootTime(r)
	f.bufs.Put(r)
	if err != nil {
		return nil, err
	}
	// procfs reads cost kernel time (stat and status walk the task), and
	// they scale across CPUs: split the pids among a few workers, each
	// with its own buffer, each filling its own slots of the result.
	procs := make([]Process, len(pids))
	ok := make([]bool, len(pids))
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, (len(pids)+minPerWorker-1)/minPerWorker)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.getReader()
			defer f.bufs.Put(r)
			for {
				start := int(next.Add(batch)) - batch
				if start >= len(pids) || ctx.Err() != nil {
					return
				}
				for i := start; i < min(start+batch, len(pids)); i++ {
					p, err := f.read(r, pids[i], boot)
					if err == nil { // else vanished, or hidden from us: not a failure of the list
						procs[i], ok[i] = p, true
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	n := 0
	for i := range procs {
		if ok[i] {
			procs[n] = procs[i]
			n++
		}
	}
	return procs[:n:n], nil
}

// How List shares out the work.
const (
	maxWorkers   = 8
	minPerWorker = 64
	batch        = 32
)

// Get returns the process pid. It fails with [cim.ErrNotFound] when there
// is no such process (or it exits while being read).
func (f *FS) Get(pid int) (Process, error) {
	r := f.getReader()
	defer f.bufs.Put(r)
	boot, err := f.bootTime(r)
	if err != nil {
		return Process{}, err
	}
	p, err := f.read(r, pid, boot)
	if err != nil {
		if errors.Is(err, errVanished) {
			return Process{}, cim.Errorf(cim.ErrNotFound, "procfs: no process %d", pid)
		}
		return Process{}, err
	}
	return p, nil
}

// Alive reports whether process pid exists and is not a zombie: a login
// whose leader is a zombie has ended. Compare [Process.StartTicks] from
// [FS.Get] to tell a reused pid from the process you knew.
func (f *FS) Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	r := f.getReader()
	defer f.bufs.Put(r)
	b, err := r.readFile(f.pidPath(pid, "stat"), 4096)
	if err != nil {
		return false
	}
	st, err := parseStat(b)
	return err == nil && st.state != 'Z' && st.state != 'X' && st.state != 'x'
}

func (f *FS) pidPath(pid int, file string) string {
	return f.root + string(filepath.Separator) + strconv.Itoa(pid) + string(filepath.Separator) + file
}

// read reads one process. It returns errVanished (wrapped) when the
// process is gone or its stat may not be read.
func (f *FS) read(r *reader, pid int, boot time.Time) (Process, error) {
	if pid <= 0 {
		return Process{}, errVanished
	}
	b, err := r.readFile(f.pidPath(pid, "stat"), 4096)
	if err != nil {
		return Process{}, errVanished
	}
	st, err := parseStat(b)
	if err != nil || st.pid != pid {
		return Process{}, errVanished
	}
	p := Process{
		PID:        pid,
		PPID:       st.ppid,
		State:      st.state,
		Comm:       st.comm,
		TTY:        st.tty,
		TTYName:    TTYName(st.tty),
		StartTicks: st.start,
		StartTime:  boot.Add(time.Duration(st.start) * (time.Second / ClockTicks)),
		LoginUID:   Unset,
		SessionID:  Unset,
	}

	b, err = r.readFile(f.pidPath(pid, "status"), 64<<10)
	if isGone(err) {
		return Process{}, errVanished
	}
	if err == nil {
		if uid, ok := statusUID(b); ok {
			p.UID = uid
		}
	}
	// Without audit support in the kernel these two files do not exist:
	// both stay Unset.
	if b, err := r.readFile(f.pidPath(pid, "loginuid"), 64); err == nil {
		if v, ok := parseUint32(b); ok {
			p.LoginUID = v
		}
	}
	if b, err := r.readFile(f.pidPath(pid, "sessionid"), 64); err == nil {
		if v, ok := parseUint32(b); ok {
			p.SessionID = v
		}
	}
	if b, err := r.readFile(f.pidPath(pid, "cmdline"), 256<<10); err == nil {
		p.Cmdline = joinCmdline(b)
	} else if isGone(err) {
		return Process{}, errVanished
	}
	if exe, err := os.Readlink(f.pidPath(pid, "exe")); err == nil {
		p.Exe = exe
	}
	return p, nil
}

// isGone reports whether err says the process has exited: its files are
// gone (ENOENT) or the kernel refuses them with ESRCH.
func isGone(err error) bool {
	return err != nil && (errors.Is(err, fs.ErrNotExist) || isESRCH(err))
}

func fileError(what string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cim.Errorf(cim.ErrNotFound, "procfs: %s: %v", what, err)
	case errors.Is(err, fs.ErrPermission):
		return cim.Errorf(cim.ErrAccessDenied, "procfs: %s: %v", what, err)
	default:
		return cim.Errorf(cim.ErrFailed, "procfs: %s: %v", what, err)
	}
}

func parsePID(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

func parseUint32(b []byte) (uint32, bool) {
	v, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 32)
	return uint32(v), err == nil
}

// statusUID returns the real uid from /proc/PID/status.
func statusUID(b []byte) (uint32, bool) {
	i := bytes.Index(b, []byte("\nUid:"))
	if i < 0 {
		if !bytes.HasPrefix(b, []byte("Uid:")) {
			return 0, false
		}
		i = -1
	}
	b = b[i+len("\nUid:"):]
	b = bytes.TrimLeft(b, " \t")
	end := bytes.IndexAny(b, " \t\n")
	if end < 0 {
		end = len(b)
	}
	return parseUint32(b[:end])
}

// joinCmdline turns the NUL-separated argument list into one line.
func joinCmdline(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return ""
	}
	for i, c := range b { // b is the reader's buffer: ours to change
		if c == 0 {
			b[i] = ' '
		}
	}
	return string(b)
}
