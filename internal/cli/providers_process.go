package cli

import (
	"context"
	"runtime"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/provider/process"
)

func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		names := userNames(f)
		procs := process.New(process.Options{Proc: f.Proc, Host: f.Host,
			UserName: func(uid uint32) string { n, _ := names(uid); return n }})
		ps := []provider.Provider{procs}
		if sessions := logonSessions(f, names); sessions != nil {
			ps = append(ps, assoc.New(assoc.Options{Sessions: sessions, Accounts: newAccounts(f), Processes: procs, Host: f.Host}))
		}
		return ps, nil
	})
}

// logonSessions returns the logon sessions that Win32_LoggedOnUser and
// Win32_SessionProcess join to accounts and processes: a Linux logon
// provider of its own over the same sources as the registered one (see
// providers_linux.go), or nil where there is none.
func logonSessions(f SourceFlags, names func(uint32) (string, bool)) assoc.Sessions {
	if runtime.GOOS != "linux" && f.Utmp == "" && f.Proc == "" && f.Logind == "" {
		return nil
	}
	lp := linux.New(linux.Options{UtmpPath: f.Utmp, ProcRoot: f.Proc, LogindRoot: f.Logind, UserName: names})
	return func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
		return lp.Enumerate(ctx, linux.ClassName, h)
	}
}
