package main

import (
	"bytes"
	"errors"
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
)

// heavy are the packages the command line must not link: the servers and
// what their initialisation costs every start (TestLinksNoDaemon).
var heavy = []string{
	"github.com/cimsess/cimsess/server",
	"github.com/cimsess/cimsess/fleet/hub",
	"github.com/nats-io/nats-server/",
	"github.com/prometheus/client_golang/",
}

// linked reports which of heavy the package pkg links for goos.
func linked(t *testing.T, goos, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("GOOS=%s go list -deps %s: %v\n%s", goos, pkg, err, ee.Stderr)
		}
		t.Fatalf("GOOS=%s go list -deps %s: %v", goos, pkg, err)
	}
	var got []string
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if dep == strings.TrimSuffix(h, "/") || strings.HasSuffix(h, "/") && strings.HasPrefix(dep, h) {
				got = append(got, dep)
			}
		}
	}
	return got
}

// TestLinksNoDaemon: cimsess links none of the servers' packages, on any
// system it is built for; cimsessd links them (so the test looks for the
// right names).
func TestLinksNoDaemon(t *testing.T) {
	for _, goos := range []string{runtime.GOOS, "windows", "darwin", "freebsd"} {
		if got := linked(t, goos, "github.com/cimsess/cimsess/cmd/cimsess"); len(got) > 0 {
			t.Errorf("GOOS=%s: cmd/cimsess links %s: move what it needs out of them (as package access did) or the verb into internal/daemon",
				goos, strings.Join(got, ", "))
		}
	}
	if got := linked(t, runtime.GOOS, "github.com/cimsess/cimsess/cmd/cimsessd"); len(got) < len(heavy) {
		t.Errorf("cmd/cimsessd links only %v of %v", got, heavy)
	}
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds cimsess and cimsessd, once for the package's tests, into
// one folder, and returns it.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "cimsess-forward-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir+string(filepath.Separator),
			"github.com/cimsess/cimsess/cmd/cimsess", "github.com/cimsess/cimsess/cmd/cimsessd").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// run runs a binary with args and the environment env (added to this
// process's), and returns its stdout, stderr and exit code.
func run(t *testing.T, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func exe(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// TestForwarding: cimsess serve|hub|agent|collect run in the cimsessd
// beside it, with their flags, --help and exit status; through a symbolic
// link to cimsess too; and cimsess's help lists each with cimsessd's line.
func TestForwarding(t *testing.T) {
	dir := binaries(t)
	cimsess, cimsessd := filepath.Join(dir, exe("cimsess")), filepath.Join(dir, exe("cimsessd"))
	noPath := []string{"PATH=" + t.TempDir()} // cimsessd is found beside cimsess, not on PATH

	_, stderr, code := run(t, noPath, cimsess, "collect", "--batch", "0", "--db", filepath.Join(t.TempDir(), "f.db"))
	if code != 2 || !strings.Contains(stderr, "--batch must be between 1 and 100000") {
		t.Errorf("cimsess collect --batch 0: exit %d, %q; want cimsessd's usage error", code, stderr)
	}
	stdout, stderr, code := run(t, noPath, cimsess, "hub", "users", "--data", t.TempDir())
	if code != 0 || !strings.HasPrefix(stdout, "ROLE") {
		t.Errorf("cimsess hub users: exit %d, %q %q", code, stdout, stderr)
	}
	stdout, _, code = run(t, noPath, cimsess, "serve", "--help")
	if code != 0 || !strings.Contains(stdout, "--listen-winrm") || !strings.Contains(stdout, "cimsessd serve [flags]") {
		t.Errorf("cimsess serve --help: exit %d, %q; want serve's own help", code, stdout)
	}
	if runtime.GOOS != "windows" {
		link := filepath.Join(t.TempDir(), "cimsess")
		if err := os.Symlink(cimsess, link); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := run(t, noPath, link, "agent", "--creds", ""); code != 2 || !strings.Contains(stderr, "no credentials") {
			t.Errorf("a link to cimsess: agent: exit %d, %q; want cimsessd's usage error", code, stderr)
		}
	}

	help, _, _ := run(t, nil, cimsess, "--help")
	dhelp, _, _ := run(t, nil, cimsessd, "--help")
	for _, v := range daemonVerbs {
		line := func(h string) string {
			for _, l := range strings.Split(h, "\n") {
				if f := strings.Fields(l); len(f) > 0 && f[0] == v.name {
					return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), v.name))
				}
			}
			return ""
		}
		if got, want := line(help), line(dhelp)+" (runs in cimsessd)"; got != want {
			t.Errorf("cimsess --help says of %s %q; cimsessd's line is %q", v.name, got, want)
		}
	}
}

