package schema

import (
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

func goodSession() *cim.Instance {
	return cim.NewInstance("Linux_LogonSession").
		Set("LogonId", "42").
		Set("Caption", "alice on pts/0").
		Set("Status", "OK").
		Set("StartTime", cim.NewDateTime(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))).
		Set("IdleTime", cim.NewInterval(90*time.Second)).
		Set("LogonType", uint32(10)).
		Set("UserId", uint32(1000)).
		Set("TTY", nil)
}

func TestValidate(t *testing.T) {
	r := reg(t)
	point := cim.NewDateTime(time.Now())
	interval := cim.NewInterval(time.Minute)
	acctRef, _ := cim.ParseObjectPath(`Win32_UserAccount.Domain="H",Name="a"`)
	sessRef, _ := cim.ParseObjectPath(`Win32_LogonSession.LogonId="42"`)
	cases := []struct {
		name string
		in   *cim.Instance
		code cim.Status // StatusOK: valid
	}{
		{"good", goodSession(), cim.StatusOK},
		{"only the key", cim.NewInstance("Win32_LogonSession").Set("LogonId", "1"), cim.StatusOK},
		{"class name in any case", cim.NewInstance("win32_logonsession").Set("logonid", "1"), cim.StatusOK},
		{"unknown class", cim.NewInstance("Win32_Nope").Set("LogonId", "1"), cim.ErrInvalidClass},
		{"abstract class", cim.NewInstance("Win32_Session"), cim.ErrInvalidClass},
		{"abstract association", cim.NewInstance("Win32_SessionResource"), cim.ErrInvalidClass},
		{"no key", cim.NewInstance("Win32_LogonSession").Set("Caption", "x"), cim.ErrFailed},
		{"NULL key", cim.NewInstance("Win32_LogonSession").Set("LogonId", nil), cim.ErrFailed},
		{"one of two keys", cim.NewInstance("Win32_UserAccount").Set("Name", "a"), cim.ErrFailed},
		{"both keys", cim.NewInstance("Win32_UserAccount").Set("Name", "a").Set("Domain", "H"), cim.StatusOK},
		{"unknown property", goodSession().Set("Nope", "x"), cim.ErrNoSuchProperty},
		{"subclass property on the superclass", cim.NewInstance("Win32_LogonSession").Set("LogonId", "1").Set("TTY", "pts/0"), cim.ErrNoSuchProperty},
		{"string for uint32", goodSession().Set("LogonType", "2"), cim.ErrTypeMismatch},
		{"uint16 for uint32", goodSession().Set("LogonType", uint16(2)), cim.ErrTypeMismatch},
		{"int for uint32", goodSession().Set("UserId", 1000), cim.ErrTypeMismatch},
		{"uint32 for string", goodSession().Set("LogonId", uint32(42)), cim.ErrTypeMismatch},
		{"array for scalar", goodSession().Set("Caption", []any{"a"}), cim.ErrTypeMismatch},
		{"string for datetime", goodSession().Set("StartTime", "20260101000000.000000+000"), cim.ErrTypeMismatch},
		{"Caption of 64", goodSession().Set("Caption", strings.Repeat("é", 64)), cim.StatusOK},
		{"Caption of 65", goodSession().Set("Caption", strings.Repeat("x", 65)), cim.ErrFailed},
		{"Status of 10", goodSession().Set("Status", "NonRecover"), cim.StatusOK},
		{"Status too long", goodSession().Set("Status", "Terminated"), cim.ErrFailed},
		{"Status not in the list", goodSession().Set("Status", "Broken"), cim.ErrFailed},
		{"Status wrong case", goodSession().Set("Status", "ok"), cim.ErrFailed},
		{"Status NULL", goodSession().Set("Status", nil), cim.StatusOK},
		{"string not UTF-8", goodSession().Set("Description", "a\xffb"), cim.ErrFailed},
		{"LogonType 0", goodSession().Set("LogonType", uint32(0)), cim.StatusOK},
		{"LogonType 1", goodSession().Set("LogonType", uint32(1)), cim.ErrFailed},
		{"LogonType 13", goodSession().Set("LogonType", uint32(13)), cim.StatusOK},
		{"LogonType 14", goodSession().Set("LogonType", uint32(14)), cim.ErrFailed},
		{"interval for StartTime", goodSession().Set("StartTime", interval), cim.ErrTypeMismatch},
		{"point for IdleTime", goodSession().Set("IdleTime", point), cim.ErrTypeMismatch},
		{"interval for InstallDate", goodSession().Set("InstallDate", interval), cim.ErrTypeMismatch},
		{"SessionType 2", cim.NewInstance("Win32_ServerSession").Set("ComputerName", "c").Set("UserName", "u").Set("SessionType", uint32(2)), cim.StatusOK},
		{"SessionType 3", cim.NewInstance("Win32_ServerSession").Set("ComputerName", "c").Set("UserName", "u").Set("SessionType", uint32(3)), cim.ErrFailed},
		{"ExecutionState in map", cim.NewInstance("Win32_Process").Set("Handle", "1").Set("ExecutionState", uint16(3)), cim.StatusOK},
		{"ExecutionState out of map", cim.NewInstance("Win32_Process").Set("Handle", "1").Set("ExecutionState", uint16(10)), cim.ErrFailed},
		{"Handle of 256", cim.NewInstance("Win32_Process").Set("Handle", strings.Repeat("9", 256)), cim.StatusOK},
		{"Handle of 257", cim.NewInstance("Win32_Process").Set("Handle", strings.Repeat("9", 257)), cim.ErrFailed},
		{"association", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctRef).Set("Dependent", sessRef), cim.StatusOK},
		{"association with a string reference", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctRef.String()).Set("Dependent", sessRef), cim.ErrTypeMismatch},
		{"association with a reference to the wrong class", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", sessRef).Set("Dependent", sessRef), cim.ErrTypeMismatch},
		{"association with a reference to an unknown class", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctRef).Set("Dependent", cim.ObjectPath{ClassName: "Nope", Keys: []cim.KeyBinding{{Name: "K", Value: "1"}}}), cim.ErrTypeMismatch},
		{"association with a reference to a subclass", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctRef).Set("Dependent", cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "1"}}}), cim.StatusOK},
		{"association missing an end", cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acctRef), cim.ErrFailed},
		{"boolean", cim.NewInstance("Win32_UserAccount").Set("Name", "a").Set("Domain", "H").Set("Disabled", true), cim.StatusOK},
		{"boolean as string", cim.NewInstance("Win32_UserAccount").Set("Name", "a").Set("Domain", "H").Set("Disabled", "true"), cim.ErrTypeMismatch},
		{"SIDType uint8", cim.NewInstance("Win32_UserAccount").Set("Name", "a").Set("Domain", "H").Set("SIDType", uint8(1)), cim.StatusOK},
		{"property names in any case", cim.NewInstance("Linux_LogonSession").Set("LOGONID", "1").Set("status", "OK").Set("logonType", uint32(2)), cim.StatusOK},
		{"property name by Unicode case folding", cim.NewInstance("Linux_LogonSession").Set("LogonId", "1").Set("ſtatus", "OK"), cim.StatusOK},
		{"key named in another case", cim.NewInstance("Win32_UserAccount").Set("NAME", "a").Set("domain", "H"), cim.StatusOK},
	}
	for _, tc := range cases {
		err := r.Validate(tc.in)
		if got := cim.CodeOf(err); got != tc.code {
			t.Errorf("%s: Validate = %v, want %v", tc.name, err, tc.code)
		}
		if err != nil && !strings.Contains(err.Error(), " ") {
			t.Errorf("%s: error %q says nothing", tc.name, err)
		}
	}
}

