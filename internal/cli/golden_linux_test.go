//go:build linux

package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the CLI's golden files in testdata/golden from this run")

// goldenNow is the fixture machine's clock, and goldenZone its local zone.
var (
	goldenNow  = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	goldenZone = time.FixedZone("CET", 3600)
)

// machineFlags are the source flags that point every command at the
// checked-in fixture machine (testdata/machine): its utmp (384-byte
// records, whatever this machine's layout), proc tree, logind sessions
// and smbstatus output.
func machineFlags(dir string) []string {
	return []string{"--utmp", filepath.Join(dir, "utmp"), "--layout", "384", "--proc", filepath.Join(dir, "proc"),
		"--logind", filepath.Join(dir, "sessions"), "--smbstatus", "sh " + filepath.Join(dir, "smbstatus.sh"), "--host", "fixture"}
}

// TestGoldenCLI runs every command and format through the command line
// (run, which Main wraps) on the fixture machine, with a fixed clock and
// zone, and compares stdout, stderr and the exit code with
// testdata/golden; go test -run TestGoldenCLI -update rewrites them.
func TestGoldenCLI(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "machine"))
	if err != nil {
		t.Fatal(err)
	}
	src := machineFlags(dir)
	q := func(args ...string) []string { return append(args, src...) }
	session := `Linux_LogonSession.LogonId="7"`
	cases := map[string][]string{
		"classes":                {"classes"},
		"class-mof":              {"class", "Win32_LogonSession", "-o", "mof"},
		"classes-interop":        {"classes", "--namespace", "root/interop"},
		"enum-interop-table":     q("enum", "CIM_Namespace", "-n", `root\interop`),
		"enum-interop-csv":       q("enum", "CIM_Namespace", "-n", "ROOT/Interop", "-o", "csv"),
		"enum-unknown-namespace": q("enum", "CIM_Namespace", "-n", "root/nothere"),
		"enum-session-table":     q("enum", "Win32_Session"),
		"enum-session-width60":   q("enum", "Win32_Session", "--width", "60"),
		"enum-session-wrap":      q("enum", "Win32_LogonSession", "--width", "70", "--wrap"),
		"enum-logon-list":        q("enum", "Linux_LogonSession", "-o", "list"),
		"enum-logon-json":        q("enum", "Linux_LogonSession", "-o", "json"),
		"enum-logon-csv":         q("enum", "Linux_LogonSession", "-o", "csv"),
		"enum-logon-mof":         q("enum", "Linux_LogonSession", "-o", "mof"),
		"enum-logon-xml":         q("enum", "Linux_LogonSession", "-o", "xml"),
		"enum-process-table":     q("enum", "Win32_Process", "--width", "100"),
		"enum-process-csv":       q("enum", "Win32_Process", "-o", "csv"),
		"enum-account-list":      q("enum", "Win32_UserAccount", "-o", "list"),
		"enum-smb-table":         q("enum", "Win32_ServerSession"),
		"enum-smb-csv":           q("enum", "Win32_ServerConnection", "-o", "csv"),
		"query-mixed-classes":    q("query", "SELECT Caption, Name FROM CIM_LogicalElement", "--width", "0"),
		"enum-shallow-empty-csv": q("enum", "Win32_Session", "--shallow", "-o", "csv"),
		"query-select-table":     q("query", "SELECT LogonId, UserName, StartTime FROM Linux_LogonSession WHERE LogonType = 10"),
		"query-select-csv":       q("query", "SELECT LogonId, UserName FROM Win32_LogonSession WHERE UserName LIKE 'a%'", "-o", "csv"),
		"query-select-json":      q("query", "SELECT LogonId, UserName FROM Win32_LogonSession WHERE UserName LIKE 'a%'", "-o", "json"),
		"query-none-csv":         q("query", "SELECT Name FROM Win32_UserAccount WHERE Name = 'nobody-here'", "-o", "csv"),
		"query-none-table":       q("query", "SELECT Name FROM Win32_UserAccount WHERE Name = 'nobody-here'"),
		"query-associators":      q("query", "ASSOCIATORS OF {"+session+"} WHERE ResultClass = Win32_Process"),
		"query-references-list":  q("query", "REFERENCES OF {"+session+"}", "-o", "list"),
		"query-syntax-error":     q("query", "SELECT FROM WHERE"),
		"get-list":               q("get", session),
		"get-json":               q("get", session, "-o", "json"),
		"get-missing":            q("get", `Linux_LogonSession.LogonId="nope"`),
		"usage-unknown-command":  {"bogus"},
		"usage-unknown-format":   q("enum", "Win32_Session", "-o", "yaml"),
		"history-table":          {"history", "--wtmp", filepath.Join(dir, "utmp"), "--layout", "384", "--db", "DB"},
		"history-csv":            {"history", "--wtmp", filepath.Join(dir, "utmp"), "--layout", "384", "--db", "DB", "-o", "csv"},
	}
	oldLocal := time.Local
	time.Local = goldenZone // history's table shows local time
	defer func() { time.Local = oldLocal }()
	t.Setenv("COLUMNS", "")
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			args = append([]string(nil), args...)
			for i, a := range args {
				if a == "DB" {
					args[i] = filepath.Join(tmp, "history.db")
				}
			}
			var stdout, stderr bytes.Buffer
			e := &Env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, location: goldenZone,
				src: SourceFlags{EtcRoot: dir, DevRoot: filepath.Join(tmp, "dev"), OSName: "Fixture Linux", Now: func() time.Time { return goldenNow }}}
			code := run(e, args)
			got := fmt.Sprintf("$ cimsess %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
			got = strings.ReplaceAll(got, tmp, "$TMP")
			got = strings.ReplaceAll(got, dir, "$MACHINE")
			got = goldenVolatile.ReplaceAllString(got, "$1…")
			path := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -run TestGoldenCLI -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (go test -run TestGoldenCLI -update rewrites it):\n%s", name, path, got)
			}
		})
	}
}

// goldenVolatile matches what no fixture fixes: the version line's build
// details.
var goldenVolatile = regexp.MustCompile(`(cimsess version )\S+`)

// TestAssocCSVHeader: the CSV header of ASSOCIATORS OF and REFERENCES OF is
// the union of the classes they may return, as for SELECT, whether any
// comes or none (session 3 of the fixture machine has no processes, 7 has).
func TestAssocCSVHeader(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "machine"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(query string) string {
		out, stderr, code := runCLI(t, "", append([]string{"query", query, "-o", "csv"}, machineFlags(dir)...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", query, code, stderr)
		}
		first, _, _ := strings.Cut(out, "\n")
		return first
	}
	for _, q := range []string{`ASSOCIATORS OF {Win32_LogonSession.LogonId="%s"} WHERE ResultClass = Win32_Process`, `REFERENCES OF {Win32_LogonSession.LogonId="%s"}`} {
		none, some := header(fmt.Sprintf(q, "3")), header(fmt.Sprintf(q, "7"))
		if none != some || strings.Count(none, ",") < 2 {
			t.Errorf("%s: header with none %q, with some %q", q, none, some)
		}
	}
}
