// Package prop holds the small conversions applied to the strings read
// from the system before they become property values or history rows:
// one way, in one place, for every provider and for the history's wtmp
// merge, so that one login reads the same in `enum`, in a row recorded
// live and in a row merged from wtmp. Truncation to a property's MaxLen
// is [schema.Truncate].
package prop

import (
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// NullIfEmpty returns nil (a NULL property) for "", else s.
func NullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Clean makes a string from the system safe for a property: bytes that
// are not UTF-8 (and unpaired surrogates) become U+FFFD, and NULs are
// dropped. A string that is fine already is returned without copying.
func Clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return clean(s)
		}
	}
	return s // ASCII without a NUL, as nearly every name is: one pass
}

// clean is Clean of a string that is not plain ASCII.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// OrUnknown returns s, or "an unknown user" for "": the user in a
// caption or description when the source did not name one.
func OrUnknown(s string) string {
	if s == "" {
		return "an unknown user"
	}
	return s
}

// Host returns host, or when it is "" the system's host name, or
// "localhost" when that is not known: the default host of the paths a
// provider builds.
func Host(host string) string {
	if host != "" {
		return host
	}
	if h, _ := os.Hostname(); h != "" {
		return h
	}
	return "localhost"
}

// OneLine returns a library's error text as one line of a message: its
// lines joined by a space, each trimmed and each once. An error such as
// pgx's, whose reason is on its next lines ("failed to connect to …:\n\t
// …: connection refused", once for each attempt), keeps its reason.
func OneLine(s string) string {
	var out []string
	for l := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
