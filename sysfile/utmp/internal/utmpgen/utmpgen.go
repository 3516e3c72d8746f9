// Package utmpgen makes plausible utmp records in bulk, for the utmp
// package's tests and benchmarks and for the genutmp command.
package utmpgen

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/sysfile/utmp"
)

// Base is the login time of the first generated record.
var Base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Records returns n records as a busy machine's utmp holds them: a
// BOOT_TIME and a RUN_LVL record, then USER_PROCESS logins on pts/N from
// IPv4 and IPv6 addresses and X displays, with one DEAD_PROCESS record in
// every 16 (a logout whose line was not reused yet). Logins get process
// ids from firstPID on. The result is the same for the same arguments.
func Records(n int, firstPID int32) []utmp.Record {
	recs := make([]utmp.Record, 0, n)
	if n > 0 {
		recs = append(recs, utmp.Record{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-generic", Time: Base.Add(-time.Hour)})
	}
	if n > 1 {
		recs = append(recs, utmp.Record{Type: utmp.RunLevel, PID: 'N'<<8 | '5', Line: "~", ID: "~~", User: "runlevel", Host: "6.1.0-generic", Time: Base.Add(-time.Hour + time.Second)})
	}
	for i := len(recs); i < n; i++ {
		k := i - 2
		pts := "pts/" + strconv.Itoa(k)
		id := pts[len(pts)-min(4, len(pts)):]
		r := utmp.Record{
			Type:    utmp.UserProcess,
			PID:     firstPID + int32(k),
			Line:    pts,
			ID:      id,
			User:    "user" + strconv.Itoa(k%997),
			Session: int64(k),
			Time:    Base.Add(time.Duration(k) * 7 * time.Second).Add(time.Duration(k%1000) * time.Millisecond),
		}
		switch k % 4 {
		case 0:
			r.Addr = netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})
			r.Host = r.Addr.String()
		case 1:
			r.Addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: byte(k >> 24), 13: byte(k >> 16), 14: byte(k >> 8), 15: byte(k)})
			r.Host = "host-" + strconv.Itoa(k) + ".example.org"
		case 2:
			r.Host = ":" + strconv.Itoa(k%10)
			r.Line = "tty" + strconv.Itoa(k%63+1)
		}
		if k%16 == 15 {
			r.Type = utmp.DeadProcess
			r.User = ""
			r.Host = ""
			r.Addr = netip.Addr{}
		}
		recs = append(recs, r)
	}
	return recs
}
