//go:build darwin || freebsd

package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/darwin"
)

// On macOS and FreeBSD the logins are in the utmpx file (/var/run/utmpx,
// /var/run/utx.active), which the darwin provider reads in each system's
// own format.
func init() {
	registerProviders(func(SourceFlags) ([]provider.Provider, error) {
		return []provider.Provider{darwin.New(darwin.Options{})}, nil
	})
}