// TestValidateValueMapRange checks that ".." in a ValueMap allows any
// value, and that integer ValueMaps compare the value's decimal text.
func TestValidateValueMapRange(t *testing.T) {
	vm := func(vs ...string) cim.Qualifier {
		arr := make([]any, len(vs))
		for i, v := range vs {
			arr[i] = v
		}
		return cim.Qualifier{Name: "ValueMap", Value: arr}
	}
	r, err := New([]*cim.Class{{Name: "T_Thing", Properties: []cim.Property{
		{Name: "Id", Type: cim.Type{Kind: cim.KindString}, Qualifiers: cim.Qualifiers{{Name: "Key", Value: true}}},
		{Name: "Open", Type: cim.Type{Kind: cim.KindUint16}, Qualifiers: cim.Qualifiers{vm("1", "2", "..")}},
		{Name: "Small", Type: cim.Type{Kind: cim.KindSint8}, Qualifiers: cim.Qualifiers{vm("-1", "0")}},
		{Name: "Big", Type: cim.Type{Kind: cim.KindUint64}, Qualifiers: cim.Qualifiers{vm("18446744073709551615")}},
		{Name: "Flags", Type: cim.Type{Kind: cim.KindUint8, Array: true}, Qualifiers: cim.Qualifiers{vm("1", "2")}},
		{Name: "Flag", Type: cim.Type{Kind: cim.KindBoolean}, Qualifiers: cim.Qualifiers{vm("true")}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	thing := func() *cim.Instance { return cim.NewInstance("T_Thing").Set("Id", "x") }
	for _, tc := range []struct {
		name string
		in   *cim.Instance
		code cim.Status
	}{
		{"open map, listed", thing().Set("Open", uint16(2)), cim.StatusOK},
		{"open map, unlisted", thing().Set("Open", uint16(999)), cim.StatusOK},
		{"signed in map", thing().Set("Small", int8(-1)), cim.StatusOK},
		{"signed out of map", thing().Set("Small", int8(1)), cim.ErrFailed},
		{"uint64 max in map", thing().Set("Big", uint64(1<<64-1)), cim.StatusOK},
		{"uint64 out of map", thing().Set("Big", uint64(1)), cim.ErrFailed},
		{"array in map", thing().Set("Flags", []any{uint8(1), nil, uint8(2)}), cim.StatusOK},
		{"array out of map", thing().Set("Flags", []any{uint8(1), uint8(3)}), cim.ErrFailed},
		{"boolean in map", thing().Set("Flag", true), cim.StatusOK},
		{"boolean out of map", thing().Set("Flag", false), cim.ErrFailed},
	} {
		if got := cim.CodeOf(r.Validate(tc.in)); got != tc.code {
			t.Errorf("%s: Validate = %v, want %v", tc.name, r.Validate(tc.in), tc.code)
		}
	}
}

// TestValidateLayouts validates instances whose properties come in
// different orders, from several goroutines, so that the remembered
// layout of one never answers for another.
func TestValidateLayouts(t *testing.T) {
	r := reg(t)
	a := goodSession()
	b := cim.NewInstance("Linux_LogonSession").Set("UserId", uint32(1)).Set("LogonId", "1").Set("LogonType", uint32(2))
	bad := cim.NewInstance("Linux_LogonSession").Set("UserId", uint32(1)).Set("LogonId", "1").Set("LogonType", "2")
	unknown := cim.NewInstance("Linux_LogonSession").Set("UserId", uint32(1)).Set("LogonId", "1").Set("Nope", uint32(2))
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				for _, tc := range []struct {
					in   *cim.Instance
					code cim.Status
				}{{a, cim.StatusOK}, {b, cim.StatusOK}, {bad, cim.ErrTypeMismatch}, {b, cim.StatusOK}, {unknown, cim.ErrNoSuchProperty}, {a, cim.StatusOK}} {
					if got := cim.CodeOf(r.Validate(tc.in)); got != tc.code {
						t.Errorf("Validate(%v) = %v, want %v", tc.in.Properties, got, tc.code)
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestValidateAllocs checks that validating a good instance whose class
// and property names are spelt as declared, and finding its path, cost
// no allocations beyond the path's keys.
func TestValidateAllocs(t *testing.T) {
	r := reg(t)
	in := goodSession()
	if n := testing.AllocsPerRun(20, func() { _ = r.Validate(in) }); n != 0 {
		t.Errorf("Validate allocates %v times", n)
	}
	// A provider leaves out what it does not know, so instances of one
	// class alternate between a few layouts: each is remembered.
	short := goodSession()
	short.Properties = short.Properties[:len(short.Properties)-1]
	if n := testing.AllocsPerRun(20, func() { _ = r.Validate(in); _ = r.Validate(short) }); n != 0 {
		t.Errorf("Validate of two alternating layouts allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { _, _ = r.PathOf(in, "h", Namespace) }); n > 1 {
		t.Errorf("PathOf allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { _, _ = r.Class("Linux_LogonSession") }); n != 0 {
		t.Errorf("Class allocates %v times", n)
	}
}

// TestValidateEveryStatus checks the twelve Status strings, each of which
// also fits MaxLen(10).
func TestValidateEveryStatus(t *testing.T) {
	r := reg(t)
	for _, s := range []string{"OK", "Error", "Degraded", "Unknown", "Pred Fail", "Starting", "Stopping", "Service",
		"Stressed", "NonRecover", "No Contact", "Lost Comm"} {
		if err := r.Validate(goodSession().Set("Status", s)); err != nil {
			t.Errorf("Status %q: %v", s, err)
		}
	}
}

// TestValidateEveryConcreteClass checks that an instance of each concrete
// class with its keys set is valid, and one without them is not.
func TestValidateEveryConcreteClass(t *testing.T) {
	r := reg(t)
	for _, n := range r.Names() {
		c, _ := r.Class(n)
		if c.IsAbstract() {
			if err := r.Validate(cim.NewInstance(n)); cim.CodeOf(err) != cim.ErrInvalidClass {
				t.Errorf("abstract %s: %v", n, err)
			}
			continue
		}
		in := cim.NewInstance(n)
		for _, k := range c.KeyNames() {
			p := c.Property(k)
			switch p.Type.Kind {
			case cim.KindString:
				in.Set(k, "k")
			case cim.KindReference:
				in.Set(k, cim.ObjectPath{ClassName: p.Type.RefClass, Keys: []cim.KeyBinding{{Name: "X", Value: "1"}}})
			default:
				t.Fatalf("%s.%s: a key of type %s", n, k, p.Type)
			}
		}
		if err := r.Validate(in); err != nil {
			t.Errorf("%s with its keys: %v", n, err)
		}
		if len(c.KeyNames()) > 0 {
			if err := r.Validate(cim.NewInstance(n)); err == nil {
				t.Errorf("%s without keys is valid", n)
			}
		}
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"ééééé", 2, "éé"},
		{"日本語テキスト", 3, "日本語"},
		{"abc", 0, ""},
	}
	for _, tc := range cases {
		if got := Truncate(tc.in, tc.max); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
	r := reg(t)
	long := strings.Repeat("ü", 100)
	if err := r.Validate(goodSession().Set("Caption", Truncate(long, 64))); err != nil {
		t.Errorf("a truncated Caption is not valid: %v", err)
	}
}
