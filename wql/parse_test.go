package wql

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// sameStmt reports whether two statements are equal apart from positions
// and source text; object paths compare with ObjectPath.Equal.
func sameStmt(a, b Statement) bool {
	switch x := a.(type) {
	case *Select:
		y, ok := b.(*Select)
		return ok && x.Star == y.Star && sameRefs(x.Properties, y.Properties) && x.Class == y.Class && sameExpr(x.Where, y.Where)
	case *EventQuery:
		y, ok := b.(*EventQuery)
		return ok && x.Star == y.Star && sameRefs(x.Properties, y.Properties) && x.Class == y.Class &&
			x.Within == y.Within && sameExpr(x.Where, y.Where)
	case *Associators:
		y, ok := b.(*Associators)
		if !ok || !x.Path.Equal(y.Path) || x.Path.String() != y.Path.String() {
			return false
		}
		xc, yc := *x, *y
		xc.Path, yc.Path, xc.PathPos, yc.PathPos, xc.text, yc.text = cim.ObjectPath{}, cim.ObjectPath{}, 0, 0, "", ""
		return reflect.DeepEqual(xc, yc)
	case *References:
		y, ok := b.(*References)
		if !ok || !x.Path.Equal(y.Path) || x.Path.String() != y.Path.String() {
			return false
		}
		xc, yc := *x, *y
		xc.Path, yc.Path, xc.PathPos, yc.PathPos, xc.text, yc.text = cim.ObjectPath{}, cim.ObjectPath{}, 0, 0, "", ""
		return reflect.DeepEqual(xc, yc)
	}
	return false
}

func sameRefs(a, b []PropRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Object != b[i].Object || a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

func sameRef(a, b PropRef) bool { return sameRefs([]PropRef{a}, []PropRef{b}) }

func sameExpr(a, b Expr) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *Binary:
		y, ok := b.(*Binary)
		return ok && x.Op == y.Op && sameExpr(x.Left, y.Left) && sameExpr(x.Right, y.Right)
	case *Not:
		y, ok := b.(*Not)
		return ok && sameExpr(x.X, y.X)
	case *Comparison:
		y, ok := b.(*Comparison)
		return ok && sameRef(x.Prop, y.Prop) && x.Op == y.Op && x.ConstFirst == y.ConstFirst &&
			reflect.DeepEqual(x.Value.Value, y.Value.Value)
	case *Like:
		y, ok := b.(*Like)
		return ok && sameRef(x.Prop, y.Prop) && x.Pattern == y.Pattern
	case *IsNull:
		y, ok := b.(*IsNull)
		return ok && sameRef(x.Prop, y.Prop) && x.Not == y.Not
	case *Isa:
		y, ok := b.(*Isa)
		return ok && sameRef(x.Prop, y.Prop) && x.Class == y.Class
	}
	return false
}

