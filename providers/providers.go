// Package providers wires this operating system's session sources into
// an object manager, exactly as the cimsess command does: on Linux the
// logon sessions (utmp, /proc, logind), local accounts, processes, the
// associations between them and Samba's SMB sessions; on Windows LSA, WTS
// and the Server service; on macOS and FreeBSD the utmpx file. A Go
// program that wants what `cimsess query` answers calls [NewObjectManager]
// (or [New] for the providers alone, to add its own) with the same
// [Options] the command's source flags set.
//
// Dependencies point down the data flow: this package knows the
// providers and cimom; the providers and cimom know nothing of it.
package providers

import (
	"time"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// Options say where each source is, as cimsess's source flags do. The
// zero Options read this machine's own sources; pointing them at copies
// of another machine's files reads that machine's sessions. A field a
// system has no use for is ignored there (only Linux reads /proc).
type Options struct {
	// Utmp is the login records file: utmp on Linux (default
	// /var/run/utmp), utmpx on macOS and FreeBSD (default the system's).
	// A file named here must exist; the default may be missing.
	Utmp string
	// Layout is the record layout of a Linux utmp (another machine's
	// files); the zero Layout is utmp.Native.
	Layout utmp.Layout
	// Proc is the procfs root; default /proc.
	Proc string
	// Logind is systemd-logind's sessions folder; default
	// /run/systemd/sessions.
	Logind string
	// SmbStatus is the smbstatus command of the SMB sessions, split into
	// words at spaces; default smbstatus from PATH.
	SmbStatus string
	// SmbConf is the smb.conf passed to smbstatus -s; default Samba's own.
	SmbConf string
	// Host is the host name in instance paths and account domains;
	// default this machine's name.
	Host string

	// EtcRoot is the folder holding etc/passwd and etc/shadow; default
	// the root folder.
	EtcRoot string
	// DevRoot is the folder of the terminals, whose access times give
	// idle times; default /dev.
	DevRoot string
	// OSName is the operating system's name in Win32_Process; default
	// the one os-release gives.
	OSName string
	// Now is the clock; default time.Now.
	Now func() time.Time

	// Version is the product version the object manager gives of itself
	// in root/interop (see cimom.Options); default "dev".
	Version string
}

// NewObjectManager returns an object manager of namespace root/cimv2
// (and root/interop beside it) over the default schema and the providers
// [New] builds: what the cimsess command asks (enum, query, get, watch,
// serve).
func NewObjectManager(opts Options) (*cimom.ObjectManager, error) {
	reg, err := schema.Default()
	if err != nil {
		return nil, err
	}
	ps, err := New(opts)
	if err != nil {
		return nil, err
	}
	return cimom.New(reg, cimom.Options{Host: opts.Host, Version: opts.Version}, ps...)
}

// layout is opts.Layout, utmp.Native when it is the zero Layout.
func (opts Options) layout() utmp.Layout {
	if opts.Layout == (utmp.Layout{}) {
		return utmp.Native
	}
	return opts.Layout
}
