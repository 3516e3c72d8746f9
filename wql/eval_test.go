package wql

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// matchIDs runs query over the fixtures and returns the LogonIds matched.
func matchIDs(t *testing.T, query string, insts []*cim.Instance) string {
	t.Helper()
	q, err := Compile(query, newFakeSchema())
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var ids []string
	for _, in := range insts {
		if q.Match(in) {
			ids = append(ids, in.String("LogonId"))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestMatch(t *testing.T) {
	insts := sessions(t)
	const W = "SELECT * FROM Win32_LogonSession WHERE "
	const L = "SELECT * FROM Linux_LogonSession WHERE "
	tests := []struct{ query, want string }{
		// No WHERE: deep, subclasses included.
		{"SELECT * FROM Win32_LogonSession", "42,43,44,7"},
		{"SELECT * FROM Win32_Session", "42,43,44,7"},
		{"SELECT * FROM Linux_LogonSession", "42,43,44"},
		{"SELECT * FROM Win32_ServerSession", ""},
		// Datetimes: instants across UTC offsets.
		{W + "StartTime = '20260115090000.000000+000'", "42,7"},
		{W + "StartTime = '20260115040000.000000-300'", "42,7"},
		{W + "StartTime = '20260115103000.000000+090'", "42,7"},
		{W + "StartTime > '20260115100000.000000+000'", "43"},
		{W + "StartTime < '20260115153000.000000+060'", "42,7"},
		{W + "StartTime <= '20260115153000.000000+060'", "42,43,7"},
		{W + "StartTime >= '20260115143000.000000+000'", "43"},
		{W + "StartTime <> '20260115090000.000000+000'", "43"},
		{W + "'20260115100000.000000+000' < StartTime", "43"},
		{W + "StartTime > '20260115******.******+***'", "42,43,7"},
		{L + "IdleTime > '00000000001000.000000:000'", "43"},
		{L + "IdleTime < '00000000001000.000000:000'", "42"},
		{L + "IdleTime = '00000000000500.000000:000'", "42"},
		{L + "IdleTime IS NULL", "44"},
		// Strings: case-insensitive.
		{W + "Name = 'ALICE SESSION'", "42"},
		{W + "Status = 'ok'", "42,7"},
		{W + "Status <> 'OK'", "43"},
		{W + "Status != 'ok'", "43"},
		{W + "NOT Status = 'OK'", "43,44"},
		{W + "Caption IS NULL", "43,44,7"},
		{W + "Caption IS NOT NULL", "42"},
		{W + "Name < 'b'", "42,44"},
		{W + "Name >= 'BOB'", "43,7"},
		{W + "'bob' = Name", "43"},
		{W + "Name = 'ärger'", "7"},
		{W + "Name = \"Bob\"", "43"},
		{W + `Name = "[abc]"`, "44"},
		{L + `UserName = '_svc%x'`, "44"},
		{L + "Seat = 'S'", "42"},
		{L + "Seat <> 'x'", "42"},
		// LIKE.
		{L + "UserName LIKE 'a%'", "42"},
		{L + "UserName LIKE 'A%'", "42"},
		{L + "UserName LIKE '%o%'", "43"},
		{L + "UserName LIKE '___'", "43"},
		{L + "UserName LIKE '[a-b]%'", "42,43"},
		{L + "UserName LIKE '[A-B]%'", "42,43"},
		{L + "UserName LIKE '[^a-b]%'", "44"},
		{L + "UserName LIKE '[_]%'", "44"},
		{L + "UserName LIKE '%[%]%'", "44"},
		{L + "UserName LIKE '_svc%x'", "44"},
		{L + "UserName LIKE '%'", "42,43,44"},
		{L + "UserName LIKE '%%'", "42,43,44"},
		{L + "UserName LIKE ''", ""},
		{L + "UserName LIKE 'b_'", ""},
		{L + "UserName LIKE 'b%b'", "43"},
		{L + "UserName LIKE '%e'", "42"},
		{L + "UserName LIKE 'a%%e'", "42"},
		{L + "TTY LIKE '%'", "42,44"},
		{L + "NOT TTY LIKE 'pts%'", "43,44"},
		{L + "TTY NOT LIKE 'pts%'", "43,44"},
		{L + "Name LIKE '[[]abc]'", "44"},
		{L + "Name LIKE '[[]%'", "44"},
		{L + "Status LIKE 'lost comm'", "43"},
		{L + "Status LIKE '% %'", "43"},
		{L + "TTY LIKE 'pts/[0-9]'", "42"},
		{L + "TTY LIKE 'tty[^0]'", "44"},
		{W + "Name LIKE 'ä%'", "7"},
		// Numbers across kinds.
		{W + "LogonType = 2", "42"},
		{W + "LogonType = '2'", "42"},
		{W + "LogonType = 0x0A", "43"},
		{W + "LogonType > 2", "43,44,7"},
		{W + "LogonType >= 2.5", "43,44,7"},
		{W + "LogonType < -1", ""},
		{W + "LogonType > -1", "42,43,44,7"},
		{W + "LogonType <> 2", "43,44,7"},
		{W + "5 < LogonType", "43"},
		{W + "5 >= LogonType", "42,44,7"},
		{W + "LogonType = 18446744073709551615", ""},
		{W + "LogonType < 18446744073709551615", "42,43,44,7"},
		{L + "UserId = 1000.0", "42"},
		{L + "UserId = 0", "44"},
		{L + "UserId = 1e3", "42"},
		{L + "Load > 1", "43"},
		{L + "Load = 0.5", "42"},
		{L + "Load < 1", "42"},
		{L + "Load IS NULL", "44"},
		// Booleans.
		{L + "Remote = TRUE", "42"},
		{L + "Remote = false", "43"},
		{L + "Remote <> TRUE", "43"},
		{L + "TRUE = Remote", "42"},
		{L + "Remote IS NULL", "44"},
		// NULL constants: never true.
		{W + "Status = NULL", ""},
		{W + "Status <> NULL", ""},
		{W + "NULL = Status", ""},
		{W + "NOT Status = NULL", "42,43,44,7"},
		// Arrays: only IS NULL.
		{L + "Groups IS NOT NULL", "42"},
		// System properties.
		{W + "__CLASS = 'linux_logonsession'", "42,43,44"},
		{W + "__CLASS = 'Win32_LogonSession'", "7"},
		{W + "__CLASS <> 'Win32_LogonSession'", "42,43,44"},
		{W + "__CLASS ISA 'Win32_LogonSession'", "42,43,44,7"},
		{W + "__CLASS ISA 'Linux_LogonSession'", "42,43,44"},
		{W + "__THIS ISA 'Linux_LogonSession'", "42,43,44"},
		{W + "__THIS ISA 'CIM_ManagedSystemElement'", "42,43,44,7"},
		{W + "NOT __THIS ISA 'Linux_LogonSession'", "7"},
		{W + `__PATH = '\\\\HOST\\root\\cimv2:Linux_LogonSession.LogonId="42"'`, "42"},
		{W + `__PATH = '\\\\host\\ROOT\\cimv2:linux_logonsession.logonid="42"'`, "42"},
		{W + `__RELPATH = 'Linux_LogonSession.LogonId="43"'`, "43"},
		{W + `__RELPATH LIKE '%"7"'`, "7"},
		{W + "__SERVER = 'host'", "42,43"},
		{W + "__SERVER IS NULL", "44,7"},
		{W + "__NAMESPACE = 'root/cimv2'", "42,43,44"},
		{W + "__SUPERCLASS = 'Win32_LogonSession'", "42,43,44"},
		{W + "__SUPERCLASS = 'Win32_Session'", "7"},
		{W + "__GENUS = 2", "42,43,44,7"},
		{W + "__PROPERTY_COUNT = 9", "7"},
		{W + "__PROPERTY_COUNT > 9", "42,43,44"},
		{W + "__DERIVATION IS NOT NULL", "42,43,44,7"},
		// Logic.
		{W + "(LogonType = 2 OR LogonType = 10) AND Status = 'OK'", "42"},
		{W + "LogonType = 2 OR LogonType = 10 AND Status = 'OK'", "42"},
		{W + "LogonType = 10 AND Status = 'OK' OR LogonType = 2", "42"},
		{W + "NOT (LogonType = 2 OR LogonType = 10)", "44,7"},
		{W + "NOT NOT LogonType = 2", "42"},
		{W + "((((LogonType = 2))))", "42"},
		{W + "LogonType = 2 AND LogonType = 10", ""},
		{W + "Status IS NULL OR Caption IS NOT NULL", "42,44"},
		// Keywords in any case; newlines and tabs.
		{"select * from linux_logonsession where logontype = 2 and not status is null", "42"},
		{"Select *\n\tFrom Linux_LogonSession\n\tWhere UserName Like 'B%'", "43"},
	}
	for _, tt := range tests {
		if got := matchIDs(t, tt.query, insts); got != tt.want {
			t.Errorf("%s\n got %q, want %q", tt.query, got, tt.want)
		}
	}
}

// TestMatchReferences: a reference compares with a path as WMI reads one,
// whatever the class it names of the referred object's lineage, in the
// shorthand Class=value, with an unquoted number for a string key; a
// path its class refuses is an error at the path.
func TestMatchReferences(t *testing.T) {
	lu := &cim.Instance{ClassName: "Win32_LoggedOnUser"}
	lu.Set("Antecedent", cim.ObjectPath{ClassName: "Win32_Account", Keys: []cim.KeyBinding{{Name: "Domain", Value: "HOST"}, {Name: "Name", Value: "alice"}}})
	lu.Set("Dependent", cim.ObjectPath{Host: "HOST", Namespace: `root\cimv2`, ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "42"}}})
	const Q = "SELECT * FROM Win32_LoggedOnUser WHERE "
	for _, tc := range []struct {
		where string
		want  bool
	}{
		{`Dependent = 'Linux_LogonSession.LogonId="42"'`, true},
		{`Dependent = 'Win32_LogonSession.LogonId="42"'`, true},
		{`Dependent = 'win32_logonsession.logonid=42'`, true},
		{`Dependent = 'Win32_LogonSession=42'`, true},
		{`Dependent = 'Win32_LogonSession="42"'`, true},
		{`Dependent <> 'Win32_LogonSession=42'`, false},
		{`Dependent = 'Win32_LogonSession=43'`, false},
		{`Dependent = 'Win32_ServerSession.ComputerName="42",UserName="u"'`, false},
		{`Dependent = 'Nope_Class.LogonId="42"'`, false}, // a class the schema lacks: as written
		{`Antecedent = 'Win32_Account.Name="ALICE",Domain="host"'`, true},
	} {
		q, err := Compile(Q+tc.where, newFakeSchema())
		if err != nil {
			t.Errorf("%s: %v", tc.where, err)
			continue
		}
		if got := q.Match(lu); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.where, got, tc.want)
		}
	}
	for _, bad := range []string{`Dependent = 'Win32_LogonSession.Id=42'`, `Antecedent = 'Win32_Account=alice'`, `Antecedent = 'Win32_Account.Name="a"'`} {
		_, err := Compile(Q+bad, newFakeSchema())
		var se *SyntaxError
		if !errors.As(err, &se) || se.Column != len(Q)+strings.Index(bad, "'")+1 {
			t.Errorf("%s: %v, want an error at the path", bad, err)
		}
	}
}