// roundTrips are valid statements and their canonical form.
var roundTrips = []struct{ in, out string }{
	{"SELECT * FROM Win32_Session", "SELECT * FROM Win32_Session"},
	{"select name,caption from win32_session", "SELECT name, caption FROM win32_session"},
	{"SELECT * FROM Win32_LogonSession WHERE LogonId = '42'", "SELECT * FROM Win32_LogonSession WHERE LogonId = '42'"},
	{`SELECT * FROM A WHERE Name = "it's \"q\" \\ x"`, `SELECT * FROM A WHERE Name = 'it\'s "q" \\ x'`},
	{"SELECT * FROM A WHERE a = 1 AND b = 2 AND c = 3", "SELECT * FROM A WHERE a = 1 AND b = 2 AND c = 3"},
	{"SELECT * FROM A WHERE a = 1 AND (b = 2 AND c = 3)", "SELECT * FROM A WHERE a = 1 AND (b = 2 AND c = 3)"},
	{"SELECT * FROM A WHERE (a = 1 OR b = 2) AND c = 3", "SELECT * FROM A WHERE (a = 1 OR b = 2) AND c = 3"},
	{"SELECT * FROM A WHERE a = 1 OR b = 2 AND c = 3", "SELECT * FROM A WHERE a = 1 OR b = 2 AND c = 3"},
	{"SELECT * FROM A WHERE (a = 1 OR b = 2) OR c = 3", "SELECT * FROM A WHERE a = 1 OR b = 2 OR c = 3"},
	{"SELECT * FROM A WHERE NOT a = 1", "SELECT * FROM A WHERE NOT (a = 1)"},
	{"SELECT * FROM A WHERE NOT NOT (a = 1 OR b=2)", "SELECT * FROM A WHERE NOT NOT (a = 1 OR b = 2)"},
	{"SELECT * FROM A WHERE a != 1 AND b <> 2 AND c<3 AND d>4 AND e<=5 AND f>=6", "SELECT * FROM A WHERE a <> 1 AND b <> 2 AND c < 3 AND d > 4 AND e <= 5 AND f >= 6"},
	{"SELECT * FROM A WHERE 5 < a", "SELECT * FROM A WHERE 5 < a"},
	{"SELECT * FROM A WHERE a = -5 AND b = - 0x10 AND c = 1.5 AND d = -2.5e-3 AND e = .5 AND f = 1E3", "SELECT * FROM A WHERE a = -5 AND b = -16 AND c = 1.5 AND d = -0.0025 AND e = 0.5 AND f = 1000.0"},
	{"SELECT * FROM A WHERE a = 18446744073709551615 AND b = -9223372036854775808 AND c = 0xFFFFFFFFFFFFFFFF", "SELECT * FROM A WHERE a = 18446744073709551615 AND b = -9223372036854775808 AND c = 18446744073709551615"},
	{"SELECT * FROM A WHERE a = 1e300", "SELECT * FROM A WHERE a = 1e+300"},
	{"SELECT * FROM A WHERE a = true AND b = FALSE AND c = null", "SELECT * FROM A WHERE a = TRUE AND b = FALSE AND c = NULL"},
	{"SELECT * FROM A WHERE a is null and b IS NOT NULL", "SELECT * FROM A WHERE a IS NULL AND b IS NOT NULL"},
	{"SELECT * FROM A WHERE a LIKE '[a-f]%_' AND b NOT LIKE 'x'", "SELECT * FROM A WHERE a LIKE '[a-f]%_' AND NOT (b LIKE 'x')"},
	{"SELECT * FROM A WHERE __THIS ISA \"B\"", "SELECT * FROM A WHERE __THIS ISA 'B'"},
	{"SELECT * FROM A WHERE __CLASS ISA B", "SELECT * FROM A WHERE __CLASS ISA 'B'"},
	{"SELECT * FROM A WHERE s = 'two\nlines'", "SELECT * FROM A WHERE s = 'two\nlines'"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_LogonSession'",
		"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_LogonSession'"},
	{"select * from __instancemodificationevent within 0.5 where targetinstance isa 'X' and targetinstance.a <> 1 and previousinstance.a = 2",
		"SELECT * FROM __InstanceModificationEvent WITHIN 0.5 WHERE targetinstance ISA 'X' AND targetinstance.a <> 1 AND previousinstance.a = 2"},
	{"SELECT TargetInstance, TIME_CREATED FROM __InstanceDeletionEvent WHERE TargetInstance ISA 'X'",
		"SELECT TargetInstance, TIME_CREATED FROM __InstanceDeletionEvent WHERE TargetInstance ISA 'X'"},
	{"SELECT * FROM __InstanceOperationEvent WHERE (TargetInstance ISA 'X')", "SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'X'"},
	{`ASSOCIATORS OF {Win32_LogonSession.LogonId="42"}`, `ASSOCIATORS OF {Win32_LogonSession.LogonId="42"}`},
	{`associators of {\\HOST\root\cimv2:Win32_LogonSession.LogonId='4}2'} where resultclass=Win32_UserAccount keysonly AssocClass = Win32_LoggedOnUser role=Dependent ResultRole=Antecedent RequiredQualifier=Q RequiredAssocQualifier=R`,
		`ASSOCIATORS OF {\\HOST\root\cimv2:Win32_LogonSession.LogonId="4}2"} WHERE AssocClass = Win32_LoggedOnUser KeysOnly RequiredAssocQualifier = R RequiredQualifier = Q ResultClass = Win32_UserAccount ResultRole = Antecedent Role = Dependent`},
	{`ASSOCIATORS OF {Win32_LogonSession} WHERE SchemaOnly`, `ASSOCIATORS OF {Win32_LogonSession} WHERE SchemaOnly`},
	{`ASSOCIATORS OF {A.k=1,j=TRUE} WHERE ClassDefsOnly`, `ASSOCIATORS OF {A.k=1,j=TRUE} WHERE ClassDefsOnly`},
	{`REFERENCES OF {root/cimv2:Win32_LogonSession.LogonId="42"} WHERE ResultClass = Win32_LoggedOnUser Role = Dependent ClassDefsOnly RequiredQualifier = Association`,
		`REFERENCES OF {root/cimv2:Win32_LogonSession.LogonId="42"} WHERE ClassDefsOnly RequiredQualifier = Association ResultClass = Win32_LoggedOnUser Role = Dependent`},
	{`REFERENCES OF {A=@}`, `REFERENCES OF {A=@}`},
}

