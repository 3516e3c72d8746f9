//go:build windows

package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/windows"
)

func init() {
	// On Windows the Server service holds the SMB sessions, and there is
	// no smbstatus: the Samba provider, registered for every system, steps
	// aside unless --smbstatus names a command, and the Windows one serves
	// the three SMB classes instead. (The files' init functions run in name
	// order, so Samba's factory is registered by now.)
	for i, f := range providerFactories {
		providerFactories[i] = withoutSamba(f)
	}
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		opts := windows.Options{Host: f.Host}
		ps := []provider.Provider{windows.NewLogonProvider(opts)}
		if f.SmbStatus == "" {
			ps = append(ps, windows.NewServerProvider(opts))
		}
		return ps, nil
	})
}

// withoutSamba drops the Samba provider from what a factory builds,
// unless the flags name an smbstatus command.
func withoutSamba(factory func(SourceFlags) ([]provider.Provider, error)) func(SourceFlags) ([]provider.Provider, error) {
	return func(f SourceFlags) ([]provider.Provider, error) {
		ps, err := factory(f)
		if err != nil || f.SmbStatus != "" {
			return ps, err
		}
		kept := ps[:0]
		for _, p := range ps {
			if p.Name() != "samba" {
				kept = append(kept, p)
			}
		}
		return kept, nil
	}
}
