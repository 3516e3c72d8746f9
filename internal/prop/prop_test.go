package prop

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{"a\x00b\x00", "ab"},
		{"caf\xe9", "caf\uFFFD"},
		{"\xff\x00x", "\uFFFDx"},
		{"  spaced  ", "  spaced  "},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNullIfEmptyOrUnknownHost(t *testing.T) {
	if NullIfEmpty("") != nil || NullIfEmpty("x") != "x" {
		t.Error("NullIfEmpty")
	}
	if OrUnknown("") != "an unknown user" || OrUnknown("bob") != "bob" {
		t.Error("OrUnknown")
	}
	if Host("h1") != "h1" || Host("") == "" {
		t.Error("Host")
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "alice", "a\x00b", "caf\xe9", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q: not UTF-8", s, c)
		}
		for i := 0; i < len(c); i++ {
			if c[i] == 0 {
				t.Fatalf("Clean(%q) = %q holds a NUL", s, c)
			}
		}
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if want := strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", ""); c != want {
			t.Fatalf("Clean(%q) = %q, want %q (U+FFFD for what is not UTF-8, NULs dropped)", s, c, want)
		}
	})
}

func TestOneLine(t *testing.T) {
	got := OneLine("failed to connect to `user=postgres database=fleet`:\n\t127.0.0.1:47007 (127.0.0.1): dial error: connection refused\n\t127.0.0.1:47007 (127.0.0.1): dial error: connection refused\n")
	if want := "failed to connect to `user=postgres database=fleet`: 127.0.0.1:47007 (127.0.0.1): dial error: connection refused"; got != want {
		t.Errorf("OneLine = %q, want %q", got, want)
	}
}
