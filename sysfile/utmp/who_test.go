package utmp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/sysfile/utmp/internal/utmpgen"
)

// whoZone is the zone both sides use: a POSIX TZ string glibc reads
// without any tz database, and the same fixed offset for Go.
const whoTZ = "XYZ+03:30"

var whoZone = time.FixedZone("XYZ", -(3*3600 + 30*60))

// whoRecords is a utmp file that exercises what who prints and skips.
func whoRecords() []utmp.Record {
	recs := utmpgen.Records(500, 3000000)
	t0 := time.Date(2026, 7, 4, 23, 59, 59, 0, time.UTC)
	more := []utmp.Record{
		{Type: utmp.UserProcess, PID: 1, Line: strings.Repeat("L", utmp.MaxLine), ID: "wxyz",
			User: strings.Repeat("U", utmp.MaxUser), Host: strings.Repeat("h", utmp.MaxHost), Time: t0},
		{Type: utmp.UserProcess, PID: 2, Line: "pts/\xff\xfe", User: "d\xe9j\xe0", Host: "\xc3(\x80.example", Time: t0},
		{Type: utmp.UserProcess, PID: 3, Line: "tty2", User: "zero"},                                      // zero time
		{Type: utmp.UserProcess, PID: 4, Line: "tty3", User: "old", Time: time.Unix(-1<<31, 0)},           // 1901
		{Type: utmp.UserProcess, PID: 5, Line: "tty4", User: "late", Time: time.Unix(1<<31-1, 999999000)}, // 2038
		{Type: utmp.UserProcess, PID: 6, Line: "", User: "noline", Host: "h", Time: t0},
		{Type: utmp.UserProcess, PID: 7, Line: "pts/7", User: "", Host: "nobody.example", Time: t0}, // not shown
		{Type: utmp.UserProcess, PID: 8, Line: "pts/8", User: "x", Host: ":0", Time: t0},
		{Type: utmp.UserProcess, PID: 9, Line: "pts/9", User: "y", Host: "remote:10.0", Time: t0},
		{Type: utmp.UserProcess, PID: 10, Line: "pts/10", User: "z", Host: "a:b:c", Time: t0},
		{Type: utmp.UserProcess, PID: 11, Line: "/dev/pts/11", User: "abs", Host: "[::1]", Time: t0,
			Addr: netip.IPv6Loopback()},
		{Type: utmp.UserProcess, PID: 12, Line: "pts/12", User: "sp ace", Host: "with space ", Time: t0},
		{Type: utmp.UserProcess, PID: 13, Line: "pts/13", User: "eightchr", Host: "", Time: t0},
		{Type: utmp.UserProcess, PID: 14, Line: "pts/14", User: "ninechars", Host: strings.Repeat("x", 300), Time: t0},
	}
	for ty := utmp.Empty; ty <= utmp.Accounting; ty++ {
		if ty != utmp.UserProcess {
			more = append(more, utmp.Record{Type: ty, PID: 99, Line: "tty9", ID: "9", User: "other" + ty.String(), Host: "x", Time: t0})
		}
	}
	recs = append(recs[:250], append(more, recs[250:]...)...)
	return recs
}

// whoLine is the line coreutils' who prints for r in its default mode
// (print_user and print_line in who.c): the user left-aligned in 8 bytes,
// the line in 12, the time, the host in parentheses, trailing spaces cut.
// C pads by bytes, not by runes.
func whoLine(r utmp.Record, timeLayout string, timeWidth int) string {
	pad := func(s string, w int) string {
		if len(s) < w {
			s += strings.Repeat(" ", w-len(s))
		}
		return s
	}
	sec := int64(0)
	if !r.Time.IsZero() {
		sec = r.Time.Unix()
	}
	ts := time.Unix(sec, 0).In(whoZone).Format(timeLayout)
	host := ""
	if r.Host != "" {
		host = "(" + r.Host + ")"
	}
	return strings.TrimRight(pad(r.User, 8)+" "+pad(r.Line, 12)+" "+pad(ts, timeWidth)+" "+pad(host, 8), " ")
}

// TestAgreesWithWho writes a utmp file, runs coreutils' who on it and
// checks that the records decoded here are the lines who prints, one for
// one.
func TestAgreesWithWho(t *testing.T) {
	who, err := exec.LookPath("who")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("who (coreutils) is needed in CI: %v", err)
		}
		t.Skipf("who not found: %v", err)
	}
	path := filepath.Join(t.TempDir(), "utmp")
	recs := whoRecords()
	if err := utmp.WriteFile(path, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	// A truncated last record, which glibc and who ignore.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(utmp.Encode(utmp.Record{Type: utmp.UserProcess, User: "cut", Line: "pts/99", Time: time.Now()}, utmp.Native)[:utmp.Native.Size-1])
	f.Close()

	cmd := exec.Command(who, path)
	env := []string{"TZ=" + whoTZ, "LC_ALL=C.UTF-8"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TZ=") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("who: %v: %s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")

	// who prints "%Y-%m-%d %H:%M" in most locales and "%b %e %H:%M" in C.
	layout, width := "2006-01-02 15:04", 16
	if len(lines) > 0 && !regexp.MustCompile(` \d{4}-\d\d-\d\d \d\d:\d\d`).MatchString(lines[0]) {
		layout, width = "Jan _2 15:04", 12
	}

	var want []string
	got, warn, err := utmp.ReadAll(context.Background(), path, utmp.Native)
	if err != nil {
		t.Fatal(err)
	}
	if warn == nil {
		t.Error("no warning for the truncated record")
	}
	if len(got) != len(recs) {
		t.Fatalf("decoded %d records, wrote %d", len(got), len(recs))
	}
	for _, r := range got {
		if r.UserProcess() {
			want = append(want, whoLine(r, layout, width))
		}
	}
	if len(lines) != len(want) {
		t.Errorf("who printed %d lines, decoded %d user processes", len(lines), len(want))
	}
	bad := 0
	for i := range min(len(lines), len(want)) {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n who %s\n  us %s", i+1, utmp.Display(lines[i]), utmp.Display(want[i]))
			if bad++; bad > 5 {
				t.FailNow()
			}
		}
	}
	if testing.Verbose() {
		fmt.Printf("who agreed on %d lines; e.g. %q\n", len(lines), lines[len(lines)/2])
	}
}
