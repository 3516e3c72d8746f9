package cim

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxEcho bounds how much of one value from outside (a user name, a class
// name, an element name a client sent) an error description or a log
// record repeats: a 4 MB class name must not become a 4 MB error and an
// 8 MB log line.
const MaxEcho = 256

// maxEchoError bounds an error's text given as an argument to Clipf: it
// is made of values clipped already, and says more.
const maxEchoError = 4 * MaxEcho

// Clip returns s when it is at most MaxEcho bytes long, else its first
// MaxEcho bytes (whole characters) and a marker saying how many were cut:
// "abc…[+4194048 bytes]".
func Clip(s string) string { return clipN(s, MaxEcho) }

func clipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[+" + strconv.Itoa(len(s)-cut) + " bytes]"
}

// Clipf is fmt.Sprintf with its string and []byte arguments clipped to
// MaxEcho bytes and its error and fmt.Stringer arguments to 1 KiB, for
// descriptions that repeat what a client or a file said. Errorf uses it.
func Clipf(format string, args ...any) string {
	var clipped []any
	for i, a := range args {
		var c any
		switch v := a.(type) {
		case string:
			if len(v) > MaxEcho {
				c = Clip(v)
			}
		case []byte:
			if len(v) > MaxEcho {
				c = Clip(string(v))
			}
		case error:
			if s := v.Error(); len(s) > maxEchoError {
				c = clipN(s, maxEchoError)
			}
		case fmt.Stringer:
			if s := v.String(); len(s) > maxEchoError {
				c = clipN(s, maxEchoError)
			}
		}
		if c != nil {
			if clipped == nil {
				clipped = append([]any(nil), args...)
			}
			clipped[i] = c
		}
	}
	if clipped != nil {
		args = clipped
	}
	return fmt.Sprintf(format, args...)
}
