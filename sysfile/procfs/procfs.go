// Package procfs reads what the providers need about processes from
// Linux's /proc: parent, command, real and login uid, the kernel audit
// session id that pam_loginuid gives every process of a login,
// controlling terminal and start time ([FS.List]); on request also the
// argument list, effective uid, thread count, memory and CPU times that
// Win32_Process shows ([FS.ListFields], [Fields]); and, cheapest of all,
// which processes belong to which audit session ([FS.SessionPIDs]).
//
// The root is injectable ([New]), and the package only reads files, so it
// builds everywhere and its tests run on fixture trees on every operating
// system; on a system without /proc, reads fail with an error wrapping
// [fs.ErrNotExist]. Errors are plain Go errors that wrap their cause; the
// providers map them to CIM codes (cim.Map).
// A process that exits while it is being read is skipped by [FS.List]
// and reported as not found by [FS.Get], never as a failure.
package procfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	// of a login or the kernel has no audit support, and for a kernel
	// thread (whose audit files are not read: they are always unset).
	LoginUID uint32
	// SessionID is the audit session id, /proc/PID/sessionid; [Unset] when
	// none, and for a kernel thread. Every process of one login shares it.
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
	// gives: btime of /proc/stat plus StartTicks ([FieldStartTime]).
	StartTime time.Time

	// The fields below are read only when asked for ([FS.ListFields]).

	// EUID is the effective user id, the second Uid: field of
	// /proc/PID/status ([FieldEUID]).
	EUID uint32
	// Args is the argument list, /proc/PID/cmdline split at its NULs
	// (trailing NULs dropped); nil for kernel threads and zombies
	// ([FieldArgs]). A process that rewrote its argv into one
	// space-separated string (as sshd does) yields that one string.
	Args []string
	// Threads, VSize (bytes), RSSPages (resident pages), UTimeTicks and
	// STimeTicks (user and system CPU time in [ClockTicks]) are fields 20,
	// 23, 24, 14 and 15 of /proc/PID/stat ([FieldUsage]).
	Threads    uint32
	VSize      uint64
	RSSPages   uint64
	UTimeTicks uint64
	STimeTicks uint64
	// PageFaults (minor plus major, fields 10 and 12), Priority (the
	// kernel's, field 18: negative for real-time policies) and Nice
	// (field 19) of /proc/PID/stat ([FieldUsage]).
	PageFaults uint64
	Priority   int64
	Nice       int64
	// IO is /proc/PID/io's counters; nil when it may not be read
	// ([FieldIO]).
	IO *IOCounters
}

// IOCounters are the I/O counters of /proc/PID/io: bytes read and written
// through read/write calls (rchar, wchar) and the number of such calls
// (syscr, syscw).
type IOCounters struct {
	ReadBytes, WriteBytes, ReadCalls, WriteCalls uint64
}

// parseIO reads /proc/PID/io ("rchar: 123\nwchar: …"); false when it
// holds none of the four counters.
func parseIO(b []byte) (IOCounters, bool) {
	var c IOCounters
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "rchar":
			c.ReadBytes = v
		case "wchar":
			c.WriteBytes = v
		case "syscr":
			c.ReadCalls = v
		case "syscw":
			c.WriteCalls = v
		default:
			continue
		}
		found = true
	}
	return c, found
}

// Fields selects what [FS.ListFields] and [FS.GetFields] read of each
// process beyond what /proc/PID/stat gives at no extra cost (PID, PPID,
// State, Comm, TTY, TTYName, StartTicks): each field set costs a file
// read or a little parsing per process, so a caller asks for what it uses.
type Fields uint

// The field sets. Fields not asked for stay zero, except LoginUID and
// SessionID, which stay [Unset].
const (
	FieldStartTime Fields = 1 << iota // StartTime (reads btime of /proc/stat)
	FieldUID                          // UID (reads /proc/PID/status)
	FieldEUID                         // EUID (reads /proc/PID/status)
	FieldLoginUID                     // LoginUID (reads /proc/PID/loginuid)
	FieldSessionID                    // SessionID (reads /proc/PID/sessionid)
	FieldCmdline                      // Cmdline (reads /proc/PID/cmdline)
	FieldArgs                         // Args (reads /proc/PID/cmdline)
	FieldExe                          // Exe (reads the /proc/PID/exe link)
	FieldUsage                        // Threads, VSize, RSSPages, UTimeTicks, STimeTicks, PageFaults, Priority, Nice (parses more of stat)
	FieldIO                           // IO (reads /proc/PID/io, which only the owner and root may)

	// DefaultFields is what [FS.List] and [FS.Get] read.
	DefaultFields = FieldStartTime | FieldUID | FieldLoginUID | FieldSessionID | FieldCmdline | FieldExe
)

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
				return time.Time{}, fmt.Errorf("procfs: bad btime in %s: %q", filepath.Join(f.root, "stat"), v)
			}
			t := time.Unix(sec, 0)
			f.mu.Lock()
			f.btime, f.btimeAt, f.bootOnce = t, time.Now(), true
			f.mu.Unlock()
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("procfs: no btime line in %s", filepath.Join(f.root, "stat"))
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

