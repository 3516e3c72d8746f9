package linux

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/box"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/procfs"
)

// facts is what the sources say of one session, resolved into the values
// its instance shows: who, where from, since when, its leader and its
// state. [factsOf] makes them from a session alone (and a uid's name);
// what needs the machine now — the terminal's idle time, the origin first
// known of a live session — the provider adds ([Provider.instance]);
// [facts.build] turns them into the instance.
type facts struct {
	id                     string
	userName               string
	uid                    uint32
	hasUID                 bool
	tty                    string
	remoteHost, remoteAddr string
	seat, class, state     string
	service                string
	leader                 int // > 0 when known
	start                  time.Time
	audit                  uint32
	hasAudit               bool
	alive, loggedOut       bool
	status                 string
	idle                   time.Duration
	hasIdle                bool
	logonType              uint32
	hasLogonType           bool
}

// factsOf resolves the facts of session s from its processes, utmp
// record and logind file; userName names a uid. It reads nothing else.
// A RemoteAddress written otherwise than its RemoteHost is made in room
// when room is not nil (see addrText).
func factsOf(s *session, userName func(uint32) (string, bool), room []byte) facts {
	f := facts{id: s.id, audit: s.audit, hasAudit: s.hasAudit, alive: len(s.procs) > 0 || s.hiddenAlive, loggedOut: s.loggedOut}

	// Who: the login uid is the truth; utmp and logind only name it.
	for i := range s.procs {
		if s.procs[i].HasLoginUID() {
			f.uid, f.hasUID = s.procs[i].LoginUID, true
			break
		}
	}
	if !f.hasUID && s.ld != nil && s.ld.UID != procfs.Unset {
		f.uid, f.hasUID = s.ld.UID, true
	}
	if f.hasUID {
		f.userName, _ = userName(f.uid)
	}
	if f.userName == "" && s.rec != nil {
		f.userName = prop.Clean(s.rec.User)
	}
	if f.userName == "" && s.ld != nil {
		f.userName = s.ld.User
	}

	// Where from.
	if s.rec != nil {
		f.tty = prop.Clean(s.rec.Line)
		if h := prop.Clean(s.rec.Host); h != "" && !strings.HasPrefix(h, ":") {
			f.remoteHost = h
		}
		if s.rec.Addr.IsValid() && !s.rec.Addr.IsUnspecified() {
			f.remoteAddr = addrText(s.rec.Addr.Unmap(), f.remoteHost, room)
		}
	}
	if s.ld != nil {
		if f.tty == "" {
			f.tty = s.ld.TTY
		}
		if f.remoteHost == "" && s.ld.Remote {
			f.remoteHost = s.ld.RemoteHost
		}
		f.seat, f.class, f.state, f.service = s.ld.Seat, s.ld.Class, s.ld.State, s.ld.Service
	}
	if f.remoteAddr == "" && looksLikeAddr(f.remoteHost) {
		if a, err := netip.ParseAddr(f.remoteHost); err == nil {
			f.remoteAddr = addrText(a.Unmap(), f.remoteHost, room)
		}
	}

	// The leader: logind's, else the session's first process.
	f.leader = -1
	if s.ld != nil && s.ld.Leader > 0 {
		f.leader = s.ld.Leader
	}
	var first *procfs.Process
	for i := range s.procs {
		pr := &s.procs[i]
		if first == nil || pr.StartTicks < first.StartTicks || (pr.StartTicks == first.StartTicks && pr.PID < first.PID) {
			first = pr
		}
	}
	if f.leader < 0 && first != nil {
		f.leader = first.PID
	}
	if f.leader < 0 && s.rec != nil && s.rec.PID > 0 {
		f.leader = int(s.rec.PID)
	}
	if f.service == "" && first != nil {
		f.service = pamServiceOf(first.Comm)
	}

	// When: the login record's time, else logind's, else the first process's.
	switch {
	case s.rec != nil && !s.rec.Time.IsZero():
		f.start = s.rec.Time
	case s.ld != nil && !s.ld.Start.IsZero():
		f.start = s.ld.Start
	case first != nil:
		f.start = first.StartTime
	}

	f.status = statusOf(f.alive, f.state, f.loggedOut)
	f.logonType, f.hasLogonType = logonTypeOf(f.tty != "", f.remoteHost != "", f.seat, f.service, f.class)
	return f
}

