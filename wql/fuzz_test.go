package wql

import (
	"errors"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// FuzzParse checks that no input panics, that every error is a
// positioned *cim.Error, that printing a parsed statement gives text that
// parses to an equal statement and prints the same, and that preparing
// and evaluating what parses does not panic either.
func FuzzParse(f *testing.F) {
	for _, tt := range roundTrips {
		f.Add(tt.in)
	}
	for _, tt := range syntaxErrors {
		f.Add(tt.query)
	}
	for _, tt := range semanticErrors {
		f.Add(tt.query)
	}
	f.Add("SELECT UserName, __PATH FROM Linux_LogonSession WHERE UserName LIKE '[a-c]%' AND StartTime > '20260115100000.000000+060' OR IdleTime < '00000000001000.000000:000'")
	f.Add("SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status <> 'OK' AND PreviousInstance.Status = 'OK'")
	schema := newFakeSchema()
	insts := sessions(f)
	f.Fuzz(func(t *testing.T, query string) {
		st, err := Parse(query)
		if err != nil {
			var ce *cim.Error
			if !errors.As(err, &ce) || (ce.Code != cim.ErrInvalidQuery && ce.Code != cim.ErrNotSupported) {
				t.Fatalf("Parse(%q): error %T %v", query, err, err)
			}
			if _, _, ok := Position(err); !ok {
				t.Fatalf("Parse(%q): error without a position: %v", query, err)
			}
			return
		}
		printed := st.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which fails: %v", query, printed, err)
		}
		if !sameStmt(st, again) {
			t.Fatalf("Parse(%q) printed %q, which parses differently", query, printed)
		}
		if p2 := again.String(); p2 != printed {
			t.Fatalf("printing is not stable: %q then %q", printed, p2)
		}
		q, err := Prepare(st, schema)
		if err != nil {
			var ce *cim.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Prepare(%q): error %T %v", query, err, err)
			}
			return
		}
		for _, in := range insts {
			if q.Match(in) {
				q.Project(in)
			}
			q.MatchEvent(&Event{Class: InstanceModificationEvent, TargetInstance: in, PreviousInstance: in})
		}
		q.KeyFilter([]string{"LogonId"})
	})
}
