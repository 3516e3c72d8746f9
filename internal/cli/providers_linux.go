package cli

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/provider/samba"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// On Linux every source is wired here, each provider built once: the logon
// sessions feed the associations, and one user database names every uid.
func init() {
	registerProviders(func(f SourceFlags) ([]provider.Provider, error) {
		accts := accounts.New(accounts.Options{Root: f.EtcRoot, Domain: f.Host, Host: f.Host, Now: f.Now})
		names := userNames(accts)
		layout, err := utmp.ParseLayout(f.Layout)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--layout: %w", err)}
		}
		logons := linux.New(linux.Options{UtmpPath: f.Utmp, Layout: layout, ProcRoot: f.Proc, LogindRoot: f.Logind, DevRoot: f.DevRoot, UserName: names, Now: f.Now})
		procs := process.New(process.Options{Proc: f.Proc, Host: f.Host, OSName: f.OSName,
			UserName: func(uid uint32) string { n, _ := names(uid); return n }})
		sessions := func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
			return provider.Collect(ctx, logons, linux.ClassName, h)
		}
		return []provider.Provider{
			logons,
			accts,
			procs,
			assoc.New(assoc.Options{Sessions: sessions, Accounts: accts, Processes: procs, Host: f.Host}),
			samba.New(samba.Options{Command: f.SmbStatus, Conf: f.SmbConf, Host: f.Host, Proc: f.Proc, UserName: names, Now: f.Now}),
		}, nil
	})
}

// userNames returns a uid-to-name function over the local user database,
// read on first use; a uid it does not know is named by its number.
func userNames(accts *accounts.Provider) func(uid uint32) (string, bool) {
	var (
		once sync.Once
		db   *accounts.DB
		err  error
	)
	return func(uid uint32) (string, bool) {
		once.Do(func() { db, err = accts.DB(context.Background()) })
		if err == nil && db != nil {
			if a, ok := db.LookupUID(uid); ok {
				return a.Name, true
			}
		}
		return strconv.FormatUint(uint64(uid), 10), false
	}
}