func TestMatchWrongStatement(t *testing.T) {
	q, err := Compile("SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	if q.Match(sessions(t)[0]) {
		t.Error("an event query matched an instance")
	}
	d, _ := Compile("SELECT * FROM Win32_LogonSession", newFakeSchema())
	if d.MatchEvent(&Event{Class: InstanceCreationEvent, TargetInstance: sessions(t)[0]}) || d.Match(nil) {
		t.Error("a data query matched an event or nil")
	}
}

func TestProject(t *testing.T) {
	insts := sessions(t)
	q, err := Compile("SELECT username, LogonId, __CLASS, __RELPATH, __GENUS, __DERIVATION, TTY, Username FROM Linux_LogonSession", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.Properties(), []string{"UserName", "LogonId", "__CLASS", "__RELPATH", "__GENUS", "__DERIVATION", "TTY"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Properties() = %v, want %v", got, want)
	}
	p := q.Project(insts[1])
	want := []cim.PropertyValue{
		{Name: "UserName", Value: "Bob"}, {Name: "LogonId", Value: "43"},
		{Name: "__CLASS", Value: "Linux_LogonSession"}, {Name: "__RELPATH", Value: `Linux_LogonSession.LogonId="43"`},
		{Name: "__GENUS", Value: int32(2)},
		{Name: "__DERIVATION", Value: []any{"Win32_LogonSession", "Win32_Session", "CIM_LogicalElement", "CIM_ManagedSystemElement"}},
		{Name: "TTY", Value: nil},
	}
	if !reflect.DeepEqual(p.Properties, want) {
		t.Errorf("Project =\n%#v\nwant\n%#v", p.Properties, want)
	}
	if p.ClassName != "Linux_LogonSession" || !p.Path.Equal(insts[1].Path) {
		t.Errorf("Project kept class %q path %v", p.ClassName, p.Path)
	}
	if len(insts[1].Properties) < 10 {
		t.Error("Project changed its argument")
	}
	star, _ := Compile("SELECT * FROM Linux_LogonSession", newFakeSchema())
	if star.Project(insts[0]) != insts[0] || star.Properties() != nil {
		t.Error("SELECT * should project to the instance itself")
	}
}

func TestKeyFilter(t *testing.T) {
	keys := []string{"LogonId"}
	tests := []struct {
		query string
		want  map[string]any
		exact string
	}{
		{"SELECT * FROM Win32_LogonSession WHERE LogonId = '42' AND Status = 'OK'", map[string]any{"logonid": "42"}, ""},
		{"SELECT * FROM Win32_LogonSession WHERE Status = 'OK' AND '42' = logonid", map[string]any{"logonid": "42"}, ""},
		{"SELECT * FROM Win32_LogonSession WHERE (LogonId = '42' AND LogonType = 2) AND (Status = 'OK' OR Status = 'Error')", map[string]any{"logonid": "42"}, ""},
		{"SELECT * FROM Win32_LogonSession WHERE LogonId = '42' OR LogonId = '43'", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE LogonId = '42' AND Status = 'OK' OR Name = 'x'", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE NOT LogonId = '42'", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE LogonId <> '42'", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE LogonId = NULL", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE LogonId LIKE '4%'", nil, ""},
		{"SELECT * FROM Win32_LogonSession", nil, ""},
		{"SELECT * FROM Win32_LogonSession WHERE __CLASS = 'Linux_LogonSession' AND LogonId = '7'", map[string]any{"logonid": "7"}, "Linux_LogonSession"},
	}
	for _, tt := range tests {
		q, err := Compile(tt.query, newFakeSchema())
		if err != nil {
			t.Fatal(err)
		}
		if got := q.KeyFilter(keys); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: KeyFilter = %v, want %v", tt.query, got, tt.want)
		}
		if got := q.ExactClass(); got != tt.exact {
			t.Errorf("%s: ExactClass = %q, want %q", tt.query, got, tt.exact)
		}
	}
	// Values take the property's type.
	q, err := Compile("SELECT * FROM Win32_ServerSession WHERE ComputerName = 'pc' AND UserName = 'bob' AND IdleTime = 5", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	got := q.KeyFilter([]string{"ComputerName", "UserName", "IdleTime"})
	if want := (map[string]any{"computername": "pc", "username": "bob", "idletime": uint32(5)}); !reflect.DeepEqual(got, want) {
		t.Errorf("KeyFilter = %#v, want %#v", got, want)
	}
}

func TestMatchEvent(t *testing.T) {
	insts := sessions(t)
	alice, bob, win := insts[0], insts[1], insts[3]
	created := func(in *cim.Instance) *Event {
		return &Event{Class: InstanceCreationEvent, TargetInstance: in, TimeCreated: TimeCreated(time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC))}
	}
	deleted := func(in *cim.Instance) *Event { return &Event{Class: InstanceDeletionEvent, TargetInstance: in} }
	modified := func(prev, now *cim.Instance) *Event {
		return &Event{Class: InstanceModificationEvent, TargetInstance: now, PreviousInstance: prev}
	}
	aliceLost := alice.Clone().Set("Status", "Lost Comm")
	tests := []struct {
		query string
		ev    *Event
		want  bool
	}{
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", created(alice), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", created(win), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Linux_LogonSession'", created(win), false},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", deleted(alice), false},
		{"SELECT * FROM __InstanceDeletionEvent WITHIN 2 WHERE TargetInstance ISA 'Win32_LogonSession'", deleted(alice), true},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", deleted(alice), true},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", modified(alice, aliceLost), true},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", &Event{Class: "__Other", TargetInstance: alice}, false},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND __CLASS = '__InstanceDeletionEvent'", deleted(alice), true},
		{"SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND __CLASS = '__InstanceDeletionEvent'", created(alice), false},
		{"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = 'ALICE'", created(alice), true},
		{"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = 'ALICE'", created(bob), false},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance.LogonType = 10 AND TargetInstance ISA 'Win32_LogonSession'", created(bob), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND (TargetInstance.LogonType = 10 OR TargetInstance.__CLASS = 'Win32_LogonSession')", created(win), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.StartTime < '20260115100000.000000+000'", created(alice), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TIME_CREATED = 134129412000000000", created(alice), true},
		{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TIME_CREATED > 134129412000000000", created(alice), false},
		{"SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status <> PreviousInstance.Status", nil, false},
		{"SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status = 'Lost Comm' AND PreviousInstance.Status = 'OK'", modified(alice, aliceLost), true},
		{"SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status = 'Lost Comm' AND PreviousInstance.Status = 'OK'", modified(aliceLost, alice), false},
		{"SELECT * FROM __InstanceModificationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND PreviousInstance IS NOT NULL AND PreviousInstance ISA 'Linux_LogonSession'", modified(alice, aliceLost), true},
		{"SELECT TargetInstance FROM __InstanceDeletionEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.__RELPATH LIKE '%\"43\"'", deleted(bob), true},
		{"SELECT * FROM __InstanceDeletionEvent WHERE TargetInstance ISA 'Win32_LogonSession'", &Event{Class: InstanceDeletionEvent}, false},
	}
	for _, tt := range tests {
		q, err := Compile(tt.query, newFakeSchema())
		if tt.ev == nil {
			if err == nil || cim.CodeOf(err) != cim.ErrInvalidQuery {
				t.Errorf("%s: want CIM_ERR_INVALID_QUERY, got %v", tt.query, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if !q.IsEvent() {
			t.Errorf("%s: IsEvent false", tt.query)
		}
		if got := q.MatchEvent(tt.ev); got != tt.want {
			t.Errorf("%s on %s of %s: got %v", tt.query, tt.ev.Class, tt.ev.TargetInstance.String("LogonId"), got)
		}
	}
	if got := TimeCreated(time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC)); got != 1 {
		t.Errorf("TimeCreated(1601-01-01T00:00:00.0000001) = %d", got)
	}
	if got := TimeCreated(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)); got != 0 {
		t.Errorf("TimeCreated(1600) = %d", got)
	}
}