func TestParseRoundTrip(t *testing.T) {
	for _, tt := range roundTrips {
		st, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		got := st.String()
		if got != tt.out {
			t.Errorf("Parse(%q).String()\n got %s\nwant %s", tt.in, got, tt.out)
		}
		again, err := Parse(got)
		if err != nil {
			t.Errorf("Parse(%q): %v", got, err)
			continue
		}
		if !sameStmt(st, again) {
			t.Errorf("%q and its printed form %q parse differently", tt.in, got)
		}
	}
}

func TestParseShapes(t *testing.T) {
	st, err := Parse("SELECT * FROM A WHERE a = 1 OR b = 2 AND NOT c = 3")
	if err != nil {
		t.Fatal(err)
	}
	or, ok := st.(*Select).Where.(*Binary)
	if !ok || or.Op != Or {
		t.Fatalf("top is %T", st.(*Select).Where)
	}
	and, ok := or.Right.(*Binary)
	if !ok || and.Op != And {
		t.Fatalf("right of OR is %T", or.Right)
	}
	if _, ok := and.Right.(*Not); !ok {
		t.Fatalf("right of AND is %T", and.Right)
	}
	st, err = Parse("SELECT * FROM A WHERE 5 > a")
	if err != nil {
		t.Fatal(err)
	}
	c := st.(*Select).Where.(*Comparison)
	if !c.ConstFirst || c.Op != GT || c.Value.Value != int64(5) || c.Prop.Name != "a" {
		t.Errorf("5 > a parsed as %+v", c)
	}
}

func TestParseEvent(t *testing.T) {
	st, err := Parse("SELECT * FROM __InstanceDeletionEvent WITHIN 10 WHERE TargetInstance.LogonType = 2 AND TargetInstance ISA 'Win32_LogonSession'")
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := st.(*EventQuery)
	if !ok {
		t.Fatalf("got %T", st)
	}
	if ev.Class != InstanceDeletionEvent || ev.Within != 10 || ev.TargetClass() != "Win32_LogonSession" {
		t.Errorf("got %+v, target %q", ev, ev.TargetClass())
	}
	cmp := ev.Where.(*Binary).Left.(*Comparison)
	if cmp.Prop.Object != "TargetInstance" || cmp.Prop.Name != "LogonType" {
		t.Errorf("embedded property parsed as %+v", cmp.Prop)
	}
}

func TestParseAssociators(t *testing.T) {
	st, err := Parse(`ASSOCIATORS OF {\\H\root\cimv2:Win32_LogonSession.LogonId="42"} WHERE AssocClass = Win32_LoggedOnUser ResultClass = Win32_Account ResultRole = Antecedent Role = Dependent ClassDefsOnly RequiredQualifier = Q RequiredAssocQualifier = R`)
	if err != nil {
		t.Fatal(err)
	}
	a := st.(*Associators)
	want := Associators{
		Path:       cim.ObjectPath{Host: "H", Namespace: "root/cimv2", ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "42"}}},
		AssocClass: "Win32_LoggedOnUser", ResultClass: "Win32_Account", ResultRole: "Antecedent", Role: "Dependent",
		ClassDefsOnly: true, RequiredQualifier: "Q", RequiredAssocQualifier: "R",
	}
	got := *a
	got.PathPos, got.text = 0, ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	st, err = Parse(`REFERENCES OF {Win32_LogonSession.LogonId="42"} WHERE KeysOnly Role = Dependent`)
	if err != nil {
		t.Fatal(err)
	}
	r := st.(*References)
	if !r.KeysOnly || r.Role != "Dependent" || r.Path.ClassName != "Win32_LogonSession" || r.ResultClass != "" {
		t.Errorf("got %+v", r)
	}
}

