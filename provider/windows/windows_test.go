package windows

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
)

// fakeAPI answers as a Windows machine would, from fixed data. It is the
// one fake of the package: the real calls cannot run here.
type fakeAPI struct {
	lsa      []LogonSessionData
	lsaErr   error
	denied   int // logon sessions LSA denied, beside those it gave
	wts      []WTSSession
	wtsErr   error
	sessions []SessionInfo502
	sessErr  error
	conns    map[string][]ConnectionInfo1 // by qualifier ("\\NAME")
	connErr  error
	connErrs map[string]error // by qualifier: one client's own error
	block    chan struct{}    // when set, LogonSessions waits on it
	calls    atomic.Int32
}

func (f *fakeAPI) LogonSessions(ctx context.Context) ([]LogonSessionData, int, error) {
	f.calls.Add(1)
	if f.block != nil {
		<-f.block
	}
	return f.lsa, f.denied, f.lsaErr
}
func (f *fakeAPI) ServerSessions(context.Context) ([]SessionInfo502, error) {
	f.calls.Add(1)
	return f.sessions, f.sessErr
}
func (f *fakeAPI) ServerConnections(_ context.Context, q string) ([]ConnectionInfo1, error) {
	if err := f.connErrs[q]; err != nil {
		return nil, err
	}
	return f.conns[q], f.connErr
}
func (f *fakeAPI) TerminalSessions(context.Context) ([]WTSSession, error) { return f.wts, f.wtsErr }

var (
	cet      = time.FixedZone("CET", 60*60)
	loggedOn = time.Date(2026, 3, 1, 8, 30, 15, 123456000, time.UTC)
)

// machine is a typical workstation with an RDP server: the system's own
// sessions, a console user, a disconnected RDP user, a network logon.
func machine() *fakeAPI {
	return &fakeAPI{
		lsa: []LogonSessionData{
			{LogonID: LUID{LowPart: 999}, UserName: "WIN-1$", LogonDomain: "WORKGROUP", AuthenticationPackage: "Negotiate", LogonType: 0, Sid: "S-1-5-18"},
			{LogonID: LUID{LowPart: 0x3e5}, UserName: "LOCAL SERVICE", LogonDomain: "NT AUTHORITY", AuthenticationPackage: "Negotiate", LogonType: 5, Sid: "S-1-5-19", LogonTime: loggedOn},
			{LogonID: LUID{LowPart: 0x5a3f1, HighPart: 0}, UserName: "alice", LogonDomain: "CORP", AuthenticationPackage: "Kerberos", LogonType: 2, Session: 1, Sid: "S-1-5-21-1-2-3-1001", LogonTime: loggedOn, LogonServer: "DC1"},
			{LogonID: LUID{LowPart: 7, HighPart: 1}, UserName: "bob", LogonDomain: "CORP", AuthenticationPackage: "Kerberos", LogonType: 10, Session: 2, LogonTime: loggedOn},
			{LogonID: LUID{LowPart: 0x9000}, UserName: "carol", LogonType: 3, AuthenticationPackage: "NTLM", LogonTime: loggedOn},
			{LogonID: LUID{LowPart: 0x9001}, UserName: "dave", LogonDomain: "CORP", LogonType: 1}, // undefined type
		},
		wts: []WTSSession{
			{SessionID: 0, WinStationName: "Services", State: WTSDisconnected},
			{SessionID: 1, WinStationName: "Console", State: WTSActive},
			{SessionID: 2, WinStationName: "RDP-Tcp#3", State: WTSDisconnected},
			{SessionID: 65536, WinStationName: "RDP-Tcp", State: WTSListen},
		},
		sessions: []SessionInfo502{
			{ComputerName: `\\192.168.1.20`, UserName: "alice", NumOpens: 3, Time: 600, IdleTime: 12, UserFlags: 0, ClientType: "SMB 3.1.1", Transport: `\Device\NetbiosSmb`},
			{ComputerName: `\\192.168.1.21`, UserName: "Guest", NumOpens: 0, Time: 5, IdleTime: 5, UserFlags: SessGuest | SessNoEncryption},
			{ComputerName: `\\fe80::1`, UserName: "bob", NumOpens: 1, Time: 60, IdleTime: 1, UserFlags: SessNoEncryption},
		},
		conns: map[string][]ConnectionInfo1{
			`\\192.168.1.20`: {
				{ID: 11, Type: 0, NumOpens: 3, NumUsers: 1, Time: 590, UserName: "alice", NetName: "docs"},
				{ID: 12, Type: 3, NumOpens: 0, NumUsers: 1, Time: 600, UserName: "alice", NetName: "IPC$"},
			},
			`\\fe80::1`: {{ID: 13, NumOpens: 1, NumUsers: 1, Time: 60, UserName: "bob", NetName: "home"}},
		},
	}
}

