package cli

import (
	"context"
	"strconv"

	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
)

func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		return []provider.Provider{newAccounts(f)}, nil
	})
}

// newAccounts returns the Win32_UserAccount provider for the flags: the
// domain is --host when given, else this machine's short name.
func newAccounts(f SourceFlags) *accounts.Provider {
	return accounts.New(accounts.Options{Domain: f.Host, Host: f.Host})
}

// userNames returns a uid-to-name function over the local user database,
// read once; without one, names are the uids in decimal.
func userNames(f SourceFlags) func(uid uint32) (string, bool) {
	db, err := newAccounts(f).DB(context.Background())
	return func(uid uint32) (string, bool) {
		if err == nil {
			if a, ok := db.LookupUID(uid); ok {
				return a.Name, true
			}
		}
		return strconv.FormatUint(uint64(uid), 10), false
	}
}