// instance builds the CIM instance of one session: its facts, with the
// idle time of its terminal and, when it is live, the origin it was
// first known by.
func (p *Provider) instance(s *session, now time.Time, a *instanceSlab) *cim.Instance {
	f := p.facts(s, now, nil)
	return f.build(a)
}

// facts are the facts of session s as its instance shows them now: those
// of its sources, with the idle time of its terminal and, when it is live,
// the origin it was first known by. It may be called from any goroutine.
// room, when not nil, is factsOf's for the address text.
func (p *Provider) facts(s *session, now time.Time, room []byte) facts {
	f := factsOf(s, p.userName, room)
	if f.tty != "" && f.alive {
		f.idle, f.hasIdle = p.idle(f.tty, now)
	}
	if f.alive {
		f.remoteHost, f.remoteAddr, f.logonType, f.hasLogonType = p.stableOrigin(f.id, origin{f.remoteHost, f.remoteAddr, f.logonType, f.hasLogonType, f.tty != ""})
	}
	return f
}

// build makes the instance of the facts, cut from slab a.
func (f *facts) build(a *instanceSlab) *cim.Instance {
	// First onto the stack, then copied into a slice of exactly their
	// number cut from a slab.
	var stackProps [numProps]cim.PropertyValue
	props := f.appendProps(stackProps[:0], nil)
	in := a.instance(len(props))
	in.Properties = append(in.Properties, props...)
	in.Owner = f.userName
	return in
}

// appendProps appends the properties of the facts to props, which has
// room for numProps, and returns it. Each property is set once, so they
// are appended without Set's lookup. A property the sources leave unknown
// is not stored at all (an absent property reads as NULL): a ghost from
// a copied utmp has half a dozen, and each would cost memory that a big
// utmp pays for 100,000 times.
//
// With slots not nil, the values are held in slots and the properties
// refer to them (see package box) rather than to a heap copy each: the
// instance is then good only as long as slots are not written again.
func (f *facts) appendProps(props []cim.PropertyValue, slots *valueSlots) []cim.PropertyValue {
	set := func(name string, v any) {
		props = append(props, cim.PropertyValue{Name: name, Value: v})
	}
	if slots != nil {
		// Each slot used is written before its interface is made; the
		// others need not be cleared (what they still hold is bounded by
		// the chunk's size).
		slots.ns, slots.nu, slots.nt = 0, 0, 0
	}
	setString := func(name, v string) {
		if v != "" {
			set(name, slots.string(v))
		}
	}
	set("LogonId", slots.string(f.id))
	setString("UserName", f.userName)
	if f.hasUID {
		set("UserId", slots.uint32(f.uid))
	}
	setString("TTY", f.tty)
	var boxedHost any // boxed once when it is also the address, as who's hosts mostly are
	if f.remoteHost != "" {
		boxedHost = slots.string(f.remoteHost)
		set("RemoteHost", boxedHost)
	}
	if f.remoteAddr != "" && f.remoteAddr == f.remoteHost {
		set("RemoteAddress", boxedHost)
	} else {
		setString("RemoteAddress", f.remoteAddr)
	}
	if f.leader > 0 {
		set("LeaderProcessId", slots.uint32(uint32(f.leader)))
	}
	setString("Seat", f.seat)
	setString("SessionClass", f.class)
	setString("State", f.state)
	var boxedService any // boxed once for Service and AuthenticationPackage
	if f.service != "" {
		boxedService = slots.string(f.service)
		set("Service", boxedService)
	}
	if f.hasAudit {
		set("AuditSessionId", slots.uint32(f.audit))
	}
	if !f.start.IsZero() {
		set("StartTime", slots.dateTime(cim.NewDateTime(f.start.In(time.Local))))
	}
	if f.hasIdle {
		set("IdleTime", slots.dateTime(cim.NewInterval(f.idle)))
	}
	set("Status", boxedStatus(f.status))
	if boxedService != nil {
		set("AuthenticationPackage", boxedService)
	}
	if f.hasLogonType {
		set("LogonType", f.logonType)
	}
	text, nameEnd, captionEnd := f.texts(slots)
	set("Name", slots.string(text[:nameEnd])) // never empty: it holds "@"
	set("Caption", slots.string(schema.Truncate(text[nameEnd:captionEnd], 64)))
	set("Description", slots.string(text[captionEnd:]))
	return props
}

