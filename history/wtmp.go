package history

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/sysfile/utmp"
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
// paired with what closed it. Its strings are the record's, cleaned by
// the providers' one rule ([prop.Clean]: bytes that are not UTF-8 become
// U+FFFD), so that a row merged from wtmp holds what the Linux provider
// shows of the same login, and a row recorded live matches it.
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
	// Boot marks a boot, as last lists it: User "reboot", Line
	// [BootLine], Host the kernel's release; it ends at the next shutdown
	// ([EndShutdown]), and is open ("still running") until one.
	Boot bool
}

// BootLine is the terminal last shows for a boot: "reboot   system boot
// KERNEL". A boot's row in the history has this terminal, the user
// "reboot" and no class.
const BootLine = "system boot"

// shutdownType is the type util-linux's last gives shutdown records
// (SHUTDOWN_TIME, not a glibc type).
const shutdownType utmp.Type = 254

// PairWtmp pairs the login records of a wtmp file, given in file order,
// with what ended them, exactly as util-linux's last(1) does, and returns
// the sessions in the order of their login (or boot) records:
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
//     which is not wtmp's to say (see [GoneNoLogout]).
//   - Each boot is one too ([Lifecycle.Boot]): last's "reboot system boot
//     KERNEL", from the boot to the first later shutdown, or still running.
//
// Times keep their microseconds; last shows whole seconds. last reads the
// file backwards; PairWtmp (and [Store.MergeFile], which streams) read it
// forwards, which pairs the same: a login is open until the first of the
// events that would end it.
func PairWtmp(records []utmp.Record) []Lifecycle {
	var out []Lifecycle
	p := pairing{
		login: func(r utmp.Record) (*pend, error) {
			out = append(out, lifecycleOf(r))
			return &pend{seq: len(out) - 1}, nil
		},
		boot: func(r utmp.Record) (*pend, error) {
			out = append(out, bootOf(r))
			return &pend{seq: len(out) - 1}, nil
		},
		end: func(p *pend, at time.Time, how End) error {
			out[p.seq].End, out[p.seq].How = at, how
			return nil
		},
	}
	for _, r := range records {
		p.add(r) // the callbacks never fail
	}
	return out
}

// lifecycleOf is the login of record r, its strings cleaned as the
// providers clean them (see [Lifecycle]); pairing goes by the raw line.
func lifecycleOf(r utmp.Record) Lifecycle {
	return Lifecycle{User: prop.Clean(r.User), Line: prop.Clean(r.Line), Host: prop.Clean(r.Host), Addr: r.Addr, PID: r.PID, Session: r.Session, Start: r.Time}
}

// bootOf is the boot of record r, the kernel's release in Host.
func bootOf(r utmp.Record) Lifecycle {
	return Lifecycle{User: "reboot", Line: BootLine, Host: prop.Clean(r.Host), Start: r.Time, Boot: true}
}

// pend is a login whose end is not known yet.
type pend struct {
	seq int       // the order of the logins, for a stable order of ends
	id  int64     // its row in the database; 0 while only in memory
	lc  Lifecycle // the login, while only in memory
	// start is no later than the start of its row (µs): where a merge
	// that settles a listing may not have got past (see [Settled]).
	start int64
	// kept: its row, open, went to the listing (see [Settled]) as it
	// will stay.
	kept bool
	// written: a pipelined merge gave its row, open, to the writer,
	// which alone reads id (see pipeline).
	written bool
}

// pairing pairs wtmp records forwards: login makes the pending session of
// a login record (nil when there is nothing to end), boot that of a boot,
// end ends one. It holds one pending session per terminal line (and those
// with no line), as last holds its list of lines, and the boots since the
// last shutdown.
type pairing struct {
	lines  map[string]*pend
	noLine []*pend
	boots  []*pend
	login  func(r utmp.Record) (*pend, error)
	boot   func(r utmp.Record) (*pend, error)
	end    func(p *pend, at time.Time, how End) error
}

func (pr *pairing) add(r utmp.Record) error {
	switch typ := lastType(r); typ {
	case shutdownType:
		return pr.shutdown(r.Time)
	case utmp.BootTime:
		if err := pr.down(r.Time, EndCrash); err != nil {
			return err
		}
		p, err := pr.boot(r)
		if err != nil || p == nil {
			return err
		}
		pr.boots = append(pr.boots, p)
	case utmp.RunLevel:
		if x := byte(r.PID & 255); x == '0' || x == '6' {
			return pr.shutdown(r.Time)
		}
	case utmp.UserProcess:
		line := prop.Clean(r.Line) // as stored: a later merge reopens the line by it
		if err := pr.endLine(line, r.Time); err != nil {
			return err
		}
		p, err := pr.login(r)
		if err != nil || p == nil {
			return err
		}
		if line == "" {
			pr.noLine = append(pr.noLine, p)
		} else {
			if pr.lines == nil {
				pr.lines = map[string]*pend{}
			}
			pr.lines[line] = p
		}
	case utmp.DeadProcess:
		return pr.endLine(prop.Clean(r.Line), r.Time)
	}
	return nil
}

// endLine ends the session open on line (the record's, as prop.Clean
// makes it and as the row stores it, so that a merge of the file's new
// records, which finds the open sessions by their rows, pairs as one
// merge of the whole file does), as a logout at time at.
func (pr *pairing) endLine(line string, at time.Time) error {
	if line == "" {
		return nil
	}
	p, ok := pr.lines[line]
	if !ok {
		return nil
	}
	delete(pr.lines, line)
	return pr.end(p, at, EndLogout)
}

// shutdown ends every open session and every boot (as last ends a boot
// at the next shutdown only: a crash leaves it running until one).
func (pr *pairing) shutdown(at time.Time) error {
	if err := pr.down(at, EndShutdown); err != nil {
		return err
	}
	boots := pr.boots
	pr.boots = nil
	for _, p := range boots {
		if err := pr.end(p, at, EndShutdown); err != nil {
			return err
		}
	}
	return nil
}

// down ends every open login session, in the order of their logins.
func (pr *pairing) down(at time.Time, how End) error {
	all := pr.logins()
	clear(pr.lines)
	pr.noLine = pr.noLine[:0]
	for _, p := range all {
		if err := pr.end(p, at, how); err != nil {
			return err
		}
	}
	return nil
}

// pending returns the open sessions and boots in the order of their
// records.
func (pr *pairing) pending() []*pend {
	all := append(pr.logins(), pr.boots...)
	slices.SortFunc(all, func(a, b *pend) int { return cmp.Compare(a.seq, b.seq) })
	return all
}

// logins returns the open login sessions in the order of their logins.
func (pr *pairing) logins() []*pend {
	all := append([]*pend(nil), pr.noLine...)
	for _, p := range pr.lines {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b *pend) int { return cmp.Compare(a.seq, b.seq) })
	return all
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
