package cli

import (
	"bytes"
	"runtime"
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

// TestSelectListCarriesKeys: a select list shows the keys and __RELPATH
// in every format, __PATH in every format but the table, and no property
// it did not name (CIM-XML leaves the others out rather than writing them
// as NULL); a key given in another case finds the account (pushed down
// to the accounts provider).
func TestSelectListCarriesKeys(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the accounts of /etc/passwd")
	}
	for format, want := range map[string]string{
		"csv":   "__CLASS,FullName,Name,Domain,__RELPATH,__PATH\nWin32_UserAccount,",
		"table": "FullName  Name  Domain    __RELPATH",
		"json":  `"__RELPATH": "Win32_UserAccount.Domain=\"testhost\",Name=\"root\""`,
		"list":  "__RELPATH=Win32_UserAccount.Domain=\"testhost\",Name=\"root\"\n__PATH=\\\\testhost\\root\\cimv2:Win32_UserAccount.Domain=\"testhost\",Name=\"root\"",
		"mof":   "// __PATH = \"\\\\\\\\testhost\\\\root\\\\cimv2:Win32_UserAccount.Domain=\\\"testhost\\\",Name=\\\"root\\\"\"\ninstance of Win32_UserAccount\n{",
		"xml":   `<VALUE>testhost</VALUE></PROPERTY><PROPERTY NAME="FullName" TYPE="string"><VALUE>root</VALUE></PROPERTY></INSTANCE>`,
	} {
		var out, errb bytes.Buffer
		code := Main([]string{"query", "SELECT FullName FROM Win32_UserAccount WHERE Name='ROOT'", "--host", "testhost", "-o", format}, strings.NewReader(""), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("%s: exit %d, %q %s; want %q", format, code, out.String(), errb.String(), want)
		}
		if strings.Contains(out.String(), "Caption") {
			t.Errorf("%s: shows a property not selected: %s", format, out.String())
		}
	}
}

// TestClassesInMOF: a query whose results are classes writes each as its
// MOF declaration (with its system properties as comments), not as an
// instance of it, so that a MOF compiler reads the output.
func TestClassesInMOF(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"query", "SELECT * FROM meta_class WHERE __CLASS = 'Win32_LogonSession'", "--host", "testhost", "-o", "mof"}, strings.NewReader(""), &out, &errb)
	got := out.String()
	if code != 0 || !strings.Contains(got, "// __CLASS = \"Win32_LogonSession\"\n") || !strings.Contains(got, "class Win32_LogonSession : Win32_Session {") ||
		strings.Contains(got, "instance of") {
		t.Errorf("exit %d: %s%s", code, got, errb.String())
	}
}
