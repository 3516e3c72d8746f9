package schema

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/mof"
)

func reg(t testing.TB) *Registry {
	t.Helper()
	r, err := Default()
	if err != nil {
		t.Fatalf("the compiled-in schema does not load: %v", err)
	}
	return r
}

// parseMOFDir parses the MOF files of dir, in the order of their names.
func parseMOFDir(t *testing.T, dir string) []*cim.Class {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.mof"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var parsed []*cim.Class
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := mof.Parse(filepath.Base(f), src)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, cs...)
	}
	return parsed
}

// TestDeclaredMatchesMOF checks that the classes compiled into Go are
// exactly those the MOF files declare, in the same order.
func TestDeclaredMatchesMOF(t *testing.T) {
	parsed := parseMOFDir(t, "mof")
	if len(parsed) == 0 {
		t.Fatal("no MOF files")
	}
	if len(parsed) != len(declared) {
		t.Fatalf("the MOF files declare %d classes, declared_gen.go %d: run go generate ./schema", len(parsed), len(declared))
	}
	for i := range parsed {
		if !reflect.DeepEqual(parsed[i], declared[i]) {
			t.Errorf("class %s differs from its MOF (%s in declared_gen.go): run go generate ./schema", parsed[i].Name, declared[i].Name)
		}
	}
	// The interop classes likewise.
	if interop := parseMOFDir(t, "interop"); len(interop) == 0 || !reflect.DeepEqual(interop, declaredInterop) {
		t.Errorf("the classes of interop/*.mof differ from declaredInterop in declared_gen.go: run go generate ./schema")
	}
	// Load, which parses MOF at run time, builds the same registry.
	fromMOF, err := Load(os.DirFS("mof"))
	if err != nil {
		t.Fatal(err)
	}
	r := reg(t)
	for _, n := range r.Names() {
		a, _ := r.Class(n)
		b, err := fromMOF.Class(n)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("class %s: the registry from MOF differs: %v", n, err)
		}
	}
}

// wantClasses is every class the schema must have, parent before child.
var wantClasses = []string{
	"CIM_Dependency", "Win32_LoggedOnUser", "Win32_SessionConnection", "Win32_SessionResource", "Win32_SessionProcess",
	"CIM_ManagedSystemElement", "CIM_LogicalElement", "CIM_Process", "Win32_Process", "Win32_Account", "Win32_UserAccount",
	"Win32_ServerConnection", "Win32_ServerSession", "Win32_Session", "Win32_LogonSession", "Linux_LogonSession",
}

// TestInterop checks root/interop's registry: its classes, its namespace
// and that it shares none of root/cimv2's.
func TestInterop(t *testing.T) {
	r, err := Interop()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CIM_ManagedElement", "CIM_Namespace", "CIM_RegisteredProfile", "CIM_Service", "CIM_ObjectManager"}
	if got := r.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if r.Namespace() != InteropNamespace || reg(t).Namespace() != Namespace {
		t.Errorf("namespaces %q and %q", r.Namespace(), reg(t).Namespace())
	}
	if n := r.KeyCount("CIM_Namespace"); n != 6 {
		t.Errorf("CIM_Namespace has %d keys, want the six of the CIM schema", n)
	}
	if _, err := r.Class("Win32_LogonSession"); cim.CodeOf(err) != cim.ErrInvalidClass || !strings.Contains(err.Error(), "root/interop") {
		t.Errorf("Win32_LogonSession in root/interop: %v", err)
	}
}

func TestNames(t *testing.T) {
	r := reg(t)
	if got := r.Names(); !reflect.DeepEqual(got, wantClasses) {
		t.Errorf("Names() =\n %v\nwant\n %v", got, wantClasses)
	}
	seen := map[string]bool{}
	for _, n := range r.Names() {
		c, _ := r.Class(n)
		if c.SuperClass != "" && !seen[strings.ToLower(c.SuperClass)] {
			t.Errorf("%s comes before its superclass %s", n, c.SuperClass)
		}
		seen[strings.ToLower(n)] = true
	}
	names := r.Names()
	names[0] = "changed"
	if r.Names()[0] == "changed" {
		t.Error("Names() returns the registry's own slice")
	}
}

