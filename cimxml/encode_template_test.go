package cimxml

import (
	"bytes"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// TestInstanceTemplates checks that instances written from a layout's
// template are byte for byte what the property-by-property path writes
// (which a Keep that keeps everything forces), for layouts that repeat,
// alternate, hold NULLs, arrays, references, names in other cases and
// names the class does not have.
func TestInstanceTemplates(t *testing.T) {
	reg := schema.MustDefault()
	start := cim.NewDateTime(time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC))
	acct := cim.ObjectPath{ClassName: "Win32_UserAccount", Keys: []cim.KeyBinding{{Name: "Domain", Value: "H"}, {Name: "Name", Value: "a"}}}
	sess := func(id string) *cim.Instance {
		return cim.NewInstance("Linux_LogonSession").Set("LogonId", id).Set("Caption", "s <"+id+">").
			Set("StartTime", start).Set("LogonType", uint32(2)).Set("IdleTime", cim.NewInterval(time.Minute))
	}
	cases := []struct {
		name  string
		class string
		insts []*cim.Instance
	}{
		{"same layout", "Linux_LogonSession", []*cim.Instance{sess("1"), sess("2"), sess("3")}},
		{"alternating layouts", "Linux_LogonSession", []*cim.Instance{sess("1"), sess("2").Set("TTY", "pts/0"), sess("3"), sess("4").Set("TTY", "tty1")}},
		{"a NULL value", "Linux_LogonSession", []*cim.Instance{sess("1"), sess("2").Set("Caption", nil), sess("3")}},
		{"other case", "Linux_LogonSession", []*cim.Instance{sess("1"), cim.NewInstance("Linux_LogonSession").Set("logonid", "9").Set("CAPTION", "x")}},
		{"set twice", "Linux_LogonSession", []*cim.Instance{{ClassName: "Linux_LogonSession", Properties: []cim.PropertyValue{{Name: "LogonId", Value: "1"}, {Name: "logonId", Value: "2"}}}}},
		{"unknown name", "Linux_LogonSession", []*cim.Instance{sess("1"), sess("2").Set("Nope", "x"), sess("3")}},
		{"array for a scalar", "Linux_LogonSession", []*cim.Instance{sess("1"), sess("2").Set("Caption", []any{"a", nil}), sess("3")}},
		{"references", "Win32_LoggedOnUser", []*cim.Instance{
			cim.NewInstance("Win32_LoggedOnUser").Set("Antecedent", acct).Set("Dependent", cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "1"}}}),
		}},
		{"many layouts", "Linux_LogonSession", func() []*cim.Instance {
			var out []*cim.Instance
			for i := 0; i < 3*maxTemplates; i++ {
				in := sess("1")
				for j := 0; j < i%(maxTemplates+3); j++ {
					in.Set([]string{"TTY", "Seat", "Service", "State", "RemoteHost", "RemoteAddress", "SessionClass", "Status", "Name", "UserName", "AuthenticationPackage"}[j], "OK")
				}
				out = append(out, in)
			}
			return out
		}()},
	}
	everything := func(*cim.Property) bool { return true }
	for _, tc := range cases {
		c, err := reg.Class(tc.class)
		if err != nil {
			t.Fatal(err)
		}
		for _, origin := range []bool{false, true} {
			fast, slow := NewEncoder(nil), NewEncoder(nil)
			for round := 0; round < 2; round++ {
				for _, in := range tc.insts {
					fast.Instance(in, c, InstanceOptions{IncludeClassOrigin: origin})
					slow.Instance(in, c, InstanceOptions{IncludeClassOrigin: origin, Keep: everything})
				}
			}
			if !bytes.Equal(fast.Bytes(), slow.Bytes()) {
				t.Errorf("%s (class origin %v): templates write\n%s\nproperty by property\n%s", tc.name, origin, fast.Bytes(), slow.Bytes())
			}
		}
	}
}