// errCase is a query that must fail, where and how.
type errCase struct {
	query     string
	code      cim.Status
	line, col int
	msg       string // substring of the message
}

var syntaxErrors = []errCase{
	{"", cim.ErrInvalidQuery, 1, 1, "expected SELECT, ASSOCIATORS OF or REFERENCES OF, found the end of the query"},
	{"SELEC * FROM X", cim.ErrInvalidQuery, 1, 1, "expected SELECT, ASSOCIATORS OF or REFERENCES OF, found 'SELEC'"},
	{"SELECT FROM Win32_Session", cim.ErrInvalidQuery, 1, 8, "expected a property name or '*', found FROM"},
	{"SELECT a, FROM X", cim.ErrInvalidQuery, 1, 11, "expected a property name or '*', found FROM"},
	{"SELECT * Win32_Session", cim.ErrInvalidQuery, 1, 10, "expected FROM, found 'Win32_Session'"},
	{"SELECT * FROM", cim.ErrInvalidQuery, 1, 14, "expected a class name, found the end of the query"},
	{"SELECT * FROM WHERE", cim.ErrInvalidQuery, 1, 15, "expected a class name, found WHERE"},
	{"SELECT * FROM Win32_Session WHERE", cim.ErrInvalidQuery, 1, 34, "expected a property name, found the end of the query"},
	{"SELECT Name FROM Win32_Session WHERE )", cim.ErrInvalidQuery, 1, 38, "expected a property name, found ')'"},
	{"SELECT * FROM Win32_Session WHERE Name = ", cim.ErrInvalidQuery, 1, 42, "expected a constant, found the end of the query"},
	{"SELECT * FROM Win32_Session WHERE Name = 'abc", cim.ErrInvalidQuery, 1, 42, "unterminated string"},
	{`SELECT * FROM Win32_Session WHERE Name = 'a\q'`, cim.ErrInvalidQuery, 1, 44, `unknown escape \q`},
	{"SELECT * FROM Win32_Session WHERE (Name = 'a'", cim.ErrInvalidQuery, 1, 46, "expected AND, OR or ')', found the end of the query"},
	{"SELECT * FROM Win32_Session WHERE Name = 'a')", cim.ErrInvalidQuery, 1, 45, "expected AND, OR or the end of the query, found ')'"},
	{"SELECT * FROM Win32_Session WHERE Name == 'a'", cim.ErrInvalidQuery, 1, 41, "expected a constant, found '='"},
	{"SELECT * FROM Win32_Session WHERE Name ! 'a'", cim.ErrInvalidQuery, 1, 40, "'!' must be followed by '='"},
	{"SELECT * FROM Win32_Session WHERE 'a' = 'b'", cim.ErrInvalidQuery, 1, 41, "one side of a comparison must be a property"},
	{"SELECT * FROM Win32_Session WHERE Name = Caption", cim.ErrInvalidQuery, 1, 42, "not with another property"},
	{"SELECT * FROM Win32_Session WHERE Name IS 'x'", cim.ErrInvalidQuery, 1, 43, "expected NULL after IS"},
	{"SELECT * FROM Win32_Session WHERE Name IS NOT", cim.ErrInvalidQuery, 1, 46, "expected NULL after IS"},
	{"SELECT * FROM Win32_Session WHERE Name LIKE 5", cim.ErrInvalidQuery, 1, 45, "expected a pattern in quotes after LIKE"},
	{"SELECT * FROM Win32_Session WHERE Name LIKE '[a-'", cim.ErrInvalidQuery, 1, 45, "'[' without a closing ']'"},
	{"SELECT * FROM Win32_Session WHERE Name LIKE 'x[]'", cim.ErrInvalidQuery, 1, 45, "empty character set"},
	{"SELECT * FROM Win32_Session WHERE Name NOT = 'x'", cim.ErrInvalidQuery, 1, 44, "expected LIKE after NOT"},
	{"SELECT * FROM Win32_Session WHERE Name", cim.ErrInvalidQuery, 1, 39, "expected an operator"},
	{"SELECT * FROM Win32_Session WHERE LogonType = 0x", cim.ErrInvalidQuery, 1, 47, "no digits after 0x"},
	{"SELECT * FROM Win32_Session WHERE LogonType = 12abc", cim.ErrInvalidQuery, 1, 47, "malformed number"},
	{"SELECT * FROM Win32_Session WHERE LogonType = 1.", cim.ErrInvalidQuery, 1, 47, "no digits after '.'"},
	{"SELECT * FROM Win32_Session WHERE LogonType = 99999999999999999999999", cim.ErrInvalidQuery, 1, 47, "out of range"},
	{"SELECT * FROM Win32_Session WHERE LogonType = -9223372036854775809", cim.ErrInvalidQuery, 1, 47, "out of range"},
	{"SELECT * FROM Win32_Session WHERE LogonType = 1e999", cim.ErrInvalidQuery, 1, 47, "out of range"},
	{"SELECT * FROM Win32_Session WHERE LogonType = -'x'", cim.ErrInvalidQuery, 1, 48, "expected a number after '-'"},
	{"SELECT * FROM Win32_Session WHERE Name = 'a' AND", cim.ErrInvalidQuery, 1, 49, "expected a property name, found the end"},
	{"SELECT * FROM Win32_Session WHERE Name = 'a' #", cim.ErrInvalidQuery, 1, 46, "unexpected character '#'"},
	{"SELECT * FROM Win32_Session WHERE Name = 'a' AND SELECT = 1", cim.ErrInvalidQuery, 1, 50, "expected a property name, found SELECT"},
	{"SELECT * FROM Win32_Session WHERE a.b.c = 1", cim.ErrInvalidQuery, 1, 38, "only one level of embedded object"},
	{"SELECT * FROM Win32_Session WHERE a. = 1", cim.ErrInvalidQuery, 1, 38, "expected a property name after '.'"},
	{"SELECT * FROM Win32_Session WHERE a ISA 5", cim.ErrInvalidQuery, 1, 41, "expected a class name in quotes after ISA"},
	{"SELECT * FROM Win32_Session WHERE a ISA 'no such'", cim.ErrInvalidQuery, 1, 41, "is not a class name"},
	{"SELECT * FROM Win32_Session WITHIN 5", cim.ErrInvalidQuery, 1, 29, "WITHIN belongs to event queries"},
	{"SELECT * FROM Win32_Session extra", cim.ErrInvalidQuery, 1, 29, "expected WHERE or the end of the query, found 'extra'"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN 5", cim.ErrInvalidQuery, 1, 47, "needs WHERE TargetInstance ISA"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'A' OR TargetInstance ISA 'B'", cim.ErrInvalidQuery, 1, 93, "needs WHERE TargetInstance ISA"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN -1 WHERE TargetInstance ISA 'A'", cim.ErrInvalidQuery, 1, 46, "expected the polling interval in seconds after WITHIN, found '-'"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN 0 WHERE TargetInstance ISA 'A'", cim.ErrInvalidQuery, 1, 46, "WITHIN needs a positive number"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'A' WITHIN 5", cim.ErrInvalidQuery, 1, 68, "WITHIN goes before WHERE"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'A' GROUP WITHIN 10", cim.ErrNotSupported, 1, 77, "GROUP WITHIN is not supported"},
	{"SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'A' HAVING NumberOfEvents > 1", cim.ErrNotSupported, 1, 77, "HAVING is not supported"},
	{"SELECT * FROM __ClassCreationEvent WHERE TargetClass ISA 'A'", cim.ErrNotSupported, 1, 15, "event class __ClassCreationEvent is not supported"},
	{"SELECT *\nFROM Win32_Session\nWHERE Name = 'x' AND AND", cim.ErrInvalidQuery, 3, 22, "expected a property name, found AND"},
	{"SELECT *\r\nFROM Win32_Session\r\nWHERE\tName = 'x' OR )", cim.ErrInvalidQuery, 3, 21, "found ')'"},
	{"SELECT * FROM A WHERE Name = 'ü' AND )", cim.ErrInvalidQuery, 1, 38, "found ')'"},
	{"SELECT * FROM A WHERE \xff", cim.ErrInvalidQuery, 1, 23, "invalid UTF-8"},
	{"SELECT * FROM A WHERE " + strings.Repeat("(", 300) + "a = 1" + strings.Repeat(")", 300), cim.ErrInvalidQuery, 1, 223, "nests deeper than 200"},
	{"ASSOCIATORS {X.a=1}", cim.ErrInvalidQuery, 1, 13, "expected OF, found {X.a=1}"},
	{"ASSOCIATORS OF X.a=1", cim.ErrInvalidQuery, 1, 16, "expected an object path in braces"},
	{`ASSOCIATORS OF {Win32_LogonSession.LogonId="1"`, cim.ErrInvalidQuery, 1, 16, "unterminated object path"},
	{`ASSOCIATORS OF {Win32_LogonSession.LogonId}`, cim.ErrInvalidQuery, 1, 43, "invalid object path: expected '=' after key LogonId"},
	{`ASSOCIATORS OF {}`, cim.ErrInvalidQuery, 1, 17, "invalid object path: empty path"},
	{`ASSOCIATORS OF {X.k=NaN}`, cim.ErrInvalidQuery, 1, 21, "invalid object path: key value"},
	{`ASSOCIATORS OF {X.k=1} WHERE ResultClass = A AND Role = B`, cim.ErrInvalidQuery, 1, 46, "does not take AND or OR"},
	{`ASSOCIATORS OF {X.k=1} WHERE ResultClass = A ResultClass = B`, cim.ErrInvalidQuery, 1, 46, "ResultClass is given twice"},
	{`REFERENCES OF {X.k=1} WHERE AssocClass = A`, cim.ErrInvalidQuery, 1, 29, "'AssocClass' is not a keyword of REFERENCES OF"},
	{`REFERENCES OF {X.k=1} WHERE ResultRole = A`, cim.ErrInvalidQuery, 1, 29, "is not a keyword of REFERENCES OF"},
	{`ASSOCIATORS OF {X.k=1} WHERE Colour = Red`, cim.ErrInvalidQuery, 1, 30, "'Colour' is not a keyword of ASSOCIATORS OF"},
	{`ASSOCIATORS OF {X.k=1} WHERE ClassDefsOnly = 1`, cim.ErrInvalidQuery, 1, 44, "ClassDefsOnly takes no value"},
	{`ASSOCIATORS OF {X.k=1} WHERE Role`, cim.ErrInvalidQuery, 1, 34, "expected '=' after Role"},
	{`ASSOCIATORS OF {X.k=1} WHERE Role = 'x'`, cim.ErrInvalidQuery, 1, 37, "expected a name after Role ="},
	{`ASSOCIATORS OF {X.k=1} WHERE`, cim.ErrInvalidQuery, 1, 29, "expected a keyword after WHERE"},
	{`ASSOCIATORS OF {X.k=1} ResultClass = A`, cim.ErrInvalidQuery, 1, 24, "expected WHERE or the end of the query"},
	{`ASSOCIATORS OF {X} WHERE ClassDefsOnly SchemaOnly`, cim.ErrInvalidQuery, 1, 40, "cannot be used together"},
	{`ASSOCIATORS OF {X.k=1} WHERE KeysOnly ClassDefsOnly`, cim.ErrInvalidQuery, 1, 30, "KeysOnly returns instances' keys"},
	{`ASSOCIATORS OF {X.k=1} WHERE SchemaOnly`, cim.ErrInvalidQuery, 1, 30, "SchemaOnly needs a class path"},
	{`REFERENCES OF {X.k=1} WHERE ClassDefsOnly ClassDefsOnly`, cim.ErrInvalidQuery, 1, 43, "ClassDefsOnly is given twice"},
}

