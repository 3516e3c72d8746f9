package providers

import (
	"context"
	"strconv"
	"sync"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/accounts"
	"github.com/cimsess/cimsess/provider/assoc"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/provider/process"
	"github.com/cimsess/cimsess/provider/samba"
)

// New returns the providers of this system's sources. On Linux each is
// built once: the logon sessions feed the associations, and one user
// database names every uid. Nothing is read until an operation asks.
func New(opts Options) ([]provider.Provider, error) {
	accts := accounts.New(accounts.Options{Root: opts.EtcRoot, Domain: opts.Host, Host: opts.Host, Now: opts.Now})
	names := userNames(accts)
	logons := linux.New(linux.Options{UtmpPath: opts.Utmp, Layout: opts.layout(), ProcRoot: opts.Proc, LogindRoot: opts.Logind,
		DevRoot: opts.DevRoot, UserName: names, Now: opts.Now})
	procs := process.New(process.Options{Proc: opts.Proc, Host: opts.Host, OSName: opts.OSName,
		UserName: func(uid uint32) string { n, _ := names(uid); return n }})
	sessions := func(ctx context.Context, h provider.Hint) ([]*cim.Instance, error) {
		return provider.Collect(ctx, logons, linux.ClassName, h)
	}
	return []provider.Provider{
		logons,
		accts,
		procs,
		assoc.New(assoc.Options{Sessions: sessions, Accounts: accts, Processes: procs, Host: opts.Host}),
		samba.New(samba.Options{Command: opts.SmbStatus, Conf: opts.SmbConf, Host: opts.Host, Proc: opts.Proc, UserName: names, Now: opts.Now}),
	}, nil
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
