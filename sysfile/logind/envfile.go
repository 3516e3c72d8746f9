package logind

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseEnvFile reads systemd's env-file syntax as its parse_env_file does:
// KEY=VALUE lines; blank lines and lines starting with # or ; are
// comments; a value may be 'single-quoted' (no escapes), "double-quoted"
// (backslash escapes only " \ ` $ and newline) or bare (a backslash takes
// the next character literally; trailing whitespace is dropped); a
// backslash before a newline continues the value on the next line; a line
// without "=" is ignored. fn gets each assignment in order; raw is the
// value as written when it was bare and on one line (for the keys logind
// writes C-escaped), else "" with bare false.
func parseEnvFile(b []byte, fn func(key, value, raw string, bare bool)) {
	const (
		preKey = iota
		inKey
		preValue
		inValue
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
		commentEscape
	)
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }
	state := preKey
	var key, value []byte
	keyEnd := -1   // length of key before trailing whitespace, -1 if none
	valueEnd := -1 // same for bare values
	bare := true
	rawStart := 0

	commit := func(end int) {
		k := key
		if keyEnd >= 0 {
			k = k[:keyEnd]
		}
		v := value
		if valueEnd >= 0 {
			v = v[:valueEnd]
		}
		raw := ""
		if bare {
			raw = strings.TrimFunc(string(b[rawStart:end]), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
		}
		if len(k) > 0 {
			fn(string(k), string(v), raw, bare)
		}
		key, value = key[:0], value[:0]
		keyEnd, valueEnd = -1, -1
		bare = true
	}

	for i := 0; i < len(b); i++ {
		c := b[i]
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case c == '\n' || isSpace(c):
			default:
				state = inKey
				key = append(key[:0], c)
				keyEnd = -1
			}
		case inKey:
			switch {
			case c == '\n':
				state = preKey
				key = key[:0]
			case c == '=':
				state = preValue
				value = value[:0]
				valueEnd = -1
				bare = true
				rawStart = i + 1
			default:
				if isSpace(c) {
					if keyEnd < 0 {
						keyEnd = len(key)
					}
				} else {
					keyEnd = -1
				}
				key = append(key, c)
			}
		case preValue:
			switch {
			case c == '\n':
				commit(i)
				state = preKey
			case c == '\'':
				state, bare = singleQuote, false
			case c == '"':
				state, bare = doubleQuote, false
			case c == '\\':
				state = valueEscape
			case isSpace(c):
			default:
				state = inValue
				value = append(value, c)
			}
		case inValue:
			switch {
			case c == '\n':
				commit(i)
				state = preKey
			case c == '\\':
				state = valueEscape
				valueEnd = -1
			default:
				if isSpace(c) {
					if valueEnd < 0 {
						valueEnd = len(value)
					}
				} else {
					valueEnd = -1
				}
				value = append(value, c)
			}
		case valueEscape:
			state = inValue
			if c == '\n' {
				bare = false // a continued line
			} else {
				value = append(value, c)
				valueEnd = -1
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				value = append(value, c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				value = append(value, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch c {
			case '"', '\\', '`', '$':
				value = append(value, c)
			case '\n':
			default:
				value = append(value, '\\', c)
			}
		case comment:
			switch c {
			case '\\':
				state = commentEscape
			case '\n':
				state = preKey
			}
		case commentEscape:
			state = comment
		}
	}
	switch state {
	case preValue, inValue, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		commit(len(b))
	}
}

var simpleEscapes = map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'n': '\n', 'r': '\r', 't': '\t', 'v': 11,
	'\\': '\\', '"': '"', '\'': '\'', 's': ' '}

// cunescape undoes systemd's cescape (used for REMOTE_HOST, REMOTE_USER,
// SERVICE and DESKTOP): \a \b \f \n \r \t \v \\ \" \' \s, \xNN, \ooo,
// \uNNNN and \UNNNNNNNN. An escape it does not know, or one that would
// give a NUL, is kept as written.
func cunescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		e := s[i+1]
		if r, ok := simpleEscapes[e]; ok {
			out = append(out, r)
			i++
			continue
		}
		num := func(start, n, base int) (uint64, bool) {
			if start+n > len(s) {
				return 0, false
			}
			v, err := strconv.ParseUint(s[start:start+n], base, 32)
			return v, err == nil && v != 0
		}
		switch {
		case e == 'x':
			if v, ok := num(i+2, 2, 16); ok {
				out = append(out, byte(v))
				i += 3
				continue
			}
		case e >= '0' && e <= '7':
			if v, ok := num(i+1, 3, 8); ok && v < 256 {
				out = append(out, byte(v))
				i += 3
				continue
			}
		case e == 'u':
			if v, ok := num(i+2, 4, 16); ok && utf8.ValidRune(rune(v)) {
				out = utf8.AppendRune(out, rune(v))
				i += 5
				continue
			}
		case e == 'U':
			if v, ok := num(i+2, 8, 16); ok && utf8.ValidRune(rune(v)) {
				out = utf8.AppendRune(out, rune(v))
				i += 9
				continue
			}
		}
		out = append(out, c)
	}
	return string(out)
}
