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
	"io/fs"
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
	return &Provider{opts: opts, explicitUtmp: explicitUtmp, proc: procfs.New(opts.ProcRoot), ids: map[string]uint32{}, names: map[uint32]string{}}
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
}

// Enumerate streams the logon sessions in batches. hint.Keys["logonid"]
// narrows the result to one session (the sources are read whole all the
// same: a session's identity needs all of them).
func (p *Provider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	if !strings.EqualFold(class, ClassName) {
		return cim.Errorf(cim.ErrInvalidClass, "linux-logon serves %s, not %s", ClassName, class)
	}
	var sources []provider.Source

	// /proc and logind are read while utmp is: the three are independent,
	// and /proc alone costs as much as thousands of utmp records.
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

	// utmp: the login records. The file's size bounds their number: one
	// allocation instead of a doubling slice (a big utmp is mostly logins).
	var recs []utmp.Record
	if fi, err := os.Stat(p.opts.UtmpPath); err == nil && fi.Mode().IsRegular() && p.opts.Layout.Size > 0 {
		recs = make([]utmp.Record, 0, min(fi.Size()/int64(p.opts.Layout.Size), maxPrealloc))
	}
	warn, err := utmp.ReadFile(ctx, p.opts.UtmpPath, p.opts.Layout, func(r utmp.Record) error {
		if r.UserProcess() {
			recs = append(recs, r)
		}
		return nil
	})
	src := provider.Source{Name: "utmp", Where: p.opts.UtmpPath, Found: len(recs)}
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist) && !p.explicitUtmp:
		src.Note = "not present" // no utmp is a machine with no tty logins
	case err != nil:
		others.Wait()
		return cim.Map(err) // the reader's error, mapped once
	case warn != nil:
		src.Note = fmt.Sprintf("%d login records; %v", len(recs), warn)
		src.Warn = true
	}
	sources = append(sources, src)

	others.Wait()
	// /proc: every process with its audit session.
	psrc := provider.Source{Name: "procfs", Where: p.opts.ProcRoot}
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

	sessions, grouped, byPID := p.group(procs, lds.Sessions, len(recs))
	psrc.Found = len(sessions)
	recordOnly, remembered := p.attachRecords(recs, sessions, grouped, byPID)
	sources = append(sources, psrc, lsrc)

	now := p.opts.Now()
	ordered := sortedSessions(append(grouped, remembered...), len(recordOnly))
	ordered = append(ordered, recordOnly...)
	p.SetSources(sources...)
	want, narrowed := hint.Keys["logonid"]
	if !narrowed {
		p.pruneOrigins(ordered)
	}
	if narrowed {
		slab := instanceSlab{left: 1}
		var out []*cim.Instance
		for _, s := range ordered {
			if w, ok := want.(string); ok && strings.EqualFold(w, s.id) {
				out = append(out, p.instance(s, now, &slab))
			}
		}
		return provider.EmitSlice(ctx, out, emit)
	}
	return p.emitInstances(ctx, ordered, now, emit)
}

// emitInstances builds the instances of sessions, in their order, and
// emits them a batch at a time: a big utmp (all ghosts, one instance per
// record) is never held as instances all at once.
func (p *Provider) emitInstances(ctx context.Context, sessions []*session, now time.Time, emit provider.Emit) error {
	batch := make([]*cim.Instance, 0, min(len(sessions), provider.MaxBatch))
	slab := instanceSlab{left: len(sessions)}
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
	}
	return nil
}

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

