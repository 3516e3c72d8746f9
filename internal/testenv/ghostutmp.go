package testenv

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// GhostUtmp writes a utmp file of n login records (after a boot record),
// as a busy terminal server's, in this machine's layout, and returns its
// path: the records' processes (pids from 4,000,000 on) do not exist, so
// under an empty /proc each record is one ghost session. For tests that
// need a huge enumeration: streaming, memory, cancellation.
func GhostUtmp(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "utmp")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := utmp.NewWriter(bw, utmp.Native)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if err := w.Write(utmp.Record{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0", Time: base.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for k := range n {
		pts := "pts/" + strconv.Itoa(k)
		r := utmp.Record{Type: utmp.UserProcess, PID: 4_000_000 + int32(k), Line: pts, ID: pts[len(pts)-min(4, len(pts)):],
			User: "user" + strconv.Itoa(k%997), Session: int64(k), Time: base.Add(time.Duration(k) * 7 * time.Second),
			Addr: netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})}
		r.Host = r.Addr.String()
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
