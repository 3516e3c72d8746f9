//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/schema"
)

// childrenOf returns the pids whose parent is ppid.
func childrenOf(t *testing.T, ppid int) []int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/task/" + strconv.Itoa(ppid) + "/children")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func TestLogonSessionAssociations(t *testing.T) {
	testenv.RequireTool(t, "sshd", "ssh")
	sshd := testenv.StartSSHD(t)
	login := sshd.Login(t, testenv.LoginOpts{Command: "sleep 60; true"})
	sid := login.SessionID()
	if sid == process.UnsetSessionID {
		t.Fatalf("the ssh login has no audit session id (sshd without pam_loginuid?)")
	}
	shell := login.ShellPID()
	var kids []int
	waitFor(t, 10*time.Second, "the login's shell to start its sleep", func() bool {
		kids = childrenOf(t, shell)
		if len(kids) != 1 {
			return false
		}
		// Until it execs, the child is a copy of the shell.
		comm, err := os.ReadFile("/proc/" + strconv.Itoa(kids[0]) + "/comm")
		return err == nil && strings.TrimSpace(string(comm)) == "sleep"
	})
	sleep := kids[0]

	ctx := context.Background()
	host, _ := os.Hostname()
	accts := accounts.New(accounts.Options{Host: host})
	db, err := accts.DB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := func(uid uint32) (string, bool) {
		a, ok := db.LookupUID(uid)
		return a.Name, ok
	}
	sessions := linux.New(linux.Options{UserName: names, StatePath: "-"})
	procs := process.New(process.Options{Host: host, UserName: db.UserName})
	links := assoc.New(assoc.Options{
		Sessions: func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			return provider.Collect(ctx, sessions, linux.ClassName, h)
		},
		Accounts:  accts,
		Processes: procs,
		Host:      host,
	})
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: host}, sessions, procs, accts, links)
	if err != nil {
		t.Fatal(err)
	}
	session := cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: strconv.FormatUint(uint64(sid), 10)}}}

	// Its processes: the shell and the sleep among them, and nothing of
	// another session.
	ps, err := om.Associators(ctx, session, cimom.AssocOptions{ResultClass: "Win32_Process"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]*cim.Instance{}
	for _, p := range ps {
		pid, _ := strconv.Atoi(p.String("Handle"))
		got[pid] = p
		if p.Value("SessionId") != sid {
			t.Errorf("process %d of session %d has SessionId %v", pid, sid, p.Value("SessionId"))
		}
	}
	if got[shell] == nil || got[sleep] == nil {
		t.Fatalf("associated processes %v lack the shell %d or the sleep %d", keys(got), shell, sleep)
	}
	if c := got[sleep].String("CommandLine"); c != "sleep 60" || got[sleep].String("Name") != "sleep" || got[sleep].Owner != testenv.TestUser {
		t.Errorf("the sleep: CommandLine %q, Name %q, Owner %q", c, got[sleep].String("Name"), got[sleep].Owner)
	}
	if pp := got[sleep].Value("ParentProcessId"); pp != uint32(shell) {
		t.Errorf("the sleep's ParentProcessId = %v, want %d", pp, shell)
	}

	// Its account.
	users, err := om.Associators(ctx, session, cimom.AssocOptions{AssocClass: "Win32_LoggedOnUser"})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].ClassName != "Win32_UserAccount" || users[0].String("Name") != testenv.TestUser {
		t.Fatalf("Win32_LoggedOnUser gives %v, want the account %s", users, testenv.TestUser)
	}

	// Its references, whose both ends resolve.
	refs, err := om.References(ctx, session, cimom.AssocOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != len(ps)+1 {
		t.Errorf("%d references, want %d processes and one account", len(refs), len(ps))
	}
	for _, r := range refs {
		for _, role := range []string{"Antecedent", "Dependent"} {
			ref, ok := r.Value(role).(cim.ObjectPath)
			if !ok {
				t.Fatalf("%s of %s is %T", role, r.ClassName, r.Value(role))
			}
			if _, err := om.GetInstance(ctx, ref); err != nil {
				t.Errorf("%s %s = %s does not resolve: %v", r.ClassName, role, ref, err)
			}
		}
		// A link is the user's when what it names is: the session's
		// processes that are root's (sshd's privileged half) are linked
		// for administrators only.
		want := testenv.TestUser
		if d, ok := r.Value("Dependent").(cim.ObjectPath); ok && r.ClassName == "Win32_SessionProcess" {
			if p, err := om.GetInstance(ctx, d); err == nil && p.Owner != testenv.TestUser {
				want = ""
			}
		}
		if r.Owner != want {
			t.Errorf("%s Owner = %q, want %q", r.Path, r.Owner, want)
		}
	}

	// And back: the sleep's session is this one.
	back, err := om.Associators(ctx, got[sleep].Path, cimom.AssocOptions{AssocClass: "Win32_SessionProcess"})
	if err != nil || len(back) != 1 || back[0].String("LogonId") != strconv.FormatUint(uint64(sid), 10) {
		t.Errorf("the sleep's session: %v, %v", back, err)
	}
}

// TestAssociatorsQueryBinary runs ASSOCIATORS OF through the built
// binary, over the providers the command line registers.
func TestAssociatorsQueryBinary(t *testing.T) {
	testenv.RequireTool(t, "sshd", "ssh")
	sshd := testenv.StartSSHD(t)
	login := sshd.Login(t, testenv.LoginOpts{Command: "sleep 60; true"})
	sid := login.SessionID()
	if sid == process.UnsetSessionID {
		t.Fatalf("the ssh login has no audit session id")
	}
	bin := buildCimsess(t)
	q := "ASSOCIATORS OF {Win32_LogonSession.LogonId='" + strconv.FormatUint(uint64(sid), 10) + "'} WHERE ResultClass = Win32_Process"
	out, err := exec.Command(bin, "query", q, "--output", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("cimsess query: %v\n%s", err, out)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	shell := strconv.Itoa(login.ShellPID())
	var sawShell, sawSleep bool
	for _, r := range rows {
		sawShell = sawShell || r["Handle"] == shell
		sawSleep = sawSleep || r["CommandLine"] == "sleep 60"
	}
	if !sawShell || !sawSleep {
		t.Errorf("cimsess query shows the shell %v and the sleep %v:\n%s", sawShell, sawSleep, out)
	}
	out, err = exec.Command(bin, "query", "ASSOCIATORS OF {Win32_LogonSession.LogonId='"+strconv.FormatUint(uint64(sid), 10)+"'} WHERE AssocClass = Win32_LoggedOnUser", "--output", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"Name": "`+testenv.TestUser+`"`) && !strings.Contains(string(out), `"Name":"`+testenv.TestUser+`"`) {
		t.Errorf("the session's account through cimsess query: %v\n%s", err, out)
	}
}

func keys(m map[int]*cim.Instance) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
