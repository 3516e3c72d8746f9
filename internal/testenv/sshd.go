package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// SSHD is a running OpenSSH server on 127.0.0.1 with its own configuration
// (UsePAM yes, public keys only, for [TestUser] only) and host key, started by
// [StartSSHD] and stopped at the test's cleanup.
type SSHD struct {
	daemon
	dir     string
	key     string     // the client's private key
	utmp    string     // the utmp file its logins are written to
	loginMu sync.Mutex // one Login at a time finds its new processes

	mu     sync.Mutex
	logins []*Login
}

// StartSSHD starts sshd in the foreground (-D -e) on a free port of 127.0.0.1
// and waits until it accepts connections. It needs root, sshd, ssh and
// ssh-keygen; it creates the test user, /run/sshd and /var/run/utmp when
// missing. Cleanup ends every login still open and stops the server.
func StartSSHD(tb testing.TB) *SSHD {
	tb.Helper()
	return startSSHD(tb, "")
}

// StartSSHDUtmp is StartSSHD for a server whose logins are written to a
// utmp file of its own, utmp (created when missing), and not to the
// machine's: sshd runs in a mount namespace of its own (unshare) in which
// utmp is bind-mounted over /var/run/utmp. Several such servers are
// several hosts' logins on one machine. It needs unshare too.
func StartSSHDUtmp(tb testing.TB, utmp string) *SSHD {
	tb.Helper()
	RequireTool(tb, "unshare")
	if _, err := os.Stat(utmp); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(utmp, nil, 0o664); err != nil {
			tb.Fatalf("testenv: %v", err)
		}
	}
	return startSSHD(tb, utmp)
}

func startSSHD(tb testing.TB, utmp string) *SSHD {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skipf("testenv: sshd logins are only tested on Linux, not %s", runtime.GOOS)
	}
	RequireRoot(tb)
	RequireTool(tb, "sshd", "ssh", "ssh-keygen")
	ensureSystem(tb)

	dir := serverDir(tb, "cimsess-sshd-")
	s := &SSHD{dir: dir, key: filepath.Join(dir, "client_key"), utmp: utmp}
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := runCmd(20*time.Second, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cimsess-test", "-f", filepath.Join(dir, k)); err != nil {
			tb.Fatalf("testenv: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(s.key + ".pub")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	// sshd reads authorized_keys as the user, so it must be readable by all.
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o644); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	sshdPath, _ := LookTool("sshd")

	conf := filepath.Join(dir, "sshd_config")
	s.start(tb, "sshd", 10*time.Second, 20*time.Millisecond, func(int) *exec.Cmd {
		if err := os.WriteFile(conf, []byte(s.config()), 0o644); err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		if out, err := runCmd(20*time.Second, sshdPath, "-t", "-f", conf); err != nil {
			tb.Fatalf("testenv: sshd rejects its config: %v: %s", err, out)
		}
		if utmp != "" {
			// unshare and sh exec: the process is sshd's.
			unshare, _ := LookTool("unshare")
			return exec.Command(unshare, "--mount", "--propagation", "private", "--", "sh", "-c",
				`mount --bind "$0" `+UtmpPath+` && exec "$@"`, utmp, sshdPath, "-D", "-e", "-f", conf)
		}
		return exec.Command(sshdPath, "-D", "-e", "-f", conf)
	}, func() bool { return strings.Contains(s.log.String(), "Server listening") }, s.stop)
	return s
}

// config renders sshd_config for this server.
func (s *SSHD) config() string {
	return fmt.Sprintf(`# cimsess test sshd: its own port, host key and keys; PAM on.
ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers %s
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
`, s.port, filepath.Join(s.dir, "host_key"), filepath.Join(s.dir, "sshd.pid"),
		filepath.Join(s.dir, "authorized_keys"), TestUser)
}

// Utmp returns the utmp file the server's logins are written to:
// [UtmpPath], or the one given to [StartSSHDUtmp].
func (s *SSHD) Utmp() string {
	if s.utmp != "" {
		return s.utmp
	}
	return UtmpPath
}

