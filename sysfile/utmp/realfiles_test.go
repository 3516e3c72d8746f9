package utmp_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestRealFiles checks the real files of util-linux, plaso and utmp-rs:
// each is read in its own layout and refused in every other one, and the
// logins read are the lines who printed for it (recorded beside it).
func TestRealFiles(t *testing.T) {
	for _, rf := range testenv.RealFiles(t) {
		t.Run(rf.Name, func(t *testing.T) {
			own, err := utmp.ParseLayout(rf.Layout)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(rf.Path)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range utmp.Layouts {
				err := utmp.CheckLayout(strings.NewReader(string(data)), int64(len(data)), rf.Name, l)
				var le *utmp.LayoutError
				switch {
				case l == own && err != nil:
					t.Errorf("refused in its own layout: %v", err)
				case l != own && !errors.As(err, &le):
					t.Errorf("read as %v: %v", l, err)
				case l != own && le.Likely.Valid() && le.Likely != own:
					t.Errorf("read as %v: named %v, not %v", l, le.Likely, own)
				}
			}
			var logins []utmp.Record
			if _, err := utmp.ReadFile(context.Background(), rf.Path, own, func(r utmp.Record) error {
				if r.UserProcess() {
					logins = append(logins, r)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if rf.Who == "" {
				return
			}
			lines := strings.Split(strings.TrimSuffix(rf.Who, "\n"), "\n")
			if rf.Who == "" || rf.Who == "\n" {
				lines = nil
			}
			if len(lines) != len(logins) {
				t.Fatalf("%d logins, who printed %d lines:\n%s", len(logins), len(lines), rf.Who)
			}
			for i, r := range logins {
				f := strings.Fields(lines[i])
				if len(f) < 2 || f[0] != r.User || f[1] != r.Line {
					t.Errorf("#%d: %s %s; who: %s", i, r.User, r.Line, lines[i])
				}
			}
		})
	}
}
