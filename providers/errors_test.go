//go:build linux

package providers_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/providers"
)

// TestErrorsKeepTheirCause checks, for each file source, what a program
// gets when the file is missing: a *cim.Error with the provider's code
// and the object manager's context, whose cause is still the reader's
// fs.ErrNotExist.
func TestErrorsKeepTheirCause(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	cases := []struct {
		class string
		opts  func(*providers.Options)
		code  cim.Status
	}{
		{"Win32_LogonSession", func(o *providers.Options) { o.Utmp = missing }, cim.ErrNotFound},
		{"Win32_Process", func(o *providers.Options) { o.Proc = missing }, cim.ErrFailed},
		{"Win32_UserAccount", func(o *providers.Options) { o.EtcRoot = missing }, cim.ErrFailed},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			opts := machine()
			c.opts(&opts)
			om, err := providers.NewObjectManager(opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = om.EnumerateInstances(context.Background(), c.class, cimom.EnumOptions{})
			var ce *cim.Error
			if !errors.As(err, &ce) || ce.Code != c.code || !strings.Contains(ce.Description, "provider ") {
				t.Errorf("error %v: want a *cim.Error %v with the object manager's context", err, c.code)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) is false", err)
			}
		})
	}
}