// TestFormatRoundTrip is what `cimsess class NAME` relies on: for every
// class, the MOF the printer writes parses back to the declaration.
func TestFormatRoundTrip(t *testing.T) {
	r := reg(t)
	for _, n := range r.Names() {
		decl, err := r.Declared(n)
		if err != nil {
			t.Fatal(err)
		}
		src := mof.Format(decl)
		back, err := mof.Parse(n+".mof", []byte(src))
		if err != nil {
			t.Errorf("%s: the printed MOF does not parse: %v\n%s", n, err, src)
			continue
		}
		if len(back) != 1 || !reflect.DeepEqual(back[0], decl) {
			t.Errorf("%s: the printed MOF parses to something else\nprinted:\n%s\ngot:  %#v\nwant: %#v", n, src, back, decl)
		}
		// The resolved class's Local() has the same properties (with
		// overrides in their inherited place and qualifiers merged).
		res, _ := r.Class(n)
		if a, b := propNames(res.Local().Properties), propNames(decl.Properties); !sameSet(a, b) {
			t.Errorf("%s: Class().Local() has %v, the declaration %v", n, a, b)
		}
	}
}

func propNames(ps []cim.Property) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func TestClassLookup(t *testing.T) {
	r := reg(t)
	for _, name := range []string{"win32_logonsession", "WIN32_LOGONSESSION", "Win32_LogonSession"} {
		c, err := r.Class(name)
		if err != nil || c.Name != "Win32_LogonSession" {
			t.Errorf("Class(%q) = %v, %v", name, c, err)
		}
		d, err := r.Declared(name)
		if err != nil || d.Name != "Win32_LogonSession" {
			t.Errorf("Declared(%q) = %v, %v", name, d, err)
		}
	}
	for _, name := range []string{"", "Win32_Nope", "Win32_LogonSession "} {
		if _, err := r.Class(name); cim.CodeOf(err) != cim.ErrInvalidClass {
			t.Errorf("Class(%q) error %v, want CIM_ERR_INVALID_CLASS", name, err)
		}
		if _, err := r.Declared(name); cim.CodeOf(err) != cim.ErrInvalidClass {
			t.Errorf("Declared(%q) error %v, want CIM_ERR_INVALID_CLASS", name, err)
		}
	}
	if MustDefault() != reg(t) {
		t.Error("MustDefault is not Default")
	}
}

func TestInheritance(t *testing.T) {
	r := reg(t)
	c, _ := r.Class("Linux_LogonSession")
	type prop struct {
		name, origin string
		propagated   bool
	}
	want := []prop{
		{"Caption", "CIM_ManagedSystemElement", true},
		{"Description", "CIM_ManagedSystemElement", true},
		{"InstallDate", "CIM_ManagedSystemElement", true},
		{"Name", "CIM_ManagedSystemElement", true},
		{"Status", "CIM_ManagedSystemElement", true},
		{"StartTime", "Win32_Session", true},
		{"AuthenticationPackage", "Win32_LogonSession", true},
		{"LogonId", "Win32_LogonSession", true},
		{"LogonType", "Win32_LogonSession", true},
		{"UserName", "Linux_LogonSession", false},
		{"UserId", "Linux_LogonSession", false},
		{"TTY", "Linux_LogonSession", false},
		{"RemoteHost", "Linux_LogonSession", false},
		{"RemoteAddress", "Linux_LogonSession", false},
		{"LeaderProcessId", "Linux_LogonSession", false},
		{"Seat", "Linux_LogonSession", false},
		{"SessionClass", "Linux_LogonSession", false},
		{"IdleTime", "Linux_LogonSession", false},
		{"State", "Linux_LogonSession", false},
		{"Service", "Linux_LogonSession", false},
		{"AuditSessionId", "Linux_LogonSession", false},
	}
	var got []prop
	for _, p := range c.Properties {
		got = append(got, prop{p.Name, p.ClassOrigin, p.Propagated})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Linux_LogonSession properties =\n %v\nwant\n %v", got, want)
	}
	if keys := c.KeyNames(); !reflect.DeepEqual(keys, []string{"LogonId"}) {
		t.Errorf("KeyNames() = %v", keys)
	}
	// The declaration keeps only its own properties.
	d, _ := r.Declared("Linux_LogonSession")
	if len(d.Properties) != 12 || d.Properties[0].Name != "UserName" {
		t.Errorf("Declared has %d properties", len(d.Properties))
	}
	if !reflect.DeepEqual(c.Local().Properties, d.Properties) {
		t.Error("Class().Local() is not the declaration")
	}
	// Inherited qualifiers come along.
	if max, ok := c.Property("caption").Qualifiers.Int("MaxLen"); !ok || max != 64 {
		t.Errorf("Linux_LogonSession.Caption MaxLen = %d, %v", max, ok)
	}
}

