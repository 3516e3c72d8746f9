// Package sysfile is the root of the readers of the operating system's
// session files: sysfile/utmp (glibc utmp and wtmp), sysfile/utmpx (macOS
// and FreeBSD utmpx), sysfile/procfs (Linux's /proc) and sysfile/logind
// (systemd-logind's session state). They sit apart from the providers so
// that any Go program can read these files without the object manager or
// a provider. They do not import CIM: their errors are plain Go errors
// that wrap their cause (errors.Is(err, fs.ErrNotExist) holds), and each
// provider maps them to CIM status codes once (cim.Map).
//
// This package itself holds no code.
package sysfile