// List returns every process, in pid order, with [DefaultFields].
// Processes that exit while they are read, or whose stat may not be read,
// are left out. It fails only when the root itself cannot be read (or ctx
// ends), with a plain error wrapping the cause.
func (f *FS) List(ctx context.Context) ([]Process, error) {
	return f.ListFields(ctx, DefaultFields)
}

// ListFields is [FS.List] reading the fields asked for (see [Fields]).
// Without [FieldStartTime] it does not need /proc/stat.
func (f *FS) ListFields(ctx context.Context, fields Fields) ([]Process, error) {
	pids, err := f.pids(ctx)
	if err != nil {
		return nil, err
	}
	var boot time.Time
	if fields&FieldStartTime != 0 {
		r := f.getReader()
		boot, err = f.readBootTime(r)
		f.bufs.Put(r)
		if err != nil {
			return nil, err
		}
	}
	procs := make([]Process, len(pids))
	ok := make([]bool, len(pids))
	err = f.each(ctx, len(pids), func(r *reader, i int) {
		p, err := f.read(r, pids[i], boot, fields)
		if err == nil { // else vanished, or hidden from us: not a failure of the list
			procs[i], ok[i] = p, true
		}
	})
	if err != nil {
		return nil, err
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

// SessionPIDs returns the pids of the processes whose audit session id is
// one of ids (every set id when ids is nil), by session id, each list in
// pid order. It reads only /proc/PID/sessionid of each process: the cheap
// join of processes to logon sessions. Errors are as for [FS.List].
func (f *FS) SessionPIDs(ctx context.Context, ids map[uint32]bool) (map[uint32][]int, error) {
	pids, err := f.pids(ctx)
	if err != nil {
		return nil, err
	}
	sids := make([]uint32, len(pids))
	err = f.each(ctx, len(pids), func(r *reader, i int) {
		sids[i] = Unset
		if b, err := r.readFile(f.pidPath(pids[i], "sessionid"), 64); err == nil {
			if v, ok := parseUint32(b); ok {
				sids[i] = v
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := map[uint32][]int{}
	for i, sid := range sids {
		if sid != Unset && (ids == nil || ids[sid]) {
			out[sid] = append(out[sid], pids[i])
		}
	}
	return out, nil
}

// SessionID returns the audit session id of process pid, read from
// /proc/PID/sessionid alone; false when the process is gone or the file
// may not be read. The id may be [Unset].
func (f *FS) SessionID(pid int) (uint32, bool) {
	if pid <= 0 {
		return 0, false
	}
	r := f.getReader()
	defer f.bufs.Put(r)
	b, err := r.readFile(f.pidPath(pid, "sessionid"), 64)
	if err != nil {
		return 0, false
	}
	return parseUint32(b)
}

// pids lists the process directories of the root, in pid order.
func (f *FS) pids(ctx context.Context) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
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
	return pids, nil
}

// each calls fn for 0..n-1. procfs reads cost kernel time (stat and
// status walk the task), and they scale across CPUs: the indexes are
// shared among a few workers, each with its own buffer; fn may fill slot
// i of a result without a lock. It fails only when ctx ends.
func (f *FS) each(ctx context.Context, n int, fn func(r *reader, i int)) error {
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, (n+minPerWorker-1)/minPerWorker)
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
				if start >= n || ctx.Err() != nil {
					return
				}
				for i := start; i < min(start+batch, n); i++ {
					fn(r, i)
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}

// How each shares out the work.
const (
	maxWorkers   = 8
	minPerWorker = 64
	batch        = 32
)

// Get returns the process pid with [DefaultFields]. It fails with an
// error wrapping [fs.ErrNotExist] when there is no such process (or it exits while
// being read).
func (f *FS) Get(pid int) (Process, error) { return f.GetFields(pid, DefaultFields) }

// GetFields is [FS.Get] reading the fields asked for (see [Fields]).
func (f *FS) GetFields(pid int, fields Fields) (Process, error) {
	r := f.getReader()
	defer f.bufs.Put(r)
	var boot time.Time
	if fields&FieldStartTime != 0 {
		var err error
		if boot, err = f.bootTime(r); err != nil {
			return Process{}, err
		}
	}
	p, err := f.read(r, pid, boot, fields)
	if err != nil {
		if errors.Is(err, errVanished) {
			return Process{}, fmt.Errorf("procfs: no process %d: %w", pid, fs.ErrNotExist)
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

// read reads one process: stat, then the files fields asks for. It
// returns errVanished (wrapped) when the process is gone or its stat may
// not be read.
func (f *FS) read(r *reader, pid int, boot time.Time, fields Fields) (Process, error) {
	if pid <= 0 {
		return Process{}, errVanished
	}
	b, err := r.readFile(f.pidPath(pid, "stat"), 4096)
	if err != nil {
		return Process{}, errVanished
	}
	var u *usage
	var us usage
	if fields&FieldUsage != 0 {
		u = &us
	}
	st, err := parseStatUsage(b, u)
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
		LoginUID:   Unset,
		SessionID:  Unset,
		Threads:    us.threads,
		VSize:      us.vsize,
		RSSPages:   us.rss,
		UTimeTicks: us.utime,
		STimeTicks: us.stime,
		PageFaults: us.faults,
		Priority:   us.prio,
		Nice:       us.nice,
	}
	if fields&FieldStartTime != 0 {
		p.StartTime = boot.Add(time.Duration(st.start) * (time.Second / ClockTicks))
	}
	if fields&(FieldUID|FieldEUID) != 0 {
		b, err = r.readFile(f.pidPath(pid, "status"), 64<<10)
		if isGone(err) {
			return Process{}, errVanished
		}
		if err == nil {
			ruid, euid, rok, eok := statusUIDs(b)
			if rok && fields&FieldUID != 0 {
				p.UID = ruid
			}
			if eok && fields&FieldEUID != 0 {
				p.EUID = euid
			}
		}
	}
	// Without audit support in the kernel these two files do not exist:
	// both stay Unset. So are they always for a kernel thread, whose files
	// are not read: a machine has dozens to hundreds of kernel threads,
	// and these two reads were most of the time of listing them.
	if fields&FieldLoginUID != 0 && !st.kthread {
		if b, err := r.readFile(f.pidPath(pid, "loginuid"), 64); err == nil {
			if v, ok := parseUint32(b); ok {
				p.LoginUID = v
			}
		}
	}
	if fields&FieldIO != 0 {
		if b, err := r.readFile(f.pidPath(pid, "io"), 4096); err == nil {
			if c, ok := parseIO(b); ok {
				p.IO = &c
			}
		}
	}
	if fields&FieldSessionID != 0 && !st.kthread {
		if b, err := r.readFile(f.pidPath(pid, "sessionid"), 64); err == nil {
			if v, ok := parseUint32(b); ok {
				p.SessionID = v
			}
		}
	}
	if fields&(FieldCmdline|FieldArgs) != 0 {
		if b, err := r.readFile(f.pidPath(pid, "cmdline"), 256<<10); err == nil {
			if fields&FieldArgs != 0 {
				p.Args = splitCmdline(b)
			}
			if fields&FieldCmdline != 0 {
				p.Cmdline = joinCmdline(b)
			}
		} else if isGone(err) {
			return Process{}, errVanished
		}
	}
	if fields&FieldExe != 0 {
		if exe, err := os.Readlink(f.pidPath(pid, "exe")); err == nil {
			p.Exe = exe
		}
	}
	return p, nil
}

// isGone reports whether err says the process has exited: its files are
// gone (ENOENT) or the kernel refuses them with ESRCH.
func isGone(err error) bool {
	return err != nil && (errors.Is(err, fs.ErrNotExist) || isESRCH(err))
}

// fileError wraps err with what was being done, keeping it as the cause
// for the provider to map (cim.Map).
func fileError(what string, err error) error {
	return fmt.Errorf("procfs: %s: %w", what, err)
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
	uid, _, ok, _ := statusUIDs(b)
	return uid, ok
}

// statusUIDs returns the real and the effective uid from the first Uid:
// line of /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"), each with
// whether it was there and a number.
func statusUIDs(b []byte) (ruid, euid uint32, rok, eok bool) {
	i := bytes.Index(b, []byte("\nUid:"))
	if i < 0 {
		if !bytes.HasPrefix(b, []byte("Uid:")) {
			return 0, 0, false, false
		}
		i = -1
	}
	b = b[i+len("\nUid:"):]
	if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
		b = b[:nl]
	}
	next := func() []byte {
		b = bytes.TrimLeft(b, " \t")
		end := bytes.IndexAny(b, " \t")
		if end < 0 {
			end = len(b)
		}
		tok := b[:end]
		b = b[end:]
		return tok
	}
	ruid, rok = parseUint32(next())
	if !rok {
		return 0, 0, false, false
	}
	euid, eok = parseUint32(next())
	return ruid, euid, rok, eok
}

// splitCmdline splits /proc/PID/cmdline (NUL-separated argv, trailing NULs
// dropped) into its arguments; nil when it is empty.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	all := string(b) // one allocation; the arguments slice it
	out := make([]string, 0, bytes.Count(b, []byte{0})+1)
	for {
		i := strings.IndexByte(all, 0)
		if i < 0 {
			return append(out, all)
		}
		out = append(out, all[:i])
		all = all[i+1:]
	}
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