// semanticErrors pass Parse and fail Prepare.
var semanticErrors = []errCase{
	{"SELECT * FROM NoSuch", cim.ErrInvalidClass, 1, 15, "unknown class NoSuch"},
	{"SELECT Foo FROM Win32_LogonSession", cim.ErrInvalidQuery, 1, 8, "no property Foo in class Win32_LogonSession"},
	{"SELECT * FROM Win32_LogonSession WHERE UserName = 'x'", cim.ErrInvalidQuery, 1, 40, "no property UserName in class Win32_LogonSession"},
	{"SELECT * FROM Win32_LogonSession WHERE LogonType = 'abc'", cim.ErrInvalidQuery, 1, 52, "type mismatch: LogonType is of type uint32, 'abc' is not a number"},
	{"SELECT * FROM Win32_LogonSession WHERE Name = 5.5", cim.ErrInvalidQuery, 1, 47, "type mismatch: Name is of type string, not compared with a real number"},
	{"SELECT * FROM Win32_LogonSession WHERE 5.5 = Name", cim.ErrInvalidQuery, 1, 40, "not compared with a real number"},
	{"SELECT * FROM Win32_LogonSession WHERE LogonType = TRUE", cim.ErrInvalidQuery, 1, 52, "not compared with a boolean"},
	{"SELECT * FROM Linux_LogonSession WHERE Remote < TRUE", cim.ErrInvalidQuery, 1, 40, "boolean Remote compares with = and <> only"},
	{"SELECT * FROM Linux_LogonSession WHERE Remote = 2", cim.ErrInvalidQuery, 1, 49, "compared with TRUE, FALSE, 1 or 0"},
	{"SELECT * FROM Linux_LogonSession WHERE StartTime > '2026'", cim.ErrInvalidQuery, 1, 52, "StartTime is a datetime, and '2026' is not one"},
	{"SELECT * FROM Linux_LogonSession WHERE StartTime > 2026", cim.ErrInvalidQuery, 1, 52, "compared with a CIM datetime in quotes"},
	{"SELECT * FROM Linux_LogonSession WHERE IdleTime > '20260101000000.000000+000'", cim.ErrInvalidQuery, 1, 51, "is a point in time, not an interval"},
	{"SELECT * FROM Linux_LogonSession WHERE StartTime > '00000000000500.000000:000'", cim.ErrInvalidQuery, 1, 52, "is an interval, not a point in time"},
	{"SELECT * FROM Linux_LogonSession WHERE LogonType LIKE '2%'", cim.ErrInvalidQuery, 1, 40, "LIKE applies to strings, and LogonType is of type uint32"},
	{"SELECT * FROM Linux_LogonSession WHERE Groups = 'x'", cim.ErrInvalidQuery, 1, 40, "Groups is an array"},
	{"SELECT * FROM Linux_LogonSession WHERE __DERIVATION = 'x'", cim.ErrInvalidQuery, 1, 40, "__DERIVATION is an array"},
	{"SELECT * FROM Linux_LogonSession WHERE __THIS = 'x'", cim.ErrInvalidQuery, 1, 40, "__THIS is an object"},
	{"SELECT Name, __THIS FROM Linux_LogonSession", cim.ErrInvalidQuery, 1, 14, "__THIS is the object itself, not a property"},
	{"SELECT * FROM Linux_LogonSession WHERE Name ISA 'Win32_Session'", cim.ErrInvalidQuery, 1, 40, "ISA applies to TargetInstance, PreviousInstance, __THIS or __CLASS"},
	{"SELECT * FROM Linux_LogonSession WHERE __THIS ISA 'NoSuch'", cim.ErrInvalidClass, 1, 40, "unknown class NoSuch"},
	{"SELECT * FROM Linux_LogonSession WHERE X.Name = 1", cim.ErrInvalidQuery, 1, 40, "embedded objects (Object.Property) belong to event queries"},
	{"SELECT * FROM Linux_LogonSession WHERE __GENUS = 'two'", cim.ErrInvalidQuery, 1, 50, "__GENUS is of type sint32"},
	{"SELECT * FROM Win32_LogonSession\n  WHERE Status = 'OK' AND\n        Colour = 'red'", cim.ErrInvalidQuery, 3, 9, "no property Colour"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'NoSuch'", cim.ErrInvalidClass, 1, 45, "unknown class NoSuch"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.UserName = 'x'", cim.ErrInvalidQuery, 1, 89, "no property UserName in class Win32_LogonSession"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND PreviousInstance.Name = 'x'", cim.ErrInvalidQuery, 1, 89, "PreviousInstance exists only in __InstanceModificationEvent"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND Name = 'x'", cim.ErrInvalidQuery, 1, 89, "no property Name in __InstanceCreationEvent"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND Foo.Name = 'x'", cim.ErrInvalidQuery, 1, 89, "unknown embedded object Foo"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance = 'x'", cim.ErrInvalidQuery, 1, 89, "TargetInstance is an object"},
	{"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession' AND TIME_CREATED = 'soon'", cim.ErrInvalidQuery, 1, 104, "TIME_CREATED is of type uint64"},
	{"SELECT Foo FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'", cim.ErrInvalidQuery, 1, 8, "no property Foo"},
	{`ASSOCIATORS OF {NoSuch.k=1}`, cim.ErrInvalidClass, 1, 17, "unknown class NoSuch"},
	{`ASSOCIATORS OF {Win32_LogonSession.LogonId="1"} WHERE AssocClass = NoSuch`, cim.ErrInvalidClass, 1, 68, "AssocClass: unknown class NoSuch"},
	{`REFERENCES OF {Win32_LogonSession.LogonId="1"} WHERE Role = x ResultClass = NoSuch`, cim.ErrInvalidClass, 1, 77, "ResultClass: unknown class NoSuch"},
}