// TestForwardingExact: the command line reaches cimsessd unchanged (empty
// and spaced arguments, flags before and after), in the same process (on
// Unix, exec), and its exit status is cimsess's; with none beside
// cimsess, the one on PATH runs.
func TestForwardingExact(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake cimsessd is a shell script")
	}
	cimsess := filepath.Join(binaries(t), "cimsess")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"$OUT\"\necho $$ >>\"$OUT.pid\"\nexit 7\n"
	for _, where := range []string{"beside", "on PATH"} {
		t.Run(where, func(t *testing.T) {
			dir, pathDir := t.TempDir(), t.TempDir()
			self := filepath.Join(dir, "cimsess")
			b, err := os.ReadFile(cimsess)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(self, b, 0o755); err != nil {
				t.Fatal(err)
			}
			daemonDir := dir
			if where == "on PATH" {
				daemonDir = pathDir
			}
			if err := os.WriteFile(filepath.Join(daemonDir, "cimsessd"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "args")
			args := []string{"agent", "--nats", "nats://a:4222, nats://b:4222", "", "--state=/x y", "-v", "--help", "last"}
			cmd := exec.Command(self, args...)
			cmd.Env = append(os.Environ(), "PATH="+pathDir+string(os.PathListSeparator)+"/usr/bin:/bin", "OUT="+out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 7 {
				t.Fatalf("exit %d (%v), want cimsessd's 7: %s", code, err, stderr.String())
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(args, "\n") + "\n"; string(got) != want {
				t.Errorf("cimsessd was given\n%q\nwant\n%q", got, want)
			}
			pid, _ := os.ReadFile(out + ".pid")
			if strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
				t.Errorf("cimsessd ran as pid %s, cimsess was %d: not the same process", pid, cmd.Process.Pid)
			}
		})
	}
}

// TestForwardingMissing: without cimsessd beside cimsess or on PATH, a
// daemon's verb is a usage error that says how to get it.
func TestForwardingMissing(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(binaries(t), exe("cimsess")))
	if err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(t.TempDir(), exe("cimsess"))
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"serve", "hub", "agent", "collect"} {
		_, stderr, code := run(t, []string{"PATH=" + t.TempDir()}, alone, verb, "--help")
		if code != 2 || !strings.Contains(stderr, "cimsess: "+verb+" runs in cimsessd") ||
			!strings.Contains(stderr, "go install github.com/cimsess/cimsess/cmd/cimsessd") || !strings.Contains(stderr, "go run ./cmd/cimsessd "+verb) {
			t.Errorf("%s without cimsessd: exit %d, %q", verb, code, stderr)
		}
	}
}

// TestForwardingCompletion: the shell completion of a daemon's verb is
// cimsessd's (the scripts of cimsess completion ask cimsess __complete).
func TestForwardingCompletion(t *testing.T) {
	cimsess := filepath.Join(binaries(t), exe("cimsess"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "serve", "--li"}, "--listen-winrm"},
		{[]string{"__completeNoDesc", "hub", ""}, "users"},
		{[]string{"__complete", "ser"}, "serve"}, // the verb itself: cimsess's own stubs
	} {
		stdout, stderr, code := run(t, nil, cimsess, c.args...)
		if code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("cimsess %q: exit %d, %q %q; want %q offered", c.args, code, stdout, stderr, c.want)
		}
	}
}

// TestForwardingSignal: a SIGTERM sent to cimsess serve in its first
// milliseconds stops it, whether it comes before cimsessd runs (then
// cimsess, which has no handler of its own yet, ends on it) or after (then
// cimsessd gets it). The command line's own handler once took it and let
// cimsessd start regardless.
func TestForwardingSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake cimsessd is a shell script")
	}
	b, err := os.ReadFile(filepath.Join(binaries(t), "cimsess"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	self := filepath.Join(dir, "cimsess")
	if err := os.WriteFile(self, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// A daemon that lives on unless a signal stops it.
	if err := os.WriteFile(filepath.Join(dir, "cimsessd"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		cmd := exec.Command(self, "serve", "--no-auth")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%20) * 300 * time.Microsecond)
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("run %d: still running 5 s after a SIGTERM sent %v after its start", i, time.Duration(i%20)*300*time.Microsecond)
		}
	}
}
