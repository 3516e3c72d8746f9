// Package linux is the provider of Linux_LogonSession instances (the
// schema's subclass of Win32_LogonSession): it merges the utmp file, the
// kernel's audit session ids in /proc and systemd-logind's session files
// into one instance per logon session, more truthfully than who(1) does —
// every login, tty or not, is a session, and a record whose processes are
// gone is shown as a ghost ("Lost Comm"), never as live.
//
// The rules it keeps are tables in this package, also in the README:
// [statusOf] for Status, [logonTypeOf] for LogonType, and this for LogonId:
// the audit session id (/proc/PID/sessionid) where one is set; otherwise
// "utmp:LINE:PID" from the utmp record (LINE escaped as utmp.Display
// shows it, so that the id is valid UTF-8). A session's audit id is remembered
// (in memory and in a state file, see [Options.StatePath]) so that a ghost
// keeps the LogonId it had while its processes lived.
package linux

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/ahead"
	"github.com/cimsess/cimsess/internal/box"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/sysfile/logind"
	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// ClassName is the class this provider serves.
const ClassName = "Linux_LogonSession"

// DefaultStatePath is where audit session ids of utmp sessions are kept
// between runs. It is on /run, so it is empty after a boot, as the
// kernel's audit ids start again then.
const DefaultStatePath = "/run/cimsess/logon-ids"

