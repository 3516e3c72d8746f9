//go:build unix

package linux

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestReaderErrorsMappedOnce checks the one mapping of the readers'
// plain errors: the provider turns them into a *cim.Error with the code
// cim.Map gives, the object manager adds its context, and the reader's
// cause is still there for errors.Is at the end.
func TestReaderErrorsMappedOnce(t *testing.T) {
	w := newWorld(t)
	reg, err := schema.Default()
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("\xff", 384*4)), 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(t.TempDir(), "utmp")
	if err := os.WriteFile(unreadable, nil, 0o200); err != nil {
		t.Fatal(err)
	}
	type errCase struct {
		name   string
		path   string
		layout utmp.Layout
		code   cim.Status
		cause  error
		text   string
	}
	cases := []errCase{
		{"missing", filepath.Join(t.TempDir(), "none"), utmp.Native, cim.ErrNotFound, fs.ErrNotExist, "no such file"},
		{"fifo", fifo, utmp.Native, cim.ErrFailed, nil, "not a regular file"},
		{"not utmp", garbage, utmp.Layout384, cim.ErrFailed, nil, "does not hold plausible"},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, errCase{"permission", unreadable, utmp.Native, cim.ErrAccessDenied, fs.ErrPermission, "permission denied"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := New(Options{UtmpPath: c.path, Layout: c.layout, ProcRoot: w.proc, LogindRoot: w.logind, UserName: userName})
			_, err := provider.Collect(context.Background(), p, ClassName, provider.Hint{})
			var ce *cim.Error
			if !errors.As(err, &ce) || ce.Code != c.code || !strings.Contains(ce.Description, c.text) {
				t.Fatalf("provider error = %v, want a *cim.Error %v with %q", err, c.code, c.text)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Errorf("errors.Is(%v, %v) is false", err, c.cause)
			}
			om, err := cimom.New(reg, cimom.Options{Host: "h"}, p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = om.EnumerateInstances(context.Background(), "Win32_LogonSession", cimom.EnumOptions{})
			if cim.CodeOf(err) != c.code || !strings.Contains(err.Error(), "class "+ClassName+": utmp: ") {
				t.Errorf("object manager error = %v, want code %v with the provider's context", err, c.code)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Errorf("errors.Is(%v, %v) is false through the object manager", err, c.cause)
			}
		})
	}
}
