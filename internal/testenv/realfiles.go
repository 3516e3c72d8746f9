package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RealFile is a utmp or wtmp file written by a real system (see
// testdata/realfiles/README.md), with its record layout and, when `who`
// and `last` could read it here, their recorded output.
type RealFile struct {
	Name   string // folder/file, such as "util-linux/wtmp-a.LE"
	Path   string
	Layout string // as utmp.ParseLayout reads it: "384", "384be", "400", "400be"
	// Who and Last are `who FILE` and `last -f FILE --time-format iso -w`
	// as recorded (TZ=UTC), or "" when not recorded (a layout the tools
	// here cannot read, or a corrupt file).
	Who, Last string
}

var realFiles = []struct{ name, layout string }{
	{"util-linux/wtmp-a.LE", "384"}, {"util-linux/wtmp-a.BE", "384be"},
	{"util-linux/wtmp-b.LE", "384"}, {"util-linux/wtmp-b.BE", "384be"},
	{"util-linux/wtmp-ipv6.LE", "384"}, {"util-linux/wtmp-ipv6.BE", "384be"},
	{"plaso/utmp", "384"}, {"plaso/utmp_x86_64", "384"}, {"plaso/wtmp.1", "384"},
	{"plaso/utmp_aarch64", "400"}, {"plaso/utmp_s390", "400be"},
	{"utmp-rs/basic32.utmp", "384"}, {"utmp-rs/basic64.utmp", "400"},
	{"utmp-rs/long_user_32.utmp", "384"}, {"utmp-rs/with_host_32.utmp", "384"},
}

// RealFiles returns the real files, read from this package's testdata
// wherever the test runs.
func RealFiles(tb testing.TB) []RealFile {
	tb.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "testdata", "realfiles")
	var out []RealFile
	for _, f := range realFiles {
		rf := RealFile{Name: f.name, Path: filepath.Join(dir, filepath.FromSlash(f.name)), Layout: f.layout}
		if _, err := os.Stat(rf.Path); err != nil {
			tb.Fatalf("real file %s: %v", f.name, err)
		}
		if b, err := os.ReadFile(rf.Path + ".who"); err == nil {
			rf.Who = string(b)
		}
		if b, err := os.ReadFile(rf.Path + ".last"); err == nil {
			rf.Last = string(b)
		}
		out = append(out, rf)
	}
	return out
}
