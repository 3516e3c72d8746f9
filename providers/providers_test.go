//go:build linux

package providers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/cli"
	"github.com/cimsess/cimsess/providers"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestSameAsCLI checks that a Go program gets what the command line gets:
// for each class, the instances the object manager of NewObjectManager
// enumerates on the fixture machine are those `cimsess enum -o json`
// prints with the same sources, path for path.
func TestSameAsCLI(t *testing.T) {
	dir := filepath.Join("testdata", "machine")
	// The CLI has flags for these sources only: the accounts and the clock
	// are this machine's on both sides.
	opts := providers.Options{Utmp: filepath.Join(dir, "utmp"), Layout: utmp.Layout384, Proc: filepath.Join(dir, "proc"),
		Logind: filepath.Join(dir, "sessions"), SmbStatus: "sh " + filepath.Join(dir, "smbstatus.sh"), Host: "fixture"}
	flags := []string{"--utmp", opts.Utmp, "--layout", "384", "--proc", opts.Proc, "--logind", opts.Logind,
		"--smbstatus", opts.SmbStatus, "--host", opts.Host}
	om, err := providers.NewObjectManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"Win32_Session", "Win32_Process", "Win32_UserAccount", "Win32_LoggedOnUser",
		"Win32_SessionProcess", "Win32_ServerSession", "Win32_ServerConnection", "Win32_SessionConnection"} {
		t.Run(class, func(t *testing.T) {
			insts, err := om.EnumerateInstances(context.Background(), class, cimom.EnumOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range insts {
				got = append(got, in.Path.String())
			}
			var stdout, stderr bytes.Buffer
			if code := cli.Main(append([]string{"enum", class, "-o", "json"}, flags...), strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("cimsess enum %s: exit %d: %s", class, code, stderr.String())
			}
			var rows []map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range rows {
				p, _ := r["__PATH"].(string)
				want = append(want, p)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("object manager:\n%s\ncimsess enum:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(got) == 0 {
				t.Errorf("no %s on the fixture machine: the comparison says nothing", class)
			}
		})
	}
}

// TestZeroLayoutIsNative checks that the zero Options.Layout reads this
// machine's own layout, as the CLI's default --layout native does.
func TestZeroLayoutIsNative(t *testing.T) {
	path := filepath.Join(t.TempDir(), "utmp")
	if err := utmp.WriteFile(path, []utmp.Record{{Type: utmp.UserProcess, PID: 4_000_000, Line: "pts/9", ID: "ts/9", User: "zed"}}, utmp.Native); err != nil {
		t.Fatal(err)
	}
	om, err := providers.NewObjectManager(providers.Options{Utmp: path, Proc: t.TempDir(), Logind: t.TempDir(), Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	insts, err := om.EnumerateInstances(context.Background(), "Win32_LogonSession", cimom.EnumOptions{})
	if err != nil || len(insts) != 1 || insts[0].Value("UserName") != "zed" {
		t.Fatalf("got %v, %v; want zed's session", insts, err)
	}
}
