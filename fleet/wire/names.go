package wire

import (
	"strconv"
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// HostToken returns the token that stands for a host in subjects and as
// its key in the hosts bucket: one NATS subject token that is also a valid
// KV key. Host names are case-insensitive, so the token is lower case;
// letters, digits and '-' stay, '.' becomes '_', and every other byte
// becomes '=' and two hex digits. The mapping is one-to-one on lower-case
// names ([ParseHostToken] reverses it), so two hosts never share a token.
// "all" is spelt "=61ll", which keeps [QueryAll] for the whole fleet; the
// empty name is "=".
//
//	HostToken("Web-1.Example.COM") == "web-1_example_com"
func HostToken(host string) string {
	if host == "" {
		return "="
	}
	if strings.EqualFold(host, "all") {
		return "=61ll"
	}
	var b strings.Builder
	b.Grow(len(host))
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '.':
			b.WriteByte('_')
		default:
			const hex = "0123456789abcdef"
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// ParseHostToken returns the (lower-case) host name a token stands for.
// A string HostToken cannot return is CIM_ERR_INVALID_PARAMETER.
func ParseHostToken(tok string) (string, error) {
	bad := func() (string, error) {
		return "", cim.Errorf(cim.ErrInvalidParameter, "%q is not a host token", clip(tok))
	}
	if tok == "=" {
		return "", nil
	}
	if tok == "" {
		return bad()
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '_':
			b.WriteByte('.')
		case c == '=' && i+2 < len(tok) && isLowerHex(tok[i+1]) && isLowerHex(tok[i+2]):
			v, _ := strconv.ParseUint(tok[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		default:
			return bad()
		}
	}
	host := b.String()
	if HostToken(host) != tok {
		// An escape of a byte that needs none ("=61" for 'a'), or an
		// upper-case letter escaped: not HostToken's spelling.
		return bad()
	}
	return host, nil
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// EventSubject returns the subject of an event of class on the host of
// token: cimsess.ev.<hosttoken>.<class>.
func EventSubject(hostToken, class string) string {
	return EventSubjectPrefix + hostToken + "." + class
}

// HostEvents returns the subject filter of every event of one host:
// cimsess.ev.<hosttoken>.>.
func HostEvents(hostToken string) string { return EventSubjectPrefix + hostToken + ".>" }

// QuerySubject returns the subject on which the host of token answers
// queries: cimsess.q.<hosttoken>.
func QuerySubject(hostToken string) string { return QuerySubjectPrefix + hostToken }

// EventID returns the ID of a host's event: the host token, the agent's
// instance id and the sequence number, joined by '.'.
func EventID(hostToken, agent string, seq uint64) string {
	return hostToken + "." + agent + "." + strconv.FormatUint(seq, 10)
}

// clip shortens text from the wire for an error message.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
