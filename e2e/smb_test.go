//go:build linux

// Package e2e holds end-to-end tests that run cimsess against real servers
// (sshd, smbd) started by internal/testenv, through the object manager and
// through the built binary.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider/samba"
	"github.com/cimsess/cimsess/schema"
)

func TestSMBSessionEndToEnd(t *testing.T) {
	smbd := testenv.StartSMBD(t)
	client := smbd.Connect(t)
	ctx := context.Background()
	host, _ := os.Hostname()
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: host},
		samba.New(samba.Options{Conf: smbd.Conf(), Host: host, CacheFor: -1}))
	if err != nil {
		t.Fatal(err)
	}

	sess := findOne(t, om, samba.SessionClass, func(in *cim.Instance) bool { return in.String("UserName") == testenv.TestUser })
	if got := sess.String("ComputerName"); got != "127.0.0.1" {
		t.Errorf("ComputerName = %q, want 127.0.0.1", got)
	}
	if n, _ := sess.Value("ResourcesOpened").(uint32); n < 1 {
		t.Errorf("ResourcesOpened = %v, want at least the open %s", sess.Value("ResourcesOpened"), testenv.SMBFile)
	}
	if at, ok := sess.Value("ActiveTime").(uint32); !ok || at > 120 {
		t.Errorf("ActiveTime = %v, want a few seconds", sess.Value("ActiveTime"))
	}
	if sess.String("TransportName") != "TCP/IPv4" || !strings.HasPrefix(sess.String("ClientType"), "SMB") {
		t.Errorf("TransportName %q, ClientType %q", sess.String("TransportName"), sess.String("ClientType"))
	}
	if sess.Value("IdleTime") != nil {
		t.Errorf("IdleTime = %v, want NULL (Samba does not tell)", sess.Value("IdleTime"))
	}
	if sess.Owner != testenv.TestUser {
		t.Errorf("Owner = %q", sess.Owner)
	}
	conn := findOne(t, om, samba.ConnectionClass, func(in *cim.Instance) bool {
		return in.String("UserName") == testenv.TestUser && in.String("ShareName") == smbd.Share()
	})
	if n, _ := conn.Value("NumberOfFiles").(uint32); n < 1 {
		t.Errorf("NumberOfFiles = %v", conn.Value("NumberOfFiles"))
	}
	assocs, err := om.Associators(ctx, sess.Path, cimom.AssocOptions{AssocClass: samba.AssociationClass})
	if err != nil || len(assocs) != 1 || !assocs[0].Path.Equal(conn.Path) {
		t.Errorf("associators of the session: %v, %v; want %s", assocs, err, conn.Path)
	}

	// The built binary, once, with --smb-conf.
	bin := buildCimsess(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "enum", "Win32_ServerSession", "--smb-conf", smbd.Conf(), "--output", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cimsess enum: %v\n%s", err, stderr.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatalf("cimsess enum --output json: %v\n%s", err, stdout.String())
	}
	var mine int
	for _, r := range rows {
		if r["UserName"] == testenv.TestUser && r["ComputerName"] == "127.0.0.1" {
			mine++
		}
	}
	if mine != 1 {
		t.Errorf("cimsess enum shows %d sessions of %s from 127.0.0.1, want 1:\n%s", mine, testenv.TestUser, stdout.String())
	}

	// Not root: a clear access-denied, exit code 5.
	if u, err := user.Lookup(testenv.TestUser); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		stderr.Reset()
		cmd := exec.Command(bin, "enum", "Win32_ServerSession", "--smb-conf", smbd.Conf())
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Stderr = &stderr
		cmd.Dir = "/"
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 5 || !strings.Contains(stderr.String(), "CIM_ERR_ACCESS_DENIED") {
			t.Errorf("as %s: %v, stderr %q; want exit 5 and CIM_ERR_ACCESS_DENIED", testenv.TestUser, err, stderr.String())
		}
	}

	// After the client quits, both are gone.
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := count(t, om, samba.SessionClass, testenv.TestUser)
		c := count(t, om, samba.ConnectionClass, testenv.TestUser)
		if s == 0 && c == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the client quit: %d sessions and %d connections of %s remain", s, c, testenv.TestUser)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func findOne(t *testing.T, om *cimom.ObjectManager, class string, match func(*cim.Instance) bool) *cim.Instance {
	t.Helper()
	insts, err := om.EnumerateInstances(context.Background(), class, cimom.EnumOptions{})
	if err != nil {
		t.Fatalf("enumerate %s: %v", class, err)
	}
	var found []*cim.Instance
	for _, in := range insts {
		if match(in) {
			found = append(found, in)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d matching %s instances among %d, want 1; sources %+v", len(found), class, len(insts), om.Sources())
	}
	return found[0]
}

func count(t *testing.T, om *cimom.ObjectManager, class, user string) int {
	t.Helper()
	insts, err := om.EnumerateInstances(context.Background(), class, cimom.EnumOptions{})
	if err != nil {
		t.Fatalf("enumerate %s: %v", class, err)
	}
	n := 0
	for _, in := range insts {
		if in.String("UserName") == user {
			n++
		}
	}
	return n
}
