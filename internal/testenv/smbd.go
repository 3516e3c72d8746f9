package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// SMBShare is the name of the one share every test smbd exports.
const SMBShare = "share"

// SMBFile is the file in the share that [SMBD.Connect] keeps open.
const SMBFile = "hello.txt"

// SMBD is a running Samba smbd on 127.0.0.1 with its own smb.conf and its own
// lock, state, cache, pid and private directories (nothing of the system's
// Samba is touched), started by [StartSMBD] and stopped at cleanup.
type SMBD struct {
	daemon
	dir      string
	conf     string
	password string

	connMu sync.Mutex // one Connect at a time
}

// StartSMBD starts smbd in the foreground on a free port of 127.0.0.1 with a
// share [SMBShare] holding [SMBFile], adds the test user to its own passdb
// with a random password, and waits until it accepts connections. It needs
// root, smbd, smbpasswd, smbclient and smbstatus.
func StartSMBD(tb testing.TB) *SMBD {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skipf("testenv: smbd is only tested on Linux, not %s", runtime.GOOS)
	}
	RequireRoot(tb)
	RequireTool(tb, "smbd", "smbpasswd", "smbclient", "smbstatus")
	ensureSystem(tb)

	dir := serverDir(tb, "cimsess-smbd-")
	s := &SMBD{dir: dir, conf: filepath.Join(dir, "smb.conf")}
	for _, d := range []string{"lock", "state", "cache", "pid", "private", "ncalrpc", "log", "share"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatalf("testenv: %v", err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "share"), 0o777); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "share", SMBFile), []byte("hello from cimsess\n"), 0o666); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	_ = os.Chmod(filepath.Join(dir, "share", SMBFile), 0o666)
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	s.password = "Pw-" + hex.EncodeToString(rnd[:])
	smbdPath, _ := LookTool("smbd")

	s.start(tb, "smbd", 15*time.Second, 25*time.Millisecond, func(attempt int) *exec.Cmd {
		if err := os.WriteFile(s.conf, []byte(s.config()), 0o644); err != nil {
			tb.Fatalf("testenv: %v", err)
		}
		if attempt == 0 {
			pw := []byte(s.password + "\n" + s.password + "\n")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			out, err := runCmdContext(ctx, pw, "smbpasswd", "-c", s.conf, "-a", "-s", TestUser)
			cancel()
			if err != nil {
				tb.Fatalf("testenv: %v: %s", err, out)
			}
		}
		return exec.Command(smbdPath, "--foreground", "--no-process-group", "--debug-stdout", "-d", "1", "-s", s.conf)
	}, nil, s.stop)
	return s
}

// config renders smb.conf for this server.
func (s *SMBD) config() string {
	d := func(sub string) string { return filepath.Join(s.dir, sub) }
	return fmt.Sprintf(`# cimsess test smbd: loopback only, its own port and state.
[global]
  netbios name = CIMSESSTEST
  workgroup = WORKGROUP
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = %d
  disable netbios = yes
  server services = -nbt
  lock directory = %s
  state directory = %s
  cache directory = %s
  pid directory = %s
  private dir = %s
  ncalrpc dir = %s
  log file = %s
  max log size = 0
  passdb backend = tdbsam:%s
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = never
  usershare path =
  server min protocol = SMB2_02

[%s]
  path = %s
  read only = no
  guest ok = no
  valid users = %s
`, s.port, d("lock"), d("state"), d("cache"), d("pid"), d("private"), d("ncalrpc"),
		d("log/log.%m"), d("private/passdb.tdb"), SMBShare, d("share"), TestUser)
}

// Port returns the TCP port smbd listens on at 127.0.0.1.
func (s *SMBD) Port() int { return s.port }

// Conf returns the smb.conf path, for smbstatus -s.
func (s *SMBD) Conf() string { return s.conf }

// User returns the Samba (and Unix) account the clients use ([TestUser]).
func (s *SMBD) User() string { return TestUser }

// Password returns the test user's Samba password.
func (s *SMBD) Password() string { return s.password }

// Share returns the share's name ([SMBShare]).
func (s *SMBD) Share() string { return SMBShare }

// SharePath returns the directory the share exports.
func (s *SMBD) SharePath() string { return filepath.Join(s.dir, "share") }

// PID returns the main smbd process id.
func (s *SMBD) PID() int { return s.cmd.Process.Pid }

// Log returns what smbd has written so far.
func (s *SMBD) Log() string { return s.log.String() }

// Status runs `smbstatus --json -s CONF` and returns its output.
func (s *SMBD) Status(ctx context.Context) ([]byte, error) {
	path, err := LookTool("smbstatus")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, "--json", "-s", s.conf)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return out, cim.Errorf(cim.ErrFailed, "testenv: smbstatus: %v", err)
	}
	return out, nil
}

// stop ends smbd and every process it forked.
func (s *SMBD) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	kids := descendantsOf(listProcs(), s.PID())
	signalPIDs(syscall.SIGTERM, s.PID())
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if !waitGone(3*time.Second, kids...) {
		signalPIDs(syscall.SIGKILL, kids...)
		waitGone(3*time.Second, kids...)
	}
}

// SMBClient is a connected smbclient that holds [SMBFile] open, made by
// [SMBD.Connect].
type SMBClient struct {
	smbd      *SMBD
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	out       *lockedBuffer
	done      chan struct{}
	localPort int
	session   smbSession

	mu     sync.Mutex
	closed bool
}