func TestEventAccessors(t *testing.T) {
	q, err := Compile("SELECT * FROM __instancemodificationevent WITHIN 2.5 WHERE TargetInstance ISA 'linux_logonsession'", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	if q.EventClass() != InstanceModificationEvent || q.Class() != "Linux_LogonSession" || q.Within() != 2.5 {
		t.Errorf("EventClass %q Class %q Within %v", q.EventClass(), q.Class(), q.Within())
	}
	ev := q.Statement().(*EventQuery)
	if ev.TargetClass() != "linux_logonsession" {
		t.Errorf("TargetClass = %q", ev.TargetClass())
	}
}

func TestLikeCompile(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "ABC", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"%", "", true},
		{"_", "", false},
		{"%a%b%c%", "xxaxxbxxcxx", true},
		{"%a%b%c%", "xxaxxcxxbxx", false},
		{"a%", "a", true},
		{"[a-c]x", "Bx", true},
		{"[^a-c]x", "Bx", false},
		{"[^a-c]x", "dx", true},
		{"[-a]", "-", true},
		{"[a-]", "-", true},
		{"[ab]%", "b1", true},
		{"é%", "École", true},
		{"e%", "École", false},
		{"é%", "Été", true},
		{"日本_", "日本語", true},
		{"%%%x", "aaax", true},
		{"]", "]", true},
	}
	for _, tt := range tests {
		p, msg := compileLike(tt.pattern)
		if msg != "" {
			t.Fatalf("%q: %s", tt.pattern, msg)
		}
		if got := p.match(tt.s); got != tt.want {
			t.Errorf("%q LIKE %q = %v", tt.s, tt.pattern, got)
		}
	}
	for _, bad := range []string{"[", "[a-", "[]", "[^]", "[z-a]"} {
		if _, msg := compileLike(bad); msg == "" {
			t.Errorf("%q compiled", bad)
		}
	}
}

