package wql

import (
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// fakeSchema is a small class registry built from cim.Class literals,
// resolving inheritance as the real registry does.
type fakeSchema struct {
	declared map[string]*cim.Class // lower-case name → class as declared
	resolved map[string]*cim.Class
}

func str(name string, q ...cim.Qualifier) cim.Property {
	return cim.Property{Name: name, Type: cim.Type{Kind: cim.KindString}, Qualifiers: q}
}

func typed(name string, k cim.Kind, q ...cim.Qualifier) cim.Property {
	return cim.Property{Name: name, Type: cim.Type{Kind: k}, Qualifiers: q}
}

var (
	keyQ      = cim.Qualifier{Name: "Key", Value: true}
	abstractQ = cim.Qualifier{Name: "Abstract", Value: true}
	intervalQ = cim.Qualifier{Name: "SubType", Value: "interval"}
)

func newFakeSchema() *fakeSchema {
	classes := []*cim.Class{
		{Name: "CIM_ManagedSystemElement", Qualifiers: cim.Qualifiers{abstractQ}, Properties: []cim.Property{
			str("Caption", cim.Qualifier{Name: "MaxLen", Value: int64(64)}), str("Description"),
			typed("InstallDate", cim.KindDateTime), str("Name"), str("Status", cim.Qualifier{Name: "MaxLen", Value: int64(10)}),
		}},
		{Name: "CIM_LogicalElement", SuperClass: "CIM_ManagedSystemElement", Qualifiers: cim.Qualifiers{abstractQ}},
		{Name: "Win32_Session", SuperClass: "CIM_LogicalElement", Qualifiers: cim.Qualifiers{abstractQ}, Properties: []cim.Property{
			typed("StartTime", cim.KindDateTime),
		}},
		{Name: "Win32_LogonSession", SuperClass: "Win32_Session", Properties: []cim.Property{
			str("LogonId", keyQ), str("AuthenticationPackage"), typed("LogonType", cim.KindUint32),
		}},
		{Name: "Linux_LogonSession", SuperClass: "Win32_LogonSession", Properties: []cim.Property{
			str("UserName"), typed("UserId", cim.KindUint32), str("TTY"), typed("IdleTime", cim.KindDateTime, intervalQ),
			typed("Remote", cim.KindBoolean), typed("Load", cim.KindReal64), typed("Seat", cim.KindChar16),
			{Name: "Groups", Type: cim.Type{Kind: cim.KindString, Array: true}},
		}},
		{Name: "Win32_ServerSession", SuperClass: "CIM_LogicalElement", Properties: []cim.Property{
			str("ComputerName", keyQ), str("UserName", keyQ), typed("IdleTime", cim.KindUint32),
		}},
		{Name: "Win32_Account", Properties: []cim.Property{str("Domain", keyQ), str("Name", keyQ)}},
		{Name: "CIM_Dependency", Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}, abstractQ}, Properties: []cim.Property{
			{Name: "Antecedent", Type: cim.Type{Kind: cim.KindReference}, Qualifiers: cim.Qualifiers{keyQ}},
			{Name: "Dependent", Type: cim.Type{Kind: cim.KindReference}, Qualifiers: cim.Qualifiers{keyQ}},
		}},
		{Name: "Win32_LoggedOnUser", SuperClass: "CIM_Dependency", Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}}, Properties: []cim.Property{
			{Name: "Antecedent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_Account"}, Qualifiers: cim.Qualifiers{keyQ}},
			{Name: "Dependent", Type: cim.Type{Kind: cim.KindReference, RefClass: "Win32_LogonSession"}, Qualifiers: cim.Qualifiers{keyQ}},
		}},
	}
	s := &fakeSchema{declared: map[string]*cim.Class{}, resolved: map[string]*cim.Class{}}
	for _, c := range classes {
		s.declared[strings.ToLower(c.Name)] = c
	}
	for _, c := range classes {
		s.resolved[strings.ToLower(c.Name)] = s.resolve(c)
	}
	return s
}

