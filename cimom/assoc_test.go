package cimom

import (
	"context"
	"reflect"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

const (
	sess42   = `Win32_LogonSession.LogonId="42"`
	aliceAcc = `Win32_UserAccount.Domain="TESTHOST",Name="alice"`
)

var aliceProcs = []string{
	`Win32_Process.Handle="100"`, `Win32_Process.Handle="101"`, `Win32_Process.Handle="102"`,
	`Win32_Process.Handle="103"`, `Win32_Process.Handle="104"`, `Win32_Process.Handle="105"`,
}

func withAcct(procs []string) []string {
	return append(append([]string(nil), procs...), aliceAcc)
}

func TestAssociators(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cases := []struct {
		name string
		src  string
		opts AssocOptions
		want []string
	}{
		{"all", sess42, AssocOptions{}, withAcct(aliceProcs)},
		{"from the subclass path", `Linux_LogonSession.LogonId="42"`, AssocOptions{}, withAcct(aliceProcs)},
		{"AssocClass", sess42, AssocOptions{AssocClass: "Win32_LoggedOnUser"}, []string{aliceAcc}},
		{"AssocClass superclass", sess42, AssocOptions{AssocClass: "Win32_SessionResource"}, aliceProcs},
		{"AssocClass root", sess42, AssocOptions{AssocClass: "cim_dependency"}, withAcct(aliceProcs)},
		{"AssocClass unrelated", sess42, AssocOptions{AssocClass: "Win32_SessionConnection"}, nil},
		{"ResultClass", sess42, AssocOptions{ResultClass: "Win32_Process"}, aliceProcs},
		{"ResultClass superclass", sess42, AssocOptions{ResultClass: "Win32_Account"}, []string{aliceAcc}},
		{"ResultClass root", sess42, AssocOptions{ResultClass: "CIM_ManagedSystemElement"}, withAcct(aliceProcs)},
		{"ResultClass none", sess42, AssocOptions{ResultClass: "Win32_Session"}, nil},
		{"Role Antecedent", sess42, AssocOptions{Role: "Antecedent"}, aliceProcs},
		{"Role Dependent", sess42, AssocOptions{Role: "dependent"}, []string{aliceAcc}},
		{"Role unknown", sess42, AssocOptions{Role: "Owner"}, nil},
		{"ResultRole Antecedent", sess42, AssocOptions{ResultRole: "Antecedent"}, []string{aliceAcc}},
		{"ResultRole Dependent", sess42, AssocOptions{ResultRole: "DEPENDENT"}, aliceProcs},
		{"Role and ResultRole the same", sess42, AssocOptions{Role: "Antecedent", ResultRole: "Antecedent"}, nil},
		{"RequiredQualifier", sess42, AssocOptions{RequiredQualifier: "DisplayName"}, aliceProcs}, // Win32_Process has one, Win32_UserAccount not
		{"RequiredQualifier all", sess42, AssocOptions{RequiredQualifier: "dynamic"}, withAcct(aliceProcs)},
		{"RequiredQualifier none", sess42, AssocOptions{RequiredQualifier: "Nope"}, nil},
		{"RequiredAssocQualifier", sess42, AssocOptions{RequiredAssocQualifier: "association"}, withAcct(aliceProcs)},
		{"RequiredAssocQualifier none", sess42, AssocOptions{RequiredAssocQualifier: "Nope"}, nil},
		{"all options", sess42, AssocOptions{AssocClass: "Win32_SessionProcess", ResultClass: "CIM_Process", Role: "Antecedent",
			ResultRole: "Dependent", RequiredQualifier: "UUID", RequiredAssocQualifier: "UUID"}, aliceProcs},
		{"from an account", aliceAcc, AssocOptions{}, []string{`Linux_LogonSession.LogonId="42"`}},
		{"from an account via Win32_Account", `Win32_Account.Domain="TESTHOST",Name="alice"`, AssocOptions{}, []string{`Linux_LogonSession.LogonId="42"`}},
		{"from a process", `Win32_Process.Handle="103"`, AssocOptions{}, []string{`Linux_LogonSession.LogonId="42"`}},
		{"from a process, wrong role", `Win32_Process.Handle="103"`, AssocOptions{Role: "Antecedent"}, nil},
		// Session 43's association to process 999 names a process that is
		// gone: it is skipped, not an error.
		{"a far end that is gone", `Win32_LogonSession.LogonId="43"`, AssocOptions{ResultClass: "Win32_Process"}, []string{`Win32_Process.Handle="200"`}},
		{"no associations", `Win32_LogonSession.LogonId="44"`, AssocOptions{}, nil},
	}
	for _, tc := range cases {
		got, err := w.om.Associators(ctx, ref(t, tc.src), tc.opts)
		if err != nil {
			t.Errorf("%s: Associators(%s, %+v): %v", tc.name, tc.src, tc.opts, err)
			continue
		}
		if !reflect.DeepEqual(paths(got), tc.want) {
			t.Errorf("%s: Associators(%s, %+v) =\n %v, want\n %v", tc.name, tc.src, tc.opts, paths(got), tc.want)
		}
		seen := map[string]bool{}
		for _, in := range got {
			if seen[in.Path.String()] {
				t.Errorf("%s: %s twice", tc.name, in.Path)
			}
			seen[in.Path.String()] = true
			if in.Path.Host != host || in.Path.Namespace != "root/cimv2" {
				t.Errorf("%s: result path %s", tc.name, in.Path)
			}
		}
	}
}

func TestAssociatorsErrors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cases := []struct {
		name string
		src  string
		opts AssocOptions
		code cim.Status
	}{
		{"source not found", `Win32_LogonSession.LogonId="99"`, AssocOptions{}, cim.ErrNotFound},
		{"source class unknown", `Win32_Nope.X="1"`, AssocOptions{}, cim.ErrInvalidClass},
		{"source namespace", `root/default:` + sess42, AssocOptions{}, cim.ErrInvalidNamespace},
		{"AssocClass unknown", sess42, AssocOptions{AssocClass: "Nope"}, cim.ErrInvalidClass},
		{"AssocClass not an association", sess42, AssocOptions{AssocClass: "Win32_Process"}, cim.ErrInvalidParameter},
		{"ResultClass unknown", sess42, AssocOptions{ResultClass: "Nope"}, cim.ErrInvalidClass},
	}
	for _, tc := range cases {
		_, err := w.om.Associators(ctx, ref(t, tc.src), tc.opts)
		if cim.CodeOf(err) != tc.code {
			t.Errorf("%s: Associators = %v, want %v", tc.name, err, tc.code)
		}
	}
}

