package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/samba"
)

func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		return []provider.Provider{samba.New(samba.Options{
			Command:  f.SmbStatus,
			Conf:     f.SmbConf,
			Host:     f.Host,
			Proc:     f.Proc,
			UserName: userNames(f),
		})}, nil
	})
}