// BenchmarkNamedInstances encodes 100 sessions as EnumerateInstances
// answers them.
func BenchmarkNamedInstances(b *testing.B) {
	reg := schema.MustDefault()
	c, _ := reg.Class("Linux_LogonSession")
	start := cim.NewDateTime(time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC))
	var insts []*cim.Instance
	for i := 0; i < 100; i++ {
		in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "1001").Set("Caption", "Session 1001 of alice").
			Set("Name", "1001").Set("Status", "OK").Set("StartTime", start).Set("AuthenticationPackage", "PAM").
			Set("LogonType", uint32(2)).Set("UserName", "alice").Set("UserId", uint32(1000)).
			Set("IdleTime", cim.NewInterval(90*time.Second))
		p, _ := reg.PathOf(in, "h", schema.Namespace)
		in.Path = p
		insts = append(insts, in)
	}
	for _, bc := range []struct {
		name string
		keep func(*cim.Property) bool
	}{{"templates", nil}, {"by-property", func(*cim.Property) bool { return true }}} {
		b.Run(bc.name, func(b *testing.B) {
			e := NewEncoder(nil)
			o := InstanceOptions{IncludeClassOrigin: true, Keep: bc.keep}
			for b.Loop() {
				e.Reset(nil)
				for _, in := range insts {
					e.NamedInstance(in, c, o)
				}
			}
			b.SetBytes(int64(len(e.Bytes())))
		})
	}
}

// TestInstanceNameTemplates checks INSTANCENAME written from templates
// as paths of different classes, keys and key types follow each other.
func TestInstanceNameTemplates(t *testing.T) {
	kb := func(kv ...any) []cim.KeyBinding {
		var out []cim.KeyBinding
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, cim.KeyBinding{Name: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	ref := cim.ObjectPath{ClassName: "Win32_UserAccount", Keys: kb("Name", "a")}
	cases := []struct {
		p    cim.ObjectPath
		want string
	}{
		{cim.ObjectPath{ClassName: "A", Keys: kb("Id", "1")}, `<INSTANCENAME CLASSNAME="A"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE="string" TYPE="string">1</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "A", Keys: kb("Id", "<&>")}, `<INSTANCENAME CLASSNAME="A"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE="string" TYPE="string">&lt;&amp;&gt;</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "A", Keys: kb("Id", uint32(7))}, `<INSTANCENAME CLASSNAME="A"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE="numeric" TYPE="uint32">7</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "A", Keys: kb("id", true)}, `<INSTANCENAME CLASSNAME="A"><KEYBINDING NAME="id"><KEYVALUE VALUETYPE="boolean" TYPE="boolean">TRUE</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "B", Keys: kb("Domain", "H", "Name", "a\"b")}, `<INSTANCENAME CLASSNAME="B"><KEYBINDING NAME="Domain"><KEYVALUE VALUETYPE="string" TYPE="string">H</KEYVALUE></KEYBINDING><KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string" TYPE="string">a"b</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "B", Keys: kb("Domain", "H")}, `<INSTANCENAME CLASSNAME="B"><KEYBINDING NAME="Domain"><KEYVALUE VALUETYPE="string" TYPE="string">H</KEYVALUE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "C", Keys: kb("Antecedent", ref)}, `<INSTANCENAME CLASSNAME="C"><KEYBINDING NAME="Antecedent"><VALUE.REFERENCE><INSTANCENAME CLASSNAME="Win32_UserAccount"><KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string" TYPE="string">a</KEYVALUE></KEYBINDING></INSTANCENAME></VALUE.REFERENCE></KEYBINDING></INSTANCENAME>`},
		{cim.ObjectPath{ClassName: "C"}, `<INSTANCENAME CLASSNAME="C"/>`},
		{cim.ObjectPath{ClassName: "A", Keys: kb("Id", "2")}, `<INSTANCENAME CLASSNAME="A"><KEYBINDING NAME="Id"><KEYVALUE VALUETYPE="string" TYPE="string">2</KEYVALUE></KEYBINDING></INSTANCENAME>`},
	}
	e := NewEncoder(nil)
	for round := 0; round < 2; round++ {
		for _, tc := range cases {
			e.Reset(nil)
			e.InstanceName(tc.p)
			if got := string(e.Bytes()); got != tc.want {
				t.Errorf("InstanceName(%s) =\n%s\nwant\n%s", tc.p, got, tc.want)
			}
		}
	}
}
