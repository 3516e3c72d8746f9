package cimom

import (
	"context"
	"reflect"
	"strings"
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

func classNames(insts []*cim.Instance) []string {
	var out []string
	for _, in := range insts {
		if !IsClassObject(in) {
			out = append(out, "instance "+in.Path.String())
			continue
		}
		out = append(out, in.ClassName)
	}
	return out
}

// TestClassResults: ClassDefsOnly, SchemaOnly, ASSOCIATORS/REFERENCES OF a
// class, and meta_class answer with classes, as WMI does.
func TestClassResults(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for q, want := range map[string][]string{
		`ASSOCIATORS OF {Win32_LogonSession.LogonId="42"} WHERE ClassDefsOnly`:                                                {"Win32_Process", "Win32_UserAccount"},
		`REFERENCES OF {Win32_LogonSession.LogonId="42"} WHERE ClassDefsOnly`:                                                 {"Win32_SessionProcess", "Win32_LoggedOnUser"},
		`ASSOCIATORS OF {Win32_LogonSession} WHERE SchemaOnly`:                                                                {"Win32_Account", "Win32_Process"},
		`ASSOCIATORS OF {Win32_LogonSession}`:                                                                                 {"Win32_Account", "Win32_Process"},
		`ASSOCIATORS OF {Linux_LogonSession} WHERE AssocClass = Win32_LoggedOnUser SchemaOnly`:                                {"Win32_Account"},
		`ASSOCIATORS OF {\\.\root\cimv2:Win32_UserAccount} WHERE SchemaOnly`:                                                  {"Win32_LogonSession"},
		`REFERENCES OF {Win32_Process} WHERE SchemaOnly`:                                                                      {"Win32_SessionProcess"},
		`SELECT * FROM meta_class WHERE __CLASS LIKE 'Win32_%Session'`:                                                        {"Win32_ServerSession", "Win32_Session", "Win32_LogonSession"},
		`SELECT __CLASS FROM meta_class WHERE __SUPERCLASS = 'Win32_LogonSession'`:                                            {"Linux_LogonSession"},
		`SELECT * FROM meta_class WHERE __GENUS = 1 AND __DYNASTY = 'CIM_Dependency' AND __CLASS ISA 'Win32_SessionResource'`: {"Win32_SessionResource", "Win32_SessionProcess"},
	} {
		insts, props, err := w.om.ExecQuery(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		got := classNames(insts)
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", q, got, want)
			continue
		}
		for _, n := range want {
			found := false
			for _, g := range got {
				found = found || g == n
			}
			if !found {
				t.Errorf("%s: %v, want %v", q, got, want)
			}
		}
		if len(props) == 0 {
			t.Errorf("%s: no properties to show", q)
		}
	}
	insts, _, _ := w.om.ExecQuery(ctx, `SELECT * FROM meta_class WHERE __CLASS = 'Win32_LogonSession'`)
	if len(insts) != 1 {
		t.Fatalf("meta_class Win32_LogonSession: %d", len(insts))
	}
	for name, want := range map[string]any{"__GENUS": int32(1), "__DYNASTY": "CIM_ManagedSystemElement", "__SUPERCLASS": "Win32_Session", "__RELPATH": "Win32_LogonSession"} {
		if got := insts[0].Value(name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
}

// TestSystemPropertiesAsWMI: __NAMESPACE in WMI's form, __GENUS 2 for
// instances, __DYNASTY; a select list carries the keys and __RELPATH
// but no other property it did not name.
func TestSystemPropertiesAsWMI(t *testing.T) {
	w := newWorld(t)
	insts, props, err := w.om.ExecQuery(context.Background(), `SELECT FullName, __NAMESPACE, __GENUS, __DYNASTY, __SERVER FROM Win32_UserAccount WHERE Name = 'alice'`)
	if err != nil || len(insts) != 1 {
		t.Fatalf("%v %v", insts, err)
	}
	if want := []string{"FullName", "__NAMESPACE", "__GENUS", "__DYNASTY", "__SERVER", "Name", "Domain"}; !reflect.DeepEqual(props, want) {
		t.Errorf("properties %v, want %v", props, want)
	}
	want := map[string]any{"FullName": "ALICE", "__NAMESPACE": `root\cimv2`, "__GENUS": int32(2), "__DYNASTY": "CIM_ManagedSystemElement",
		"__SERVER": host, "Domain": host, "Name": "alice", "__RELPATH": aliceAcc}
	if len(insts[0].Properties) != len(want) {
		t.Errorf("properties %v", insts[0].Properties)
	}
	for n, v := range want {
		if got := insts[0].Value(n); !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", n, got, v)
		}
	}
}

// TestWMIQueryIdioms: queries as Windows admins' scripts write them, with
// WMI's answers (checked while replaying peer suites for issue 12): an
// integer against a string key (Get-WmiObject Win32_Process -Filter
// "Handle=$PID"), string comparisons of any property whatever the case,
// KeysOnly leaving the keys, and the schema queries on meta_class.
func TestWMIQueryIdioms(t *testing.T) {
	om := newRealWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{`SELECT * FROM Win32_Process WHERE Handle = 100`, []string{`Win32_Process.Handle="100"`}},
		{`SELECT * FROM Win32_Process WHERE Handle=100 OR Handle=200`, []string{`Win32_Process.Handle="100"`, `Win32_Process.Handle="200"`}},
		{`SELECT * FROM Win32_LogonSession WHERE LogonId = 42`, []string{`Linux_LogonSession.LogonId="42"`}},
		{`SELECT * FROM Win32_UserAccount WHERE FullName = 'ALICE LIDDELL'`, []string{aliceAcc}},
		{`SELECT * FROM Win32_UserAccount WHERE FullName LIKE 'alice%'`, []string{aliceAcc}},
		{`SELECT * FROM Win32_LogonSession WHERE __CLASS = 'linux_logonsession' AND LogonId = '42'`, []string{`Linux_LogonSession.LogonId="42"`}},
		{`SELECT * FROM meta_class WHERE __SUPERCLASS = 'Win32_Session'`, []string{`Win32_LogonSession`}},
		{`SELECT * FROM meta_class WHERE __this ISA 'Win32_Session' AND __CLASS <> 'Win32_Session'`, []string{`Linux_LogonSession`, `Win32_LogonSession`}},
		{`ASSOCIATORS OF {Win32_Process.Handle=100} WHERE KeysOnly`, []string{`Linux_LogonSession.LogonId="42"`}},
	} {
		insts, _, err := om.ExecQuery(ctx, tc.query)
		if err != nil || !reflect.DeepEqual(paths(insts), tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.query, paths(insts), err, tc.want)
			continue
		}
		if strings.Contains(tc.query, "KeysOnly") {
			if p := insts[0].Properties; len(p) != 1 || p[0].Name != "LogonId" {
				t.Errorf("%s: KeysOnly left %v", tc.query, p)
			}
		}
	}
	// What WMI refuses with WBEM_E_INVALID_QUERY (exit code 3).
	for _, q := range []string{
		`SELECT * FROM Win32_Process WHERE Handle = 1.5`,
		`SELECT * FROM Win32_Process WHERE Handle = TRUE`,
		`SELECT * FROM Win32_Process WHERE Handle IN ('100')`,
		`SELECT * FROM Win32_Process WHERE Handle = Name`,
		`REFERENCES OF {Win32_Process.Handle="100"} WHERE ResultRole = Dependent`,
		`ASSOCIATORS OF {Win32_LogonSession.LogonId="42"} WHERE SchemaOnly`,
		`ASSOCIATORS OF {Win32_LogonSession} WHERE ClassDefsOnly SchemaOnly`,
	} {
		if _, _, err := om.ExecQuery(ctx, q); cim.CodeOf(err) != cim.ErrInvalidQuery {
			t.Errorf("%s: %v, want CIM_ERR_INVALID_QUERY", q, err)
		}
	}
}
