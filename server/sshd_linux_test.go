//go:build linux

package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
)

// TestWbemcliRealLogin serves the real Linux provider and reads a real SSH
// login with wbemcli: the session's owner sees it, with its audit session
// id as LogonId and its terminal; another non-administrator does not.
func TestWbemcliRealLogin(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sshd", "ssh", "wbemcli")
	sshd := testenv.StartSSHD(t)
	login := sshd.Login(t, testenv.LoginOpts{TTY: true})

	om, err := cimom.New(schema.MustDefault(), cimom.Options{}, linux.New(linux.Options{StatePath: "-"}))
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users")
	for _, u := range []struct {
		name  string
		admin bool
	}{{"root", true}, {testenv.TestUser, false}, {"someone-else", false}} {
		if err := access.AddUser(users, u.name, []byte("pw-"+u.name), u.admin, bcrypt.MinCost); err != nil {
			t.Fatal(err)
		}
	}
	us, err := OpenUsers(users)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{ObjectManager: om, Users: us})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil, nil) }()
	defer func() { cancel(); <-done }()

	base := func(user string) string {
		return fmt.Sprintf("http://%s:pw-%s@%s/root/cimv2", user, user, ln.Addr())
	}
	logonID := fmt.Sprint(login.SessionID())
	want := []string{`LogonId="` + logonID + `"`, `-UserName="` + testenv.TestUser + `"`, `-TTY="` + login.Line() + `"`,
		`-Status="OK"`, `-Service="sshd"`}
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		out = mustWbemcli(t, "ei", "-nl", base(testenv.TestUser)+":Win32_LogonSession")
		if strings.Contains(out, want[0]) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	wantAll(t, out, want...)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "-UserName=") && line != `-UserName="`+testenv.TestUser+`"` {
			t.Errorf("%s sees another user's session: %s", testenv.TestUser, line)
		}
	}
	out = mustWbemcli(t, "gi", "-nl", base("root")+`:Win32_LogonSession.LogonId="`+logonID+`"`)
	wantAll(t, out, want...)
	out, _ = wbemcli(t, "ein", base("someone-else")+":Win32_LogonSession")
	if strings.Contains(out, logonID) {
		t.Errorf("someone-else sees the session:\n%s", out)
	}
	if t.Failed() {
		t.Logf("sshd log:\n%s", sshd.Log())
		if b, err := os.ReadFile("/run/utmp"); err == nil {
			t.Logf("utmp is %d bytes", len(b))
		}
	}
}