// Connect starts smbclient against the share, feeds it "open hello.txt"
// through a pipe it keeps open (so the session, the tree connection and the
// open file all stay), and waits (at most 15 s) until smbstatus shows them.
func (s *SMBD) Connect(tb testing.TB) *SMBClient {
	tb.Helper()
	s.connMu.Lock()
	defer s.connMu.Unlock()
	path, err := LookTool("smbclient")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	auth := filepath.Join(s.dir, "auth")
	if err := os.WriteFile(auth, []byte("username = "+TestUser+"\npassword = "+s.password+"\n"), 0o600); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	c := &SMBClient{smbd: s, out: &lockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(path, "//127.0.0.1/"+SMBShare, "-p", strconv.Itoa(s.port), "-A", auth, "-s", s.conf)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("testenv: start smbclient: %v", err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	tb.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c.stdin, "open "+SMBFile+"\n"); err != nil {
		tb.Fatalf("testenv: smbclient: %v: %s", err, c.out.String())
	}

	var lastErr error
	ok := waitUntil(15*time.Second, 50*time.Millisecond, func() bool {
		select {
		case <-c.done:
			return true
		default:
		}
		if c.localPort == 0 {
			if p, ok := localPortTo(c.cmd.Process.Pid, s.port); ok {
				c.localPort = p
			} else {
				return false
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := s.Status(ctx)
		if err != nil {
			lastErr = err
			return false
		}
		st, err := parseSMBStatus(out)
		if err != nil {
			lastErr = err
			return false
		}
		sess, found := st.sessionFrom(c.localPort)
		if found && st.hasOpen(sess.ServerID.PID, SMBFile) && st.hasTcon(sess.SessionID, SMBShare) {
			c.session = sess
			return true
		}
		return false
	})
	select {
	case <-c.done:
		tb.Fatalf("testenv: smbclient exited: %s\nsmbd: %s", c.out.String(), s.Log())
	default:
	}
	if !ok {
		tb.Fatalf("testenv: smbclient session with %s open not seen in smbstatus within 15s (last error %v): %s", SMBFile, lastErr, c.out.String())
	}
	return c
}

// LocalPort returns the client's TCP port, which smbstatus shows in the
// session's hostname ("ipv4:127.0.0.1:PORT").
func (c *SMBClient) LocalPort() int { return c.localPort }

// SessionID returns the session's id as smbstatus shows it.
func (c *SMBClient) SessionID() string { return c.session.SessionID }

// ServerPID returns the smbd child that serves the session.
func (c *SMBClient) ServerPID() int {
	n, _ := strconv.Atoi(c.session.ServerID.PID)
	return n
}

// PID returns the smbclient process id.
func (c *SMBClient) PID() int { return c.cmd.Process.Pid }

// Close quits smbclient (closing the file, the tree and the session) and
// waits, at most 10 s each, for it and for the serving smbd child to exit.
func (c *SMBClient) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	_, _ = io.WriteString(c.stdin, "quit\n")
	_ = c.stdin.Close()
	var err error
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		err = cim.Errorf(cim.ErrFailed, "testenv: smbclient did not quit within 10s: %s", c.out.String())
	}
	if pid := c.ServerPID(); pid > 0 && !waitGone(10*time.Second, pid) && err == nil {
		err = cim.Errorf(cim.ErrFailed, "testenv: smbd child %d still serves 10s after the client quit", pid)
	}
	return err
}

// smbServerID is smbstatus's "server_id" object.
type smbServerID struct {
	PID string `json:"pid"`
}

// smbSession is one entry of smbstatus's "sessions".
type smbSession struct {
	SessionID string      `json:"session_id"`
	ServerID  smbServerID `json:"server_id"`
	Username  string      `json:"username"`
	Hostname  string      `json:"hostname"`
}

// smbStatus is the part of `smbstatus --json` the harness reads.
type smbStatus struct {
	Sessions map[string]smbSession `json:"sessions"`
	Tcons    map[string]struct {
		Service   string      `json:"service"`
		SessionID string      `json:"session_id"`
		ServerID  smbServerID `json:"server_id"`
	} `json:"tcons"`
	OpenFiles map[string]struct {
		Filename string `json:"filename"`
		Opens    map[string]struct {
			ServerID smbServerID `json:"server_id"`
		} `json:"opens"`
	} `json:"open_files"`
}

// parseSMBStatus decodes `smbstatus --json` output.
func parseSMBStatus(data []byte) (*smbStatus, error) {
	var st smbStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "testenv: smbstatus output: %v", err)
	}
	return &st, nil
}

// sessionFrom finds the session whose client is 127.0.0.1:port.
func (st *smbStatus) sessionFrom(port int) (smbSession, bool) {
	want := fmt.Sprintf("ipv4:127.0.0.1:%d", port)
	for _, s := range st.Sessions {
		if s.Hostname == want {
			return s, true
		}
	}
	return smbSession{}, false
}

// hasOpen reports whether the smbd child serverPID holds file open.
func (st *smbStatus) hasOpen(serverPID, file string) bool {
	for _, f := range st.OpenFiles {
		if f.Filename != file {
			continue
		}
		for _, o := range f.Opens {
			if o.ServerID.PID == serverPID {
				return true
			}
		}
	}
	return false
}

// hasTcon reports whether the session has the share connected.
func (st *smbStatus) hasTcon(sessionID, share string) bool {
	for _, t := range st.Tcons {
		if t.SessionID == sessionID && t.Service == share {
			return true
		}
	}
	return false
}
