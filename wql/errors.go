package wql

import (
	"errors"
	"fmt"
	"strconv"
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

// format turns e into the *cim.Error callers see: "line L, column C: msg",
// the query line, and a caret under the column.
func (e *posError) format(src string) *cim.Error {
	if e.pos < 0 {
		return &cim.Error{Code: e.code, Description: e.msg}
	}
	line, col, text := lineCol(src, e.pos)
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, column %d: %s\n", line, col, e.msg)
	// A long line is drawn only around the column, so that a client's
	// 4 MB query is not echoed back into its error.
	text, col = echoWindow(text, col)
	b.WriteString(text)
	b.WriteByte('\n')
	// Keep tabs so that the caret lines up under the query line.
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
	return &cim.Error{Code: e.code, Description: b.String()}
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
// error of this package points at, read from the *cim.Error in err's
// chain; ok is false when err carries no position.
func Position(err error) (line, col int, ok bool) {
	var ce *cim.Error
	if !errors.As(err, &ce) {
		return 0, 0, false
	}
	d := ce.Description
	if !strings.HasPrefix(d, "line ") {
		return 0, 0, false
	}
	d = d[len("line "):]
	comma := strings.Index(d, ", column ")
	if comma < 0 {
		return 0, 0, false
	}
	l, err1 := strconv.Atoi(d[:comma])
	d = d[comma+len(", column "):]
	colon := strings.IndexByte(d, ':')
	if colon < 0 {
		return 0, 0, false
	}
	c, err2 := strconv.Atoi(d[:colon])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return l, c, true
}

// Message returns the first line of an error's description without its
// "line L, column C: " prefix: what is wrong, for one-line displays.
func Message(err error) string {
	var ce *cim.Error
	if !errors.As(err, &ce) {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	d := ce.Description
	if i := strings.IndexByte(d, '\n'); i >= 0 {
		d = d[:i]
	}
	if _, _, ok := Position(err); ok {
		if i := strings.Index(d, ": "); i >= 0 {
			d = d[i+2:]
		}
	}
	return d
}
