//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
)

// cliChildEnv, when set, makes the test binary run the command line given
// after "--" in this process and exit with its code (see TestMain): the
// test binary then is the cimsess binary, for tests that send it signals.
const cliChildEnv = "CIMSESS_TEST_CLI_CHILD"

// TestMain runs the tests, or, in a child process that a test started
// with cliChildEnv set, the command line instead of any test.
func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) != "" {
		flag.Parse()
		os.Exit(Main(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestInterruptStopsEnumeration sends SIGINT to cimsess enumerating a huge
// utmp, once while it writes its rows and once while it is still reading
// and filtering (a WHERE that nothing matches, so nothing is written):
// the signal cancels the command's context, which reaches the provider,
// so the process exits within a second, with exit code 130 and a message
// that says it was interrupted.
func TestInterruptStopsEnumeration(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 384 MB utmp")
	}
	// A million records: the whole query takes seconds even on a fast
	// machine, so the signal at 300 ms comes while it runs.
	const records = 1_000_000
	path := testenv.GhostUtmp(t, records)
	dir, err := filepath.Abs(filepath.Join("testdata", "machine"))
	if err != nil {
		t.Fatal(err)
	}
	src := []string{"--utmp", path, "--proc", filepath.Join(dir, "proc"), "--logind", filepath.Join(dir, "sessions"), "--host", "fixture"}
	cases := []struct {
		name string
		args []string
		// after is when to interrupt: after the first output, or after
		// this long with no output.
		after time.Duration
	}{
		{"while writing", append([]string{"enum", "Win32_LogonSession", "-o", "csv"}, src...), 0},
		{"while filtering", append([]string{"query", "SELECT * FROM Linux_LogonSession WHERE UserName = 'nobody'"}, src...), 300 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, c.args...)...)
			cmd.Env = append(os.Environ(), cliChildEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			first := make(chan struct{})
			lines := make(chan int, 1)
			go func() { // read as a terminal would, counting the rows
				br := bufio.NewReader(stdout)
				n := 0
				for {
					if _, err := br.ReadSlice('\n'); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
						break
					}
					if n++; n == 1 {
						close(first)
					}
				}
				_, _ = io.Copy(io.Discard, br)
				lines <- n
			}()
			if c.after == 0 {
				select {
				case <-first:
				case <-time.After(60 * time.Second):
					t.Fatal("no output within 60 s")
				}
			} else {
				// Under load the child may not have reached its signal
				// handler yet: wait until it reads the utmp (which it
				// opens after installing the handler), then let it run
				// for a while.
				deadline := time.Now().Add(30 * time.Second)
				for !opened(cmd.Process.Pid, path) {
					if time.Now().After(deadline) {
						t.Fatal("the child did not open the utmp within 30 s")
					}
					time.Sleep(2 * time.Millisecond)
				}
				time.Sleep(c.after)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			took := time.Since(sent)
			n := <-lines
			t.Logf("%s: exited %v after SIGINT, %d lines written", c.name, took.Round(time.Millisecond), n)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted+int(syscall.SIGINT) {
				t.Errorf("exit: %v, want exit code %d; stderr: %s", err, ExitInterrupted+int(syscall.SIGINT), stderr.String())
			}
			if want := "cimsess: interrupted by SIGINT"; !strings.HasPrefix(stderr.String(), want) {
				t.Errorf("stderr %q does not start with %q", stderr.String(), want)
			}
			if n > records {
				t.Errorf("%d lines: the enumeration ran to its end", n)
			}
			if took > time.Second {
				t.Errorf("exited %v after SIGINT, want within 1 s", took)
			}
		})
	}
}

// opened reports whether process pid has file path open.
func opened(pid int, path string) bool {
	fds, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && l == path {
			return true
		}
	}
	return false
}
