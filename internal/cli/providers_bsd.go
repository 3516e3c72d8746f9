//go:build darwin || freebsd

package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/bsd"
)

// On macOS and FreeBSD the logins are in the utmpx file (/var/run/utmpx,
// /var/run/utx.active), which the bsd provider reads in each system's
// own format.
func init() {
	registerProviders(func(SourceFlags) ([]provider.Provider, error) {
		return []provider.Provider{bsd.New(bsd.Options{})}, nil
	})
}
