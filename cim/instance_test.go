package cim

import (
	"strings"
	"testing"
)

func TestHasNames(t *testing.T) {
	in := NewInstance("C").Set("A", "x").Set("B", nil)
	for _, tc := range []struct {
		names []string
		want  bool
	}{
		{[]string{"A", "B"}, true},
		{[]string{strings.Clone("A"), strings.Clone("B")}, true}, // the same text elsewhere in memory
		{[]string{"A", "C"}, false},
		{[]string{"B", "A"}, false},
		{[]string{"a", "B"}, false}, // spelt alike, not matched case-insensitively
		{[]string{"A"}, false},
		{nil, false},
	} {
		if got := in.HasNames(tc.names); got != tc.want {
			t.Errorf("HasNames(%q) = %v, want %v", tc.names, got, tc.want)
		}
	}
	if !NewInstance("C").HasNames(nil) {
		t.Error("an empty instance does not have no names")
	}
}