// Options configures a [Provider]. Empty fields take the system's defaults.
type Options struct {
	UtmpPath   string      // default utmp.DefaultPath
	Layout     utmp.Layout // default utmp.LayoutFor(runtime.GOARCH)
	ProcRoot   string      // default /proc
	LogindRoot string      // default /run/systemd/sessions
	DevRoot    string      // where terminals live, for idle times; default /dev
	// StatePath is the file that remembers audit ids across runs, so that
	// one-shot commands see a ghost with the LogonId it had. Default
	// DefaultStatePath when ProcRoot is the system's /proc and UtmpPath the
	// system's utmp, else none; "-"
	// for none. A state file that cannot be written is silently not kept.
	StatePath string
	// UserName names a uid; default os/user.
	UserName func(uid uint32) (string, bool)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Provider serves Linux_LogonSession. It is safe for concurrent use.
type Provider struct {
	opts         Options
	proc         *procfs.FS
	explicitUtmp bool // a utmp path the user named must exist
	systemProc   bool // the system's own /proc, not a snapshot

	mu    sync.Mutex
	ids   map[string]uint32 // utmp record key → audit session id
	saved string            // the state file's content as last read or written
	// lastRecs is the login record last seen of each live audit session,
	// for the moment after its logout is written while processes remain.
	lastRecs map[uint32]utmp.Record
	// origins is where each live session came from, as first known
	// (see stableOrigin); originMu guards it.
	originMu sync.Mutex
	origins  map[string]origin
	provider.SourceLog
	names map[uint32]string
}

// New returns a provider with the options' defaults filled in.
func New(opts Options) *Provider {
	explicitUtmp := opts.UtmpPath != ""
	if opts.UtmpPath == "" {
		opts.UtmpPath = utmp.DefaultPath
	}
	if !opts.Layout.Valid() {
		opts.Layout = utmp.LayoutFor(runtime.GOARCH)
	}
	systemProc := opts.ProcRoot == "" || opts.ProcRoot == procfs.DefaultRoot
	if opts.ProcRoot == "" {
		opts.ProcRoot = procfs.DefaultRoot
	}
	if opts.LogindRoot == "" {
		opts.LogindRoot = logind.DefaultRoot
	}
	if opts.DevRoot == "" {
		opts.DevRoot = "/dev"
	}
	// The state file remembers the system's sessions: a run over another
	// utmp file (a copy, a benchmark's) must neither read nor rewrite it.
	systemUtmp := !explicitUtmp || filepath.Clean(opts.UtmpPath) == utmp.DefaultPath || filepath.Clean(opts.UtmpPath) == "/run/utmp"
	if opts.StatePath == "" && systemProc && systemUtmp {
		opts.StatePath = DefaultStatePath
	}
	if opts.StatePath == "-" {
		opts.StatePath = ""
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{opts: opts, explicitUtmp: explicitUtmp, systemProc: systemProc, proc: procfs.New(opts.ProcRoot), ids: map[string]uint32{}, names: map[uint32]string{}}
}

// Name names the provider.
func (p *Provider) Name() string { return "linux-logon" }

// Classes returns the one class served.
func (p *Provider) Classes() []string { return []string{ClassName} }

// session is one logon session as the sources describe it.
type session struct {
	id       string
	audit    uint32
	hasAudit bool
	procs    []procfs.Process // live processes
	rec      *utmp.Record
	ld       *logind.Session
	// recordOnly marks a session made of a utmp record alone (its id
	// "utmp:LINE:PID"); such sessions keep the order of their records.
	recordOnly bool
	// loggedOut marks a live session whose record is gone since it was
	// last seen: its logout is written, its processes are ending; rec is
	// the record it had.
	loggedOut bool
	// hiddenAlive marks a session of a utmp record alone whose process
	// exists, hidden from this user by /proc's hidepid.
	hiddenAlive bool
}

// Enumerate streams the logon sessions in batches: first the live ones
// (and the ghosts of remembered audit sessions) in LogonId order, then the
// sessions of utmp records alone in the order of their records, as who
// lists them. The utmp file is opened once and read twice, up to its size
// when opened ([utmp.File]): the first pass gives each record to its live
// session and learns which "utmp:" ids repeat ([repeats]); the second
// makes the instance of each record that is a session of its own as it
// comes. Nothing is held per record, so memory does not grow with the
// file (a big utmp is mostly such records). Should the file be rewritten
// between the passes (a login in those milliseconds), a new record is a
// session of its own, as if it had come after the read.
// hint.Keys["logonid"] narrows the result to one session (the sources are
// read whole all the same: a session's identity needs all of them; only a
// "utmp:" id needs the second pass).
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	if !strings.EqualFold(class, ClassName) {
		return cim.Errorf(cim.ErrInvalidClass, "linux-logon serves %s, not %s", ClassName, class)
	}

	// /proc and logind are read while utmp is opened and its layout
	// checked: the three are independent.
	var (
		procs      []procfs.Process
		perr, lerr error
		lds        logind.Snapshot
		others     sync.WaitGroup
	)
	others.Go(func() {
		procs, perr = p.proc.ListFields(ctx, procFields)
		lds, lerr = logind.Read(ctx, p.opts.LogindRoot)
	})

	// utmp: the login records.
	src := provider.Source{Name: "utmp", Where: p.opts.UtmpPath}
	uf, err := utmp.OpenFile(p.opts.UtmpPath, p.opts.Layout)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist) && !p.explicitUtmp:
		src.Note = "not present" // no utmp is a machine with no tty logins
	case err != nil:
		others.Wait()
		return cim.Map(err) // the reader's error, mapped once
	default:
		defer uf.Close()
	}

	others.Wait()
	// /proc: every process with its audit session.
	psrc := provider.Source{Name: "procfs", Where: p.opts.ProcRoot}
	hidden := p.systemProc && procHidesOthers(p.opts.ProcRoot)
	if hidden {
		psrc.Note = "other users' processes are hidden from this user (hidepid): their sessions show no processes, and those with a login record are told live by their pid alone"
		psrc.Warn = true
	}
	if perr != nil {
		if ctx.Err() != nil {
			return cim.Map(perr)
		}
		psrc.Note = "not readable: " + perr.Error()
		psrc.Warn = true
	}

	// logind: its session files (absent logind is normal).
	lsrc := provider.Source{Name: "logind", Where: p.opts.LogindRoot, Found: len(lds.Sessions)}
	if lerr != nil {
		lsrc.Note = lerr.Error()
	} else if !lds.Present {
		lsrc.Note = "not running"
	}

	sessions, grouped, byPID := p.group(procs, lds.Sessions)
	psrc.Found = len(sessions)
	owners := &recordOwners{sessions: sessions, byPID: byPID}
	remembered, reps, n, warn, err := p.attachRecords(ctx, uf, owners, grouped)
	if err != nil {
		return cim.Map(err)
	}
	src.Found = n
	if warn != nil {
		src.Note = fmt.Sprintf("%d login records; %v", n, warn)
		src.Warn = true
	}
	p.SetSources(src, psrc, lsrc)

	now := p.opts.Now()
	live := sortedSessions(append(grouped, remembered...))
	want, narrowed := hint.Keys["logonid"]
	w, _ := want.(string)
	if narrowed {
		live = slices.DeleteFunc(live, func(s *session) bool { return !strings.EqualFold(w, s.id) })
	}
	if err := p.emitInstances(ctx, live, now, hint.Lent, emit); err != nil {
		return err
	}
	if uf == nil || narrowed && !hasPrefixFold(w, "utmp:") {
		if !narrowed {
			p.pruneOrigins(live, nil)
		}
		return nil
	}
	alive, err := p.emitRecordSessions(ctx, uf, owners, reps, now, w, narrowed, hidden, hint.Lent, emit)
	if err != nil {
		return err
	}
	if !narrowed {
		p.pruneOrigins(live, alive)
	}
	return nil
}

// hasPrefixFold reports whether s begins with prefix, whatever their case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// emitInstances builds the instances of sessions, in their order, and
// emits them a batch at a time; lent: each batch in the memory of the
// last (provider.Hint.Lent).
func (p *Provider) emitInstances(ctx context.Context, sessions []*session, now time.Time, lent bool, emit provider.Emit) error {
	batch := make([]*cim.Instance, 0, min(len(sessions), provider.MaxBatch))
	slab := instanceSlab{left: len(sessions), lent: lent}
	for lo := 0; lo < len(sessions); lo += provider.MaxBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch = batch[:0]
		for _, s := range sessions[lo:min(lo+provider.MaxBatch, len(sessions))] {
			batch = append(batch, p.instance(s, now, &slab))
		}
		if err := emit(batch); err != nil {
			return err
		}
		slab.emitted()
	}
	return nil
}