// valueSlots holds the values of one instance's properties for
// [facts.appendProps], in a chunk of instances that is reused batch after
// batch: boxing each value on the heap instead was a quarter of the time
// of the goroutine that reads a big utmp (go test -bench
// EnumerateGhosts, -cpuprofile). A nil *valueSlots boxes on the heap.
type valueSlots struct {
	strs       [numStrings]string
	uint32s    [3]uint32       // UserId, LeaderProcessId, AuditSessionId
	times      [2]cim.DateTime // StartTime, IdleTime
	text       [textRoom]byte  // Name, Caption and Description (facts.texts)
	addr       [addrRoom]byte  // RemoteAddress when not RemoteHost's text (addrText)
	ns, nu, nt int
}

// numStrings is how many string properties an instance may have:
// LogonId, UserName, TTY, RemoteHost, RemoteAddress, Seat, SessionClass,
// State, Service, Name, Caption and Description.
const numStrings = 12

var (
	boxString   = box.For[string]()
	boxUint32   = box.For[uint32]()
	boxDateTime = box.For[cim.DateTime]()
)

// string returns v as an interface, held in the next string slot.
func (s *valueSlots) string(v string) any {
	if s == nil {
		return v
	}
	slot := &s.strs[s.ns]
	s.ns++
	*slot = v
	return boxString.At(slot)
}

// uint32 returns v as an interface, held in the next uint32 slot unless it
// is small enough for the runtime to box it without an allocation.
func (s *valueSlots) uint32(v uint32) any {
	if s == nil || v < 256 {
		return v
	}
	slot := &s.uint32s[s.nu]
	s.nu++
	*slot = v
	return boxUint32.At(slot)
}

// dateTime returns v as an interface, held in the next date-time slot.
func (s *valueSlots) dateTime(v cim.DateTime) any {
	if s == nil {
		return v
	}
	slot := &s.times[s.nt]
	s.nt++
	*slot = v
	return boxDateTime.At(slot)
}

// texts returns Name, Caption and Description built into one buffer as
// one string, of which each is a part (one allocation, not three): Name
// is text[:nameEnd], Caption text[nameEnd:captionEnd] and Description the
// rest. With slots not nil, the string is made in slots (no allocation
// when it fits) and is good only as long as they are not written again.
func (f *facts) texts(slots *valueSlots) (text string, nameEnd, captionEnd int) {
	if slots == nil {
		var stack [textRoom]byte // on the stack: the string below is the one copy
		b, nameEnd, captionEnd := f.appendTexts(stack[:0])
		return string(b), nameEnd, captionEnd
	}
	b, nameEnd, captionEnd := f.appendTexts(slots.text[:0])
	// b is slots.text, or, when the texts did not fit, memory of its own
	// that nothing else refers to: either way it is not copied.
	return box.String(b), nameEnd, captionEnd
}

// textRoom is room enough for the texts of most sessions (a user, a
// terminal and a host of usual lengths, twice each, and the notes).
const textRoom = 320

// appendTexts appends the texts of [facts.texts] to b.
func (f *facts) appendTexts(b []byte) (_ []byte, nameEnd, captionEnd int) {
	where := f.tty
	if where == "" {
		where = f.service
	}
	if where == "" {
		where = "notty"
	}
	b = append(b, f.userName...)
	b = append(b, '@')
	b = append(b, where...)
	nameEnd = len(b)
	b = append(b, f.userName...)
	b = append(b, " on "...)
	b = append(b, where...)
	if f.remoteHost != "" {
		b = append(b, " from "...)
		b = append(b, f.remoteHost...)
	}
	captionEnd = len(b)
	b = append(b, "Logon session "...)
	b = append(b, f.id...)
	b = append(b, " of "...)
	b = append(b, prop.OrUnknown(f.userName)...)
	if f.hasUID {
		b = append(b, " (uid "...)
		b = strconv.AppendUint(b, uint64(f.uid), 10)
		b = append(b, ')')
	}
	for _, part := range [...][2]string{{" on ", f.tty}, {" from ", f.remoteHost}, {" via ", f.service}} {
		if part[1] != "" {
			b = append(b, part[0]...)
			b = append(b, part[1]...)
		}
	}
	if f.loggedOut && f.alive {
		b = append(b, loggedOutNote...)
	}
	if !f.alive {
		b = append(b, ghostNote...)
	}
	return b, nameEnd, captionEnd
}

