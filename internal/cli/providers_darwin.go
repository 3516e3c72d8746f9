//go:build darwin

package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/darwin"
)

func init() {
	// macOS's logins are in /var/run/utmpx; --utmp names a copy of a
	// Linux utmp file, which the Linux provider reads.
	registerProviders(func(SourceFlags) ([]provider.Provider, error) {
		return []provider.Provider{darwin.New(darwin.Options{})}, nil
	})
}
