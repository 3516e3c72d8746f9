package access

import (
	"net"
	"strings"
)

// IsLoopback reports whether a listen address ("host:port") binds only to
// the loopback interface: localhost or a loopback IP. An empty host (every
// interface) is not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
