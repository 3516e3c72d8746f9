package providers

import (
	"context"
	"runtime"

	"github.com/cimsess/cimsess/provider"
)

// unsupported serves the logon sessions of a system cimsess cannot read
// (NetBSD, OpenBSD): CIM_ERR_NOT_SUPPORTED, not no instances, which would
// read as "nobody is logged in".
type unsupported struct{}

// Name names the provider.
func (unsupported) Name() string { return "unsupported-" + runtime.GOOS }

// Classes are the classes it answers for.
func (unsupported) Classes() []string { return []string{"Win32_LogonSession"} }

// Enumerate says that this system's logon sessions cannot be read.
func (unsupported) Enumerate(context.Context, string, provider.Hint, provider.Emit) error {
	return provider.ErrNotImplemented
}