func validate(t *testing.T, insts []*cim.Instance) {
	t.Helper()
	reg := schema.MustDefault()
	for _, in := range insts {
		if err := reg.Validate(in); err != nil {
			t.Errorf("%s: %v", in.String("Name"), err)
		}
	}
}

func byKey(insts []*cim.Instance, prop string) map[string]*cim.Instance {
	m := map[string]*cim.Instance{}
	for _, in := range insts {
		m[in.String(prop)] = in
	}
	return m
}

func TestLUID(t *testing.T) {
	for _, tc := range []struct {
		l    LUID
		want string
	}{
		{LUID{}, "0"},
		{LUID{LowPart: 999}, "999"},
		{LUID{LowPart: 7, HighPart: 1}, "4294967303"},
		{LUID{LowPart: 0xFFFFFFFF, HighPart: -1}, "18446744073709551615"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.l, got, tc.want)
		}
	}
}

func TestLogonSessions(t *testing.T) {
	f := machine()
	p := newLogonProvider(Options{Host: "WIN-1", Location: cet}, f)
	insts, err := provider.Collect(context.Background(), p, "win32_logonsession", provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, insts)
	ids := []string{}
	for _, in := range insts {
		ids = append(ids, in.String("LogonId"))
	}
	if want := []string{"997", "999", "36864", "36865", "369649", "4294967303"}; len(ids) != len(want) {
		t.Fatalf("ids %v, want %v", ids, want)
	} else {
		for i := range want {
			if ids[i] != want[i] {
				t.Fatalf("ids %v, want %v (numeric order)", ids, want)
			}
		}
	}
	m := byKey(insts, "LogonId")
	for _, tc := range []struct {
		id, status, name, caption, owner, pkg string
		logonType                             any
		start                                 string
	}{
		{"999", "OK", `WORKGROUP\WIN-1$@System`, `WORKGROUP\WIN-1$, System`, `WORKGROUP\WIN-1$`, "Negotiate", uint32(0), ""},
		{"997", "OK", `NT AUTHORITY\LOCAL SERVICE@Service`, `NT AUTHORITY\LOCAL SERVICE, Service`, `NT AUTHORITY\LOCAL SERVICE`, "Negotiate", uint32(5), "20260301093015.123456+060"},
		{"369649", "OK", `CORP\alice@Console`, `CORP\alice, Interactive on Console`, `CORP\alice`, "Kerberos", uint32(2), "20260301093015.123456+060"},
		{"4294967303", "Lost Comm", `CORP\bob@RDP-Tcp#3`, `CORP\bob, RemoteInteractive on RDP-Tcp#3`, `CORP\bob`, "Kerberos", uint32(10), "20260301093015.123456+060"},
		{"36864", "OK", `carol@Network`, `carol, Network`, `carol`, "NTLM", uint32(3), "20260301093015.123456+060"},
		{"36865", "OK", `CORP\dave`, `CORP\dave`, `CORP\dave`, "", nil, ""},
	} {
		in := m[tc.id]
		if in == nil {
			t.Errorf("%s missing", tc.id)
			continue
		}
		if got := in.String("Status"); got != tc.status {
			t.Errorf("%s Status %q, want %q", tc.id, got, tc.status)
		}
		if got := in.String("Name"); got != tc.name {
			t.Errorf("%s Name %q, want %q", tc.id, got, tc.name)
		}
		if got := in.String("Caption"); got != tc.caption {
			t.Errorf("%s Caption %q, want %q", tc.id, got, tc.caption)
		}
		if in.Owner != tc.owner {
			t.Errorf("%s Owner %q, want %q", tc.id, in.Owner, tc.owner)
		}
		if got := in.String("AuthenticationPackage"); got != tc.pkg {
			t.Errorf("%s AuthenticationPackage %q, want %q", tc.id, got, tc.pkg)
		}
		if v, ok := in.Get("LogonType"); !ok || v != tc.logonType {
			t.Errorf("%s LogonType %v (%v), want %v", tc.id, v, ok, tc.logonType)
		}
		st, _ := in.Value("StartTime").(cim.DateTime)
		if got := ""; !st.IsZero() {
			got = st.String()
			if got != tc.start {
				t.Errorf("%s StartTime %s, want %s", tc.id, got, tc.start)
			}
		} else if tc.start != "" {
			t.Errorf("%s StartTime missing, want %s", tc.id, tc.start)
		}
	}
	if d := m["4294967303"].String("Description"); d != `Logon session 4294967303 of CORP\bob, RemoteInteractive logon via Kerberos, terminal session 2 (RDP-Tcp#3); disconnected: the session lives but its client has gone` {
		t.Errorf("Description %q", d)
	}
	if d := m["369649"].String("Description"); d != `Logon session 369649 of CORP\alice (S-1-5-21-1-2-3-1001), Interactive logon via Kerberos at DC1, terminal session 1 (Console)` {
		t.Errorf("Description %q", d)
	}
	srcs := p.Sources()
	if len(srcs) != 2 || srcs[0].Found != 6 || srcs[1].Found != 4 || srcs[1].Note != "" {
		t.Errorf("sources %+v", srcs)
	}

	// A key narrows; the cache answers the second call.
	one, err := provider.Collect(context.Background(), p, LogonClass, provider.Hint{Keys: map[string]any{"logonid": "999"}})
	if err != nil || len(one) != 1 || one[0].String("LogonId") != "999" {
		t.Fatalf("narrowed: %v, %v", one, err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("LSA read %d times, want once (cache)", n)
	}
	// Instances handed out are clones.
	one[0].Set("Status", "Error")
	again, _ := provider.Collect(context.Background(), p, LogonClass, provider.Hint{Keys: map[string]any{"logonid": "999"}})
	if again[0].String("Status") != "OK" {
		t.Error("the cache was changed through an instance handed out")
	}
	if _, err := provider.Collect(context.Background(), p, "Win32_Process", provider.Hint{}); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("other class: %v", err)
	}
}