// emitRecordSessions is the second pass over the utmp file: it makes the
// instance of each login record that is a session of its own, in the
// order of the records, and emits them a batch at a time; with narrowed,
// only that of LogonId want; lent: each batch in the memory of the last.
// It returns the ids of those sessions that are live (a process without
// an audit id holds the record's pid).
//
// A file of more than two chunks is read on a goroutine of its own (see
// recordChunks): decoding the records, naming their sessions and making
// their instances go on there while this goroutine emits the instances of
// the chunk before, on a second CPU where there is one. Two chunks of
// chunkRecords take turns, so memory does not grow with the file.
func (p *Provider) emitRecordSessions(ctx context.Context, uf *utmp.File, owners *recordOwners, reps *repeats, now time.Time, want string, narrowed, hidden, lent bool, emit provider.Emit) (alive []string, err error) {
	batch := make([]*cim.Instance, 0, provider.MaxBatch)
	slab := instanceSlab{left: int(min(uf.Records(), maxPrealloc)), lent: lent}
	flush := func() error {
		err := emit(batch)
		batch = batch[:0]
		slab.emitted()
		if err == nil {
			err = ctx.Err() // within a batch of a cancellation, whoever reads the file
		}
		return err
	}
	names := recordNamer{owners: owners, reps: reps, want: want, narrowed: narrowed, hidden: hidden}
	if uf.Records() <= 2*chunkRecords {
		var (
			one recordSession
			s   recordSessionMaker
		)
		_, err = uf.Each(ctx, func(r utmp.Record) error {
			if !names.name(r, &one, nil) {
				return nil
			}
			f := p.facts(s.session(&one), now, nil)
			batch = append(batch, f.build(&slab))
			if len(batch) < provider.MaxBatch {
				return nil
			}
			return flush()
		})
	} else {
		err = p.recordChunks(ctx, uf, &names, now, lent, func(chunk []builtSession) error {
			for i := range chunk {
				in := &chunk[i].in
				if !lent {
					// The chunk is the reader's again at the next one:
					// an instance kept must be in memory of its own.
					kept := slab.instance(len(in.Properties))
					kept.Properties = append(kept.Properties, in.Properties...)
					kept.Owner = in.Owner
					in = kept
				}
				batch = append(batch, in)
				if len(batch) == provider.MaxBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if lent && len(batch) > 0 {
				return flush() // before the chunk is given back
			}
			return nil
		})
	}
	if err == nil && len(batch) > 0 {
		err = emit(batch)
	}
	return names.alive, err
}

// chunkRecords is how many sessions a chunk of recordChunks holds, a
// batch. Since the reading goroutine also makes the instances, a chunk is
// work enough that the hand-overs cost little: 1,024 was no faster on
// 100,000 records (farm-bench, 20 runs in turn: 0.96 of its time with
// 256), but slower on 10,000, where the first chunk and the last are each
// worked on by one goroutine alone, and it held 3 MB more. 128, once a
// side polled before it parked, made 10,000 records 3 % faster and their
// peak RSS 0.3 MiB lower (scripts/bench-builds.sh, 300 runs), but not the
// peak at 1,000,000, which is the first pass's repeats filter: the growth
// from 10,000 to 1,000,000 records, which issue 11 bounds at 10 %, came to
// 9.7 % (6.8 % to 10.8 % over single runs), against 7.6 % with 256. A
// session is 1,568 bytes (its instance with room for every property and
// its texts): two chunks hold 784 KiB.
const chunkRecords = 256

// recordSession is a login record that is a session of its own, named:
// what the second pass makes an instance of.
type recordSession struct {
	rec utmp.Record
	id  string
	// proc is its live process (without an audit id), nil when none: a
	// pointer into the processes this enumeration read from /proc, which
	// outlive the second pass.
	proc *procfs.Process
	// hiddenAlive: its process exists but this user may not see it
	// (hidepid): live, not a ghost.
	hiddenAlive bool
}

// recordSessionMaker makes the session of a named record, in memory
// reused from one to the next: an instance keeps no session or record.
type recordSessionMaker struct {
	s    session
	rec  utmp.Record
	proc [1]procfs.Process
}

// session returns the session of c, valid until the next call.
func (m *recordSessionMaker) session(c *recordSession) *session {
	m.rec = c.rec
	m.s = session{id: c.id, rec: &m.rec, recordOnly: true, hiddenAlive: c.hiddenAlive}
	if c.proc != nil {
		m.proc[0] = *c.proc
		m.s.procs = m.proc[:]
	}
	return &m.s
}

// builtSession is the instance of a record's session, made in a chunk of
// recordChunks with room for every property it may have and, when the
// caller lends its batches, for their values.
type builtSession struct {
	in    cim.Instance
	props [numProps]cim.PropertyValue
	slots valueSlots
	// text holds, in a lent chunk, the texts of its record (its line,
	// id, user and host) and its LogonId when they fit (most do): a
	// string each was the most that a big utmp's listing allocated,
	// and all the collector had to do.
	text [recordTextRoom]byte
}

// recordTextRoom is room enough for the texts of most login records and
// their LogonId ("utmp:pts/12:123456", a user and a host of usual
// lengths).
const recordTextRoom = 128

// recordNamer decides, record by record in file order, which login
// records are sessions of their own and gives each its LogonId: the
// sequential part of the second pass.
type recordNamer struct {
	owners   *recordOwners
	reps     *repeats
	want     string
	narrowed bool
	hidden   bool            // /proc hides other users' processes: ask the pid
	seen     map[string]bool // the ids given to records whose id may repeat
	alive    []string        // the ids of the sessions that are live
	idb      [96]byte
}

// name fills out with r's session and reports whether r is one of its
// own (and, narrowed, the one wanted). Its LogonId is made in room when
// room is not nil (a lent chunk's; a string of its own when it does not
// fit), and what the namer keeps of it beyond the record is a copy.
func (n *recordNamer) name(r utmp.Record, out *recordSession, room []byte) bool {
	if !r.UserProcess() {
		return false
	}
	_, pr, _, attached := n.owners.of(&r)
	if attached {
		return false
	}
	var id string
	if room != nil {
		id = box.String(appendFallbackID(room[:0], r.Line, r.PID))
	} else {
		id = string(appendFallbackID(n.idb[:0], r.Line, r.PID))
	}
	if n.reps.maybe(id) {
		if n.seen == nil {
			n.seen = map[string]bool{}
		}
		if n.seen[id] {
			// The same line and pid as an earlier record: a reused
			// pid, another login that who shows too.
			id = reusedID(func(id string) bool { return n.seen[id] || n.owners.sessions[id] != nil }, id, &r)
		}
		n.seen[strings.Clone(id)] = true
	}
	if n.narrowed && !strings.EqualFold(n.want, id) {
		return false
	}
	*out = recordSession{rec: r, id: id}
	switch {
	case pr != nil:
		out.proc = pr
		n.alive = append(n.alive, strings.Clone(id))
	case n.hidden && r.PID > 0 && n.owners.byPID[int(r.PID)] == nil && pidExists(int(r.PID)):
		// Only a process this user cannot see: one it sees, and found
		// started after the login (a reused pid) or a zombie, is not it.
		out.hiddenAlive = true
		n.alive = append(n.alive, strings.Clone(id))
	}
	return true
}

// recordChunks reads uf on a goroutine of its own, names its records
// there (n) and makes their sessions' instances as of now, and hands fn
// the instances a chunk at a time, in file order. Two chunks take turns:
// one is filled while fn has the other, whose instances are fn's until
// it returns. fn's first error stops the reading and is returned, as is
// the reading's. lent says that fn is done with the instances themselves
// when it returns (provider.Hint.Lent), so that their values can be made
// in the chunk too (valueSlots).
func (p *Provider) recordChunks(ctx context.Context, uf *utmp.File, n *recordNamer, now time.Time, lent bool, fn func([]builtSession) error) error {
	chunks := ahead.Start(chunkRecords, func(f *ahead.Filler[builtSession]) error {
		var (
			one recordSession
			s   recordSessionMaker
		)
		_, err := uf.EachRaw(ctx, func(rd *utmp.Reader) error {
			if h := rd.Head(); h.Type != utmp.UserProcess || len(h.User) == 0 {
				return nil // not a login (as Record.UserProcess): not decoded
			}
			b := f.Add()
			if b == nil {
				return errStopped
			}
			// A lent chunk's texts and values live in it: its instances
			// are done with when it is reused. Others are copied out of
			// the chunk, and their values must outlive it.
			var room, addr []byte
			slots := &b.slots
			if lent {
				room, addr = b.text[:], b.slots.addr[:]
			} else {
				slots = nil
			}
			r, rest := rd.DecodeIn(room)
			if !n.name(r, &one, rest) {
				f.Drop()
				return nil
			}
			fa := p.facts(s.session(&one), now, addr)
			b.in = cim.Instance{ClassName: ClassName, Owner: fa.userName, Properties: fa.appendProps(b.props[:0], slots)}
			return nil
		})
		return err
	})
	defer chunks.Close() // before the caller reads what n gathered
	for {
		chunk, err := chunks.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
}

// errStopped ends the reading goroutine of recordChunks when its caller
// has stopped.
var errStopped = errors.New("stopped")

// procFields is what sessions need of each process: /proc/PID/stat (the
// state, command, terminal and start) with its start time, login uid and
// audit session; not its status, command line or executable, which cost
// three more reads a process and which a session does not show.
const procFields = procfs.FieldStartTime | procfs.FieldLoginUID | procfs.FieldSessionID

// maxPrealloc caps what a utmp file's size may make Enumerate allocate
// in advance.
const maxPrealloc = 1 << 20

// sortKey is a session with its LogonId's number, parsed once for sorting.
type sortKey struct {
	id  string
	s   *session
	n   uint64
	num bool
}

// sortedSessions returns the sessions (not those made of a utmp record
// alone, which come after them in record order, as who lists them) in
// idLess order of their ids. Each id is parsed once: parsing in the comparison
// cost a failed ParseUint (and its error) per comparison of two "utmp:"
// ids. The caller lists the sessions: finding them in the map of all
// sessions cost a walk over every record-only one of a big utmp.
func sortedSessions(sessions []*session) []*session {
	keys := make([]sortKey, 0, len(sessions))
	for _, s := range sessions {
		n, err := strconv.ParseUint(s.id, 10, 64)
		keys = append(keys, sortKey{s.id, s, n, err == nil})
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		switch {
		case a.num && b.num:
			return cmp.Compare(a.n, b.n)
		case a.num:
			return -1
		case b.num:
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]*session, len(keys))
	for i, k := range keys {
		out[i] = k.s
	}
	return out
}

// idLess orders numeric LogonIds numerically, before the others.
func idLess(a, b string) bool {
	ai, aerr := strconv.ParseUint(a, 10, 64)
	bi, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		return ai < bi
	case aerr == nil:
		return true
	case berr == nil:
		return false
	}
	return a < b
}

// group makes one session of each audit session id among the live
// processes and of each logind session, which it also returns as a list
// (grouped).
func (p *Provider) group(procs []procfs.Process, lds []logind.Session) (sessions map[string]*session, grouped []*session, byPID map[int]*procfs.Process) {
	sessions = make(map[string]*session, len(procs)+len(lds))
	byPID = make(map[int]*procfs.Process, len(procs))
	for i := range procs {
		pr := &procs[i]
		byPID[pr.PID] = pr
		if !pr.HasSession() || pr.State == 'Z' {
			continue
		}
		id := strconv.FormatUint(uint64(pr.SessionID), 10)
		s := sessions[id]
		if s == nil {
			s = &session{id: id, audit: pr.SessionID, hasAudit: true}
			sessions[id] = s
			grouped = append(grouped, s)
		}
		s.procs = append(s.procs, *pr)
	}
	for i := range lds {
		ld := &lds[i]
		// logind names a session by its audit id where there is one.
		id := ld.ID
		if ld.AuditID != 0 && ld.AuditID != procfs.Unset {
			id = strconv.FormatUint(uint64(ld.AuditID), 10)
		}
		s := sessions[id]
		if s == nil {
			s = &session{id: id}
			if n, err := strconv.ParseUint(id, 10, 32); err == nil && uint32(n) != procfs.Unset {
				s.audit, s.hasAudit = uint32(n), true
			}
			sessions[id] = s
			grouped = append(grouped, s)
		}
		s.ld = ld
		// A session without an audit id (a user manager, a container
		// without pam_loginuid) lives while logind's leader does.
		if len(s.procs) == 0 && ld.Leader > 0 {
			if pr := byPID[ld.Leader]; pr != nil && pr.State != 'Z' && !pr.HasSession() {
				s.procs = append(s.procs, *pr)
			}
		}
	}
	return sessions, grouped, byPID
}

// appendRecordKey appends the key that identifies a utmp record across
// reads (in the state file). The line is escaped (utmp.Display) so that a
// key never holds the tab or newline that separate the state file's
// fields.
func appendRecordKey(b []byte, r *utmp.Record) []byte {
	b = append(b, utmp.Display(r.Line)...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(r.PID), 10)
	b = append(b, '|')
	return strconv.AppendInt(b, r.Time.UnixMicro(), 10)
}

// appendFallbackID appends the LogonId of a session known only by its
// utmp record: "utmp:LINE:PID", the line escaped as utmp.Display does, so
// that the key is valid UTF-8. Distinct lines give distinct ids but for
// the few that Display escapes alike (the byte 0x85 and the character
// U+0085, and their like): their ids repeat, and a repeat is told apart
// by its time (reusedID), as a reused pid is.
func appendFallbackID[L string | []byte](b []byte, line L, pid int32) []byte {
	b = append(b, "utmp:"...)
	if plainLine(line) {
		b = append(b, line...) // as Display leaves it, without a copy
	} else {
		b = append(b, utmp.Display(string(line))...)
	}
	b = append(b, ':')
	return strconv.AppendInt(b, int64(pid), 10)
}

// plainLine reports whether line is printable ASCII without a backslash,
// which utmp.Display leaves as it is: every terminal name but a hostile
// one.
func plainLine[L string | []byte](line L) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// reusedID is the LogonId of a record whose line and pid repeat an
// earlier one's (a pid reused since): "utmp:LINE:PID@SECONDS", its login
// time, and "#2", "#3"… should that be taken too.
func reusedID(taken func(string) bool, id string, r *utmp.Record) string {
	var sec int64
	if !r.Time.IsZero() {
		sec = r.Time.Unix()
	}
	id += "@" + strconv.FormatInt(sec, 10)
	for k, base := 2, id; taken(id); k++ {
		id = base + "#" + strconv.Itoa(k)
	}
	return id
}

// recordOwners finds the session, other than one of its own, that a utmp
// login record belongs to. Both passes over the file ask it, and it
// answers both alike: it reads only what the first pass leaves unchanged.
type recordOwners struct {
	ids      map[string]uint32 // the remembered ids (Provider.ids) when the first pass began; never written
	sessions map[string]*session
	byPID    map[int]*procfs.Process
	owners   map[string]*session // terminal → live audit session; built when first needed
	key      []byte              // the last record's key (appendRecordKey)
}

// of returns the session record r belongs to (attached): that of its
// process's audit session; when its process is gone, the audit session
// remembered for the record (s is nil while no session of that id is
// made; audit is its id), else the live session whose processes hold its
// terminal. Otherwise the record is a session of its own, live when pr,
// its process (without an audit id), is. When attached, o.key is r's key.
func (o *recordOwners) of(r *utmp.Record) (s *session, pr *procfs.Process, audit uint32, attached bool) {
	pr = o.byPID[int(r.PID)]
	// A process that started well after the login is a reused pid.
	if pr != nil && (pr.State == 'Z' || (!r.Time.IsZero() && pr.StartTime.After(r.Time.Add(2*time.Second)))) {
		pr = nil
	}
	switch {
	case pr != nil && pr.HasSession():
		o.key = appendRecordKey(o.key[:0], r)
		return o.sessions[strconv.FormatUint(uint64(pr.SessionID), 10)], pr, pr.SessionID, true
	case pr != nil:
		return nil, pr, 0, false
	}
	// The key is made only where it is asked: a copied utmp's ghosts,
	// nothing remembered and no terminal held, need none.
	if len(o.ids) > 0 {
		o.key = appendRecordKey(o.key[:0], r)
		if audit, ok := o.ids[string(o.key)]; ok {
			return o.sessions[strconv.FormatUint(uint64(audit), 10)], nil, audit, true
		}
	}
	if owner := ttyOwners(o.sessions, &o.owners)[r.Line]; owner != nil && r.Line != "" && startedBy(owner, r.Time) {
		// The record's own process is gone, but the session's other
		// processes still hold its terminal (a leader killed first): the
		// record is theirs, and remembered as such.
		o.key = appendRecordKey(o.key[:0], r)
		return owner, nil, owner.audit, true
	}
	return nil, nil, 0, false
}

// alone reports, from a login record's pid and line alone, that it
// belongs to no other session and has no live process (of would say
// neither attached nor live): its process is gone, no record is
// remembered, and no live session holds its terminal. false is no answer:
// ask of.
func (o *recordOwners) alone(pid int32, line []byte) bool {
	return o.byPID[int(pid)] == nil && len(o.ids) == 0 && (len(line) == 0 || ttyOwners(o.sessions, &o.owners)[string(line)] == nil)
}

// attachRecords is the first pass over the utmp file uf (nil: none): it
// gives each login record to the session it belongs to (recordOwners.of),
// making the ghost session of a remembered audit id whose processes are
// gone (it returns those it made, remembered), and counts the others into
// reps, the ids that may repeat, holding none. n is the number of login
// records, warn the file's partial last record. A live audit session of
// grouped that has no record left but had one when last seen is logging
// out: it keeps that record and is marked so. The ids of the records of
// live sessions are remembered (in the state file) for when their
// processes are gone.
func (p *Provider) attachRecords(ctx context.Context, uf *utmp.File, o *recordOwners, grouped []*session) (remembered []*session, reps *repeats, n int, warn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loadState()
	o.ids = p.ids
	live := map[string]uint32{}
	if uf != nil {
		reps = newRepeats(uf.Records())
		defer reps.done()
		warn, err = uf.EachRaw(ctx, func(rd *utmp.Reader) error {
			h := rd.Head()
			if h.Type != utmp.UserProcess || len(h.User) == 0 { // as Record.UserProcess
				return nil
			}
			n++
			if o.alone(h.PID, h.Line) {
				// Most records of a big file: read in place and never
				// decoded, so that no string is made for them.
				reps.addLine(h.Line, h.PID)
				return nil
			}
			r := rd.Decode()
			s, _, audit, attached := o.of(&r)
			if !attached {
				reps.addLineString(r.Line, r.PID)
				return nil
			}
			live[string(o.key)] = audit
			if s == nil {
				id := strconv.FormatUint(uint64(audit), 10)
				s = &session{id: id, audit: audit, hasAudit: true}
				o.sessions[id] = s
				remembered = append(remembered, s)
			}
			// A session's record is its earliest; one with a time is
			// preferred to one without (a zero time says nothing).
			if s.rec == nil || (!r.Time.IsZero() && (s.rec.Time.IsZero() || r.Time.Before(s.rec.Time))) {
				rc := r // only a kept record escapes to the heap
				s.rec = &rc
			}
			return nil
		})
		if err != nil {
			return nil, nil, 0, nil, err
		}
	}
	// sshd writes the logout (DEAD_PROCESS) a moment before the session's
	// last processes end, and a session can outlive it (a process left
	// running): its terminal, host and start stay what they were.
	lastRecs := map[uint32]utmp.Record{}
	for _, s := range grouped {
		if !s.hasAudit || len(s.procs) == 0 {
			continue
		}
		if s.rec != nil {
			lastRecs[s.audit] = *s.rec
		} else if r, ok := p.lastRecs[s.audit]; ok {
			s.rec, s.loggedOut = &r, true
			lastRecs[s.audit] = r
		}
	}
	p.lastRecs = lastRecs
	p.ids = live
	p.saveState()
	return remembered, reps, n, warn, nil
}

// repeats tells which "utmp:LINE:PID" ids of a utmp file may occur more
// than once, in memory that does not grow with the file: the first pass
// adds every id of a record that is a session of its own to a Bloom filter
// (4 hashes, 16 bits an id from 8 KiB up to 2 MiB, reached at 1,048,576
// records, held outside the Go heap: see newWords) and keeps the ids that
// the filter had already seen — the repeated ones, and a few others (false
// positives: one in 400 to one in 5,000 by how far the size was rounded
// up; one in 400 at 1,000,000 ids). The second pass needs to remember only
// the ids of these, to give a repeat its own id.
type repeats struct {
	seed    maphash.Seed
	bits    []uint64
	mask    uint64
	again   map[string]struct{}
	release func() // gives bits back (newWords)
}

// newRepeats returns a filter for about n ids.
func newRepeats(n int64) *repeats {
	nbits := uint64(1) << 16
	for nbits < uint64(n)*16 && nbits < 1<<24 {
		nbits <<= 1
	}
	bits, release := newWords(int(nbits / 64))
	return &repeats{seed: maphash.MakeSeed(), bits: bits, mask: nbits - 1, release: release}
}

// done lets the filter's memory go: the second pass asks only what was
// seen again (maybe), never the filter.
func (r *repeats) done() {
	if r.bits != nil {
		r.bits = nil
		r.release()
	}
}

// addLine adds the id of a record with line and pid, "utmp:LINE:PID"
// (appendFallbackID's). For a plain line (plainLine: every terminal name
// but a hostile one) the id's text tells any two lines and pids apart, so
// the filter hashes the line and the pid as they are and makes the text
// only for an id it may have seen: formatting every record's id was an
// eighth of the first pass. Another line's id is hashed as its text,
// which two lines can share (utmp.Display escapes the byte 0x85 and the
// character U+0085 alike): those must count as one id that repeats.
func (r *repeats) addLine(line []byte, pid int32) {
	if !plainLine(line) {
		addText(r, line, pid)
	} else if r.add(mixPID(maphash.Bytes(r.seed, line), pid)) {
		keep(r, line, pid)
	}
}

// addLineString is addLine for a line held as a string: the same line
// and pid hash alike either way (maphash's Bytes and String agree).
func (r *repeats) addLineString(line string, pid int32) {
	if !plainLine(line) {
		addText(r, line, pid)
	} else if r.add(mixPID(maphash.String(r.seed, line), pid)) {
		keep(r, line, pid)
	}
}

// addText adds the id of line and pid by its text.
func addText[L string | []byte](r *repeats, line L, pid int32) {
	var idb [96]byte
	id := appendFallbackID(idb[:0], line, pid)
	if r.add(maphash.Bytes(r.seed, id)) {
		r.keepID(id)
	}
}

// mixPID mixes a pid into the hash of a line (MurmurHash3's finalizer),
// so that every bit of the result depends on both.
func mixPID(h uint64, pid int32) uint64 {
	h ^= uint64(uint32(pid)) * 0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// keep keeps the id of line and pid as one that may repeat.
func keep[L string | []byte](r *repeats, line L, pid int32) {
	var idb [96]byte
	r.keepID(appendFallbackID(idb[:0], line, pid))
}

// keepID keeps id as one that may repeat.
func (r *repeats) keepID(id []byte) {
	if r.again == nil {
		r.again = map[string]struct{}{}
	}
	r.again[string(id)] = struct{}{}
}

// add sets the filter's bits of hash h and reports whether all were set
// already: whether the filter may have seen it.
func (r *repeats) add(h uint64) bool {
	step := h>>32 | h<<32 | 1
	seen := true
	for range 4 {
		bit := h & r.mask
		w, m := &r.bits[bit>>6], uint64(1)<<(bit&63)
		if *w&m == 0 {
			seen = false
			*w |= m
		}
		h += step
	}
	return seen
}

// maybe reports whether id may occur more than once.
func (r *repeats) maybe(id string) bool {
	_, ok := r.again[id]
	return ok
}

// ttyOwners returns (building it on first use into *cache) the map from a
// terminal to the live audit session whose processes hold it; a terminal
// that processes of two sessions hold belongs to neither.
func ttyOwners(sessions map[string]*session, cache *map[string]*session) map[string]*session {
	if *cache != nil {
		return *cache
	}
	owners := map[string]*session{}
	shared := map[string]bool{}
	for _, s := range sessions {
		if !s.hasAudit {
			continue
		}
		for i := range s.procs {
			tty := s.procs[i].TTYName
			if tty == "" || shared[tty] {
				continue
			}
			if o, ok := owners[tty]; ok && o != s {
				delete(owners, tty)
				shared[tty] = true
				continue
			}
			owners[tty] = s
		}
	}
	*cache = owners
	return owners
}

// startedBy reports whether session s had begun by time t (with the slack
// of /proc's whole-second boot time), so that a record is not given to a
// later session that reused its terminal.
func startedBy(s *session, t time.Time) bool {
	if t.IsZero() {
		return false
	}
	for i := range s.procs {
		if !s.procs[i].StartTime.After(t.Add(2 * time.Second)) {
			return true
		}
	}
	return false
}

// loadState reads the remembered ids once; p.mu is held.
func (p *Provider) loadState() {
	if p.opts.StatePath == "" || p.saved != "" {
		return
	}
	b, err := os.ReadFile(p.opts.StatePath)
	if err != nil {
		return
	}
	p.saved = string(b)
	// A new map: one already made is never written again, as the second
	// pass of an enumeration reads it without p.mu.
	ids := maps.Clone(p.ids)
	for _, line := range strings.Split(p.saved, "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			ids[k] = uint32(n)
		}
	}
	p.ids = ids
}

// saveState writes the remembered ids when they changed; p.mu is held.
func (p *Provider) saveState() {
	if p.opts.StatePath == "" {
		return
	}
	keys := make([]string, 0, len(p.ids))
	for k := range p.ids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s\t%d\n", k, p.ids[k])
	}
	if b.String() == p.saved {
		return
	}
	dir := filepath.Dir(p.opts.StatePath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".logon-ids-*")
	if err != nil {
		return
	}
	// Readable by all: it holds terminals, pids and audit ids, all public
	// in utmp and /proc, and an ordinary user's command needs it to give
	// a ghost the LogonId root's does.
	_ = tmp.Chmod(0o644)
	_, werr := tmp.WriteString(b.String())
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p.opts.StatePath) != nil {
		os.Remove(tmp.Name())
		return
	}
	p.saved = b.String()
}

