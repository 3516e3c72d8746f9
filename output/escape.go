package output

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Escape returns s made safe to show on a terminal: the one rule of every
// human-readable format (the table, the list, history's table).
//
//   - A value of printable UTF-8 is shown as it is, backslashes included
//     (`HOST\alice` stays readable).
//   - Otherwise each byte that is not UTF-8 is written \xNN, each control
//     or other non-printable character (C0 and C1 controls, DEL, the
//     bidirectional overrides and isolates, zero-width and format
//     characters, line and paragraph separators) \xNN below U+0100 and
//     \u{NNNN} above, and each backslash \\, so that in an escaped value
//     what was escaped can be told from what was written.
//
// Nothing from the data can then move the cursor, retitle or clear the
// terminal, reorder the text, split a row or make a TAB-separated mess.
func Escape(s string) string {
	if printable(s) {
		return s
	}
	return string(AppendEscape(make([]byte, 0, len(s)+8), s))
}

// printable reports whether s is valid UTF-8 of printable characters only
// (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if r == utf8.RuneError || !unicode.IsPrint(r) {
					return false
				}
			}
			return true
		} else if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// AppendEscape appends s escaped as [Escape] does to b, backslashes doubled
// even when s is otherwise printable (for callers that have already found
// s needs escaping).
func AppendEscape(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size <= 1:
			b = append(b, '\\', 'x', hex[s[i]>>4], hex[s[i]&15])
		case c == '\\':
			b = append(b, '\\', '\\')
		case unicode.IsPrint(c):
			b = append(b, s[i:i+size]...)
		case c < 0x100:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			b = append(b, '\\', 'u', '{')
			b = strconv.AppendInt(b, int64(c), 16)
			b = append(b, '}')
		}
		i += size
	}
	return b
}

// Width returns how many terminal cells s takes once escaped text is
// shown: East Asian wide and fullwidth characters two, combining marks
// none, every other character one. s is expected to be printable (the
// result of Escape).
func Width(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s[i:] {
				n += runeWidth(r)
			}
			return n
		}
		n++
	}
	return n
}

func runeWidth(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// Truncate returns the longest prefix of s that, followed by the marker
// "…", fits in cells terminal cells, with the marker; s itself when it
// fits whole.
func Truncate(s string, cells int) string {
	if Width(s) <= cells {
		return s
	}
	if cells <= 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := runeWidth(r)
		if n+w > cells-1 {
			break
		}
		b.WriteRune(r)
		n += w
	}
	b.WriteString(Marker)
	return b.String()
}

// Marker ends a value the table cut to fit its column.
const Marker = "…"

// wrap cuts s into lines of at most cells terminal cells (at least one
// character a line).
func wrap(s string, cells int) []string {
	if cells <= 0 || Width(s) <= cells {
		return []string{s}
	}
	var lines []string
	start, n := 0, 0
	for i, r := range s {
		w := runeWidth(r)
		if n+w > cells && i > start {
			lines = append(lines, s[start:i])
			start, n = i, 0
		}
		n += w
	}
	return append(lines, s[start:])
}
