// Package sysfile is the root of the readers of the operating system's
// session files: sysfile/utmp (glibc utmp and wtmp), sysfile/utmpx (macOS
// and FreeBSD utmpx), sysfile/procfs (Linux's /proc) and sysfile/logind
// (systemd-logind's session state). They sit apart from the providers so
// that any Go program can read these files without the object manager or
// a provider; of CIM they use only the status codes of their errors.
//
// This package itself holds no code.
package sysfile