func TestReferences(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	lu := `Win32_LoggedOnUser.Antecedent="\\\\TESTHOST\\root\\cimv2:Win32_UserAccount.Domain=\"TESTHOST\",Name=\"alice\"",Dependent="\\\\TESTHOST\\root\\cimv2:Win32_LogonSession.LogonId=\"42\""`
	var sp []string
	for _, p := range aliceProcs {
		sp = append(sp, `Win32_SessionProcess.Antecedent="\\\\TESTHOST\\root\\cimv2:Win32_LogonSession.LogonId=\"42\"",Dependent="\\\\TESTHOST\\root\\cimv2:`+
			cim.QuoteString(p)[1:len(cim.QuoteString(p))-1]+`"`)
	}
	all := append([]string{lu}, sp...)
	cases := []struct {
		name string
		src  string
		opts AssocOptions
		want []string
	}{
		{"all", sess42, AssocOptions{}, all},
		{"ResultClass", sess42, AssocOptions{ResultClass: "Win32_LoggedOnUser"}, []string{lu}},
		{"ResultClass superclass", sess42, AssocOptions{ResultClass: "Win32_SessionResource"}, sp},
		{"ResultClass root", sess42, AssocOptions{ResultClass: "CIM_Dependency"}, all},
		{"ResultClass unrelated", sess42, AssocOptions{ResultClass: "Win32_SessionConnection"}, nil},
		// DSP0200: a filter on the class of each returned object, which
		// no association passes; not an error.
		{"ResultClass not an association", sess42, AssocOptions{ResultClass: "Win32_Process"}, nil},
		{"ResultClass the source's own class", sess42, AssocOptions{ResultClass: "Win32_LogonSession"}, nil},
		{"Role", sess42, AssocOptions{Role: "Antecedent"}, sp},
		{"Role Dependent", sess42, AssocOptions{Role: "Dependent"}, []string{lu}},
		{"RequiredQualifier", sess42, AssocOptions{RequiredQualifier: "UUID"}, all},
		{"RequiredQualifier none", sess42, AssocOptions{RequiredQualifier: "Nope"}, nil},
		{"RequiredAssocQualifier none", sess42, AssocOptions{RequiredAssocQualifier: "Nope"}, nil},
		{"from an account", aliceAcc, AssocOptions{}, []string{lu}},
		{"from a process", `Win32_Process.Handle="100"`, AssocOptions{}, sp[:1]},
	}
	for _, tc := range cases {
		got, err := w.om.References(ctx, ref(t, tc.src), tc.opts)
		if err != nil {
			t.Errorf("%s: References(%s, %+v): %v", tc.name, tc.src, tc.opts, err)
			continue
		}
		if !reflect.DeepEqual(paths(got), tc.want) {
			t.Errorf("%s: References(%s, %+v) =\n %v, want\n %v", tc.name, tc.src, tc.opts, paths(got), tc.want)
		}
	}
	errCases := []struct {
		name string
		opts AssocOptions
		code cim.Status
	}{
		{"ResultClass unknown", AssocOptions{ResultClass: "Nope"}, cim.ErrInvalidClass},
	}
	for _, tc := range errCases {
		if _, err := w.om.References(ctx, ref(t, sess42), tc.opts); cim.CodeOf(err) != tc.code {
			t.Errorf("%s: References = %v, want %v", tc.name, err, tc.code)
		}
	}
	// WQL's form answers alike (WMI: the associations returned "must belong
	// to or be derived from" ResultClass), of an instance and of a class.
	for _, q := range []string{`REFERENCES OF {` + sess42 + `} WHERE ResultClass = Win32_Process`,
		`REFERENCES OF {Win32_LogonSession} WHERE ResultClass = Win32_Process`,
		`REFERENCES OF {` + sess42 + `} WHERE ResultClass = Win32_Process ClassDefsOnly`} {
		if got, _, err := w.om.ExecQuery(ctx, q); err != nil || len(got) != 0 {
			t.Errorf("%s = %v, %v; want nothing", q, paths(got), err)
		}
	}
	if got, err := w.om.ReferenceClasses("Win32_LogonSession", AssocOptions{ResultClass: "Win32_Process"}); err != nil || len(got) != 0 {
		t.Errorf("ReferenceClasses with ResultClass Win32_Process = %v, %v; want none", got, err)
	}
	if _, err := w.om.References(ctx, ref(t, `Win32_LogonSession.LogonId="99"`), AssocOptions{}); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("References of a missing object: %v", err)
	}
}