// A Query is shared by goroutines: its caches must not race.
func TestConcurrentMatch(t *testing.T) {
	insts := sessions(t)
	q, err := Compile("SELECT * FROM CIM_ManagedSystemElement WHERE __THIS ISA 'Win32_Session' AND __SUPERCLASS IS NOT NULL AND __PROPERTY_COUNT > 1", newFakeSchema())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			n := 0
			for i := 0; i < 200; i++ {
				for _, in := range insts {
					if q.Match(in) {
						n++
					}
				}
			}
			done <- n
		}()
	}
	for g := 0; g < 4; g++ {
		if n := <-done; n != 200*len(insts) {
			t.Errorf("goroutine matched %d, want %d", n, 200*len(insts))
		}
	}
}

// Statements built by hand may be incomplete: Prepare reports, never panics.
func TestPrepareHandBuilt(t *testing.T) {
	s := newFakeSchema()
	ref := PropRef{Name: "Name"}
	bad := []Statement{
		(*Select)(nil),
		&Select{Star: true, Class: "Win32_LogonSession", Where: &Binary{Op: And, Left: &IsNull{Prop: ref}}},
		&Select{Star: true, Class: "Win32_LogonSession", Where: &Binary{Left: &IsNull{Prop: ref}, Right: &IsNull{Prop: ref}}},
		&Select{Star: true, Class: "Win32_LogonSession", Where: &Not{}},
		&Select{Star: true, Class: "Win32_LogonSession", Where: (*Comparison)(nil)},
		&Select{Star: true, Class: "Win32_LogonSession", Where: &Comparison{Prop: ref, Value: Literal{Value: "x"}}},
		&EventQuery{Star: true, Class: InstanceCreationEvent},
	}
	for i, st := range bad {
		if _, err := Prepare(st, s); err == nil {
			t.Errorf("%d: Prepare accepted %#v", i, st)
		} else if _, ok := err.(*cim.Error); !ok {
			t.Errorf("%d: %T", i, err)
		}
	}
	good := &Select{Properties: []PropRef{{Name: "name"}}, Class: "win32_logonsession",
		Where: &Comparison{Prop: PropRef{Name: "LogonType"}, Op: LT, Value: Literal{Value: int64(5)}, ConstFirst: true}}
	q, err := Prepare(good, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := good.String(); got != "SELECT name FROM win32_logonsession WHERE 5 < LogonType" {
		t.Errorf("String() = %q", got)
	}
	if q.Class() != "Win32_LogonSession" || !q.Match(sessions(t)[1]) || q.Match(sessions(t)[0]) {
		t.Error("hand-built query does not evaluate as parsed")
	}
}
