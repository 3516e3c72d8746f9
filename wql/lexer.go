package wql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // identifier or keyword
	tokString         // quoted string; text is the unescaped value
	tokNumber         // unsigned number as written
	tokPath           // {…}: text is what lies between the braces
	tokOp             // = <> != < > <= >=
	tokComma
	tokDot
	tokStar
	tokLParen
	tokRParen
	tokMinus
)

// token is one lexical token and the byte offset where it starts.
type token struct {
	kind tokKind
	text string
	pos  int
}

// describe renders the token for "found …" in error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end of the query"
	case tokString:
		return "string " + quoteWQL(t.text)
	case tokPath:
		return "{" + t.text + "}"
	case tokWord:
		if isKeyword(t.text) {
			return strings.ToUpper(t.text)
		}
		return "'" + t.text + "'"
	}
	return "'" + t.text + "'"
}

var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true,
	"IS": true, "NULL": true, "ISA": true, "LIKE": true, "TRUE": true, "FALSE": true,
	"WITHIN": true, "GROUP": true, "HAVING": true, "BY": true, "ASSOCIATORS": true,
	"REFERENCES": true, "OF": true,
}

// isKeyword reports whether the word is reserved in WQL, case-insensitively.
func isKeyword(w string) bool {
	if len(w) > 11 {
		return false
	}
	var buf [11]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return keywords[string(buf[:len(w)])]
}

// lexer splits a query into tokens.
type lexer struct {
	src string
	off int
}

func isIdentStart(r rune) bool {
	return r == '_' || (r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z')) || (r >= utf8.RuneSelf && unicode.IsLetter(r))
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || (r >= '0' && r <= '9') || (r >= utf8.RuneSelf && unicode.IsDigit(r))
}

// next returns the next token, or a positioned error.
func (lx *lexer) next() (token, *posError) {
	s := lx.src
	for lx.off < len(s) {
		c := s[lx.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			lx.off++
			continue
		}
		break
	}
	start := lx.off
	if start >= len(s) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := s[start]
	one := func(k tokKind) (token, *posError) {
		lx.off++
		return token{kind: k, text: s[start:lx.off], pos: start}, nil
	}
	switch c {
	case ',':
		return one(tokComma)
	case '.':
		if start+1 < len(s) && isDigit(s[start+1]) {
			return lx.number()
		}
		return one(tokDot)
	case '*':
		return one(tokStar)
	case '(':
		return one(tokLParen)
	case ')':
		return one(tokRParen)
	case '-':
		return one(tokMinus)
	case '=':
		return one(tokOp)
	case '<':
		lx.off++
		if lx.off < len(s) && (s[lx.off] == '>' || s[lx.off] == '=') {
			lx.off++
		}
		return token{kind: tokOp, text: s[start:lx.off], pos: start}, nil
	case '>':
		lx.off++
		if lx.off < len(s) && s[lx.off] == '=' {
			lx.off++
		}
		return token{kind: tokOp, text: s[start:lx.off], pos: start}, nil
	case '!':
		if start+1 < len(s) && s[start+1] == '=' {
			lx.off += 2
			return token{kind: tokOp, text: "!=", pos: start}, nil
		}
		return token{}, errAt(start, "'!' must be followed by '=' (the operator !=)")
	case '\'', '"':
		return lx.str(c)
	case '{':
		return lx.path()
	}
	if isDigit(c) {
		return lx.number()
	}
	r, w := utf8.DecodeRuneInString(s[start:])
	if isIdentStart(r) {
		lx.off += w
		for lx.off < len(s) {
			r, w = utf8.DecodeRuneInString(s[lx.off:])
			if !isIdentPart(r) {
				break
			}
			lx.off += w
		}
		return token{kind: tokWord, text: s[start:lx.off], pos: start}, nil
	}
	if r == utf8.RuneError && w == 1 {
		return token{}, errAt(start, "invalid UTF-8 byte 0x%02x", c)
	}
	return token{}, errAt(start, "unexpected character %q", r)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// number reads 123, 0x1F, 1.5, .5, 1e9, 2.5E-3.
func (lx *lexer) number() (token, *posError) {
	s, start := lx.src, lx.off
	i := start
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
		i += 2
		j := i
		for i < len(s) && isHex(s[i]) {
			i++
		}
		if i == j {
			return token{}, errAt(start, "malformed hexadecimal number: no digits after 0x")
		}
	} else {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			j := i
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			if i == j {
				return token{}, errAt(start, "malformed number: no digits after '.'")
			}
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			i++
			if i < len(s) && (s[i] == '+' || s[i] == '-') {
				i++
			}
			j := i
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			if i == j {
				return token{}, errAt(start, "malformed number: no digits in the exponent")
			}
		}
	}
	if i < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i:]); isIdentPart(r) || r == '.' {
			return token{}, errAt(start, "malformed number %q", s[start:i+1])
		}
	}
	lx.off = i
	return token{kind: tokNumber, text: s[start:i], pos: start}, nil
}

// str reads a string in single or double quotes with \\ \' \" escapes.
func (lx *lexer) str(quote byte) (token, *posError) {
	s, start := lx.src, lx.off
	var b strings.Builder
	i := start + 1
	for i < len(s) {
		c := s[i]
		switch c {
		case quote:
			lx.off = i + 1
			return token{kind: tokString, text: b.String(), pos: start}, nil
		case '\\':
			if i+1 >= len(s) {
				return token{}, errAt(start, "unterminated string")
			}
			e := s[i+1]
			if e != '\\' && e != '\'' && e != '"' {
				return token{}, errAt(i, "unknown escape \\%c in string (use \\\\, \\' or \\\")", e)
			}
			b.WriteByte(e)
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return token{}, errAt(start, "unterminated string")
}

// path reads {…} up to the closing brace that is not inside quotes.
func (lx *lexer) path() (token, *posError) {
	s, start := lx.src, lx.off
	var quote byte
	for i := start + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '}':
			lx.off = i + 1
			return token{kind: tokPath, text: s[start+1 : i], pos: start}, nil
		}
	}
	return token{}, errAt(start, "unterminated object path: missing '}'")
}
