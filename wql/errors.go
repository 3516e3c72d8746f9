package wql

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// posError is an error at a byte offset of the query, before it is
// formatted into a *cim.Error.
type posError struct {
	pos  int // byte offset into the query; -1 when unknown
	code cim.Status
	msg  string
}

func errAt(pos int, format string, args ...any) *posError {
	return &posError{pos: pos, code: cim.ErrInvalidQuery, msg: cim.Clipf(format, args...)}
}

func errCode(code cim.Status, pos int, format string, args ...any) *posError {
	return &posError{pos: pos, code: code, msg: cim.Clipf(format, args...)}
}

// lineCol returns the 1-based line and column (in characters) of the
// byte offset pos in src, and the text of that line.
func lineCol(src string, pos int) (line, col int, text string) {
	if pos > len(src) {
		pos = len(src)
	}
	line = 1
	lineStart := 0
	for i := 0; i < pos; i++ {
		if src[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	col = 1 + utf8.RuneCountInString(src[lineStart:pos])
	end := strings.IndexByte(src[lineStart:], '\n')
	if end < 0 {
		text = src[lineStart:]
	} else {
		text = src[lineStart : lineStart+end]
	}
	return line, col, strings.TrimSuffix(text, "\r")
}

// SyntaxError is where a query is wrong, as data: the *cim.Error that
// Parse, Prepare and Compile return wraps one (errors.As finds it), so
// that a front end can show the query line with a caret under Column
// ([SyntaxError.Caret]), as the CLI does.
type SyntaxError struct {
	Line   int    // 1-based line of the query
	Column int    // 1-based column, in characters
	Msg    string // what is wrong
	Text   string // the query line the error is on
}

// Error returns "line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Caret returns the query line and, under it, a caret at the column (tabs
// kept so that it lines up): two lines, without a final newline.
func (e *SyntaxError) Caret() string {
	return Caret(e.Text, e.Column)
}

// Caret returns text and, on the next line, a caret under column col
// (1-based, in characters); tabs in text are kept in the caret line so
// that the caret lines up in a terminal. It is shared by every parser's
// error display.
func Caret(text string, col int) string {
	var b strings.Builder
	// A long line is drawn only around the column, so that a 4 MB query
	// is not echoed whole.
	text, col = echoWindow(text, col)
	b.WriteString(text)
	b.WriteByte('\n')
	n := 0
	for _, r := range text {
		if n >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	for ; n < col-1; n++ {
		b.WriteByte(' ')
	}
	b.WriteByte('^')
	return b.String()
}

// format turns e into the *cim.Error callers see: "line L, column C: msg"
// in one line, wrapping the [SyntaxError] that holds the position.
func (e *posError) format(src string) *cim.Error {
	if e.pos < 0 {
		return &cim.Error{Code: e.code, Description: e.msg}
	}
	line, col, text := lineCol(src, e.pos)
	se := &SyntaxError{Line: line, Column: col, Msg: e.msg, Text: text}
	return &cim.Error{Code: e.code, Description: se.Error(), Err: se}
}

// echoWindow returns at most cim.MaxEcho bytes of text on either side of
// column col (1-based, in characters), with "…" where it was cut, and the
// column within what it returns.
func echoWindow(text string, col int) (string, int) {
	if len(text) <= 2*cim.MaxEcho {
		return text, col
	}
	off, n := 0, 0
	for off < len(text) && n < col-1 {
		_, w := utf8.DecodeRuneInString(text[off:])
		off += w
		n++
	}
	start, end := max(off-cim.MaxEcho, 0), min(off+cim.MaxEcho, len(text))
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end--
	}
	out := text[start:end]
	col = 1 + utf8.RuneCountInString(text[start:off])
	if start > 0 {
		out = "…" + out
		col++
	}
	if end < len(text) {
		out += "…"
	}
	return out, col
}

// Position returns the line and column (1-based, in characters) that an
// error of this package points at, from the [SyntaxError] in err's chain;
// ok is false when err carries no position.
func Position(err error) (line, col int, ok bool) {
	var se *SyntaxError
	if !errors.As(err, &se) {
		return 0, 0, false
	}
	return se.Line, se.Column, true
}

// Message returns what is wrong without the "line L, column C: " prefix,
// for one-line displays.
func Message(err error) string {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	var ce *cim.Error
	if errors.As(err, &ce) {
		return ce.Description
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
