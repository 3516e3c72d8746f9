package mof

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cimsess/cimsess/cim"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // identifiers and keywords (keywords are case-insensitive)
	tString         // one string literal; adjacent ones are joined by the parser
	tChar           // a char16 literal
	tInt            // an integer literal (decimal, hex, binary or octal)
	tReal           // a real literal
	tPunct          // one of [ ] ( ) { } , ; : =
	tPragma         // #pragma
)

// pos is a position in the source: 1-based line and column, the column
// counting characters.
type pos struct{ line, col int }

// token is one lexical token.
type token struct {
	kind tokKind
	pos  pos
	// text is the identifier, the punctuation character, the source text
	// of a number, or the decoded value of a string literal.
	text string
	ival any        // tInt: int64, or uint64 above math.MaxInt64
	rval float64    // tReal
	ch   cim.Char16 // tChar
}

// describe names the token for "found X" in error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tIdent:
		return strconv.Quote(t.text)
	case tString:
		s := t.text
		if utf8.RuneCountInString(s) > 24 {
			s = string([]rune(s)[:24]) + "…"
		}
		return "string " + strconv.Quote(s)
	case tChar:
		return "char16 " + quoteChar(t.ch)
	case tInt, tReal:
		return "number " + t.text
	case tPragma:
		return `"#pragma"`
	}
	return strconv.Quote(t.text)
}

// lexer turns source text into tokens.
type lexer struct {
	file string
	src  string
	off  int
	line int
	col  int
}

// SyntaxError is where MOF text is wrong, as data: every error of this
// package is a *cim.Error (CIM_ERR_INVALID_PARAMETER) wrapping one, which
// errors.As finds.
type SyntaxError struct {
	File   string // the file name given to the parser, or ""
	Line   int    // 1-based
	Column int    // 1-based, in characters
	Msg    string // what is wrong
}

// Error returns "file:line:col: msg" ("line:col: msg" without a file).
func (e *SyntaxError) Error() string {
	where := fmt.Sprintf("%d:%d", e.Line, e.Column)
	if e.File != "" {
		where = e.File + ":" + where
	}
	return where + ": " + e.Msg
}

// errAt returns the error every failure of this package becomes.
func errAt(file string, p pos, format string, args ...any) *cim.Error {
	se := &SyntaxError{File: file, Line: p.line, Column: p.col, Msg: fmt.Sprintf(format, args...)}
	return &cim.Error{Code: cim.ErrInvalidParameter, Description: se.Error(), Err: se}
}

