package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PostgresBinDir is where Debian's PostgreSQL 15 keeps its server programs.
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// Postgres is a throwaway PostgreSQL cluster in a temporary directory,
// listening on 127.0.0.1 and on a Unix socket in its directory, with
// trust authentication for the local superuser "postgres". Start it with
// [StartPostgres] (usually once per test binary, from TestMain) and Stop
// it when done.
type Postgres struct {
	Dir  string // the cluster's data (and socket) directory
	Port int    // its TCP port on 127.0.0.1

	bin    string
	uid    int
	gid    int
	asUser bool
}

// PostgresBin finds the PostgreSQL server programs: Debian's PostgreSQL
// 15, else initdb and pg_ctl in PATH. It returns an error that says what to
// install when there are none.
func PostgresBin() (string, error) {
	if _, err := os.Stat(filepath.Join(PostgresBinDir, "pg_ctl")); err == nil {
		return PostgresBinDir, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", fmt.Errorf("testenv: PostgreSQL server programs not found in %s or PATH (install Debian's postgresql; scripts/setup-deps.sh does)", PostgresBinDir)
}

// StartPostgres initialises a cluster in a new directory under parent and
// starts it. As root it runs the server as the "postgres" account (which
// Debian's package creates), since PostgreSQL refuses to run as root. The
// error says what is missing; in CI a caller should fail on it, elsewhere
// it may skip.
func StartPostgres(parent string) (*Postgres, error) {
	bin, err := PostgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("testenv: running as root, PostgreSQL needs the postgres account: %v", err)
		}
		p.uid, _ = strconv.Atoi(u.Uid)
		p.gid, _ = strconv.Atoi(u.Gid)
		p.asUser = true
		// The server account must reach its directory.
		for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, st.Mode().Perm()|0o011)
			}
			if d == filepath.Clean(parent) {
				break
			}
		}
		if err := os.Chown(dir, p.uid, p.gid); err != nil {
			return nil, err
		}
	}
	if out, err := p.run(2*time.Minute, "initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"); err != nil {
		return nil, fmt.Errorf("testenv: initdb: %v: %s", err, out)
	}
	// A little more than the defaults, for the tests' concurrent writers;
	// fsync off: a throwaway cluster needs no durability against power loss.
	conf := "max_connections = 100\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 64MB\n"
	if err := appendFile(filepath.Join(p.data(), "postgresql.conf"), conf); err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (p *Postgres) data() string { return filepath.Join(p.Dir, "data") }

// run runs one of the server programs as the server's account.
func (p *Postgres) run(timeout time.Duration, prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, prog), args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = postgresAttr(p.asUser, p.uid, p.gid)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
		return out, err
	case <-time.After(timeout):
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
		<-done
		return out, fmt.Errorf("%s timed out after %s", prog, timeout)
	}
}

// Start starts the cluster (again) on a free port the first time, on the
// same port after a Stop.
func (p *Postgres) Start() error {
	var lastOut []byte
	for attempt := 0; attempt < 3; attempt++ {
		if p.Port == 0 || attempt > 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			p.Port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
		opts := fmt.Sprintf("-k %s -p %d -c listen_addresses=127.0.0.1", p.Dir, p.Port)
		out, err := p.run(time.Minute, "pg_ctl", "-D", p.data(), "-l", filepath.Join(p.Dir, "server.log"), "-o", opts, "-w", "-t", "50", "start")
		if err == nil {
			return nil
		}
		lastOut = append(out, []byte(p.Log())...)
		if !strings.Contains(string(lastOut), "in use") {
			return fmt.Errorf("testenv: pg_ctl start: %v: %s", err, lastOut)
		}
	}
	return fmt.Errorf("testenv: pg_ctl start: no free port: %s", lastOut)
}

// Stop stops the cluster (fast shutdown: sessions are disconnected, open
// transactions rolled back).
func (p *Postgres) Stop() error {
	if out, err := p.run(time.Minute, "pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("testenv: pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Restart stops the cluster and starts it again on the same port.
func (p *Postgres) Restart() error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start()
}

// Remove stops the cluster (when it runs) and deletes its directory.
func (p *Postgres) Remove() {
	_ = p.Stop()
	_ = os.RemoveAll(p.Dir)
}

// Log returns the server's log so far.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "server.log"))
	return string(b)
}

// CreateDB creates a database and returns its URL (user postgres, over
// TCP on 127.0.0.1).
func (p *Postgres) CreateDB(name string) (string, error) {
	if out, err := p.run(time.Minute, "createdb", "-h", p.Dir, "-p", strconv.Itoa(p.Port), "-U", "postgres", name); err != nil {
		return "", fmt.Errorf("testenv: createdb %s: %v: %s", name, err, out)
	}
	return p.URL(name), nil
}

// URL returns the URL of database name.
func (p *Postgres) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, name)
}

// CPUTime returns the CPU time (user and system) that the cluster's
// processes have used so far: the postmaster's, that of its backends and
// workers alive now, and that of those that have ended. A benchmark takes
// it before and after, to say how the machine's time went between the
// database and the client. It is Linux's /proc; elsewhere an error.
func (p *Postgres) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(p.data(), "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	// Fields after the command: 14 utime, 15 stime, 16 cutime, 17 cstime
	// (counted from 1 over the whole line).
	ticks := func(pid string, withChildren bool) (int64, error) {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return 0, err
		}
		i := strings.LastIndexByte(string(st), ')')
		if i < 0 {
			return 0, fmt.Errorf("testenv: /proc/%s/stat: no command", pid)
		}
		f := strings.Fields(string(st[i+1:]))
		if len(f) < 15 {
			return 0, fmt.Errorf("testenv: /proc/%s/stat: short", pid)
		}
		n := 2
		if withChildren {
			n = 4
		}
		var sum int64
		for _, s := range f[11 : 11+n] {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}
	total, err := ticks(pid, true)
	if err != nil {
		return 0, err
	}
	tasks, _ := filepath.Glob("/proc/" + pid + "/task/*/children")
	for _, t := range tasks {
		kids, _ := os.ReadFile(t)
		for _, k := range strings.Fields(string(kids)) {
			if n, err := ticks(k, false); err == nil {
				total += n
			}
		}
	}
	// Linux's USER_HZ is 100 on every architecture Go supports.
	return time.Duration(total) * (time.Second / 100), nil
}
