package cli

import (
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/process"
)

// logonSessions returns the logon sessions that Win32_LoggedOnUser and
// Win32_SessionProcess join to accounts and processes: the file that wires
// the logon-session provider sets it. While it is nil those two
// associations have no provider.
var logonSessions func(SourceFlags) (assoc.Sessions, error)

func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		names := userNames(f)
		procs := process.New(process.Options{Proc: f.Proc, Host: f.Host,
			UserName: func(uid uint32) string { n, _ := names(uid); return n }})
		ps := []provider.Provider{procs}
		if logonSessions != nil {
			sessions, err := logonSessions(f)
			if err != nil {
				return nil, err
			}
			ps = append(ps, assoc.New(assoc.Options{Sessions: sessions, Accounts: newAccounts(f), Processes: procs, Host: f.Host}))
		}
		return ps, nil
	})
}
