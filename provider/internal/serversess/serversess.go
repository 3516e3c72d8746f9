// Package serversess holds what the two providers of the SMB server's
// sessions (Samba's smbstatus on Linux, the Server service on Windows)
// share: the three class names, the object paths of a session and a
// connection, and how a hint narrows their instances.
package serversess

import (
	"strings"

	"github.com/cimsess/cimsess/cim"
)

// The classes served.
const (
	SessionClass     = "Win32_ServerSession"
	ConnectionClass  = "Win32_ServerConnection"
	AssociationClass = "Win32_SessionConnection"
)

// Namespace is the namespace of the paths built with a host.
const Namespace = "root/cimv2"

// SessionPath returns the object path of a Win32_ServerSession; without
// a host it has no namespace either.
func SessionPath(host, computer, user string) cim.ObjectPath {
	return cim.ObjectPath{Host: host, Namespace: namespaceIf(host), ClassName: SessionClass,
		Keys: []cim.KeyBinding{{Name: "ComputerName", Value: computer}, {Name: "UserName", Value: user}}}
}

// ConnectionPath returns the object path of a Win32_ServerConnection;
// without a host it has no namespace either.
func ConnectionPath(host, computer, share, user string) cim.ObjectPath {
	return cim.ObjectPath{Host: host, Namespace: namespaceIf(host), ClassName: ConnectionClass,
		Keys: []cim.KeyBinding{{Name: "ComputerName", Value: computer}, {Name: "ShareName", Value: share}, {Name: "UserName", Value: user}}}
}

func namespaceIf(host string) string {
	if host == "" {
		return ""
	}
	return Namespace
}

// MatchKeys reports whether in has the string values keys asks for
// (a hint's Keys); fold compares them without regard to case, as Windows
// names are. Keys in has no string value for, and values of keys that
// are not strings, do not narrow.
func MatchKeys(in *cim.Instance, keys map[string]any, fold bool) bool {
	for k, want := range keys {
		s, ok := want.(string)
		if !ok {
			continue
		}
		if got, isStr := in.Value(k).(string); isStr && !(got == s || fold && strings.EqualFold(got, s)) {
			return false
		}
	}
	return true
}

// RefersTo reports whether one of in's references is target, compared
// by class and keys (host and namespace aside); true for a nil target.
func RefersTo(in *cim.Instance, target *cim.ObjectPath) bool {
	if target == nil {
		return true
	}
	t := *target
	t.Host, t.Namespace = "", ""
	for _, pv := range in.Properties {
		if ref, ok := pv.Value.(cim.ObjectPath); ok {
			ref.Host, ref.Namespace = "", ""
			if ref.Equal(t) {
				return true
			}
		}
	}
	return false
}
