package cimom

import (
	"context"
	"reflect"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider/accounts"
)

func newRealWorld(t *testing.T) *ObjectManager {
	t.Helper()
	w := newWorld(t)
	acc := accounts.New(accounts.Options{Root: "../provider/accounts/testdata/root", Domain: host, Host: host})
	om, err := New(w.om.Schema(), Options{Host: host}, w.sessions, acc, w.processes, w.assocs)
	if err != nil {
		t.Fatal(err)
	}
	return om
}

// TestKeysCaseInsensitive: string keys match whatever their case wherever
// a key is compared, as in WMI: pushed down to the provider, in get
// paths, ASSOCIATORS/REFERENCES paths and reference comparisons.
func TestKeysCaseInsensitive(t *testing.T) {
	om := newRealWorld(t)
	ctx := context.Background()
	for _, q := range []string{
		`SELECT * FROM Win32_UserAccount WHERE Name='ALICE'`,
		`SELECT * FROM Win32_UserAccount WHERE Name='Alice' AND Domain='testhost'`,
		`SELECT * FROM Win32_Account WHERE Name='ALICE'`,
	} {
		insts, _, err := om.ExecQuery(ctx, q)
		if err != nil || !reflect.DeepEqual(paths(insts), []string{aliceAcc}) {
			t.Errorf("%s: %v, %v", q, paths(insts), err)
		}
	}
	if in, err := om.GetInstance(ctx, ref(t, `Win32_UserAccount.Domain="testhost",Name="ALICE"`)); err != nil || in.Path.Relative().String() != aliceAcc {
		t.Errorf("get ALICE: %v %v", in, err)
	}
	want := []string{`Linux_LogonSession.LogonId="42"`}
	for _, q := range []string{
		`ASSOCIATORS OF {Win32_UserAccount.Domain="testhost",Name="ALICE"}`,
		`ASSOCIATORS OF {\\TESTHOST\root\cimv2:Win32_UserAccount.Name="ALICE",Domain="TESTHOST"} WHERE ResultClass=Win32_LogonSession`,
	} {
		insts, _, err := om.ExecQuery(ctx, q)
		if err != nil || !reflect.DeepEqual(paths(insts), want) {
			t.Errorf("%s: %v, %v", q, paths(insts), err)
		}
	}
	insts, _, err := om.ExecQuery(ctx, `REFERENCES OF {Win32_UserAccount.Domain="TESTHOST",Name="aLiCe"}`)
	if err != nil || len(insts) != 1 || insts[0].ClassName != "Win32_LoggedOnUser" {
		t.Errorf("REFERENCES OF aLiCe: %v, %v", paths(insts), err)
	}
	insts, _, err = om.ExecQuery(ctx, `SELECT * FROM Win32_LoggedOnUser WHERE Antecedent = '\\\\testhost\\root\\cimv2:Win32_UserAccount.Domain="testhost",Name="ALICE"'`)
	if err != nil || len(insts) != 1 {
		t.Errorf("reference comparison: %v, %v", paths(insts), err)
	}
}

// TestPathHost: the host part of a path is this host in any case, "." or
// none; another host is a clear error, never this host's data.
func TestPathHost(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, p := range []string{
		`\\.\root\cimv2:Win32_LogonSession.LogonId="42"`,
		`\\testhost\ROOT\CIMV2:Win32_LogonSession.LogonId="42"`,
		`//TestHost/root/cimv2:Win32_LogonSession.LogonId="42"`,
		`\\localhost\root\cimv2:Win32_LogonSession.LogonId="42"`,
		`\\127.0.0.1\root\cimv2:Win32_LogonSession.LogonId="42"`,
	} {
		if _, err := w.om.GetInstance(ctx, ref(t, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, q := range []string{
		`ASSOCIATORS OF {\\.\root\cimv2:Win32_LogonSession.LogonId="42"} WHERE ResultClass = Win32_UserAccount`,
		`SELECT * FROM Win32_LoggedOnUser WHERE Dependent = '\\\\.\\root\\cimv2:Win32_LogonSession.LogonId="42"'`,
	} {
		insts, _, err := w.om.ExecQuery(ctx, q)
		if err != nil || len(insts) != 1 {
			t.Errorf("%s: %v %v", q, paths(insts), err)
		}
	}
	_, err := w.om.GetInstance(ctx, ref(t, `\\OTHER\root\cimv2:Win32_LogonSession.LogonId="42"`))
	if cim.CodeOf(err) != cim.ErrNotSupported {
		t.Errorf("another host: %v", err)
	}
	_, _, err = w.om.ExecQuery(ctx, `ASSOCIATORS OF {\\other\root\cimv2:Win32_LogonSession.LogonId="42"}`)
	if cim.CodeOf(err) != cim.ErrNotSupported {
		t.Errorf("ASSOCIATORS OF another host: %v", err)
	}
}

// TestShorthandPaths: WMI's Class=value for a class of one key, and an
// unquoted number for a string key.
func TestShorthandPaths(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for p, want := range map[string]string{
		`Win32_LogonSession="42"`:            `Linux_LogonSession.LogonId="42"`,
		`Win32_LogonSession=42`:              `Linux_LogonSession.LogonId="42"`,
		`Win32_LogonSession.LogonId=42`:      `Linux_LogonSession.LogonId="42"`,
		`Win32_Process=100`:                  `Win32_Process.Handle="100"`,
		`\\.\root\cimv2:Win32_Process='100'`: `Win32_Process.Handle="100"`,
	} {
		in, err := w.om.GetInstance(ctx, ref(t, p))
		if err != nil || in.Path.Relative().String() != want {
			t.Errorf("%s: %v %v", p, in, err)
		}
	}
	insts, _, err := w.om.ExecQuery(ctx, `ASSOCIATORS OF {Win32_Process=103}`)
	if err != nil || !reflect.DeepEqual(paths(insts), []string{`Linux_LogonSession.LogonId="42"`}) {
		t.Errorf("ASSOCIATORS OF {Win32_Process=103}: %v %v", paths(insts), err)
	}
	if _, err := w.om.GetInstance(ctx, ref(t, `Win32_UserAccount="alice"`)); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("shorthand for two keys: %v", err)
	}
}