// instanceSlab hands out instances and their property slices cut from
// larger allocations: a big utmp makes one instance per record, and one
// allocation per instance, and another per property slice, was a fifth of
// Enumerate's time. Each slab holds only instances that are returned, so
// memory grows with nothing but the instances held.
type instanceSlab struct {
	insts []cim.Instance
	props []cim.PropertyValue
	left  int  // instances still to be made, to size the next slab
	lent  bool // the caller is done with a batch once it is emitted
}

// emitted says that a batch of the slab's instances was emitted: when the
// caller lent it, the next batch is made in the same memory.
func (a *instanceSlab) emitted() {
	if a.lent {
		clear(a.insts)
		a.insts, a.props = a.insts[:0], a.props[:0]
	}
}

// slabInstances and slabProps bound a slab's size.
const (
	slabInstances = 512
	slabProps     = slabInstances * 17
)

// instance returns an instance of ClassName with room for exactly n
// properties.
func (a *instanceSlab) instance(n int) *cim.Instance {
	if len(a.insts) == cap(a.insts) {
		a.insts = make([]cim.Instance, 0, max(1, min(a.left, slabInstances)))
	}
	if cap(a.props)-len(a.props) < n {
		a.props = make([]cim.PropertyValue, 0, max(n, min(a.left*numProps, slabProps)))
	}
	a.insts = append(a.insts, cim.Instance{ClassName: ClassName})
	in := &a.insts[len(a.insts)-1]
	k := len(a.props)
	a.props = a.props[:k+n]
	in.Properties = a.props[k : k : k+n]
	a.left--
	return in
}

// idle is how long the terminal has had no input, as w(1) computes it:
// now less the device's access time.
func (p *Provider) idle(tty string, now time.Time) (time.Duration, bool) {
	if strings.Contains(tty, "..") {
		return 0, false
	}
	fi, err := os.Stat(filepath.Join(p.opts.DevRoot, tty))
	if err != nil {
		return 0, false
	}
	at, ok := accessTime(fi)
	if !ok {
		return 0, false
	}
	d := now.Sub(at)
	if d < 0 {
		d = 0
	}
	return d.Truncate(time.Second), true
}

// The Status values as interfaces, boxed once, not once per instance.
var (
	boxedOK       any = StatusOK
	boxedStarting any = StatusStarting
	boxedStopping any = StatusStopping
	boxedLostComm any = StatusLostComm
)

func boxedStatus(s string) any {
	switch s {
	case StatusOK:
		return boxedOK
	case StatusStarting:
		return boxedStarting
	case StatusStopping:
		return boxedStopping
	case StatusLostComm:
		return boxedLostComm
	}
	return s
}

// ghostNote ends the Description of a ghost.
const ghostNote = "; its processes are gone but its record remains"

// loggedOutNote ends the Description of a session whose logout is written
// while some of its processes remain.
const loggedOutNote = "; its logout is recorded but some of its processes remain"

// numProps is how many properties instance sets at most.
const numProps = 20

// addrText is a's text: host itself when host already spells a that way
// (as a utmp record's host mostly does), so that no string is made; else
// made in room when room is not nil (good only as long as room is not
// written again; a string of its own when it does not fit), else a
// string of its own.
func addrText(a netip.Addr, host string, room []byte) string {
	if room != nil {
		b := a.AppendTo(room[:0])
		if string(b) == host {
			return host
		}
		return box.String(b)
	}
	var buf [addrRoom]byte
	b := a.AppendTo(buf[:0])
	if string(b) == host {
		return host
	}
	return string(b)
}

// addrRoom is room enough for the text of any IP address but an IPv6
// one with a long zone.
const addrRoom = 64

// looksLikeAddr reports whether s may be an IP address (hex digits, dots,
// colons, a zone): host names are not parsed, which would cost an error
// each.
func looksLikeAddr(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%': // an IPv6 zone follows
			return i > 0
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F', c == '.', c == ':':
		default:
			return false
		}
	}
	return s != ""
}