func (s *fakeSchema) resolve(c *cim.Class) *cim.Class {
	out := *c
	out.Properties = nil
	if c.SuperClass != "" {
		for _, p := range s.resolve(s.declared[strings.ToLower(c.SuperClass)]).Properties {
			p.Propagated = true
			out.Properties = append(out.Properties, p)
		}
	}
	for _, p := range c.Properties {
		p.ClassOrigin = c.Name
		replaced := false
		for i := range out.Properties {
			if strings.EqualFold(out.Properties[i].Name, p.Name) {
				out.Properties[i] = p
				replaced = true
			}
		}
		if !replaced {
			out.Properties = append(out.Properties, p)
		}
	}
	return &out
}

func (s *fakeSchema) Class(name string) (*cim.Class, error) {
	if c, ok := s.resolved[strings.ToLower(name)]; ok {
		return c, nil
	}
	return nil, cim.Errorf(cim.ErrInvalidClass, "no class %s", name)
}

func (s *fakeSchema) IsA(class, ancestor string) bool {
	for c := s.declared[strings.ToLower(class)]; c != nil; c = s.declared[strings.ToLower(c.SuperClass)] {
		if strings.EqualFold(c.Name, ancestor) {
			return true
		}
		if c.SuperClass == "" {
			break
		}
	}
	return false
}

func dt(t testing.TB, s string) cim.DateTime {
	t.Helper()
	d, err := cim.ParseDateTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustPath(t testing.TB, s string) cim.ObjectPath {
	t.Helper()
	p, err := cim.ParseObjectPath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sessions returns instances with known values, NULLs included.
func sessions(t testing.TB) []*cim.Instance {
	at := func(s string) cim.DateTime { return dt(t, s) }
	s1 := cim.NewInstance("Linux_LogonSession").
		Set("LogonId", "42").Set("Name", "alice session").Set("Caption", "Alice").Set("Status", "OK").
		// 10:00 at UTC+1 is 09:00 UTC.
		Set("StartTime", at("20260115100000.000000+060")).Set("LogonType", uint32(2)).
		Set("UserName", "alice").Set("UserId", uint32(1000)).Set("TTY", "pts/0").
		Set("IdleTime", cim.NewInterval(5*time.Minute)).Set("AuthenticationPackage", "PAM").
		Set("Remote", true).Set("Load", 0.5).Set("Seat", cim.Char16('s')).Set("Groups", []any{"wheel"})
	s1.Path = mustPath(t, `\\HOST\root\cimv2:Linux_LogonSession.LogonId="42"`)
	s2 := cim.NewInstance("Linux_LogonSession").
		Set("LogonId", "43").Set("Name", "bob").Set("Caption", nil).Set("Status", "Lost Comm").
		// 09:30 at UTC-5 is 14:30 UTC.
		Set("StartTime", at("20260115093000.000000-300")).Set("LogonType", uint32(10)).
		Set("UserName", "Bob").Set("UserId", uint32(1001)).Set("TTY", nil).
		Set("IdleTime", cim.NewInterval(2*time.Hour)).Set("Remote", false).Set("Load", 2.25)
	s2.Path = mustPath(t, `\\HOST\root\cimv2:Linux_LogonSession.LogonId="43"`)
	s3 := cim.NewInstance("Linux_LogonSession").
		Set("LogonId", "44").Set("Name", "[abc]").Set("Status", nil).
		Set("LogonType", uint32(5)).Set("UserName", "_svc%x").Set("UserId", uint32(0)).Set("TTY", "tty1")
	s3.Path = mustPath(t, `root/cimv2:Linux_LogonSession.LogonId="44"`)
	w1 := cim.NewInstance("Win32_LogonSession").
		Set("LogonId", "7").Set("Name", "Ärger").Set("Status", "OK").Set("LogonType", uint32(3)).
		Set("StartTime", at("20260115090000.000000+000"))
	w1.Path = mustPath(t, `Win32_LogonSession.LogonId="7"`)
	return []*cim.Instance{s1, s2, s3, w1}
}
