package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestTruncatedUtmpWarns: a truncated last utmp record is warned about on
// stderr by enum, query and get even when instances are found; and when
// /proc cannot be read, a deep enumeration answers with the other sources
// and a warning.
func TestTruncatedUtmpWarns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "utmp")
	l := utmp.LayoutFor("")
	rec := utmp.Record{Type: utmp.UserProcess, PID: 999999, Line: "pts/9", ID: "ts/9", User: "alice", Host: "10.0.0.9", Time: time.Now().Add(-time.Hour)}
	b := append(utmp.Encode(rec, l), utmp.Encode(rec, l)[:100]...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	procDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(procDir, "stat"), []byte("btime 1760000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := []string{"--utmp", path, "--proc", procDir, "--logind", filepath.Join(dir, "none"), "--smbstatus", "/nonexistent/smbstatus", "--host", "h"}
	for _, args := range [][]string{
		{"enum", "Win32_LogonSession"},
		{"query", "SELECT LogonId FROM Win32_LogonSession"},
		{"get", `Win32_LogonSession.LogonId="utmp:pts/9:999999"`},
	} {
		var out, errb bytes.Buffer
		code := Main(append(args, src...), strings.NewReader(""), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "pts/9") && !strings.Contains(out.String(), "999999") {
			t.Errorf("%v: exit %d, %q, %s", args, code, out.String(), errb.String())
		}
		if !strings.Contains(errb.String(), "cimsess: warning: utmp "+path) {
			t.Errorf("%v: no warning of the truncated record: %q", args, errb.String())
		}
	}
	// /proc not readable: the sessions still answer, with a warning.
	var out, errb bytes.Buffer
	code := Main(append([]string{"query", "SELECT * FROM CIM_LogicalElement"}, append(src[:2:2], "--proc", filepath.Join(dir, "noproc"), "--host", "h")...), strings.NewReader(""), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "alice") || !strings.Contains(errb.String(), "warning: ") {
		t.Errorf("no /proc: exit %d, %q, %q", code, out.String(), errb.String())
	}
}