func TestStatusOf(t *testing.T) {
	interactive := &LogonSessionData{LogonType: 2, Session: 1}
	for _, tc := range []struct {
		d     *LogonSessionData
		state uint32
		noWTS bool // WTS could not be read
		gone  bool // WTS answered without the logon's session
		want  string
	}{
		{interactive, WTSActive, false, false, "OK"},
		{interactive, WTSConnected, false, false, "OK"},
		{interactive, WTSShadow, false, false, "OK"},
		{interactive, WTSIdle, false, false, "OK"},
		{interactive, WTSConnectQuery, false, false, "Starting"},
		{interactive, WTSInit, false, false, "Starting"},
		{interactive, WTSDisconnected, false, false, "Lost Comm"},
		{interactive, WTSReset, false, false, "Stopping"},
		{interactive, WTSDown, false, false, "Stopping"},
		{interactive, 42, false, false, "Unknown"},
		{interactive, 0, true, false, "OK"},                                                // WTS unreadable: nothing known
		{interactive, 0, false, true, "Lost Comm"},                                         // its terminal session gone, the logon kept alive
		{&LogonSessionData{LogonType: 3, Session: 1}, WTSDisconnected, false, false, "OK"}, // network logon: no desktop
		{&LogonSessionData{LogonType: 2, Session: 0}, WTSDisconnected, false, false, "OK"}, // session 0 is "disconnected" always
		{&LogonSessionData{LogonType: 10, Session: 3}, WTSDisconnected, false, false, "Lost Comm"},
		{&LogonSessionData{LogonType: 11, Session: 3}, WTSReset, false, false, "Stopping"},
	} {
		var w *WTSSession
		if !tc.noWTS && !tc.gone {
			w = &WTSSession{SessionID: tc.d.Session, State: tc.state}
		}
		if got := statusOf(tc.d, w, !tc.noWTS); got != tc.want {
			t.Errorf("type %d session %d state %d: %q, want %q", tc.d.LogonType, tc.d.Session, tc.state, got, tc.want)
		}
	}
}

