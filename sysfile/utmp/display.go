package utmp

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Display returns s made safe to show: valid printable UTF-8 is kept as
// it is; each byte that is not UTF-8, and each control or non-printable
// character, is written as \xNN (or \u{NNNN} above U+00FF), and a
// backslash as \\, so that distinct raw strings stay distinct on screen.
func Display(s string) string {
	clean := true
	for _, c := range s {
		if c == utf8.RuneError || c == '\\' || !unicode.IsPrint(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case c == '\\':
			b.WriteString(`\\`)
		case unicode.IsPrint(c):
			b.WriteString(s[i : i+size])
		case c < 0x100:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteString(`\u{`)
			b.WriteString(strconv.FormatInt(int64(c), 16))
			b.WriteByte('}')
		}
		i += size
	}
	return b.String()
}
