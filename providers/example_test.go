//go:build linux

package providers_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"path/filepath"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/providers"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// machine returns the options of the fixture machine in testdata/machine
// (the CLI's golden test machine): a copy of a Linux machine's utmp, /proc,
// logind sessions, passwd and smbstatus output, and its clock.
func machine() providers.Options {
	dir := filepath.Join("testdata", "machine")
	return providers.Options{
		Utmp:      filepath.Join(dir, "utmp"),
		Layout:    utmp.Layout384,
		Proc:      filepath.Join(dir, "proc"),
		Logind:    filepath.Join(dir, "sessions"),
		SmbStatus: "sh " + filepath.Join(dir, "smbstatus.sh"),
		EtcRoot:   dir,
		Host:      "fixture",
		Now:       func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) },
	}
}

// A Go program asks what `cimsess query` answers. The zero Options read
// this machine's own sources; these point at a copy of another machine's.
func ExampleNewObjectManager() {
	om, err := providers.NewObjectManager(machine())
	if err != nil {
		log.Fatal(err)
	}
	sessions, _, err := om.ExecQuery(context.Background(),
		"SELECT LogonId, UserName, LogonType, Status FROM Linux_LogonSession WHERE UserName = 'alice'")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sessions {
		fmt.Println(s.Path, s.Value("UserName"), s.Value("LogonType"), s.Value("Status"))
	}
	// Output:
	// \\fixture\root\cimv2:Linux_LogonSession.LogonId="3" alice 10 Lost Comm
	// \\fixture\root\cimv2:Linux_LogonSession.LogonId="7" alice 3 Starting
	// \\fixture\root\cimv2:Linux_LogonSession.LogonId="utmp:pts/3:4242" alice 10 Lost Comm
}

// The providers alone, for a program that adds its own before making the
// object manager (cimom.New), or calls one directly.
func ExampleNew() {
	ps, err := providers.New(providers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ps {
		fmt.Println(p.Name(), p.Classes())
	}
	// Output:
	// linux-logon [Linux_LogonSession]
	// accounts [Win32_UserAccount]
	// process [Win32_Process]
	// assoc [Win32_LoggedOnUser Win32_SessionProcess]
	// samba [Win32_ServerSession Win32_ServerConnection Win32_SessionConnection]
}

// Errors keep their CIM code for a front end and their cause for Go:
// a utmp that was named and is not there.
func ExampleNewObjectManager_error() {
	opts := machine()
	opts.Utmp = filepath.Join("testdata", "no-such-utmp")
	om, err := providers.NewObjectManager(opts)
	if err != nil {
		log.Fatal(err)
	}
	_, err = om.EnumerateInstances(context.Background(), "Win32_LogonSession", cimom.EnumOptions{})
	fmt.Println(cim.CodeOf(err), errors.Is(err, fs.ErrNotExist))
	// Output:
	// CIM_ERR_NOT_FOUND true
}
