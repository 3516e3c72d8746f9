package process

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// UnsetSessionID is what /proc/PID/sessionid holds when no audit session
// was set for the process (no pam_loginuid in its ancestry).
const UnsetSessionID = 4294967295

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// Proc is what the provider reads of one process.
type Proc struct {
	PID, PPID  int
	Comm       string   // stat's command name, at most 15 bytes
	Cmdline    []string // argv; empty for kernel threads and zombies
	Exe        string   // the executable's path; "" when it cannot be read
	UID        uint32   // effective uid
	SessionID  uint32   // audit session id; UnsetSessionID when unset
	StartTime  time.Time
	Threads    uint32
	VSize      uint64 // bytes
	RSSPages   uint64
	UTimeTicks uint64
	STimeTicks uint64
}

// reader reads processes under a procfs root.
type reader struct {
	root     string
	boot     time.Time
	bootOK   bool
	pageSize uint64
}

func newReader(root string) *reader {
	r := &reader{root: root, pageSize: uint64(os.Getpagesize())}
	r.boot, r.bootOK = bootTime(root)
	return r
}

// pids lists the numeric entries of the procfs root.
func (r *reader) pids() ([]int, error) {
	f, err := os.Open(r.root)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '1' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			out = append(out, pid)
		}
	}
	return out, nil
}

// sessionID reads only /proc/PID/sessionid: the cheap read that joins
// processes to logon sessions.
func (r *reader) sessionID(pid int) (uint32, bool) {
	var buf [16]byte
	f, err := os.Open(filepath.Join(r.root, strconv.Itoa(pid), "sessionid"))
	if err != nil {
		return 0, false
	}
	n, _ := f.Read(buf[:])
	f.Close()
	v, err := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// read reads one process; ok is false when it is gone or unreadable.
func (r *reader) read(pid int) (Proc, bool) {
	dir := filepath.Join(r.root, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Proc{}, false
	}
	p, ok := ParseStat(stat)
	if !ok || p.PID != pid {
		return Proc{}, false
	}
	if r.bootOK {
		p.StartTime = r.boot.Add(time.Duration(p.startTicks) * (time.Second / clockTicks))
	}
	pr := p.Proc
	pr.SessionID = UnsetSessionID
	if sid, ok := r.sessionID(pid); ok {
		pr.SessionID = sid
	}
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		pr.UID, _ = ParseStatusUID(status)
	}
	if cmd, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		pr.Cmdline = ParseCmdline(cmd)
	}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		pr.Exe = exe
	}
	return pr, true
}

// statInfo is a parsed stat line with the raw start time.
type statInfo struct {
	Proc
	startTicks uint64
}

// ParseStat parses the text of /proc/PID/stat. The command name sits in
// parentheses and may itself hold spaces and parentheses, so the fields
// are taken after the last ')'.
func ParseStat(data []byte) (statInfo, bool) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 1 || end < open {
		return statInfo{}, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil || pid <= 0 {
		return statInfo{}, false
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state); field N is f[N-3].
	if len(f) < 22 {
		return statInfo{}, false
	}
	num := func(n int) uint64 { v, _ := strconv.ParseUint(f[n-3], 10, 64); return v }
	ppid, err := strconv.Atoi(f[1])
	if err != nil || ppid < 0 {
		return statInfo{}, false
	}
	var s statInfo
	s.PID, s.PPID = pid, ppid
	s.Comm = string(data[open+1 : end])
	s.UTimeTicks, s.STimeTicks = num(14), num(15)
	threads := num(20)
	if threads > 1<<32-1 {
		threads = 0
	}
	s.Threads = uint32(threads)
	s.startTicks = num(22)
	s.VSize = num(23)
	s.RSSPages = num(24)
	return s, true
}

// ParseStatusUID returns the effective uid from the text of
// /proc/PID/status (its "Uid:" line: real, effective, saved, fs).
func ParseStatusUID(data []byte) (uint32, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) < 2 {
				return 0, false
			}
			v, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(v), err == nil
		}
	}
	return 0, false
}

// ParseCmdline splits /proc/PID/cmdline (NUL-separated argv) into its
// arguments. A process that rewrote its argv into one space-separated
// string (as sshd does) yields that one string.
func ParseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func bootTime(root string) (time.Time, bool) {
	data, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(s, 0), true
		}
	}
	return time.Time{}, false
}