// sortedSessions returns the sessions that are not made of a utmp
// record alone in idLess order of their ids, with room for extra more
// (those made of records alone, which the caller appends in record order,
// as who lists them). Each id is parsed once: parsing in the comparison
// cost a failed ParseUint (and its error) per comparison of two "utmp:"
// ids. The caller lists the sessions: finding them in the map of all
// sessions cost a walk over every record-only one of a big utmp.
func sortedSessions(sessions []*session, extra int) []*session {
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
	out := make([]*session, len(keys), len(keys)+extra)
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
// (grouped). The map is sized for them and for nrecs more made of utmp
// records.
func (p *Provider) group(procs []procfs.Process, lds []logind.Session, nrecs int) (sessions map[string]*session, grouped []*session, byPID map[int]*procfs.Process) {
	sessions = make(map[string]*session, min(len(procs)+len(lds)+nrecs, maxPrealloc))
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

// recordKey identifies a utmp record across reads. The line is escaped
// (utmp.Display) so that a key never holds the tab or newline that
// separate the state file's fields.
func recordKey(r *utmp.Record) string {
	b := make([]byte, 0, len(r.Line)+32)
	b = append(b, utmp.Display(r.Line)...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(r.PID), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, r.Time.UnixMicro(), 10)
	return string(b)
}

// fallbackID is the LogonId of a session known only by its utmp record:
// "utmp:LINE:PID", the line escaped as utmp.Display does, so that the key
// is valid UTF-8 and distinct lines give distinct ids.
func fallbackID(r *utmp.Record) string {
	var a [64]byte // on the stack: the string is the one allocation
	b := append(a[:0], "utmp:"...)
	b = append(b, utmp.Display(r.Line)...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(r.PID), 10)
	return string(b)
}

// reusedID is the LogonId of a record whose line and pid repeat an
// earlier one's (a pid reused since): "utmp:LINE:PID@SECONDS", its login
// time, and "#2", "#3"… should that repeat too.
func reusedID(sessions map[string]*session, id string, r *utmp.Record) string {
	var sec int64
	if !r.Time.IsZero() {
		sec = r.Time.Unix()
	}
	id += "@" + strconv.FormatInt(sec, 10)
	for k, base := 2, id; sessions[id] != nil; k++ {
		id = base + "#" + strconv.Itoa(k)
	}
	return id
}

// attachRecords gives each utmp login record to the session of its
// process, or, when the process is gone, to the session it had (from the
// remembered ids: it returns those it made, remembered), or else to a
// session of its own (recordOnly). A live audit session of grouped that
// has no record left but had one when last seen is logging out: it keeps
// that record and is marked so.
func (p *Provider) attachRecords(recs []utmp.Record, sessions map[string]*session, grouped []*session, byPID map[int]*procfs.Process) (recordOnly, remembered []*session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loadState()
	live := map[string]uint32{}
	var owners map[string]*session // terminal → the one live audit session holding it; built when first needed
	// The sessions made of records alone, in one allocation: in a big
	// utmp of ghosts there is one per record.
	var slab []session
	newSession := func(id string) *session {
		if len(slab) == cap(slab) {
			slab = make([]session, 0, min(len(recs), 1024))
		}
		slab = append(slab, session{id: id})
		return &slab[len(slab)-1]
	}
	for i := range recs {
		r := &recs[i]
		// The key is needed to remember a live session's id or to find a
		// ghost's; ghosts with nothing remembered (all of a copied utmp)
		// need none.
		var key string
		pr := byPID[int(r.PID)]
		if pr != nil || len(p.ids) > 0 {
			key = recordKey(r)
		}
		// A process that started well after the login is a reused pid.
		if pr != nil && (pr.State == 'Z' || (!r.Time.IsZero() && pr.StartTime.After(r.Time.Add(2*time.Second)))) {
			pr = nil
		}
		var s *session
		switch {
		case pr != nil && pr.HasSession():
			s = sessions[strconv.FormatUint(uint64(pr.SessionID), 10)]
			live[key] = pr.SessionID
		case pr == nil:
			if audit, ok := p.ids[key]; ok {
				live[key] = audit
				id := strconv.FormatUint(uint64(audit), 10)
				if s = sessions[id]; s == nil {
					s = newSession(id)
					s.audit, s.hasAudit = audit, true
					sessions[id] = s
					remembered = append(remembered, s)
				}
			} else if owner := ttyOwners(sessions, &owners)[r.Line]; owner != nil && r.Line != "" && startedBy(owner, r.Time) {
				// The record's own process is gone, but the session's
				// other processes still hold its terminal (a leader killed
				// first): the record is theirs, and remembered as such.
				s = owner
				live[recordKey(r)] = owner.audit
			}
		}
		if s == nil {
			id := fallbackID(r)
			if o := sessions[id]; o != nil && o.recordOnly && o.rec != nil && o.rec != r {
				// The same line and pid as an earlier record: a reused
				// pid, another login that who shows too.
				id = reusedID(sessions, id, r)
			}
			if s = sessions[id]; s == nil {
				s = newSession(id)
				s.recordOnly = true
				sessions[id] = s
				recordOnly = append(recordOnly, s)
			}
			if pr != nil {
				s.procs = append(s.procs, *pr)
			}
		}
		// A session's record is its earliest; one with a time is preferred
		// to one without (a zero time says nothing).
		if s.rec == nil || (!r.Time.IsZero() && (s.rec.Time.IsZero() || r.Time.Before(s.rec.Time))) {
			s.rec = r
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
	return recordOnly, remembered
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
	for _, line := range strings.Split(p.saved, "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			p.ids[k] = uint32(n)
		}
	}
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
	o, ok := p.origins[id]
	if !ok {
		o = now
	} else {
		if o.remoteHost == "" {
			o.remoteHost = now.remoteHost
		}
		if o.remoteAddr == "" {
			o.remoteAddr = now.remoteAddr
		}
		if !o.hasLogonType {
			o.logonType, o.hasLogonType = now.logonType, now.hasLogonType
		}
	}
	p.origins[id] = o
	return o.remoteHost, o.remoteAddr, o.logonType, o.hasLogonType
}

// pruneOrigins forgets the origins of sessions no longer live.
func (p *Provider) pruneOrigins(sessions []*session) {
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
	for id := range p.origins {
		if !live[id] {
			delete(p.origins, id)
		}
	}
}
