package history

import (
	"net/netip"
	"strings"
	"time"

	"github.com/cimsess/cimsess/provider/utmp"
)

// End says how a session ended.
type End string

// How sessions end. The empty End is a session still open.
const (
	// EndNone: the session has not ended (last's "still logged in", or a
	// record whose process is gone but that wtmp never closed, last's
	// "gone - no logout").
	EndNone End = ""
	// EndLogout: a DEAD_PROCESS record (or a later login on the same
	// line, as last takes it) closed the session; or, recorded live, the
	// session went away while its leader was alive.
	EndLogout End = "logout"
	// EndGhost: recorded live, the session went away after its leader
	// had died without cleanup (it had Status "Lost Comm").
	EndGhost End = "ghost"
	// EndGone: the session was open in the history but gone when the
	// recorder started again; its end is wtmp's when wtmp has one.
	EndGone End = "seen-gone-while-not-running"
	// EndShutdown: wtmp records an orderly shutdown (last's "down").
	EndShutdown End = "shutdown"
	// EndCrash: wtmp records a boot with no shutdown before it (last's
	// "crash").
	EndCrash End = "crash"
)

// Lifecycle is one login session as wtmp tells it: a USER_PROCESS record
// paired with what closed it.
type Lifecycle struct {
	User    string     // ut_user
	Line    string     // ut_line: the terminal, such as "pts/0"
	Host    string     // ut_host: the remote host or X display
	Addr    netip.Addr // ut_addr_v6
	PID     int32      // ut_pid: the session's first process
	Session int64      // ut_session
	Start   time.Time  // the login record's time
	End     time.Time  // when it ended; the zero Time while open
	How     End        // how it ended; EndNone while open
}

// shutdownType is the type util-linux's last gives shutdown records
// (SHUTDOWN_TIME, not a glibc type).
const shutdownType utmp.Type = 254

// PairWtmp pairs the login records of a wtmp file, given in file order,
// with what ended them, exactly as util-linux's last(1) does, and returns
// the sessions in the order of their login records:
//
//   - A record on line "~" is a shutdown when its user starts with
//     "shutdown", a boot with "reboot", a run-level change with "runlevel".
//     On other lines, a record that is not DEAD_PROCESS and has a user
//     (other than LOGIN…) and a line is a login whatever its type, and one
//     with no user is a logout.
//   - A login ends at the first later record on the same line: a logout,
//     or another login, which implies one.
//   - A login with no later record on its line ends at the first later boot
//     or shutdown (a shutdown record or a change to run level 0 or 6): a
//     shutdown is "down" ([EndShutdown]), a boot with no shutdown before it
//     a "crash" ([EndCrash]).
//   - A login after the last boot with no later record on its line is
//     still open ([EndNone]); last then asks /proc whether it still lives,
//     which is not wtmp's to say.
//
// Times keep their microseconds; last shows whole seconds.
func PairWtmp(records []utmp.Record) []Lifecycle {
	var out []Lifecycle
	// closers holds, per line, the time of the nearest later record on
	// that line; walking backwards, that is the last one stored.
	closers := map[string]time.Time{}
	var lastBoot time.Time
	haveBoot := false
	why := EndCrash
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		typ := lastType(r)
		down := false
		switch typ {
		case shutdownType:
			down = true
		case utmp.BootTime:
			down = true
		case utmp.RunLevel:
			if x := byte(r.PID & 255); x == '0' || x == '6' {
				down = true
				typ = shutdownType
			}
		case utmp.UserProcess:
			lc := Lifecycle{User: r.User, Line: r.Line, Host: r.Host, Addr: r.Addr, PID: r.PID,
				Session: r.Session, Start: r.Time}
			if t, ok := closers[r.Line]; ok && r.Line != "" {
				lc.End, lc.How = t, EndLogout
				delete(closers, r.Line)
			} else if haveBoot {
				lc.End, lc.How = lastBoot, why
			}
			out = append(out, lc)
			if r.Line != "" {
				closers[r.Line] = r.Time
			}
		case utmp.DeadProcess:
			if r.Line != "" {
				closers[r.Line] = r.Time
			}
		}
		if down {
			lastBoot, haveBoot = r.Time, true
			why = EndCrash
			if typ == shutdownType {
				why = EndShutdown
			}
			clear(closers)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// lastType returns the type last(1) takes a record for: it trusts the
// user and line fields more than ut_type, for old programs that fill it
// in badly.
func lastType(r utmp.Record) utmp.Type {
	t := r.Type
	if strings.HasPrefix(r.Line, "~") {
		switch {
		case strings.HasPrefix(r.User, "shutdown"):
			return shutdownType
		case strings.HasPrefix(r.User, "reboot"):
			return utmp.BootTime
		case strings.HasPrefix(r.User, "runlevel"):
			return utmp.RunLevel
		}
		return t
	}
	if t != utmp.DeadProcess && r.User != "" && r.Line != "" && !strings.HasPrefix(r.User, "LOGIN") {
		t = utmp.UserProcess
	}
	if r.User == "" {
		t = utmp.DeadProcess
	}
	if strings.HasPrefix(r.User, "date") {
		switch {
		case strings.HasPrefix(r.Line, "|"):
			t = utmp.OldTime
		case strings.HasPrefix(r.Line, "{"):
			t = utmp.NewTime
		}
	}
	return t
}