func TestOverrides(t *testing.T) {
	r := reg(t)
	ua, _ := r.Class("Win32_UserAccount")
	// Name is overridden twice (Win32_Account, Win32_UserAccount): it keeps
	// its place among the inherited properties, and merges qualifiers.
	if ua.Properties[3].Name != "Name" {
		t.Errorf("Win32_UserAccount property 3 is %s, not Name", ua.Properties[3].Name)
	}
	name := ua.Property("Name")
	if name.ClassOrigin != "Win32_UserAccount" || name.Propagated || !name.IsKey() {
		t.Errorf("Win32_UserAccount.Name: origin %s propagated %v key %v", name.ClassOrigin, name.Propagated, name.IsKey())
	}
	if got := name.Qualifiers.String("DisplayName"); got != "Name" {
		t.Errorf("DisplayName not inherited from CIM_ManagedSystemElement: %q", got)
	}
	if !strings.Contains(name.Qualifiers.String("Description"), "danwilson") {
		t.Errorf("the override's Description is not the subclass's: %q", name.Qualifiers.String("Description"))
	}
	if n := countQualifier(name.Qualifiers, "Override"); n != 1 {
		t.Errorf("Name has %d Override qualifiers", n)
	}
	for _, q := range name.Qualifiers {
		if countQualifier(name.Qualifiers, q.Name) != 1 {
			t.Errorf("qualifier %s repeats on Win32_UserAccount.Name", q.Name)
		}
	}
	if keys := ua.KeyNames(); !reflect.DeepEqual(keys, []string{"Name", "Domain"}) {
		t.Errorf("Win32_UserAccount keys = %v", keys)
	}
	acct, _ := r.Class("Win32_Account")
	if p := acct.Property("Name"); p.ClassOrigin != "Win32_Account" || !p.IsKey() {
		t.Errorf("Win32_Account.Name origin %s", p.ClassOrigin)
	}
	base, _ := r.Class("CIM_ManagedSystemElement")
	if base.Property("Name").IsKey() {
		t.Error("the override leaked a Key into CIM_ManagedSystemElement.Name")
	}
	proc, _ := r.Class("Win32_Process")
	kmt := proc.Property("KernelModeTime")
	if kmt.Qualifiers.String("Units") != "100 nanoseconds" || kmt.Qualifiers.String("DisplayName") != "Kernel Mode Time" {
		t.Errorf("Win32_Process.KernelModeTime qualifiers %v", kmt.Qualifiers)
	}
	if cp, _ := r.Class("CIM_Process"); cp.Property("KernelModeTime").Qualifiers.String("Units") != "milliseconds" {
		t.Error("the override changed CIM_Process.KernelModeTime")
	}
	// Reference overrides narrow the referenced class.
	lu, _ := r.Class("Win32_LoggedOnUser")
	if ant := lu.Property("Antecedent"); ant.Type.RefClass != "Win32_Account" || ant.ClassOrigin != "Win32_LoggedOnUser" {
		t.Errorf("Win32_LoggedOnUser.Antecedent = %s from %s", ant.Type, ant.ClassOrigin)
	}
	if len(lu.Properties) != 2 {
		t.Errorf("Win32_LoggedOnUser has %d properties", len(lu.Properties))
	}
}

func countQualifier(qs cim.Qualifiers, name string) int {
	n := 0
	for _, q := range qs {
		if strings.EqualFold(q.Name, name) {
			n++
		}
	}
	return n
}

