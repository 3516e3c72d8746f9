package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cimxml"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestUserCommand(t *testing.T) {
	users := filepath.Join(t.TempDir(), "etc", "users")
	if _, stderr, code := runCLI(t, "s3cret\n", "user", "add", "--users", users, "alice", "--admin"); code != 0 {
		t.Fatalf("add alice: %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "pw\n", "user", "add", "--users", users, "bob"); code != 0 {
		t.Fatalf("add bob: %d %s", code, stderr)
	}
	out, _, code := runCLI(t, "", "user", "list", "--users", users)
	if code != 0 || out != "alice\tadmin\nbob\tuser\n" {
		t.Errorf("list: %d %q", code, out)
	}
	if _, stderr, code := runCLI(t, "", "user", "add", "--users", users, "carol"); code != ExitUsage {
		t.Errorf("add without a password: %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "x\n", "user", "add", "--users", users, "bad:name"); code != ExitUsage {
		t.Errorf("bad name: %d %s", code, stderr)
	}
	if _, _, code := runCLI(t, "", "user", "del", "--users", users, "bob"); code != 0 {
		t.Errorf("del bob: %d", code)
	}
	if _, _, code := runCLI(t, "", "user", "del", "--users", users, "bob"); code != ExitNotFound {
		t.Errorf("del bob twice: %d", code)
	}
	out, _, _ = runCLI(t, "", "user", "list", "--users", users)
	if out != "alice\tadmin\n" {
		t.Errorf("list after del: %q", out)
	}
}

func TestXMLOutput(t *testing.T) {
	out, stderr, code := runCLI(t, "", "class", "Win32_LogonSession", "--output", "xml")
	if code != 0 {
		t.Fatalf("class: %d %s", code, stderr)
	}
	if err := cimxml.Validate([]byte(out)); err != nil || !strings.Contains(out, `<CLASS NAME="Win32_LogonSession" SUPERCLASS="Win32_Session">`) {
		t.Errorf("class xml: %v\n%s", err, out)
	}
	out, stderr, code = runCLI(t, "", "enum", "Win32_ServerConnection", "--output", "xml", "--smbstatus", filepath.Join(t.TempDir(), "no-such-smbstatus"))
	if err := cimxml.Validate([]byte(out)); err != nil {
		t.Errorf("enum xml (exit %d, %s): %v\n%s", code, stderr, err, out)
	}
}

// TestRecordRefusesForeignSources: `record` with another machine's files
// (--utmp and the like) and no --db would write that machine's sessions
// into this one's history, and close this one's that the files lack.
func TestRecordRefusesForeignSources(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "", "record", "--utmp", filepath.Join(dir, "utmp"), "--wtmp", "-")
	if code != 2 || !strings.Contains(stderr, "--utmp: these sessions are not this machine's own; name a database for them with --db") {
		t.Errorf("record --utmp without --db: exit %d: %s", code, stderr)
	}
}

// TestUserAddWarnsOfSystemAccount: a non-administrator named like a
// system account (root, a daemon) would see everything that account owns;
// `user add` says so. An administrator or an ordinary account's name is
// no news.
func TestUserAddWarnsOfSystemAccount(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := passwdFile
	passwdFile = passwd
	t.Cleanup(func() { passwdFile = old })
	users := filepath.Join(dir, "users")
	for _, tc := range []struct {
		args []string
		warn bool
	}{{[]string{"root"}, true}, {[]string{"www-data"}, true}, {[]string{"alice"}, false}, {[]string{"root", "--admin"}, false}, {[]string{"ROOT"}, false}} {
		_, stderr, code := runCLI(t, "pw\n", append([]string{"user", "add", "--users", users}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		if got := strings.Contains(stderr, "warning: "+tc.args[0]+" is also this system's account"); got != tc.warn {
			t.Errorf("%v: stderr %q", tc.args, stderr)
		}
	}
}
