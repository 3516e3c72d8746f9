//go:build darwin || freebsd

package providers

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/bsd"
)

// New returns the providers of this system's sources. On macOS and
// FreeBSD the logins are in the utmpx file (/var/run/utmpx,
// /var/run/utx.active, or Options.Utmp), which the bsd provider reads in
// each system's own format.
func New(opts Options) ([]provider.Provider, error) {
	return []provider.Provider{bsd.New(bsd.Options{Path: opts.Utmp})}, nil
}
