// Package testenv holds helpers that start real servers for end-to-end tests:
// an OpenSSH sshd whose logins go through PAM and write utmp and the kernel's
// audit session ids, and a Samba smbd whose sessions show in smbstatus.
//
// Every server listens on 127.0.0.1 on a free port, keeps its configuration and
// state in a temporary directory of its own, and is stopped by t.Cleanup. The
// helpers need root; without it (or without a tool) a test is skipped, except
// in CI (see [InCI]), where it fails instead. scripts/test.sh installs the tools.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// TestUser is the unprivileged account that test logins (SSH and SMB) use, so
// that root's own sessions do not mix with the ones a test makes.
const TestUser = "cimsess-test"

// InCI reports whether the tests run in continuous integration: the CI
// environment variable is "true" or "1" (any case).
func InCI() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "true", "1":
		return true
	}
	return false
}

// skipOrFail fails the test in CI, where every prerequisite must be present,
// and skips it elsewhere.
func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf(format, args...)
		return
	}
	tb.Skipf(format, args...)
}

// sbinDirs are searched after PATH: a root shell from sudo may lack them.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// LookTool finds a program in PATH or, failing that, in the sbin directories.
// It returns a *cim.Error (ErrNotFound) when the program is nowhere.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if !strings.ContainsRune(name, filepath.Separator) {
		for _, d := range sbinDirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", cim.Errorf(cim.ErrNotFound, "testenv: %s not found in PATH or sbin", name)
}

// RequireTool makes sure every named program can be found (see [LookTool]).
// A missing one fails the test in CI and skips it elsewhere.
func RequireTool(tb testing.TB, names ...string) {
	tb.Helper()
	var missing []string
	for _, n := range names {
		if _, err := LookTool(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		skipOrFail(tb, "testenv: missing tool(s) %s (run scripts/test.sh as root to install them)", strings.Join(missing, ", "))
	}
}

// RequireRoot makes sure the test runs as root. Otherwise it fails the test
// in CI and skips it elsewhere.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(tb, "testenv: needs root (run scripts/test.sh as root)")
	}
}

var systemMu sync.Mutex

// ensureSystem makes the machine-wide prerequisites exist: the test user,
// /var/run/utmp (664 root:utmp) and sshd's privilege separation directory.
// It is idempotent and tolerates another test binary doing the same at once.
func ensureSystem(tb testing.TB) {
	tb.Helper()
	systemMu.Lock()
	defer systemMu.Unlock()
	if _, err := user.Lookup(TestUser); err != nil {
		out, err := runCmd(30*time.Second, "useradd", "-m", "-s", "/bin/bash", TestUser)
		if _, lerr := user.Lookup(TestUser); lerr != nil {
			tb.Fatalf("testenv: cannot create user %s: %v: %s", TestUser, err, out)
		}
	}
	if _, err := os.Stat(UtmpPath); errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(UtmpPath, os.O_CREATE|os.O_WRONLY, 0o664)
		if err != nil {
			tb.Fatalf("testenv: create %s: %v", UtmpPath, err)
		}
		_ = f.Close()
		if g, err := user.LookupGroup("utmp"); err == nil {
			if gid, err := strconv.Atoi(g.Gid); err == nil {
				_ = os.Chown(UtmpPath, 0, gid)
			}
		}
		_ = os.Chmod(UtmpPath, 0o664)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		tb.Fatalf("testenv: create /run/sshd: %v", err)
	}
}

// runCmd runs a program to completion within timeout and returns its
// combined output.
func runCmd(timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return runCmdContext(ctx, nil, name, args...)
}

// runCmdContext runs a program with the given standard input (may be nil).
func runCmdContext(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	path, err := LookTool(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, cim.Errorf(cim.ErrFailed, "testenv: %s %s: %v", name, strings.Join(args, " "), err)
	}
	return out, nil
}

// serverDir makes a fresh world-traversable directory (0755) for one server,
// removed at cleanup. t.TempDir is 0700, which the test user could not enter.
func serverDir(tb testing.TB, prefix string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return dir
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitUntil polls cond every interval until it returns true or timeout passes.
func waitUntil(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// dialable reports whether something accepts TCP connections on 127.0.0.1:port.
func dialable(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// lockedBuffer is an io.Writer safe for concurrent use, for a child's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends p.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
