package cli

import (
	"runtime"

	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/linux"
)

func init() {
	registerProviders(func(s SourceFlags) ([]provider.Provider, error) {
		// Other systems read Linux's files only when pointed at copies.
		if runtime.GOOS != "linux" && s.Utmp == "" && s.Proc == "" && s.Logind == "" {
			return nil, nil
		}
		return []provider.Provider{linux.New(linux.Options{UtmpPath: s.Utmp, ProcRoot: s.Proc, LogindRoot: s.Logind})}, nil
	})
}
