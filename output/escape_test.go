package output

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// hostile are values an attacker can put in a login record, a command
// line or a GECOS field, with how every human format shows them.
var hostile = map[string]string{
	"alice":                         "alice",
	"dé 日本":                         "dé 日本",
	`HOST\alice`:                    `HOST\alice`, // nothing else to escape: as it is
	"\x1b]0;pwned\x07\x1b[2J":       `\x1b]0;pwned\x07\x1b[2J`,
	"a\rb":                          `a\x0db`,
	"a\nb\tc":                       `a\x0ab\x09c`,
	"nul\x00":                       `nul\x00`,
	"\u202egnp.exe":                 `\u{202e}gnp.exe`, // right-to-left override
	"\u2066x\u2069":                 `\u{2066}x\u{2069}`,
	"zero\u200bwidth":               `zero\u{200b}width`,
	"d\xe9j\xe0":                    `d\xe9j\xe0`, // Latin-1, not UTF-8
	"\xff\xfe":                      `\xff\xfe`,
	"c1\u009b31m":                   `c1\x9b31m`, // the 8-bit CSI
	"del\x7f":                       `del\x7f`,
	"x\u2028y":                      `x\u{2028}y`,
	`lit\x1b` + "\x1b":              `lit\\x1b\x1b`, // escaped: the written one doubled
	"":                              "",
	strings.Repeat("\x1b", 3) + "!": `\x1b\x1b\x1b!`,
}

func TestEscapeHostile(t *testing.T) {
	for in, want := range hostile {
		got := Escape(in)
		if got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if !safe(got) {
			t.Errorf("Escape(%q) = %q is not safe to show", in, got)
		}
	}
}

// safe reports whether s is UTF-8 without any character that is not
// printable.
func safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// TestHumanFormatsEscape: the table and the list show every hostile value
// by the one rule, in a string property and in an array.
func TestHumanFormatsEscape(t *testing.T) {
	for in, want := range hostile {
		if in == "" {
			continue
		}
		inst := cim.NewInstance("Linux_LogonSession").Set("LogonId", "1").Set("Caption", in)
		for _, f := range []Format{Table, List} {
			var b bytes.Buffer
			if err := (Renderer{Properties: []string{"LogonId", "Caption"}}).Write(&b, f, []*cim.Instance{inst}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, want) {
				t.Errorf("%s of %q: %q lacks %q", f, in, out, want)
			}
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if !safe(line) {
					t.Errorf("%s of %q: unsafe line %q", f, in, line)
				}
			}
		}
	}
}

func FuzzEscape(f *testing.F) {
	for in := range hostile {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !safe(e) {
			t.Fatalf("Escape(%q) = %q", s, e)
		}
		if printable(s) != (e == s) {
			t.Fatalf("Escape(%q) = %q: changed a printable value or kept another", s, e)
		}
		if tr := Truncate(e, 5); Width(tr) > 5 {
			t.Fatalf("Truncate(%q, 5) = %q wider than 5", e, tr)
		}
		for _, l := range wrap(e, 4) {
			if Width(l) > 4 && utf8.RuneCountInString(l) > 1 {
				t.Fatalf("wrap(%q, 4): line %q", e, l)
			}
		}
	})
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "日本": 4, "é": 1, "e\u0301": 1, "": 0, "…": 1} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
	if got := Truncate("abcdefgh", 5); got != "abcd…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("日本語です", 5); got != "日本…" {
		t.Errorf("Truncate wide = %q", got)
	}
}