// User returns the account the logins use ([TestUser]).
func (s *SSHD) User() string { return TestUser }

// Port returns the TCP port sshd listens on at 127.0.0.1.
func (s *SSHD) Port() int { return s.port }

// PID returns the listener's process id.
func (s *SSHD) PID() int { return s.cmd.Process.Pid }

// Log returns what sshd has written so far (LogLevel VERBOSE).
func (s *SSHD) Log() string { return s.log.String() }

// stop ends the open logins and the listener.
func (s *SSHD) stop() {
	s.mu.Lock()
	logins := append([]*Login(nil), s.logins...)
	s.mu.Unlock()
	for _, l := range logins {
		l.cleanup()
	}
	select {
	case <-s.exited:
		return
	default:
	}
	// Sessions are their own process groups (sshd calls setsid): end any
	// left under the listener before the listener itself.
	procs := listProcs()
	rest := descendantsOf(procs, s.cmd.Process.Pid)
	signalPIDs(syscall.SIGKILL, rest...)
	signalPIDs(syscall.SIGTERM, s.cmd.Process.Pid)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// LoginOpts says how [SSHD.Login] logs in.
type LoginOpts struct {
	// TTY asks for a terminal (ssh -tt): sshd then writes a utmp record.
	TTY bool
	// Command runs instead of a login shell when not empty, e.g. "sleep 30".
	Command string
}

// Login is one SSH login of the test user, kept open until [Login.Close],
// [Login.KillSSHD9] or the test's cleanup.
type Login struct {
	// Started is the time just before the ssh client was started.
	Started time.Time

	sshd    *SSHD
	opts    LoginOpts
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *lockedBuffer
	done    chan struct{}
	monitor int    // sshd: USER [priv]
	child   int    // sshd: USER@pts/N or USER@notty
	leader  int    // the shell or command
	line    string // "pts/N", or "" without a terminal
	sid     uint32

	mu     sync.Mutex
	closed bool
	ghost  bool
}

// Login logs the test user in over ssh and returns once the session's
// processes exist (and, with a terminal, its utmp record), within 20 s.
func (s *SSHD) Login(tb testing.TB, opts LoginOpts) *Login {
	tb.Helper()
	s.loginMu.Lock()
	defer s.loginMu.Unlock()

	prefix := "sshd: " + TestUser
	before := map[int]bool{}
	for _, c := range childrenOf(listProcs(), s.PID()) {
		before[c.PID] = true
	}
	sshPath, err := LookTool("ssh")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	args := []string{"-F", "/dev/null", "-i", s.key, "-p", strconv.Itoa(s.port),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=10"}
	if opts.TTY {
		args = append(args, "-tt")
	} else {
		args = append(args, "-T")
	}
	args = append(args, TestUser+"@127.0.0.1")
	if opts.Command != "" {
		args = append(args, opts.Command)
	}
	l := &Login{sshd: s, opts: opts, out: &lockedBuffer{}, done: make(chan struct{})}
	l.cmd = exec.Command(sshPath, args...)
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	l.Started = time.Now()
	if err := l.cmd.Start(); err != nil {
		tb.Fatalf("testenv: start ssh: %v", err)
	}
	go func() { _ = l.cmd.Wait(); close(l.done) }()
	s.mu.Lock()
	s.logins = append(s.logins, l)
	s.mu.Unlock()
	tb.Cleanup(l.cleanup)

	found := waitUntil(15*time.Second, 20*time.Millisecond, func() bool {
		select {
		case <-l.done:
			return true
		default:
		}
		procs := listProcs()
		for _, m := range childrenOf(procs, s.PID()) {
			if before[m.PID] || !strings.HasPrefix(m.Cmdline, prefix) {
				continue
			}
			for _, c := range childrenOf(procs, m.PID) {
				if !strings.HasPrefix(c.Cmdline, prefix+"@") {
					continue
				}
				for _, g := range childrenOf(procs, c.PID) {
					l.monitor, l.child, l.leader = m.PID, c.PID, g.PID
					l.line = strings.TrimSpace(strings.TrimPrefix(c.Cmdline, prefix+"@"))
					if l.line == "notty" {
						l.line = ""
					}
					return true
				}
			}
		}
		return false
	})
	select {
	case <-l.done:
		tb.Fatalf("testenv: ssh login ended at once: %s\nsshd: %s", l.out.String(), s.Log())
	default:
	}
	if !found {
		tb.Fatalf("testenv: ssh login's processes not found within 15s: %s\nsshd: %s", l.out.String(), s.Log())
	}
	l.sid, _ = readSessionID(l.leader)
	if opts.TTY {
		if _, err := l.WaitUtmp(UtmpUserProcess, 5*time.Second); err != nil {
			tb.Logf("testenv: %v", err)
		}
	}
	return l
}

// MonitorPID returns the session's privileged sshd process ("sshd: USER
// [priv]"), the listener's child. Its pid is the one sshd writes into the
// utmp record (ut_pid), and it is the process that writes DEAD_PROCESS at
// logout.
func (l *Login) MonitorPID() int { return l.monitor }

// SSHDPID returns the session's unprivileged sshd process ("sshd:
// USER@pts/N" or "sshd: USER@notty"), the monitor's child.
func (l *Login) SSHDPID() int { return l.child }

// ShellPID returns the session's leader: the first process the session runs
// (the login shell, or the command), child of [Login.SSHDPID].
func (l *Login) ShellPID() int { return l.leader }

// SessionID returns the kernel audit session id of the login's processes
// (/proc/PID/sessionid), or [UnsetSessionID] when none was set.
func (l *Login) SessionID() uint32 { return l.sid }

// Line returns the login's terminal, e.g. "pts/3", or "" without one.
func (l *Login) Line() string { return l.line }

// Output returns what the ssh client printed so far.
func (l *Login) Output() string { return l.out.String() }

// UtmpEntry returns the login's record in its server's utmp file (ut_pid equal to
// [Login.MonitorPID]), if there is one.
func (l *Login) UtmpEntry() (UtmpEntry, bool) {
	recs, err := readUtmp(l.sshd.Utmp())
	if err != nil {
		return UtmpEntry{}, false
	}
	for _, r := range recs {
		if r.PID == int32(l.monitor) && (r.Type == UtmpUserProcess || r.Type == UtmpDeadProcess) {
			return r, true
		}
	}
	return UtmpEntry{}, false
}

// WaitUtmp waits up to timeout until the login's utmp record has type typ
// ([UtmpUserProcess] or [UtmpDeadProcess]) and returns it.
func (l *Login) WaitUtmp(typ int16, timeout time.Duration) (UtmpEntry, error) {
	var got UtmpEntry
	var ok bool
	if waitUntil(timeout, 20*time.Millisecond, func() bool {
		got, ok = l.UtmpEntry()
		return ok && got.Type == typ
	}) {
		return got, nil
	}
	if !ok {
		return UtmpEntry{}, cim.Errorf(cim.ErrNotFound, "testenv: no utmp record with pid %d within %v", l.monitor, timeout)
	}
	return got, cim.Errorf(cim.ErrFailed, "testenv: utmp record of pid %d has type %d, not %d, after %v", l.monitor, got.Type, typ, timeout)
}

// Close logs out normally: it types "exit" into a shell, or ends the command
// (the leader and its descendants) with SIGTERM, then closes the client's input and waits (at most 15 s) for
// the client and the session's sshd to exit, so that sshd has written the
// DEAD_PROCESS record. A login already closed returns nil.
func (l *Login) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()

	if l.opts.Command == "" {
		_, _ = io.WriteString(l.stdin, "exit\n")
	} else {
		l.endCommand()
	}
	_ = l.stdin.Close()
	var err error
	deadline := time.After(10 * time.Second)
	again := time.NewTicker(200 * time.Millisecond)
	defer again.Stop()
wait:
	for {
		select {
		case <-l.done:
			break wait
		case <-again.C:
			if l.opts.Command != "" {
				l.endCommand() // a child forked after the first signal
			}
		case <-deadline:
			_ = l.cmd.Process.Kill()
			err = cim.Errorf(cim.ErrFailed, "testenv: ssh client did not exit within 10s of logout: %s", l.out.String())
			break wait
		}
	}
	if !waitGone(5*time.Second, l.monitor, l.child, l.leader) {
		l.killAll()
		_, _ = markDead(l.sshd.Utmp(), l.monitor)
		if err == nil {
			err = cim.Errorf(cim.ErrFailed, "testenv: session of pid %d still alive 5s after logout; killed", l.monitor)
		}
	}
	return err
}

// endCommand sends SIGTERM to the login's command: the leader, its
// descendants, and every other process of its audit session but sshd's
// own (a shell signalled while it forks leaves its child to init, still
// holding the channel open, so descendants alone are not enough).
func (l *Login) endCommand() {
	procs := listProcs()
	pids := append([]int{l.leader}, descendantsOf(procs, l.leader)...)
	for _, pid := range pidsWithSessionID(procs, l.sid) {
		if pid != l.monitor && pid != l.child {
			pids = append(pids, pid)
		}
	}
	signalPIDs(syscall.SIGTERM, pids...)
}

// HoldTerminal keeps the login's terminal device open until the test ends.
// Once a ghost's processes are gone its pts number is free, and the next
// login on the machine (another test's) would get it and overwrite the
// ghost's utmp record, which glibc finds by line: a real ghost vanishes
// that way too, but a test that watches one needs it to stay.
func (l *Login) HoldTerminal(tb testing.TB) {
	tb.Helper()
	if l.Line() == "" {
		tb.Fatalf("testenv: the login has no terminal to hold")
	}
	f, err := os.OpenFile("/dev/"+l.Line(), os.O_RDONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		tb.Fatalf("testenv: holding the terminal: %v", err)
	}
	tb.Cleanup(func() { f.Close() })
}

// KillSSHD9 makes a ghost: it sends SIGKILL to the session's privileged sshd
// first (the one process that would write DEAD_PROCESS), then to the rest of
// the session, and waits for them and the client to go. The utmp record stays
// USER_PROCESS with a pid that no longer exists; cleanup closes it.
func (l *Login) KillSSHD9() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return cim.Errorf(cim.ErrFailed, "testenv: login already closed")
	}
	l.closed, l.ghost = true, true
	l.mu.Unlock()
	gone := l.killAll()
	_ = l.stdin.Close()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		_ = l.cmd.Process.Kill()
	}
	if !gone {
		return cim.Errorf(cim.ErrFailed, "testenv: session of pid %d survived SIGKILL for 5s", l.monitor)
	}
	return nil
}

// killAll sends SIGKILL to the monitor, then to every other process of the
// session (by audit session id and by descent), and waits up to 5 s.
func (l *Login) killAll() bool {
	procs := listProcs()
	pids := []int{l.child, l.leader}
	pids = append(pids, descendantsOf(procs, l.monitor)...)
	pids = append(pids, pidsWithSessionID(procs, l.sid)...)
	signalPIDs(syscall.SIGKILL, l.monitor)
	signalPIDs(syscall.SIGKILL, pids...)
	return waitGone(5*time.Second, append(pids, l.monitor)...)
}

// cleanup ends the login hard if it is still open and closes a ghost's
// utmp record.
func (l *Login) cleanup() {
	l.mu.Lock()
	open, ghost := !l.closed, l.ghost
	l.closed = true
	l.ghost = false
	l.mu.Unlock()
	if open {
		l.killAll()
		_ = l.stdin.Close()
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			_ = l.cmd.Process.Kill()
		}
	}
	if open || ghost {
		_, _ = markDead(l.sshd.Utmp(), l.monitor)
	}
}
