//go:build windows

package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/windows"
)

// On Windows, logon sessions come from LSA and WTS, and the Server service
// holds the SMB sessions and connections (there is no smbstatus).
func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		opts := windows.Options{Host: f.Host}
		return []provider.Provider{windows.NewLogonProvider(opts), windows.NewServerProvider(opts)}, nil
	})
}