// TestRefersToHint checks that association providers are asked only for
// the associations of the source object, by its full path.
func TestRefersToHint(t *testing.T) {
	w := newWorld(t)
	if _, err := w.om.Associators(context.Background(), ref(t, sess42), AssocOptions{}); err != nil {
		t.Fatal(err)
	}
	hints := w.assocs.lastHints()
	if len(hints) != 2 {
		t.Fatalf("the association provider was called %d times, want once per association class", len(hints))
	}
	want := `\\TESTHOST\root\cimv2:Linux_LogonSession.LogonId="42"`
	for _, h := range hints {
		if h.RefersTo == nil || h.RefersTo.String() != want {
			t.Errorf("RefersTo = %v, want %s", h.RefersTo, want)
		}
		if h.Keys != nil {
			t.Errorf("association hint has Keys %v", h.Keys)
		}
	}
	// An association class that cannot refer to the source is not asked.
	w = newWorld(t)
	if _, err := w.om.Associators(context.Background(), ref(t, aliceAcc), AssocOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := w.assocs.calls["Win32_SessionProcess"]; n != 0 {
		t.Errorf("Win32_SessionProcess asked %d times for an account's associations", n)
	}
	// Six processes of one class are fetched with one enumeration, not six lookups.
	w = newWorld(t)
	if _, err := w.om.Associators(context.Background(), ref(t, sess42), AssocOptions{ResultClass: "Win32_Process"}); err != nil {
		t.Fatal(err)
	}
	if n := w.processes.calls["Win32_Process"]; n != 1 {
		t.Errorf("Win32_Process enumerated %d times", n)
	}
}