func TestTree(t *testing.T) {
	r := reg(t)
	if got := r.Children(""); !reflect.DeepEqual(got, []string{"CIM_Dependency", "CIM_ManagedSystemElement"}) {
		t.Errorf("Children(\"\") = %v", got)
	}
	if got := r.Children("cim_logicalelement"); !reflect.DeepEqual(got, []string{"CIM_Process", "Win32_Account", "Win32_ServerConnection", "Win32_ServerSession", "Win32_Session"}) {
		t.Errorf("Children(CIM_LogicalElement) = %v", got)
	}
	if got := r.Subclasses("Win32_Session", false); !reflect.DeepEqual(got, []string{"Win32_LogonSession"}) {
		t.Errorf("Subclasses(Win32_Session, shallow) = %v", got)
	}
	if got := r.Subclasses("WIN32_SESSION", true); !reflect.DeepEqual(got, []string{"Win32_LogonSession", "Linux_LogonSession"}) {
		t.Errorf("Subclasses(Win32_Session, deep) = %v", got)
	}
	if got := r.Subclasses("CIM_Dependency", true); !reflect.DeepEqual(got, []string{"Win32_LoggedOnUser", "Win32_SessionConnection", "Win32_SessionResource", "Win32_SessionProcess"}) {
		t.Errorf("Subclasses(CIM_Dependency, deep) = %v", got)
	}
	if got := r.Subclasses("Linux_LogonSession", true); len(got) != 0 {
		t.Errorf("Subclasses(leaf) = %v", got)
	}
	if got := r.Subclasses("Nope", true); len(got) != 0 {
		t.Errorf("Subclasses(Nope) = %v", got)
	}
	want := []string{"Win32_LogonSession", "Win32_Session", "CIM_LogicalElement", "CIM_ManagedSystemElement"}
	if got := r.Derivation("linux_logonsession"); !reflect.DeepEqual(got, want) {
		t.Errorf("Derivation = %v", got)
	}
	if got := r.Derivation("CIM_ManagedSystemElement"); len(got) != 0 {
		t.Errorf("Derivation(root) = %v", got)
	}
	if got := r.Derivation("Nope"); len(got) != 0 {
		t.Errorf("Derivation(Nope) = %v", got)
	}
	isa := []struct {
		c, a string
		want bool
	}{
		{"Linux_LogonSession", "Win32_Session", true},
		{"linux_logonsession", "CIM_MANAGEDSYSTEMELEMENT", true},
		{"Linux_LogonSession", "Linux_LogonSession", true},
		{"Win32_ServerSession", "Win32_Session", false}, // not a Win32_Session, as in Microsoft's schema
		{"Win32_Session", "Win32_LogonSession", false},
		{"Win32_SessionProcess", "CIM_Dependency", true},
		{"Nope", "Nope", false},
		{"Nope", "CIM_ManagedSystemElement", false},
	}
	for _, tc := range isa {
		if got := r.IsA(tc.c, tc.a); got != tc.want {
			t.Errorf("IsA(%s, %s) = %v", tc.c, tc.a, got)
		}
	}
}

func TestPathOf(t *testing.T) {
	r := reg(t)
	in := cim.NewInstance("Win32_UserAccount").Set("Name", "alice").Set("Domain", "HOST").Set("FullName", "Alice")
	p, err := r.PathOf(in, "HOST", Namespace)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != `\\HOST\root\cimv2:Win32_UserAccount.Domain="HOST",Name="alice"` {
		t.Errorf("PathOf = %s", got)
	}
	p, _ = r.PathOf(cim.NewInstance("linux_logonsession").Set("LogonId", "42"), "", "")
	if got := p.String(); got != `Linux_LogonSession.LogonId="42"` {
		t.Errorf("PathOf = %s", got)
	}
	if _, err := r.PathOf(cim.NewInstance("Win32_UserAccount").Set("Name", "alice"), "", ""); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("PathOf without a key: %v", err)
	}
	if _, err := r.PathOf(cim.NewInstance("Nope"), "", ""); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("PathOf of an unknown class: %v", err)
	}
}