// decodeSource returns src as UTF-8 text: a UTF-8 byte-order mark is
// dropped and UTF-16 text with a byte-order mark is decoded. Text that is
// not valid UTF-8 is an error at the first bad byte.
func decodeSource(file string, src []byte) (string, error) {
	switch {
	case len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF:
		src = src[3:]
	case len(src) >= 2 && (src[0] == 0xFF && src[1] == 0xFE || src[0] == 0xFE && src[1] == 0xFF):
		little := src[0] == 0xFF
		body := src[2:]
		if len(body)%2 != 0 {
			return "", errAt(file, pos{1, 1}, "UTF-16 text has an odd number of bytes")
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			if little {
				u[i] = uint16(body[2*i]) | uint16(body[2*i+1])<<8
			} else {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
		}
		src = []byte(string(utf16.Decode(u)))
	}
	s := string(src)
	if !utf8.ValidString(s) {
		line, col := 1, 1
		for i, r := range s {
			if r == utf8.RuneError {
				if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
					break
				}
			}
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return "", errAt(file, pos{line, col}, "invalid UTF-8 text")
	}
	return s, nil
}

// tokenize returns every token of src, ending with a tEOF token.
func tokenize(file, src string) ([]token, error) {
	lx := &lexer{file: file, src: src, line: 1, col: 1}
	toks := make([]token, 0, len(src)/6+1)
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (lx *lexer) peek() rune {
	if lx.off >= len(lx.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	return r
}

func (lx *lexer) peekAt(n int) rune {
	off := lx.off
	for ; n > 0 && off < len(lx.src); n-- {
		_, sz := utf8.DecodeRuneInString(lx.src[off:])
		off += sz
	}
	if off >= len(lx.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(lx.src[off:])
	return r
}

func (lx *lexer) advance() rune {
	r, sz := utf8.DecodeRuneInString(lx.src[lx.off:])
	lx.off += sz
	if r == '\n' {
		lx.line++
		lx.col = 1
	} else {
		lx.col++
	}
	return r
}

func (lx *lexer) pos() pos { return pos{lx.line, lx.col} }

func (lx *lexer) errorf(p pos, format string, args ...any) error {
	return errAt(lx.file, p, format, args...)
}

func isIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		r >= 0x80 && r <= 0xFFEF && unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9' ||
		r >= 0x80 && r <= 0xFFEF && (unicode.IsDigit(r) || unicode.IsMark(r))
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// skipSpace skips white space and comments.
func (lx *lexer) skipSpace() error {
	for {
		switch r := lx.peek(); {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\f' || r == '\v':
			lx.advance()
		case r == '/' && lx.peekAt(1) == '/':
			for lx.off < len(lx.src) && lx.peek() != '\n' {
				lx.advance()
			}
		case r == '/' && lx.peekAt(1) == '*':
			start := lx.pos()
			lx.advance()
			lx.advance()
			for {
				if lx.off >= len(lx.src) {
					return lx.errorf(start, "unterminated /* comment")
				}
				if lx.advance() == '*' && lx.peek() == '/' {
					lx.advance()
					break
				}
			}
		default:
			return nil
		}
	}
}

func (lx *lexer) next() (token, error) {
	if err := lx.skipSpace(); err != nil {
		return token{}, err
	}
	p := lx.pos()
	r := lx.peek()
	switch {
	case r < 0:
		return token{kind: tEOF, pos: p}, nil
	case isIdentStart(r):
		start := lx.off
		for lx.off < len(lx.src) && isIdentPart(lx.peek()) {
			lx.advance()
		}
		return token{kind: tIdent, pos: p, text: lx.src[start:lx.off]}, nil
	case isDigit(r) || (r == '.' || r == '+' || r == '-') && (isDigit(lx.peekAt(1)) ||
		r != '.' && lx.peekAt(1) == '.' && isDigit(lx.peekAt(2))):
		return lx.number(p)
	case r == '"':
		s, err := lx.stringLit()
		return token{kind: tString, pos: p, text: s}, err
	case r == '\'':
		c, err := lx.charLit()
		return token{kind: tChar, pos: p, ch: c}, err
	case strings.ContainsRune("[](){},;:=", r):
		lx.advance()
		return token{kind: tPunct, pos: p, text: string(r)}, nil
	case r == '#':
		lx.advance()
		start := lx.off
		for lx.off < len(lx.src) && isIdentPart(lx.peek()) {
			lx.advance()
		}
		if !strings.EqualFold(lx.src[start:lx.off], "pragma") {
			return token{}, lx.errorf(p, "expected \"#pragma\", found %q", "#"+lx.src[start:lx.off])
		}
		return token{kind: tPragma, pos: p, text: "#pragma"}, nil
	}
	return token{}, lx.errorf(p, "unexpected character %q", r)
}

// number reads an integer or real literal, with its sign.
func (lx *lexer) number(p pos) (token, error) {
	start := lx.off
	if r := lx.peek(); r == '+' || r == '-' {
		lx.advance()
	}
	rest := lx.src[lx.off:]
	hex := len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')
	for lx.off < len(lx.src) {
		r := lx.peek()
		if isIdentPart(r) || r == '.' {
			lx.advance()
			continue
		}
		if (r == '+' || r == '-') && !hex {
			if prev := lx.src[lx.off-1]; prev == 'e' || prev == 'E' {
				lx.advance()
				continue
			}
		}
		break
	}
	text := lx.src[start:lx.off]
	body, neg := text, false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	bad := func(what string) (token, error) {
		return token{}, lx.errorf(p, "%s %q", what, text)
	}
	base, digits := 0, body
	switch {
	case len(body) > 2 && (body[:2] == "0x" || body[:2] == "0X") && allIn(body[2:], "0123456789abcdefABCDEF"):
		base, digits = 16, body[2:]
	case len(body) > 1 && (body[len(body)-1] == 'b' || body[len(body)-1] == 'B') && allIn(body[:len(body)-1], "01"):
		base, digits = 2, body[:len(body)-1]
	case len(body) > 1 && body[0] == '0' && allIn(body[1:], "01234567"):
		base, digits = 8, body[1:]
	case body == "0" || body != "" && body[0] != '0' && allIn(body, "0123456789"):
		base = 10
	}
	if base != 0 {
		mag, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return bad("integer out of range:")
		}
		t := token{kind: tInt, pos: p, text: text}
		switch {
		case neg && mag > 1<<63:
			return bad("integer out of range:")
		case neg && mag == 1<<63:
			t.ival = int64(math.MinInt64)
		case neg:
			t.ival = -int64(mag)
		case mag > math.MaxInt64:
			t.ival = mag
		default:
			t.ival = int64(mag)
		}
		return t, nil
	}
	if !isReal(body) {
		return bad("invalid number")
	}
	f, err := parseReal(text, 64)
	if err != nil {
		return bad("real out of range:")
	}
	return token{kind: tReal, pos: p, text: text, rval: f}, nil
}

// parseReal parses a real literal that isReal accepted, failing only when
// it is too large for the size.
func parseReal(text string, bits int) (float64, error) {
	f, err := strconv.ParseFloat(text, bits)
	if err != nil && !math.IsInf(f, 0) {
		err = nil // underflow to zero or a denormal is fine
	}
	return f, err
}

func allIn(s, set string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// isReal reports whether s (no sign) is a real literal: digits, an
// optional fraction of at least one digit and an optional exponent, with
// a fraction or an exponent present ("1.5", ".5", "1.5e3", "1e3").
func isReal(s string) bool {
	i := 0
	for i < len(s) && isDigit(rune(s[i])) {
		i++
	}
	intDigits := i
	frac := false
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(rune(s[i])) {
			i++
		}
		if i == j {
			return false
		}
		frac = true
	}
	if intDigits == 0 && !frac {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && isDigit(rune(s[i])) {
			i++
		}
		if i == j {
			return false
		}
		return i == len(s)
	}
	return frac && i == len(s)
}

// escape reads the escape sequence after a backslash and returns the code
// unit it stands for.
func (lx *lexer) escape(p pos) (rune, error) {
	r := lx.peek()
	switch r {
	case 'b':
		lx.advance()
		return '\b', nil
	case 't':
		lx.advance()
		return '\t', nil
	case 'n':
		lx.advance()
		return '\n', nil
	case 'f':
		lx.advance()
		return '\f', nil
	case 'r':
		lx.advance()
		return '\r', nil
	case '"', '\'', '\\':
		lx.advance()
		return r, nil
	case 'x', 'X':
		lx.advance()
		v, n := rune(0), 0
		for n < 4 {
			d := lx.peek()
			var x rune
			switch {
			case d >= '0' && d <= '9':
				x = d - '0'
			case d >= 'a' && d <= 'f':
				x = d - 'a' + 10
			case d >= 'A' && d <= 'F':
				x = d - 'A' + 10
			default:
				x = -1
			}
			if x < 0 {
				break
			}
			lx.advance()
			v = v<<4 | x
			n++
		}
		if n == 0 {
			return 0, lx.errorf(p, `\x escape needs 1 to 4 hexadecimal digits`)
		}
		return v, nil
	}
	if r < 0 {
		return 0, lx.errorf(p, "unterminated escape sequence")
	}
	return 0, lx.errorf(p, "invalid escape sequence \\%c", r)
}

// stringLit reads one double-quoted string literal.
func (lx *lexer) stringLit() (string, error) {
	start := lx.pos()
	lx.advance()
	var b strings.Builder
	for {
		p := lx.pos()
		r := lx.peek()
		switch r {
		case -1, '\n', '\r':
			return "", lx.errorf(start, "unterminated string literal")
		case '"':
			lx.advance()
			return b.String(), nil
		case '\\':
			lx.advance()
			u, err := lx.escape(p)
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(u) {
				// A surrogate pair written as two \x escapes is one character.
				lo := rune(-1)
				if u < 0xDC00 && lx.peek() == '\\' && (lx.peekAt(1) == 'x' || lx.peekAt(1) == 'X') {
					save := *lx
					lx.advance()
					if v, err := lx.escape(p); err == nil && v >= 0xDC00 && v <= 0xDFFF {
						lo = v
					} else {
						*lx = save
					}
				}
				if lo < 0 {
					return "", lx.errorf(p, "lone UTF-16 surrogate \\x%04X in a string", u)
				}
				u = utf16.DecodeRune(u, lo)
			}
			b.WriteRune(u)
		default:
			lx.advance()
			b.WriteRune(r)
		}
	}
}

// charLit reads one single-quoted char16 literal.
func (lx *lexer) charLit() (cim.Char16, error) {
	start := lx.pos()
	lx.advance()
	var c rune
	switch r := lx.peek(); r {
	case -1, '\n', '\r', '\'':
		return 0, lx.errorf(start, "invalid char16 literal")
	case '\\':
		p := lx.pos()
		lx.advance()
		u, err := lx.escape(p)
		if err != nil {
			return 0, err
		}
		c = u
	default:
		lx.advance()
		if r > 0xFFFF {
			return 0, lx.errorf(start, "character %q does not fit in a char16", r)
		}
		c = r
	}
	if lx.peek() != '\'' {
		return 0, lx.errorf(start, "unterminated char16 literal")
	}
	lx.advance()
	return cim.Char16(c), nil
}
