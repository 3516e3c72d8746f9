package accounts

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

var passwdCases = []struct {
	name string
	in   string
	want []Account
	bad  int
}{
	{"empty", "", nil, 0},
	{"one", "alice:x:1000:100:Alice,,,:/home/alice:/bin/bash\n",
		[]Account{{Name: "alice", Password: "x", UID: 1000, GID: 100, GECOS: "Alice,,,", Home: "/home/alice", Shell: "/bin/bash"}}, 0},
	{"crlf and no final newline", "a:x:1:2:::/bin/sh\r\nb:x:3:4:::/bin/sh",
		[]Account{{Name: "a", Password: "x", UID: 1, GID: 2, Shell: "/bin/sh"}, {Name: "b", Password: "x", UID: 3, GID: 4, Shell: "/bin/sh"}}, 0},
	{"comments and nis", "# c\n+\n-bob\n+@grp::::::\n", nil, 0},
	{"too few fields", "a:x:1:2:gecos:/home\n", nil, 1},
	{"uid too large", "a:x:4294967296:2:::/bin/sh\n", nil, 1},
	{"negative gid", "a:x:1:-2:::/bin/sh\n", nil, 1},
	{"empty name", ":x:1:2:::/bin/sh\n", nil, 1},
	{"max uid", "n:x:4294967295:0:::\n", []Account{{Name: "n", Password: "x", UID: 4294967295}}, 0},
	{"name not utf-8 skipped", "\xff:x:1:1:::\n", nil, 1},
	// A GECOS written in Latin-1 keeps the account, decoded (C1 bytes escaped).
	{"gecos latin-1", "jose:x:1005:1005:Jos\xe9 M\xfcller\x85,Raum 3:/home/jose:/bin/sh\n",
		[]Account{{Name: "jose", Password: "x", UID: 1005, GID: 1005, GECOS: "José Müller\\x85,Raum 3", Home: "/home/jose", Shell: "/bin/sh"}}, 0},
}

func TestParsePasswd(t *testing.T) {
	for _, tc := range passwdCases {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := ParsePasswd([]byte(tc.in))
			if bad != tc.bad {
				t.Errorf("bad = %d, want %d", bad, tc.bad)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

var shadowCases = []struct {
	name string
	in   string
	want map[string]Shadow
	bad  int
}{
	{"full", "a:$6$x:19000:1:90:7:3:20000:\n", map[string]Shadow{"a": {Name: "a", Password: "$6$x", LastChange: 19000, MinAge: 1, MaxAge: 90, Warn: 7, Inactive: 3, Expire: 20000}}, 0},
	{"empty fields", "b:!:::::::\n", map[string]Shadow{"b": {Name: "b", Password: "!", LastChange: -1, MinAge: -1, MaxAge: -1, Warn: -1, Inactive: -1, Expire: -1}}, 0},
	{"two fields only", "c:*\n", map[string]Shadow{"c": {Name: "c", Password: "*", LastChange: -1, MinAge: -1, MaxAge: -1, Warn: -1, Inactive: -1, Expire: -1}}, 0},
	{"bad number", "d:x:abc:::::\n", map[string]Shadow{}, 1},
	{"one field", "e\n", map[string]Shadow{}, 1},
}

func TestParseShadow(t *testing.T) {
	for _, tc := range shadowCases {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := ParseShadow([]byte(tc.in))
			if bad != tc.bad {
				t.Errorf("bad = %d, want %d", bad, tc.bad)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, w := range tc.want {
				if g := got[k]; g == nil || *g != w {
					t.Errorf("%s = %+v, want %+v", k, g, w)
				}
			}
		})
	}
}

func fixedNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) } // day 20454

func newOM(t testing.TB, p provider.Provider) *cimom.ObjectManager {
	t.Helper()
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, p)
	if err != nil {
		t.Fatal(err)
	}
	return om
}