// userName names a uid, remembering the answers.
func (p *Provider) userName(uid uint32) (string, bool) {
	p.mu.Lock()
	n, ok := p.names[uid]
	p.mu.Unlock()
	if ok {
		return n, n != ""
	}
	if p.opts.UserName != nil {
		n, ok = p.opts.UserName(uid)
	} else if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		n, ok = u.Username, true
	}
	p.mu.Lock()
	p.names[uid] = n
	p.mu.Unlock()
	return n, ok
}

// origin is where a session came from: LogonType, RemoteHost and
// RemoteAddress, which do not change during its life.
type origin struct {
	remoteHost, remoteAddr string
	logonType              uint32
	hasLogonType           bool
	// withTTY: the logon type was worked out knowing the session's
	// terminal. One worked out before it (sshd's process seen before it
	// wrote the utmp record) gives way once the terminal is known.
	withTTY bool
}

// stableOrigin returns the origin of live session id as first known,
// each part filled in when it is first learnt: what tells it (the sshd
// process of a session without a tty, logind's file) may be gone before
// the session's last process, and a session does not change where it
// came from.
func (p *Provider) stableOrigin(id string, now origin) (string, string, uint32, bool) {
	p.originMu.Lock()
	defer p.originMu.Unlock()
	if p.origins == nil {
		p.origins = map[string]origin{}
	}
	was, ok := p.origins[id]
	o := now
	if ok {
		o = was
		if o.remoteHost == "" {
			o.remoteHost = now.remoteHost
		}
		if o.remoteAddr == "" {
			o.remoteAddr = now.remoteAddr
		}
		if !o.hasLogonType || now.hasLogonType && now.withTTY && !o.withTTY {
			o.logonType, o.hasLogonType, o.withTTY = now.logonType, now.hasLogonType, now.withTTY
		}
	}
	if !ok || o != was {
		// What is kept is copied: id and now's texts may be in a lent
		// chunk's memory (recordChunks), which is written again. (A map
		// stores the key given even where it holds an equal one.)
		o.remoteHost, o.remoteAddr = strings.Clone(o.remoteHost), strings.Clone(o.remoteAddr)
		p.origins[strings.Clone(id)] = o
	}
	return o.remoteHost, o.remoteAddr, o.logonType, o.hasLogonType
}

// pruneOrigins forgets the origins of sessions no longer live: the live
// ones among sessions, and those of ids alive.
func (p *Provider) pruneOrigins(sessions []*session, alive []string) {
	p.originMu.Lock()
	defer p.originMu.Unlock()
	if len(p.origins) == 0 {
		return
	}
	live := make(map[string]bool, len(p.origins))
	for _, s := range sessions {
		if len(s.procs) > 0 {
			live[s.id] = true
		}
	}
	for _, id := range alive {
		live[id] = true
	}
	for id := range p.origins {
		if !live[id] {
			delete(p.origins, id)
		}
	}
}