// TestPathOfBuf checks that paths take their keys from the buffer given,
// without room to grow into each other's, and from a new slice when the
// buffer is short.
func TestPathOfBuf(t *testing.T) {
	r := reg(t)
	if n := r.KeyCount("win32_useraccount"); n != 2 {
		t.Errorf("KeyCount(Win32_UserAccount) = %d", n)
	}
	if n := r.KeyCount("Nope"); n != 0 {
		t.Errorf("KeyCount(Nope) = %d", n)
	}
	buf := make([]cim.KeyBinding, 3)
	a, buf, err := r.PathOfBuf(cim.NewInstance("Win32_UserAccount").Set("Name", "a").Set("Domain", "H"), "", "", buf)
	if err != nil || len(buf) != 1 || len(a.Keys) != 2 || cap(a.Keys) != 2 {
		t.Fatalf("first path %v, %d left, %v", a, len(buf), err)
	}
	b, buf, err := r.PathOfBuf(cim.NewInstance("Win32_UserAccount").Set("Name", "b").Set("Domain", "H"), "", "", buf)
	if err != nil || len(buf) != 1 || len(b.Keys) != 2 {
		t.Fatalf("second path %v, %d left, %v", b, len(buf), err)
	}
	_ = append(a.Keys, cim.KeyBinding{Name: "X", Value: "x"})
	if a.String() != `Win32_UserAccount.Domain="H",Name="a"` || b.String() != `Win32_UserAccount.Domain="H",Name="b"` {
		t.Errorf("paths %s and %s", a, b)
	}
	if _, rest, err := r.PathOfBuf(cim.NewInstance("Win32_UserAccount").Set("Name", "c"), "", "", buf); cim.CodeOf(err) != cim.ErrFailed || len(rest) != 1 {
		t.Errorf("PathOfBuf without a key: %v, %d left", err, len(rest))
	}
}

func TestNewErrors(t *testing.T) {
	a := &cim.Class{Name: "A"}
	b := &cim.Class{Name: "B", SuperClass: "A"}
	if _, err := New([]*cim.Class{a, b, {Name: "a"}}); cim.CodeOf(err) != cim.ErrAlreadyExists {
		t.Errorf("duplicate class: %v", err)
	}
	if _, err := New([]*cim.Class{b}); cim.CodeOf(err) != cim.ErrInvalidSuperclass {
		t.Errorf("missing superclass: %v", err)
	}
	x := &cim.Class{Name: "X", SuperClass: "Y"}
	y := &cim.Class{Name: "Y", SuperClass: "X"}
	if _, err := New([]*cim.Class{x, y}); cim.CodeOf(err) != cim.ErrInvalidSuperclass {
		t.Errorf("a cycle: %v", err)
	}
	// Children before parents in the input are fine.
	r, err := New([]*cim.Class{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("Names() = %v", got)
	}
	// An association's subclasses are associations.
	as := &cim.Class{Name: "As", Qualifiers: cim.Qualifiers{{Name: "Association", Value: true}}}
	sub := &cim.Class{Name: "Sub", SuperClass: "As"}
	r, err = New([]*cim.Class{as, sub})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Class("Sub"); !c.IsAssociation() {
		t.Error("a subclass of an association is not one")
	}
	if d, _ := r.Declared("Sub"); d.IsAssociation() || len(d.Qualifiers) != 0 {
		t.Error("resolving changed the declaration")
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"mof/a.mof":   {Data: []byte(`class T_A { [Key] string Id; };`)},
		"mof/b.MOF":   {Data: []byte(`class T_B : T_A { uint32 N; };`)},
		"mof/readme":  {Data: []byte(`not MOF`)},
		"other/c.mof": {Data: []byte(`class T_C { };`)},
	}
	r, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"T_A", "T_B", "T_C"}) {
		t.Errorf("Names() = %v", got)
	}
	fsys["mof/bad.mof"] = &fstest.MapFile{Data: []byte(`class { };`)}
	_, err = Load(fsys)
	var ce *cim.Error
	if !errors.As(err, &ce) {
		t.Errorf("Load of bad MOF: %v is not a *cim.Error", err)
	}
	delete(fsys, "mof/bad.mof")
	fsys["mof/orphan.mof"] = &fstest.MapFile{Data: []byte(`class T_D : T_Nope { };`)}
	if _, err := Load(fsys); cim.CodeOf(err) != cim.ErrInvalidSuperclass {
		t.Errorf("Load with a missing superclass: %v", err)
	}
}

