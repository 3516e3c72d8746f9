//go:build linux

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/schema"
)

// auditSessions serves one Linux_LogonSession per kernel audit session id
// found in /proc, with its login uid's user: the least the associations
// need of a logon session. It stands in for provider/linux until that
// provider is wired here; the joins under test are the same.
type auditSessions struct{ users *accounts.DB }

func (a *auditSessions) Name() string      { return "audit-sessions" }
func (a *auditSessions) Classes() []string { return []string{"Linux_LogonSession"} }
func (a *auditSessions) Enumerate(ctx context.Context, _ string, h provider.Hint) ([]*cim.Instance, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	seen := map[uint64]bool{}
	var out []*cim.Instance
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		sid, err1 := readUint(filepath.Join("/proc", e.Name(), "sessionid"))
		uid, err2 := readUint(filepath.Join("/proc", e.Name(), "loginuid"))
		if err1 != nil || err2 != nil || sid == process.UnsetSessionID || uid == process.UnsetSessionID || seen[sid] {
			continue
		}
		id := strconv.FormatUint(sid, 10)
		if want, ok := h.Keys["logonid"]; ok && want != id {
			continue
		}
		seen[sid] = true
		in := cim.NewInstance("Linux_LogonSession")
		in.Owner = a.users.UserName(uint32(uid))
		in.Set("LogonId", id).Set("AuditSessionId", uint32(sid)).Set("UserId", uint32(uid)).Set("UserName", in.Owner)
		out = append(out, in)
	}
	return out, nil
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
}

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
	kids := childrenOf(t, shell)
	if len(kids) != 1 {
		t.Fatalf("the login's shell %d has children %v, want its sleep", shell, kids)
	}
	sleep := kids[0]

	ctx := context.Background()
	host, _ := os.Hostname()
	accts := accounts.New(accounts.Options{Host: host})
	db, err := accts.DB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sessions := &auditSessions{users: db}
	procs := process.New(process.Options{Host: host, UserName: db.UserName})
	links := assoc.New(assoc.Options{
		Sessions: func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			return sessions.Enumerate(ctx, "", h)
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
		if r.Owner != testenv.TestUser {
			t.Errorf("%s Owner = %q", r.Path, r.Owner)
		}
	}

	// And back: the sleep's session is this one.
	back, err := om.Associators(ctx, got[sleep].Path, cimom.AssocOptions{AssocClass: "Win32_SessionProcess"})
	if err != nil || len(back) != 1 || back[0].String("LogonId") != strconv.FormatUint(uint64(sid), 10) {
		t.Errorf("the sleep's session: %v, %v", back, err)
	}
}

func keys(m map[int]*cim.Instance) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
