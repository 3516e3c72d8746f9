package samba

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func byKeys(insts []*cim.Instance, keys ...string) map[string]*cim.Instance {
	m := map[string]*cim.Instance{}
	for _, in := range insts {
		var parts []string
		for _, k := range keys {
			parts = append(parts, in.String(k))
		}
		m[strings.Join(parts, "/")] = in
	}
	return m
}

func checkProps(t *testing.T, what string, in *cim.Instance, want map[string]any) {
	t.Helper()
	if in == nil {
		t.Errorf("%s: missing", what)
		return
	}
	for k, w := range want {
		if g := in.Value(k); !cim.Equal(g, w) && !(g == nil && w == nil) {
			t.Errorf("%s.%s = %#v, want %#v", what, k, g, w)
		}
	}
}

func validateAll(t testing.TB, snap Snapshot) {
	t.Helper()
	reg := schema.MustDefault()
	for _, list := range [][]*cim.Instance{snap.Sessions, snap.Connections, snap.Links} {
		for _, in := range list {
			if err := reg.Validate(in); err != nil {
				t.Fatalf("%s: %v", in.ClassName, err)
			}
			if in.Owner == "" {
				t.Fatalf("%s has no Owner", in.ClassName)
			}
		}
	}
}

// TestMapRealSample maps smbstatus 4.17's output for a guest session and
// a user session with one open file, as saved from a real smbd.
func TestMapRealSample(t *testing.T) {
	st, err := Parse(readSample(t, "smbstatus-4.17-two-sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	now, _ := ParseTime("2026-11-25T20:02:02.857888+00:00")
	started := map[int]time.Time{14824: now.Add(-3 * time.Second), 14825: now.Add(-2500 * time.Millisecond)}
	snap := Map(st, MapOptions{Now: now, Host: "h1", ProcStart: func(pid int) (time.Time, bool) { t, ok := started[pid]; return t, ok }})
	validateAll(t, snap)
	if len(snap.Sessions) != 2 || len(snap.Connections) != 2 || len(snap.Links) != 2 {
		t.Fatalf("got %d sessions, %d connections, %d links", len(snap.Sessions), len(snap.Connections), len(snap.Links))
	}
	s := byKeys(snap.Sessions, "ComputerName", "UserName")
	checkProps(t, "guest", s["127.0.0.1/nobody"], map[string]any{"SessionType": SessionGuest, "ResourcesOpened": uint32(0),
		"ActiveTime": uint32(3), "ClientType": "SMB3_11", "TransportName": "TCP/IPv4", "IdleTime": nil})
	checkProps(t, "user", s["127.0.0.1/cimsess-test"], map[string]any{"SessionType": SessionOther, "ResourcesOpened": uint32(1),
		"ActiveTime": uint32(2), "ClientType": "SMB3_11", "TransportName": "TCP/IPv4", "IdleTime": nil})
	if s["127.0.0.1/cimsess-test"].Owner != "cimsess-test" {
		t.Errorf("Owner = %q", s["127.0.0.1/cimsess-test"].Owner)
	}
	c := byKeys(snap.Connections, "ComputerName", "ShareName", "UserName")
	checkProps(t, "user's share", c["127.0.0.1/share/cimsess-test"], map[string]any{"NumberOfFiles": uint32(1), "NumberOfUsers": uint32(1),
		"ConnectionID": uint32(1413206887), "ActiveTime": uint32(1)})
	checkProps(t, "guest's share", c["127.0.0.1/share/nobody"], map[string]any{"NumberOfFiles": uint32(0)})
	link := snap.Links[0]
	ante, _ := link.Value("Antecedent").(cim.ObjectPath)
	dep, _ := link.Value("Dependent").(cim.ObjectPath)
	if ante.ClassName != SessionClass || dep.ClassName != ConnectionClass || ante.Host != "h1" {
		t.Errorf("link %v -> %v", ante, dep)
	}
}

// TestMapVariants covers what other Samba versions and set-ups print:
// numbers as JSON numbers, auth_time, IPv6, encryption, two sessions of one
// user from one machine, a numeric user name, IPC$, a session still being
// set up, a tree connect whose session is gone, and locked_files.
func TestMapVariants(t *testing.T) {
	st, err := Parse(readSample(t, "smbstatus-4.22-variants.json"))
	if err != nil {
		t.Fatal(err)
	}
	now, _ := ParseTime("2026-09-18T16:30:00+08:00")
	snap := Map(st, MapOptions{Now: now, Host: "h1",
		ProcStart: func(pid int) (time.Time, bool) { return now.Add(-42 * time.Second), pid == 702 },
		UserName:  func(uid uint32) (string, bool) { return "DOM\\frank", uid == 3000017 }})
	validateAll(t, snap)
	s := byKeys(snap.Sessions, "ComputerName", "UserName")
	if len(s) != 2 {
		t.Fatalf("sessions %v", s)
	}
	checkProps(t, "carol", s["DESKTOP-7/carol"], map[string]any{"ActiveTime": uint32(1200), "ClientType": "SMB2_10",
		"TransportName": "TCP/IPv4", "SessionType": SessionOther, "ResourcesOpened": uint32(3)})
	frank := s["10.0.0.8/3000017"]
	checkProps(t, "frank", frank, map[string]any{"ActiveTime": uint32(42), "SessionType": SessionOther, "ResourcesOpened": uint32(1)})
	if frank != nil && frank.Owner != "DOM\\frank" {
		t.Errorf("numeric user's Owner = %q", frank.Owner)
	}
	c := byKeys(snap.Connections, "ComputerName", "ShareName", "UserName")
	if len(c) != 4 {
		t.Fatalf("connections %v", c)
	}
	checkProps(t, "docs", c["DESKTOP-7/docs/carol"], map[string]any{"ActiveTime": uint32(900), "ConnectionID": uint32(203), "NumberOfFiles": uint32(3)})
	checkProps(t, "ipc", c["DESKTOP-7/IPC$/carol"], map[string]any{"ActiveTime": uint32(599), "NumberOfFiles": nil})
	checkProps(t, "a", c["10.0.0.8/a/3000017"], map[string]any{"NumberOfFiles": nil, "ActiveTime": uint32(60)})
	checkProps(t, "b", c["10.0.0.8/b/3000017"], map[string]any{"NumberOfFiles": nil, "ActiveTime": nil})
	if len(snap.Links) != 4 {
		t.Errorf("%d links", len(snap.Links))
	}
}

// TestMapBoundSessions: two sessions of one user from one machine bound to
// one connection (SMB2 multi-session: one smbd process) merge into one
// Win32_ServerSession whose open files, counted by smbstatus per process
// and user, count once.
func TestMapBoundSessions(t *testing.T) {
	st, err := Parse(readSample(t, "smbstatus-4.17-bound-sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	now, _ := ParseTime("2026-12-07T00:00:00+00:00")
	snap := Map(st, MapOptions{Now: now, Host: "h1"})
	validateAll(t, snap)
	s := byKeys(snap.Sessions, "ComputerName", "UserName")
	if len(s) != 1 {
		t.Fatalf("sessions %v", s)
	}
	checkProps(t, "alice", s["winpc/EXAMPLE\\alice"], map[string]any{"ResourcesOpened": uint32(1)})
	c := byKeys(snap.Connections, "ComputerName", "ShareName", "UserName")
	checkProps(t, "share", c["winpc/share/EXAMPLE\\alice"], map[string]any{"NumberOfFiles": uint32(1)})
}

func TestParseHostname(t *testing.T) {
	for _, tc := range []struct{ in, addr, transport string }{
		{"ipv4:127.0.0.1:39914", "127.0.0.1", "TCP/IPv4"},
		{"ipv6:::1:445", "::1", "TCP/IPv6"},
		{"ipv6:fe80::1%eth0:50000", "fe80::1%eth0", "TCP/IPv6"},
		{"ipv4:10.0.0.1", "10.0.0.1", "TCP/IPv4"},
		{"unix:/run/sock", "", ""},
		{"DESKTOP", "", ""},
		{"", "", ""},
		{"ipv4:junk:1", "", "TCP/IPv4"},
	} {
		addr, tr := parseHostname(tc.in)
		if addr != tc.addr || tr != tc.transport {
			t.Errorf("parseHostname(%q) = %q, %q; want %q, %q", tc.in, addr, tr, tc.addr, tc.transport)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"2022-04-15T17:30:37+0200", "2026-11-25T20:02:00.871325+00:00", "2026-09-18T16:20:05.975637+08:00", "2026-11-25T20:02:02.857888+0000"} {
		if _, ok := ParseTime(s); !ok {
			t.Errorf("ParseTime(%q) failed", s)
		}
	}
	if _, ok := ParseTime("yesterday"); ok {
		t.Error("ParseTime accepted junk")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "{", `{"sessions": []}`, "smbstatus only works as root!"} {
		if _, err := Parse([]byte(in)); cim.CodeOf(err) != cim.ErrFailed {
			t.Errorf("Parse(%q) err = %v", in, err)
		}
	}
}

// fakeSmbstatus writes a script that prints stdout and stderr and exits
// with code, and returns the Command that runs it.
func fakeSmbstatus(t *testing.T, stdout, stderr string, code int) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	errf := filepath.Join(dir, "err")
	if err := os.WriteFile(out, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(errf, []byte(stderr), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "smbstatus")
	body := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\ncat " + out + "\ncat " + errf + " >&2\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// procWithSmbd returns a procfs root in which smbd runs as pid 4242.
func procWithSmbd(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "4242")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "4242 (smbd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 500 10000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestProvider(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the fake smbstatus")
	}
	sample := string(readSample(t, "smbstatus-4.17-two-sessions.json"))
	emptyProc := t.TempDir() // a procfs without smbd
	smbdProc := procWithSmbd(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		stdout   string
		stderr   string
		code     int
		proc     string
		sessions int
		errCode  cim.Status
		note     string
	}{
		{name: "sessions", stdout: sample, sessions: 2},
		{name: "not root", stdout: `{"timestamp": "x"}`, stderr: "smbstatus only works as root!\n", code: 1, errCode: cim.ErrAccessDenied, note: "access denied: smbstatus needs root"},
		{name: "never ran", stdout: `{"sessions": {}, "tcons": {}}`, stderr: "/run/samba/locking.tdb not initialised\nThis is normal if an SMB client has never connected to your server.\n", note: "smbd not running"},
		// smbd does not run: smbstatus is not run at all (its sessions here
		// would be a lie).
		{name: "stopped", stdout: sample, proc: emptyProc, note: "smbd not running"},
		{name: "old samba", stderr: "smbstatus: --json: unknown option\n", code: 1, errCode: cim.ErrNotSupported, note: "smbstatus has no --json (Samba 4.16 or later needed)"},
		{name: "garbage", stdout: "not json", errCode: cim.ErrFailed, note: "unreadable output"},
		{name: "failure", stderr: "boom\n", code: 2, errCode: cim.ErrFailed, note: "failed: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proc := tc.proc
			if proc == "" {
				proc = smbdProc
			}
			script := fakeSmbstatus(t, tc.stdout, tc.stderr, tc.code)
			p := New(Options{Command: script, Conf: "/etc/x.conf", Host: "h1", Proc: proc})
			om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, p)
			if err != nil {
				t.Fatal(err)
			}
			insts, err := om.EnumerateInstances(ctx, SessionClass, cimom.EnumOptions{})
			if cim.CodeOf(err) != tc.errCode {
				t.Fatalf("err = %v, want %v", err, tc.errCode)
			}
			if len(insts) != tc.sessions {
				t.Errorf("%d sessions, want %d", len(insts), tc.sessions)
			}
			srcs := p.Sources()
			if len(srcs) != 1 || srcs[0].Note != tc.note || !strings.HasSuffix(srcs[0].Where, "-s /etc/x.conf --json") {
				t.Errorf("sources %+v, want note %q", srcs, tc.note)
			}
			_, err = os.Stat(filepath.Join(filepath.Dir(script), "args"))
			if ran := err == nil; ran != (proc != emptyProc) {
				t.Errorf("smbstatus ran: %v, want %v", ran, proc != emptyProc)
			}
		})
	}
}

// TestProviderNotInstalled: no smbstatus in PATH is no SMB session, quietly;
// a path given to it that holds nothing is the same, with a warning, since
// the user named it.
func TestProviderNotInstalled(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-smbstatus")
	for _, tc := range []struct {
		command, note string
		warn          bool
	}{
		{"no-such-smbstatus-in-path", "smbstatus not installed", false},
		{missing, "not found: " + missing, true},
	} {
		p := New(Options{Command: tc.command})
		insts, err := provider.Collect(context.Background(), p, SessionClass, provider.Hint{})
		if err != nil || len(insts) != 0 {
			t.Fatalf("%s: %v %v", tc.command, insts, err)
		}
		if srcs := p.Sources(); len(srcs) != 1 || srcs[0].Note != tc.note || srcs[0].Warn != tc.warn {
			t.Errorf("%s: sources %+v", tc.command, srcs)
		}
	}
}

// TestAssociations walks Win32_SessionConnection through the object
// manager: from a session to its connection and back, and its references.
func TestAssociations(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the fake smbstatus")
	}
	p := New(Options{Command: fakeSmbstatus(t, string(readSample(t, "smbstatus-4.17-two-sessions.json")), "", 0), Host: "h1", Proc: procWithSmbd(t)})
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1"}, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, _ := cim.ParseObjectPath(`Win32_ServerSession.ComputerName="127.0.0.1",UserName="cimsess-test"`)
	conns, err := om.Associators(ctx, sess, cimom.AssocOptions{ResultClass: ConnectionClass})
	if err != nil || len(conns) != 1 || conns[0].String("UserName") != "cimsess-test" || conns[0].String("ShareName") != "share" {
		t.Fatalf("associators %v %v", conns, err)
	}
	back, err := om.Associators(ctx, conns[0].Path, cimom.AssocOptions{AssocClass: AssociationClass})
	if err != nil || len(back) != 1 || !back[0].Path.Equal(mustGet(t, om, sess).Path) {
		t.Fatalf("back %v %v", back, err)
	}
	refs, err := om.References(ctx, sess, cimom.AssocOptions{})
	if err != nil || len(refs) != 1 {
		t.Fatalf("references %v %v", refs, err)
	}
	for _, role := range []string{"Antecedent", "Dependent"} {
		if _, err := om.GetInstance(ctx, refs[0].Value(role).(cim.ObjectPath)); err != nil {
			t.Errorf("%s does not resolve: %v", role, err)
		}
	}
	// A restricted viewer sees only their own.
	vctx := cimom.WithViewer(ctx, cimom.Viewer{User: "nobody", Restricted: true})
	mine, err := om.EnumerateInstances(vctx, "CIM_LogicalElement", cimom.EnumOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range mine {
		if in.Owner != "nobody" {
			t.Errorf("viewer nobody sees %s owned by %s", in.Path, in.Owner)
		}
	}
	if len(mine) != 2 {
		t.Errorf("nobody sees %d instances, want a session and a connection", len(mine))
	}
}

func mustGet(t *testing.T, om *cimom.ObjectManager, p cim.ObjectPath) *cim.Instance {
	t.Helper()
	in, err := om.GetInstance(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func FuzzMap(f *testing.F) {
	for _, name := range []string{"smbstatus-4.17-two-sessions.json", "smbstatus-4.22-variants.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"sessions":{"1":{"username":"a","hostname":"ipv4:1.2.3.4:5","uid":"7","server_id":{"pid":"1"}}},"tcons":{"2":{"service":"s","session_id":"1"}}}`))
	f.Add([]byte(`{}`))
	reg := schema.MustDefault()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse(data)
		if err != nil {
			return
		}
		snap := Map(st, MapOptions{Now: now, Host: "h", ProcStart: func(int) (time.Time, bool) { return now.Add(-time.Hour), true }})
		for _, list := range [][]*cim.Instance{snap.Sessions, snap.Connections, snap.Links} {
			for _, in := range list {
				if err := reg.Validate(in); err != nil {
					t.Fatalf("%s: %v", in.ClassName, err)
				}
				if _, err := reg.PathOf(in, "h", schema.Namespace); err != nil {
					t.Fatalf("%s: %v", in.ClassName, err)
				}
			}
		}
		if len(snap.Links) != len(snap.Connections) {
			t.Fatalf("%d links for %d connections", len(snap.Links), len(snap.Connections))
		}
	})
}
