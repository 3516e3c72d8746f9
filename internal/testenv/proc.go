package testenv

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procRoot is where the process table is read; tests of the parsers use
// fixtures instead.
const procRoot = "/proc"

// UnsetSessionID is the value of /proc/PID/sessionid when no audit session
// was set (no pam_loginuid, or a container that forbids it).
const UnsetSessionID = 4294967295

// procInfo is what the harness needs of one process.
type procInfo struct {
	PID, PPID int
	State     byte   // R, S, D, Z, T, …
	Cmdline   string // argv joined by spaces
}

// parseStat reads pid, state and ppid from the text of /proc/PID/stat. The
// command name sits in parentheses and may itself hold spaces and parentheses,
// so the fields are taken after the last ')'.
func parseStat(data []byte) (pid int, state byte, ppid int, ok bool) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 1 || end < open {
		return 0, 0, 0, false
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
	if err != nil || pid <= 0 {
		return 0, 0, 0, false
	}
	rest := strings.Fields(string(data[end+1:]))
	if len(rest) < 2 || len(rest[0]) != 1 {
		return 0, 0, 0, false
	}
	ppid, err = strconv.Atoi(rest[1])
	if err != nil || ppid < 0 {
		return 0, 0, 0, false
	}
	return pid, rest[0][0], ppid, true
}

// readProc reads one process; ok is false when it is gone.
func readProc(pid int) (procInfo, bool) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procInfo{}, false
	}
	p, state, ppid, ok := parseStat(stat)
	if !ok {
		return procInfo{}, false
	}
	cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
	cmd = bytes.TrimRight(cmd, "\x00")
	return procInfo{PID: p, PPID: ppid, State: state, Cmdline: string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))}, true
}

// listProcs reads every live (non-zombie) process.
func listProcs() []procInfo {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok && p.State != 'Z' && p.State != 'X' {
			out = append(out, p)
		}
	}
	return out
}

// childrenOf returns the live children of ppid.
func childrenOf(procs []procInfo, ppid int) []procInfo {
	var out []procInfo
	for _, p := range procs {
		if p.PPID == ppid {
			out = append(out, p)
		}
	}
	return out
}

// descendantsOf returns every live descendant of pid (not pid itself).
func descendantsOf(procs []procInfo, pid int) []int {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range childrenOf(procs, cur) {
			out = append(out, c.PID)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie. (On the project's
// machines PID 1 does not reap orphans, so zombies linger.)
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, ok := readProc(pid)
	return ok && p.State != 'Z' && p.State != 'X'
}

// readSessionID returns /proc/PID/sessionid, the kernel audit session id.
func readSessionID(pid int) (uint32, bool) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "sessionid"))
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// pidsWithSessionID returns every live process in the given audit session.
func pidsWithSessionID(procs []procInfo, sid uint32) []int {
	if sid == UnsetSessionID {
		return nil
	}
	var out []int
	for _, p := range procs {
		if s, ok := readSessionID(p.PID); ok && s == sid {
			out = append(out, p.PID)
		}
	}
	return out
}

// signalPIDs sends sig to each pid, ignoring the ones already gone.
func signalPIDs(sig syscall.Signal, pids ...int) {
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		if pr, err := os.FindProcess(pid); err == nil {
			_ = pr.Signal(sig)
		}
	}
}

// waitGone waits until none of pids is alive; it reports whether they all went.
func waitGone(timeout time.Duration, pids ...int) bool {
	return waitUntil(timeout, 20*time.Millisecond, func() bool {
		for _, p := range pids {
			if alive(p) {
				return false
			}
		}
		return true
	})
}

// tcpEntry is one socket line of /proc/net/tcp or tcp6.
type tcpEntry struct {
	LocalIP    string // hex, as the kernel writes it
	LocalPort  int
	RemotePort int
	Inode      uint64
}

// parseProcNetTCP parses /proc/net/tcp (or tcp6): a header line, then one
// socket a line, "sl local rem st tx:rx tr:when retr uid timeout inode …",
// addresses as HEXIP:HEXPORT. Lines that do not fit are skipped.
func parseProcNetTCP(data []byte) []tcpEntry {
	var out []tcpEntry
	for i, line := range strings.Split(string(data), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		lip, lport, ok1 := splitHexAddr(f[1])
		_, rport, ok2 := splitHexAddr(f[2])
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		out = append(out, tcpEntry{LocalIP: lip, LocalPort: lport, RemotePort: rport, Inode: inode})
	}
	return out
}

// splitHexAddr splits "0100007F:BC82" into its hex address and port.
func splitHexAddr(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 1 || i == len(s)-1 {
		return "", 0, false
	}
	if _, err := hex.DecodeString(s[:i]); err != nil {
		return "", 0, false
	}
	port, err := strconv.ParseUint(s[i+1:], 16, 16)
	if err != nil {
		return "", 0, false
	}
	return s[:i], int(port), true
}

// socketInodes returns the inodes of the sockets that pid holds open.
func socketInodes(pid int) map[uint64]bool {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:[") || !strings.HasSuffix(link, "]") {
			continue
		}
		if n, err := strconv.ParseUint(link[len("socket:["):len(link)-1], 10, 64); err == nil {
			out[n] = true
		}
	}
	return out
}

// localPortTo returns the local port of pid's TCP connection to remotePort.
func localPortTo(pid, remotePort int) (int, bool) {
	inodes := socketInodes(pid)
	if len(inodes) == 0 {
		return 0, false
	}
	for _, name := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(filepath.Join(procRoot, "net", name))
		if err != nil {
			continue
		}
		for _, e := range parseProcNetTCP(data) {
			if inodes[e.Inode] && e.RemotePort == remotePort {
				return e.LocalPort, true
			}
		}
	}
	return 0, false
}