// TestMicrosoftQualifiers checks the qualifiers Microsoft documents for
// these classes, and the project's own, where they belong.
func TestMicrosoftQualifiers(t *testing.T) {
	r := reg(t)
	abstract := map[string]bool{
		"CIM_ManagedSystemElement": true, "CIM_LogicalElement": true, "Win32_Session": true,
		"CIM_Process": true, "Win32_Account": true, "CIM_Dependency": true, "Win32_SessionResource": true,
	}
	assoc := map[string]bool{
		"CIM_Dependency": true, "Win32_LoggedOnUser": true, "Win32_SessionProcess": true,
		"Win32_SessionResource": true, "Win32_SessionConnection": true,
	}
	keys := map[string][]string{
		"Win32_LogonSession":      {"LogonId"},
		"Linux_LogonSession":      {"LogonId"},
		"Win32_ServerSession":     {"ComputerName", "UserName"},
		"Win32_ServerConnection":  {"ComputerName", "ShareName", "UserName"},
		"Win32_Process":           {"Handle"},
		"CIM_Process":             {"Handle"},
		"Win32_Account":           {"Name", "Domain"}, // Name keeps its inherited place
		"Win32_UserAccount":       {"Name", "Domain"},
		"CIM_Dependency":          {"Antecedent", "Dependent"},
		"Win32_LoggedOnUser":      {"Antecedent", "Dependent"},
		"Win32_SessionProcess":    {"Antecedent", "Dependent"},
		"Win32_SessionResource":   {"Antecedent", "Dependent"},
		"Win32_SessionConnection": {"Antecedent", "Dependent"},
	}
	for _, n := range r.Names() {
		c, _ := r.Class(n)
		d, _ := r.Declared(n)
		if d.IsAbstract() != abstract[n] {
			t.Errorf("%s: Abstract is %v", n, d.IsAbstract())
		}
		if c.IsAssociation() != assoc[n] {
			t.Errorf("%s: Association is %v", n, c.IsAssociation())
		}
		if assoc[n] && !d.IsAssociation() {
			t.Errorf("%s: the declaration lacks Association", n)
		}
		if got := c.KeyNames(); !reflect.DeepEqual(got, keys[n]) {
			t.Errorf("%s: keys %v, want %v", n, got, keys[n])
		}
		if !abstract[n] && !c.Qualifiers.Bool("Dynamic") {
			t.Errorf("%s: a concrete class without Dynamic", n)
		}
		if !abstract[n] && c.Qualifiers.String("Provider") != "cimsess" {
			t.Errorf("%s: Provider is %q", n, c.Qualifiers.String("Provider"))
		}
		if c.Qualifiers.String("Description") == "" {
			t.Errorf("%s: no Description", n)
		}
		for _, p := range c.Properties {
			if p.Qualifiers.String("Description") == "" {
				t.Errorf("%s.%s: no Description", n, p.Name)
			}
			if p.Type.Kind == cim.KindReference && !p.IsKey() {
				t.Errorf("%s.%s: an association reference that is not a key", n, p.Name)
			}
			if p.Type.Kind == cim.KindReference {
				if _, err := r.Class(p.Type.RefClass); err != nil {
					t.Errorf("%s.%s refers to %s: %v", n, p.Name, p.Type.RefClass, err)
				}
			}
			if strings.EqualFold(p.Qualifiers.String("SubType"), "interval") != (n == "Linux_LogonSession" && p.Name == "IdleTime") {
				t.Errorf("%s.%s: SubType is %q", n, p.Name, p.Qualifiers.String("SubType"))
			}
		}
		if c.Property("Caption") != nil {
			if max, _ := c.Property("Caption").Qualifiers.Int("MaxLen"); max != 64 {
				t.Errorf("%s.Caption MaxLen %d", n, max)
			}
			if max, _ := c.Property("Status").Qualifiers.Int("MaxLen"); max != 10 {
				t.Errorf("%s.Status MaxLen %d", n, max)
			}
		}
	}
	for _, cn := range []string{"Win32_ServerSession", "Win32_ServerConnection"} {
		c, _ := r.Class(cn)
		if u := c.Property("ActiveTime").Qualifiers.String("Units"); u != "seconds" {
			t.Errorf("%s.ActiveTime Units %q", cn, u)
		}
	}
	ss, _ := r.Class("Win32_ServerSession")
	if u := ss.Property("IdleTime").Qualifiers.String("Units"); u != "seconds" {
		t.Errorf("Win32_ServerSession.IdleTime Units %q", u)
	}
	if vm := ss.Property("SessionType").Qualifiers.Strings("Values"); !reflect.DeepEqual(vm, []string{"Guest", "NoEncryption", "Other"}) {
		t.Errorf("SessionType Values %v", vm)
	}
	ls, _ := r.Class("Win32_LogonSession")
	if vm := ls.Property("LogonType").Qualifiers.Strings("ValueMap"); !reflect.DeepEqual(vm, []string{"0", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13"}) {
		t.Errorf("LogonType ValueMap %v", vm)
	}
	if n := len(ls.Property("LogonType").Qualifiers.Strings("Values")); n != 13 {
		t.Errorf("LogonType has %d Values", n)
	}
	if ls.Property("StartTime").Type.Kind != cim.KindDateTime || ls.Property("LogonType").Type.Kind != cim.KindUint32 {
		t.Error("Win32_LogonSession property types")
	}
	// The reference ends of each association, as reference.md lists them.
	ends := map[string][2]string{
		"Win32_LoggedOnUser":      {"Win32_Account", "Win32_LogonSession"},
		"Win32_SessionProcess":    {"Win32_LogonSession", "Win32_Process"},
		"Win32_SessionConnection": {"Win32_ServerSession", "Win32_ServerConnection"},
	}
	for cn, want := range ends {
		c, _ := r.Class(cn)
		got := [2]string{c.Property("Antecedent").Type.RefClass, c.Property("Dependent").Type.RefClass}
		if got != want {
			t.Errorf("%s ends %v, want %v", cn, got, want)
		}
	}
}

func TestStatusValues(t *testing.T) {
	r := reg(t)
	c, _ := r.Class("CIM_ManagedSystemElement")
	want := []string{"OK", "Error", "Degraded", "Unknown", "Pred Fail", "Starting", "Stopping", "Service",
		"Stressed", "NonRecover", "No Contact", "Lost Comm"}
	st := c.Property("Status")
	if got := st.Qualifiers.Strings("ValueMap"); !reflect.DeepEqual(got, want) {
		t.Errorf("Status ValueMap %v", got)
	}
	if got := st.Qualifiers.Strings("Values"); !reflect.DeepEqual(got, want) {
		t.Errorf("Status Values %v", got)
	}
}

// A GetInstance answer carries no path: one of a class the registry lacks
// takes the keys asked, one of a class it knows keeps its own.
func TestKeepAskedKeys(t *testing.T) {
	r := reg(t)
	if !r.Knows("win32_logonsession") || r.Knows("Win32_OperatingSystem") || (*Registry)(nil).Knows("Win32_LogonSession") {
		t.Fatal("Knows")
	}
	asked := cim.ObjectPath{ClassName: "Win32_OperatingSystem", Keys: []cim.KeyBinding{{Name: "Name", Value: "x"}}}
	in := &cim.Instance{ClassName: "Win32_OperatingSystem", Path: cim.ObjectPath{ClassName: "Win32_OperatingSystem"}}
	r.KeepAskedKeys(in, asked)
	if len(in.Path.Keys) != 1 || in.Path.Keys[0].Value != "x" {
		t.Errorf("an unknown class's answer: %v", in.Path)
	}
	in = &cim.Instance{ClassName: "Win32_OperatingSystem", Path: cim.ObjectPath{ClassName: "Win32_OperatingSystem"}}
	(*Registry)(nil).KeepAskedKeys(in, asked)
	if len(in.Path.Keys) != 1 {
		t.Errorf("without a registry: %v", in.Path)
	}
	own := cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "7"}}}
	in = &cim.Instance{ClassName: "Win32_LogonSession", Path: own}
	r.KeepAskedKeys(in, cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "8"}}})
	if in.Path.Keys[0].Value != "7" {
		t.Errorf("a known class's path was replaced: %v", in.Path)
	}
}

// Classes are resolved when first asked for: goroutines asking at once
// for classes and their ancestors, in any order, all get the one same
// resolved class (run with -race).
func TestResolvedOnDemandOnce(t *testing.T) {
	want, err := New(declared)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(declared)
	if err != nil {
		t.Fatal(err)
	}
	names := r.Names()
	got := make([][]*cim.Class, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for i := range names {
				n := names[(i+g*5)%len(names)] // each goroutine from another class on
				c, err := r.Class(strings.ToUpper(n))
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], c)
			}
		})
	}
	wg.Wait()
	for g := range got {
		for _, c := range got[g] {
			if kept, _ := r.Class(c.Name); kept != c {
				t.Fatalf("goroutine %d got another %s than the registry keeps", g, c.Name)
			}
		}
	}
	for _, n := range names {
		c, _ := r.Class(n)
		w, _ := want.Class(n)
		if !reflect.DeepEqual(c, w) {
			t.Errorf("%s resolved by goroutines at once differs from %s resolved in the schema's order", n, n)
		}
	}
}
