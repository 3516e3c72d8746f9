package providers

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/windows"
)

// New returns the providers of this system's sources. On Windows, logon
// sessions come from LSA and WTS, and the Server service holds the SMB
// sessions and connections (there is no smbstatus); the file options are
// not used.
func New(opts Options) ([]provider.Provider, error) {
	wo := windows.Options{Host: opts.Host}
	return []provider.Provider{windows.NewLogonProvider(wo), windows.NewServerProvider(wo)}, nil
}