func checkErr(t *testing.T, tt errCase, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%q: no error", tt.query)
		return
	}
	var ce *cim.Error
	if !errors.As(err, &ce) {
		t.Errorf("%q: %T is not a *cim.Error", tt.query, err)
		return
	}
	line, col, ok := Position(err)
	if ce.Code != tt.code || !ok || line != tt.line || col != tt.col || !strings.Contains(Message(err), tt.msg) {
		t.Errorf("%q:\n got %v at %d:%d (%v): %s\nwant %v at %d:%d: …%s…", tt.query, ce.Code, line, col, ok, Message(err), tt.code, tt.line, tt.col, tt.msg)
	}
	// The position is data, and the caret drawn from it sits under the column.
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("%q: no SyntaxError in %v", tt.query, err)
		return
	}
	lines := strings.Split(se.Caret(), "\n")
	if strings.Contains(ce.Description, "\n") || len(lines) != 2 || !strings.HasSuffix(lines[1], "^") || len([]rune(lines[1])) != tt.col {
		t.Errorf("%q: description %q, caret at column %d:\n%s", tt.query, ce.Description, tt.col, se.Caret())
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tt := range syntaxErrors {
		_, err := Parse(tt.query)
		checkErr(t, tt, err)
	}
}

func TestSemanticErrors(t *testing.T) {
	s := newFakeSchema()
	for _, tt := range semanticErrors {
		st, err := Parse(tt.query)
		if err != nil {
			t.Errorf("%q: Parse: %v", tt.query, err)
			continue
		}
		_, err = Prepare(st, s)
		checkErr(t, tt, err)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("SELECT Name FROM Win32_Session WHERE )")
	want := "CIM_ERR_INVALID_QUERY: line 1, column 38: expected a property name, found ')'"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.Caret() != "SELECT Name FROM Win32_Session WHERE )\n"+
		"                                     ^" {
		t.Errorf("caret: %v", err)
	}
	// Tabs are kept so that the caret lines up.
	_, err = Parse("SELECT *\tFROM\tA\tWHERE\t)")
	if !errors.As(err, &se) || !strings.HasSuffix(se.Caret(), "\n        \t    \t \t     \t^") {
		t.Errorf("caret line with tabs: %q", se.Caret())
	}
	if _, _, ok := Position(errors.New("x")); ok {
		t.Error("Position of a plain error")
	}
	if _, _, ok := Position(cim.Errorf(cim.ErrFailed, "line x")); ok {
		t.Error("Position without numbers")
	}
	if _, err := Prepare(nil, newFakeSchema()); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("Prepare(nil) = %v", err)
	}
	// A statement built by hand has no text: its errors have no caret.
	_, err = Prepare(&Select{Star: true, Class: "NoSuch"}, newFakeSchema())
	if cim.CodeOf(err) != cim.ErrInvalidClass || strings.Contains(err.Error(), "\n") {
		t.Errorf("hand-built statement: %v", err)
	}
}

func TestCount(t *testing.T) {
	if n := len(syntaxErrors) + len(semanticErrors); n < 30 {
		t.Errorf("only %d malformed queries", n)
	}
}

func TestPrepareAssociators(t *testing.T) {
	s := newFakeSchema()
	for _, in := range []string{
		`ASSOCIATORS OF {\\H\root\cimv2:win32_logonsession.LogonId="42"} WHERE AssocClass = Win32_LoggedOnUser ResultClass = Win32_Account`,
		`REFERENCES OF {Win32_LogonSession.LogonId="42"} WHERE ResultClass = CIM_Dependency KeysOnly`,
	} {
		q, err := Compile(in, s)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if q.Class() != "Win32_LogonSession" || q.IsEvent() || q.Properties() != nil || q.KeyFilter([]string{"LogonId"}) != nil {
			t.Errorf("%s: Class %q", in, q.Class())
		}
		if q.Match(sessions(t)[0]) {
			t.Errorf("%s: Match is for data queries", in)
		}
		if q.Statement().String() == "" {
			t.Error("no statement")
		}
	}
}