func TestProviderThroughObjectManager(t *testing.T) {
	p := New(Options{Root: filepath.Join("testdata", "root"), Domain: "H1", Host: "h1", Now: fixedNow})
	om := newOM(t, p)
	ctx := context.Background()
	insts, err := om.EnumerateInstances(ctx, "Win32_Account", cimom.EnumOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*cim.Instance{}
	for _, in := range insts {
		got[in.String("Name")] = in
	}
	if len(got) != 6 {
		t.Fatalf("got %d accounts, want 6 (root daemon alice bob carol dave)", len(got))
	}
	tests := []struct {
		name     string
		disabled bool
		full     any
		desc     any
		expires  any
		required any
	}{
		{"root", true, "root", nil, false, true},     // "*" in shadow
		{"daemon", true, "daemon", nil, false, true}, // nologin and "*"
		{"alice", false, "Alice Liddell", "Room 7, 555-1234", true, true},
		{"bob", true, nil, nil, false, true},     // "!" locked
		{"carol", true, "Carol", nil, nil, nil},  // /bin/false, no shadow line
		{"dave", true, "Dave", nil, false, true}, // expired on day 100
	}
	for _, tc := range tests {
		in := got[tc.name]
		if in == nil {
			t.Errorf("no account %s", tc.name)
			continue
		}
		if in.Value("Disabled") != tc.disabled {
			t.Errorf("%s Disabled = %v, want %v", tc.name, in.Value("Disabled"), tc.disabled)
		}
		wantStatus := "OK"
		if tc.disabled {
			wantStatus = "Degraded"
		}
		if in.String("Status") != wantStatus {
			t.Errorf("%s Status = %q", tc.name, in.String("Status"))
		}
		for prop, want := range map[string]any{"FullName": tc.full, "Description": tc.desc, "PasswordExpires": tc.expires, "PasswordRequired": tc.required} {
			if g := in.Value(prop); g != want {
				t.Errorf("%s %s = %#v, want %#v", tc.name, prop, g, want)
			}
		}
		if in.Owner != tc.name {
			t.Errorf("%s Owner = %q", tc.name, in.Owner)
		}
	}
	a := got["alice"]
	for prop, want := range map[string]any{"SID": "S-1-22-1-1000", "SIDType": uint8(1), "Caption": `H1\alice`, "Domain": "H1", "LocalAccount": true} {
		if g := a.Value(prop); g != want {
			t.Errorf("alice %s = %#v, want %#v", prop, g, want)
		}
	}
	if want := `\\h1\root\cimv2:Win32_UserAccount.Domain="H1",Name="alice"`; a.Path.String() != want {
		t.Errorf("path %s, want %s", a.Path, want)
	}
	// The path the provider gives other providers names the same instance.
	in, err := om.GetInstance(ctx, p.Path("alice"))
	if err != nil || in.String("Name") != "alice" {
		t.Fatalf("GetInstance(%s) = %v, %v", p.Path("alice"), in, err)
	}
	if _, err := om.GetInstance(ctx, p.Path("nobody-here")); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing account: %v", err)
	}
	if srcs := p.Sources(); len(srcs) != 1 || srcs[0].Found != 6 {
		t.Errorf("sources %+v", srcs)
	}
}

func TestShadowUnreadable(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("u:x:5:5:U:/:/bin/sh\nsvc:x:6:6::/:/usr/sbin/nologin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := New(Options{Root: root, Domain: "H"})
	insts, err := newOM(t, p).EnumerateInstances(context.Background(), ClassName, cimom.EnumOptions{})
	if err != nil || len(insts) != 2 {
		t.Fatalf("%v %v", insts, err)
	}
	if v := insts[0].Value("PasswordRequired"); v != nil {
		t.Errorf("PasswordRequired = %v without shadow, want NULL", v)
	}
	// Whether u's password is locked is shadow's to say: not known, not
	// "enabled"; svc's shell settles it.
	if d, st := insts[0].Value("Disabled"), insts[0].String("Status"); d != nil || st != "Unknown" {
		t.Errorf("u without shadow: Disabled %v, Status %q; want NULL, Unknown", d, st)
	}
	if d, st := insts[1].Value("Disabled"), insts[1].String("Status"); d != true || st != "Degraded" {
		t.Errorf("svc (nologin): Disabled %v, Status %q", d, st)
	}
	if srcs := p.Sources(); len(srcs) != 2 || srcs[1].Name != "shadow" || srcs[1].Note == "" || !srcs[1].Warn {
		t.Errorf("sources %+v", srcs)
	}
}

func TestMissingPasswd(t *testing.T) {
	p := New(Options{Root: t.TempDir()})
	_, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{})
	if cim.CodeOf(err) != cim.ErrFailed {
		t.Fatalf("err = %v", err)
	}
}

func TestDBLookups(t *testing.T) {
	db, err := Load(filepath.Join("testdata", "root"))
	if err != nil {
		t.Fatal(err)
	}
	if db.UserName(1000) != "alice" || db.UserName(4242) != "4242" {
		t.Errorf("UserName: %q %q", db.UserName(1000), db.UserName(4242))
	}
	if a, ok := db.Lookup("bob"); !ok || a.UID != 1001 || a.Shadow == nil {
		t.Errorf("Lookup bob = %+v %v", a, ok)
	}
}

func FuzzParsePasswd(f *testing.F) {
	for _, tc := range passwdCases {
		f.Add([]byte(tc.in))
	}
	p := New(Options{Domain: "H"})
	reg := schema.MustDefault()
	f.Fuzz(func(t *testing.T, data []byte) {
		accts, _ := ParsePasswd(data)
		for _, a := range accts {
			in := p.Instance(a, fixedNow())
			if err := reg.Validate(in); err != nil {
				t.Fatalf("%+v: %v", a, err)
			}
		}
	})
}

func FuzzParseShadow(f *testing.F) {
	for _, tc := range shadowCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := ParseShadow(data)
		for name, s := range entries {
			if name != s.Name || name == "" {
				t.Fatalf("entry %q holds %+v", name, s)
			}
			a := Account{Name: name, Shadow: s}
			_ = a.Disabled(fixedNow())
		}
	})
}
