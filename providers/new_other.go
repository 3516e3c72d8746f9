//go:build !linux && !windows && !darwin && !freebsd

package providers

import "github.com/cimsess/cimsess/provider"

// New returns the providers of this system's sources. cimsess has none
// for this system: its one provider answers Win32_LogonSession (and so
// Win32_Session) with CIM_ERR_NOT_SUPPORTED (see [unsupported]).
func New(Options) ([]provider.Provider, error) { return []provider.Provider{unsupported{}}, nil }
