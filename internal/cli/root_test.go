package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsageExitCodes: an unknown command or flag is a usage error (exit
// 2), and a query the shell split into words says to quote it.
func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, "unknown command"},
		{[]string{"--bogus"}, "unknown flag"},
		{[]string{"enum", "--bogus", "X"}, "unknown flag"},
		{[]string{"query", "SELECT", "*", "FROM", "Win32_Process"}, `quote the whole argument, as in cimsess query "SELECT * FROM Win32_Process"`},
	} {
		var out, errb bytes.Buffer
		code := Main(tc.args, strings.NewReader(""), &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), ExitUsage, tc.want)
		}
	}
}
