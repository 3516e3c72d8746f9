package wql

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refMatch is the plain backtracking LIKE matcher, the reference the
// bit-parallel one is checked against.
func refMatch(p []likeElem, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			if p[pi].kind == likeMany {
				starP, starS = pi, si
				pi++
				continue
			}
			r, w := utf8.DecodeRuneInString(s[si:])
			if p[pi].matchOne(r) {
				pi++
				si += w
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		si = starS
		pi = starP + 1
	}
	for pi < len(p) && p[pi].kind == likeMany {
		pi++
	}
	return pi == len(p)
}

// TestLikeCost: issue 13's pattern, '%' then 20,000 '_' then 'b', is
// refused for its length, and the longest pattern allowed costs little
// against a long value: the matcher is linear in the value, not the
// product of the lengths (which took 15 s of CPU).
func TestLikeCost(t *testing.T) {
	if _, msg := compileLike("%" + strings.Repeat("_", 20000) + "b"); !strings.Contains(msg, "longer than") {
		t.Errorf("20,000-character pattern: %q", msg)
	}
	if _, err := Parse("SELECT * FROM Win32_Process WHERE CommandLine LIKE '%" + strings.Repeat("_", 20000) + "b'"); err == nil {
		t.Errorf("the query with a 20,000-character pattern parsed")
	}
	p, msg := compileLike("%" + strings.Repeat("_", MaxLikePattern-2) + "b")
	if msg != "" {
		t.Fatal(msg)
	}
	s := strings.Repeat("a", 1<<20)
	start := time.Now()
	if p.match(s) {
		t.Errorf("matched")
	}
	// The backtracking matcher takes about 4·10⁹ steps here (many
	// seconds); the bit-parallel one 64 word operations per character.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a 1 MiB value against a %d-character pattern took %v", MaxLikePattern, d)
	}
	if !p.match(s[:5000] + "b") {
		t.Errorf("did not match")
	}
	if _, msg := compileLike(strings.Repeat("[a]", maxLikeSets+1)); msg == "" {
		t.Errorf("%d character sets compiled", maxLikeSets+1)
	}
}

// FuzzLike checks the bit-parallel matcher against the backtracking one.
func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{{"%a%b%c%", "xxaxxbxxcxx"}, {"a_c", "abc"}, {"[^a-c]x%", "dxy"}, {"%日本_", "日本語"},
		{"%ab%ab", "abab"}, {"%_%_b", "aab"}, {"%k%", "\u212a"}, {"%" + strings.Repeat("_", 70) + "z%", strings.Repeat("y", 80) + "z"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		p, msg := compileLike(pattern)
		if msg != "" {
			return
		}
		if got, want := p.match(s), refMatch(p.elems, s); got != want {
			t.Errorf("%q LIKE %q: %v, the reference says %v", s, pattern, got, want)
		}
	})
}