func TestLogonTypeOf(t *testing.T) {
	for lt := uint32(0); lt < 20; lt++ {
		got, ok := logonTypeOf(lt)
		want := lt == 0 || (lt >= 2 && lt <= 13)
		if ok != want || (ok && got != lt) {
			t.Errorf("%d: %d %v", lt, got, ok)
		}
	}
}

func TestSessionTypeOf(t *testing.T) {
	for _, tc := range []struct{ flags, want uint32 }{
		{0, 2}, {SessGuest, 0}, {SessNoEncryption, 1}, {SessGuest | SessNoEncryption, 0}, {0x10, 2},
	} {
		if got := sessionTypeOf(tc.flags); got != tc.want {
			t.Errorf("flags %#x: %d, want %d", tc.flags, got, tc.want)
		}
	}
}

func TestServer(t *testing.T) {
	f := machine()
	p := newServerProvider(Options{Host: "WIN-1"}, f)
	ctx := context.Background()
	sessions, err := provider.Collect(ctx, p, SessionClass, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	conns, err := provider.Collect(ctx, p, ConnectionClass, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	links, err := provider.Collect(ctx, p, AssociationClass, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, sessions)
	validate(t, conns)
	validate(t, links)
	if n := f.calls.Load(); n != 1 {
		t.Errorf("NetSessionEnum called %d times, want once for the three classes", n)
	}
	if len(sessions) != 3 || len(conns) != 3 || len(links) != 3 {
		t.Fatalf("%d sessions, %d connections, %d links", len(sessions), len(conns), len(links))
	}
	s := byKey(sessions, "ComputerName")
	alice := s["192.168.1.20"]
	for prop, want := range map[string]any{"UserName": "alice", "ActiveTime": uint32(600), "IdleTime": uint32(12), "ResourcesOpened": uint32(3),
		"ClientType": "SMB 3.1.1", "TransportName": `\Device\NetbiosSmb`, "SessionType": uint32(2)} {
		if got := alice.Value(prop); got != want {
			t.Errorf("alice %s = %v, want %v", prop, got, want)
		}
	}
	if got := s["192.168.1.21"].Value("SessionType"); got != uint32(0) {
		t.Errorf("guest SessionType %v", got)
	}
	if got := s["fe80::1"].Value("SessionType"); got != uint32(1) {
		t.Errorf("unencrypted SessionType %v", got)
	}
	if got, ok := s["192.168.1.21"].Get("ClientType"); !ok || got != nil {
		t.Errorf("empty ClientType: %v %v, want NULL", got, ok)
	}
	c := byKey(conns, "ShareName")
	for prop, want := range map[string]any{"ComputerName": "192.168.1.20", "UserName": "alice", "ActiveTime": uint32(590), "ConnectionID": uint32(11), "NumberOfFiles": uint32(3), "NumberOfUsers": uint32(1)} {
		if got := c["docs"].Value(prop); got != want {
			t.Errorf("docs %s = %v, want %v", prop, got, want)
		}
	}
	// The association joins a session and a connection by computer and user.
	target := SessionPath("WIN-1", "fe80::1", "bob")
	bobs, err := provider.Collect(ctx, p, AssociationClass, provider.Hint{RefersTo: &target})
	if err != nil || len(bobs) != 1 {
		t.Fatalf("links of bob: %v %v", bobs, err)
	}
	dep := bobs[0].Value("Dependent").(cim.ObjectPath)
	if want := ConnectionPath("WIN-1", "fe80::1", "home", "bob"); !dep.Equal(want) {
		t.Errorf("Dependent %v, want %v", dep, want)
	}
	guest, err := provider.Collect(ctx, p, SessionClass, provider.Hint{Keys: map[string]any{"username": "GUEST"}})
	if err != nil || len(guest) != 1 {
		t.Errorf("by key, case-blind: %v %v", guest, err)
	}
}

func TestMapServerMerges(t *testing.T) {
	snap := MapServer([]SessionInfo502{
		{ComputerName: `\\PC`, UserName: "Ann", NumOpens: 1, Time: 10, IdleTime: 9},
		{ComputerName: `\\pc`, UserName: "ann", NumOpens: 2, Time: 30, IdleTime: 3},
		{ComputerName: ``, UserName: "nokey"},
		{ComputerName: `\\PC2`, UserName: ""}, // a null session keeps its empty key
	}, map[string][]ConnectionInfo1{
		`\\PC`: {{ID: 1, NumOpens: 1, Time: 5, UserName: "Ann", NetName: "s"}, {ID: 2, NumOpens: 4, Time: 8, UserName: "ann", NetName: "S"}, {UserName: "ann"}},
	}, ServerOptions{})
	if len(snap.Sessions) != 2 || len(snap.Connections) != 1 || len(snap.Links) != 1 {
		t.Fatalf("%d %d %d", len(snap.Sessions), len(snap.Connections), len(snap.Links))
	}
	se := snap.Sessions[0]
	if se.Value("ResourcesOpened") != uint32(3) || se.Value("ActiveTime") != uint32(30) || se.Value("IdleTime") != uint32(3) {
		t.Errorf("merged session %+v", se.Properties)
	}
	co := snap.Connections[0]
	if co.Value("NumberOfFiles") != uint32(5) || co.Value("ActiveTime") != uint32(8) || co.Value("ConnectionID") != uint32(1) {
		t.Errorf("merged connection %+v", co.Properties)
	}
	validate(t, snap.Sessions)
	validate(t, snap.Connections)
	validate(t, snap.Links)
}

func TestErrors(t *testing.T) {
	denied := &APIError{Call: "LsaEnumerateLogonSessions", Code: errorAccessDenied, Text: "Access is denied."}
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		f     *fakeAPI
		class string
		code  cim.Status
		note  string
		found int
	}{
		{"lsa denied", &fakeAPI{lsaErr: denied}, LogonClass, cim.ErrAccessDenied, "access denied", 0},
		{"lsa failed", &fakeAPI{lsaErr: &APIError{Call: "LsaEnumerateLogonSessions", Code: 1450}}, LogonClass, cim.ErrFailed, "", 0},
		{"wts down", &fakeAPI{lsa: machine().lsa, wtsErr: &APIError{Call: "WTSEnumerateSessions", Code: rpcServerUnavailable}}, LogonClass, cim.StatusOK, "", 6},
		{"not windows", &fakeAPI{lsaErr: provider.ErrNotImplemented}, LogonClass, cim.ErrNotSupported, "", 0},
		{"net denied", &fakeAPI{sessErr: &APIError{Call: "NetSessionEnum", Code: errorAccessDenied}}, SessionClass, cim.ErrAccessDenied, "access denied", 0},
		{"conn denied", &fakeAPI{sessions: machine().sessions, connErr: &APIError{Call: "NetConnectionEnum", Code: errorAccessDenied}}, ConnectionClass, cim.ErrAccessDenied, "access denied", 0},
		{"server stopped", &fakeAPI{sessErr: &APIError{Call: "NetSessionEnum", Code: nerrServerNotStarted}}, SessionClass, cim.StatusOK, "Server service not running", 0},
		{"net failed", &fakeAPI{sessErr: errors.New("boom")}, AssociationClass, cim.ErrFailed, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p interface {
				provider.Provider
				provider.Reporter
			}
			if tc.class == LogonClass {
				p = newLogonProvider(Options{}, tc.f)
			} else {
				p = newServerProvider(Options{}, tc.f)
			}
			insts, err := provider.Collect(ctx, p, tc.class, provider.Hint{})
			if cim.CodeOf(err) != tc.code {
				t.Fatalf("error %v, want %v", err, tc.code)
			}
			var ce *cim.Error
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("%T is not a *cim.Error", err)
			}
			if len(insts) != tc.found {
				t.Errorf("%d instances, want %d", len(insts), tc.found)
			}
			if srcs := p.Sources(); tc.note != "" && (len(srcs) == 0 || srcs[0].Note != tc.note) {
				t.Errorf("sources %+v, want note %q", srcs, tc.note)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	f := machine()
	f.block = make(chan struct{})
	defer close(f.block)
	p := newLogonProvider(Options{Timeout: 20 * time.Millisecond}, f)
	start := time.Now()
	_, err := provider.Collect(context.Background(), p, LogonClass, provider.Hint{})
	if cim.CodeOf(err) != cim.ErrFailed || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := provider.Collect(ctx, p, LogonClass, provider.Hint{}); cim.CodeOf(err) != cim.ErrFailed {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestNotImplementedHere(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the real api answers on Windows")
	}
	for _, p := range []provider.Provider{NewLogonProvider(Options{}), NewServerProvider(Options{})} {
		_, err := provider.Collect(context.Background(), p, p.Classes()[0], provider.Hint{})
		if cim.CodeOf(err) != cim.ErrNotSupported {
			t.Errorf("%s: %v, want CIM_ERR_NOT_SUPPORTED", p.Name(), err)
		}
	}
}

// FuzzMap checks that whatever strings and numbers Windows hands back,
// every instance obeys the schema.
func FuzzMap(f *testing.F) {
	m := machine()
	for i, d := range m.lsa {
		s := m.sessions[i%len(m.sessions)]
		f.Add(d.UserName, d.LogonDomain, d.AuthenticationPackage, d.Sid, d.LogonType, d.Session, uint32(i), "Console", s.ComputerName, s.ClientType, s.UserFlags, "docs")
	}
	f.Add("\xff\x00", "", "", "", uint32(1<<31), uint32(1), uint32(99), "\xed\xa0\x80", `\\`, "", uint32(7), "")
	reg := schema.MustDefault()
	f.Fuzz(func(t *testing.T, user, domain, pkg, sid string, lt, session, state uint32, station, computer, client string, flags uint32, share string) {
		insts := MapLogonSessions([]LogonSessionData{{LogonID: LUID{LowPart: lt, HighPart: int32(state)}, UserName: user, LogonDomain: domain,
			AuthenticationPackage: pkg, Sid: sid, LogonType: lt, Session: session, LogonTime: loggedOn.Add(time.Duration(state) * time.Hour)}},
			[]WTSSession{{SessionID: session, WinStationName: station, State: state}}, LogonOptions{Location: cet})
		snap := MapServer([]SessionInfo502{{ComputerName: computer, UserName: user, ClientType: client, Transport: station, UserFlags: flags}},
			map[string][]ConnectionInfo1{computer: {{UserName: user, NetName: share}}}, ServerOptions{Host: "h"})
		for _, set := range [][]*cim.Instance{insts, snap.Sessions, snap.Connections, snap.Links} {
			for _, in := range set {
				if err := reg.Validate(in); err != nil {
					t.Fatalf("%v: %+v", err, in.Properties)
				}
			}
		}
	})
}

// TestPartialAnswers: an SMB client that leaves between NetSessionEnum and
// NetConnectionEnum takes only its own connections with it, not the
// three classes; logon sessions LSA denies are counted in the source's
// note, so that a short list does not read as the whole.
func TestPartialAnswers(t *testing.T) {
	ctx := context.Background()
	f := machine()
	f.connErrs = map[string]error{`\\192.168.1.21`: &APIError{Call: "NetConnectionEnum", Code: nerrClientNameNotFound}}
	sp := newServerProvider(Options{}, f)
	sessions, err := provider.Collect(ctx, sp, SessionClass, provider.Hint{})
	if err != nil || len(sessions) != 3 {
		t.Fatalf("sessions with one client gone: %d, %v", len(sessions), err)
	}
	conns, err := provider.Collect(ctx, sp, ConnectionClass, provider.Hint{})
	if err != nil || len(conns) == 0 {
		t.Fatalf("connections with one client gone: %d, %v", len(conns), err)
	}

	f = machine()
	f.denied = 4
	lp := newLogonProvider(Options{}, f)
	if _, err := provider.Collect(ctx, lp, LogonClass, provider.Hint{}); err != nil {
		t.Fatal(err)
	}
	if srcs := lp.Sources(); len(srcs) == 0 || !srcs[0].Warn || !strings.Contains(srcs[0].Note, "4 logon sessions not readable without administrator rights") {
		t.Errorf("sources %+v", srcs)
	}
}

// TestLogonWithoutItsTerminalSession: an interactive logon whose terminal
// session WTS no longer lists (Windows keeps a logon while something holds
// its token) is Lost Comm, and says why, not OK.
func TestLogonWithoutItsTerminalSession(t *testing.T) {
	f := machine()
	var kept []WTSSession
	for _, w := range f.wts {
		if w.SessionID == 0 {
			kept = append(kept, w)
		}
	}
	f.wts = kept
	insts, err := provider.Collect(context.Background(), newLogonProvider(Options{}, f), LogonClass, provider.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, in := range insts {
		if in.String("Status") == StatusLostComm && strings.Contains(in.String("Description"), "its terminal session is gone") {
			lost++
		}
	}
	if lost == 0 {
		t.Errorf("no interactive logon is Lost Comm with its terminal session gone")
	}
}
