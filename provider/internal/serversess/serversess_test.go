package serversess

import (
	"testing"

	"github.com/cimsess/cimsess/cim"
)

func TestPathsAndHints(t *testing.T) {
	s := SessionPath("h1", "10.0.0.5", "Bob")
	c := ConnectionPath("", "10.0.0.5", "home", "Bob")
	if s.Namespace != Namespace || c.Namespace != "" || c.ClassName != ConnectionClass || len(c.Keys) != 3 {
		t.Errorf("paths %v %v", s, c)
	}
	link := cim.NewInstance(AssociationClass)
	link.Set("Antecedent", s).Set("Dependent", c)
	other := SessionPath("", "10.0.0.6", "Bob")
	for _, tc := range []struct {
		target *cim.ObjectPath
		want   bool
	}{{nil, true}, {&s, true}, {&c, true}, {&other, false}} {
		if got := RefersTo(link, tc.target); got != tc.want {
			t.Errorf("RefersTo(%v) = %v", tc.target, got)
		}
	}
	in := cim.NewInstance(SessionClass)
	in.Set("UserName", "Bob").Set("ComputerName", "10.0.0.5")
	for _, tc := range []struct {
		keys map[string]any
		fold bool
		want bool
	}{
		{nil, false, true},
		{map[string]any{"username": "Bob"}, false, true},
		{map[string]any{"username": "bob"}, false, false},
		{map[string]any{"username": "bob"}, true, true},
		{map[string]any{"username": "alice"}, true, false},
		{map[string]any{"username": int64(1)}, false, true},
		{map[string]any{"nosuch": "x"}, false, true},
	} {
		if got := MatchKeys(in, tc.keys, tc.fold); got != tc.want {
			t.Errorf("MatchKeys(%v, fold %v) = %v", tc.keys, tc.fold, got)
		}
	}
}
