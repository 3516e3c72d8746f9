// Package utmp reads and writes glibc's utmp and wtmp files: the login
// records that login, sshd and friends keep in /var/run/utmp (who is on
// now) and append to /var/log/wtmp (who was on).
//
// The format is a file format, so the package builds and runs on every
// operating system; only [DefaultPath] and [DefaultWtmpPath] are Linux's.
// A record is 384 bytes on most architectures and 400 bytes on arm64,
// loong64, s390 and s390x (where ut_session and ut_tv are 64-bit); integers
// are in the byte order of the machine that wrote the file. [LayoutFor]
// gives the layout of an architecture and [Native] the one of this build;
// [CheckLayout] tells a file of another layout by its implausible records
// and names the layout it fits, and [ReadFile] refuses such a file.
//
// Strings are decoded as the raw bytes before the first NUL (a field may
// also be full, with no NUL at all, as coreutils' who reads it); bytes that
// are not UTF-8 are kept as they are. Use [Display] to show them.
//
// [Reader] streams records from an [io.Reader] with a fixed buffer; a
// truncated last record is reported by [Reader.Warning] as a
// [*TruncatedError] and does not spoil the records before it. [Encode],
// [AppendEncode] and [Writer] write records, for tests and tools.
package utmp

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/sysfile/internal/recfile"
)

// DefaultPath is where glibc keeps the current logins on Linux (UTMP_FILE).
const DefaultPath = "/var/run/utmp"

// DefaultWtmpPath is where glibc appends the login history on Linux (WTMP_FILE).
const DefaultWtmpPath = "/var/log/wtmp"

// Type is a record's ut_type.
type Type int16

// The record types of glibc's <utmp.h>. Note that BSD and macOS utmpx number
// OldTime and NewTime the other way round; this package is glibc's.
const (
	Empty        Type = 0 // EMPTY: no valid data
	RunLevel     Type = 1 // RUN_LVL: change of run level; ut_pid holds it
	BootTime     Type = 2 // BOOT_TIME: time of system boot
	NewTime      Type = 3 // NEW_TIME: time after a clock change
	OldTime      Type = 4 // OLD_TIME: time before a clock change
	InitProcess  Type = 5 // INIT_PROCESS: a process spawned by init
	LoginProcess Type = 6 // LOGIN_PROCESS: a getty waiting for a login
	UserProcess  Type = 7 // USER_PROCESS: a user's login session
	DeadProcess  Type = 8 // DEAD_PROCESS: a terminated session
	Accounting   Type = 9 // ACCOUNTING: not used by glibc
)

var typeNames = [...]string{
	Empty:        "EMPTY",
	RunLevel:     "RUN_LVL",
	BootTime:     "BOOT_TIME",
	NewTime:      "NEW_TIME",
	OldTime:      "OLD_TIME",
	InitProcess:  "INIT_PROCESS",
	LoginProcess: "LOGIN_PROCESS",
	UserProcess:  "USER_PROCESS",
	DeadProcess:  "DEAD_PROCESS",
	Accounting:   "ACCOUNTING",
}

// String returns the C name of the type, such as "USER_PROCESS", or
// "Type(42)" for a number glibc does not define.
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Record is one decoded utmp record.
type Record struct {
	Type Type  // ut_type
	PID  int32 // ut_pid: the session's first process (for RunLevel, the run levels)
	// Line is ut_line, the terminal without "/dev/" ("pts/3", "tty1").
	Line string
	// ID is ut_id, the inittab id or the terminal suffix ("ts/3").
	ID string
	// User is ut_user, the login name.
	User string
	// Host is ut_host, the remote host or X display (":0").
	Host string
	// ExitTermination and ExitStatus are ut_exit of a DeadProcess record.
	ExitTermination, ExitStatus int16
	// Session is ut_session (sshd and login write their session id, often 0).
	Session int64
	// Time is ut_tv; it is the zero Time when the record holds 0 seconds
	// (who would show 1970-01-01 for it: no time was written). A tv_usec
	// outside 0–999,999 is taken as 0, as who and last, which show seconds,
	// ignore it.
	Time time.Time
	// Addr is ut_addr_v6: an IPv4 address when only its first word is set,
	// as glibc writes one, else an IPv6 address; the zero Addr when all zero.
	Addr netip.Addr
}

// UserProcess reports whether the record is a login as coreutils' who
// counts one: a USER_PROCESS record with a non-empty user name.
func (r Record) UserProcess() bool {
	return r.Type == UserProcess && r.User != ""
}

// Field sizes and offsets common to both layouts (glibc's struct utmp).
const (
	lineSize = 32
	idSize   = 4
	userSize = 32
	hostSize = 256

	offType     = 0
	offPID      = 4
	offLine     = 8
	offID       = offLine + lineSize // 40
	offUser     = offID + idSize     // 44
	offHost     = offUser + userSize // 76
	offExitTerm = offHost + hostSize // 332
	offExitCode = offExitTerm + 2    // 334
	offSession  = offExitCode + 2    // 336

	// MaxLine, MaxID, MaxUser and MaxHost are the field sizes in bytes.
	MaxLine = lineSize
	MaxID   = idSize
	MaxUser = userSize
	MaxHost = hostSize
)

// Layout says how records are laid out in a file: their size (384 or 400
// bytes) and byte order. The zero Layout is not valid; use [Layout384],
// [Layout400], [LayoutFor] or [Native].
type Layout struct {
	// Size is 384 (32-bit ut_session and ut_tv) or 400 (64-bit ones).
	Size int
	// BigEndian is set for files written on s390x, ppc64, mips and mips64.
	BigEndian bool
}

// The layouts files are written in.
var (
	// Layout384 is the layout of x86-64, i386, arm, riscv64, ppc64le, mipsle
	// and mips64le: 384-byte little-endian records.
	Layout384 = Layout{Size: 384}
	// Layout384BE is the layout of ppc64, mips and mips64.
	Layout384BE = Layout{Size: 384, BigEndian: true}
	// Layout400 is the layout of arm64 and loong64: 400-byte little-endian
	// records with a 64-bit ut_session and ut_tv.
	Layout400 = Layout{Size: 400}
	// Native is the layout of the architecture this program was built for.
	Native = LayoutFor(runtime.GOARCH)
)

// LayoutFor returns the layout glibc uses on a Go architecture (a GOARCH
// value). Architectures glibc does not run on get [Layout384].
func LayoutFor(goarch string) Layout {
	switch goarch {
	case "arm64", "loong64", "arm64be":
		// glibc defines __WORDSIZE_TIME64_COMPAT32 0 on these: long
		// ut_session and struct timeval ut_tv, 8 bytes each.
		l := Layout400
		l.BigEndian = goarch == "arm64be"
		return l
	case "s390x", "s390":
		// glibc's s390 bits/utmp.h: 64-bit ut_session and ut_tv.
		return Layout400BE
	case "ppc64", "mips", "mips64", "sparc64", "ppc", "sparc", "mips64p32":
		return Layout384BE
	default:
		// amd64, 386, arm, riscv64 (__WORDSIZE_TIME64_COMPAT32 1 there too),
		// ppc64le, mipsle, mips64le, and anything else.
		return Layout384
	}
}

// Valid reports whether l is one of the layouts glibc uses.
func (l Layout) Valid() bool { return l.Size == 384 || l.Size == 400 }

// String describes the layout, such as "384-byte little-endian".
func (l Layout) String() string {
	order := "little-endian"
	if l.BigEndian {
		order = "big-endian"
	}
	return strconv.Itoa(l.Size) + "-byte " + order
}

func (l Layout) order() binary.ByteOrder {
	if l.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// u16, u32 and u64 read a field of a record in the layout's byte order,
// without the interface call of order(): every record of a file is read
// through them, twice in a listing.
func (l Layout) u16(b []byte) uint16 {
	if l.BigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (l Layout) u32(b []byte) uint32 {
	if l.BigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (l Layout) u64(b []byte) uint64 {
	if l.BigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// wide reports whether ut_session and ut_tv are 64-bit.
func (l Layout) wide() bool { return l.Size == 400 }

func (l Layout) offAddr() int {
	if l.wide() {
		return 360
	}
	return 348
}

// Head is what a scan of a file's records needs of each, read in place
// without decoding the record: its type and pid, the seconds of its time
// (ut_tv.tv_sec), and its line and user as stored, up to the first NUL
// (the bytes of the record, not copies).
type Head struct {
	Type       Type
	PID        int32
	Sec        int64
	Line, User []byte
}

// Head returns the [Head] of the record in the first l.Size bytes of b. l
// must be valid and b a whole record.
func (l Layout) Head(b []byte) Head {
	return Head{
		Type: Type(int16(l.u16(b[offType:]))),
		PID:  int32(l.u32(b[offPID:])),
		Sec:  l.seconds(b),
		Line: recfile.CString(b[offLine : offLine+lineSize]),
		User: recfile.CString(b[offUser : offUser+userSize]),
	}
}

// seconds returns ut_tv.tv_sec of a record.
func (l Layout) seconds(b []byte) int64 {
	if l.wide() {
		return int64(l.u64(b[344:]))
	}
	return int64(int32(l.u32(b[340:])))
}

// decodeFixed decodes the non-string fields of one record of l.Size bytes.
func decodeFixed(b []byte, l Layout, r *Record) {
	r.Type = Type(int16(l.u16(b[offType:])))
	r.PID = int32(l.u32(b[offPID:]))
	r.ExitTermination = int16(l.u16(b[offExitTerm:]))
	r.ExitStatus = int16(l.u16(b[offExitCode:]))
	var usec int64
	if l.wide() {
		r.Session = int64(l.u64(b[offSession:]))
		usec = int64(l.u64(b[352:]))
	} else {
		r.Session = int64(int32(l.u32(b[offSession:])))
		usec = int64(int32(l.u32(b[344:])))
	}
	sec := l.seconds(b)
	// who and last show tv_sec alone: a tv_usec outside 0–999,999 (a
	// writer's garbage) must not move the time by up to 36 minutes, and a
	// zero tv_sec is no time at all, whatever tv_usec holds.
	if usec < 0 || usec > 999999 {
		usec = 0
	}
	if sec == 0 {
		r.Time = time.Time{}
	} else {
		r.Time = time.Unix(sec, usec*1000)
	}
	a := b[l.offAddr() : l.offAddr()+16]
	var a16 [16]byte
	copy(a16[:], a)
	switch {
	case a16 == [16]byte{}:
		r.Addr = netip.Addr{}
	case [12]byte(a16[4:]) == [12]byte{}:
		r.Addr = netip.AddrFrom4([4]byte(a16[:4]))
	default:
		r.Addr = netip.AddrFrom16(a16)
	}
}

// Decode decodes one record from the first l.Size bytes of b. It returns
// false when b is shorter than a record or l is not [Layout.Valid].
func Decode(b []byte, l Layout) (Record, bool) {
	var r Record
	if !l.Valid() || len(b) < l.Size {
		return r, false
	}
	decodeFixed(b, l, &r)
	r.Line = string(recfile.CString(b[offLine : offLine+lineSize]))
	r.ID = string(recfile.CString(b[offID : offID+idSize]))
	r.User = string(recfile.CString(b[offUser : offUser+userSize]))
	r.Host = string(recfile.CString(b[offHost : offHost+hostSize]))
	return r, true
}

// Encode returns r as one record of layout l (which must be valid: an
// invalid one is taken as [Layout384]). Strings longer than their field
// are cut to fill it with no NUL, as glibc's strncpy does; in the 384-byte
// layout Session and the seconds of Time are cut to 32 bits. A zero Time
// is written as 0 seconds, 0 microseconds.
func Encode(r Record, l Layout) []byte {
	if !l.Valid() {
		l = Layout384
	}
	return AppendEncode(make([]byte, 0, l.Size), r, l)
}

// AppendEncode appends r encoded as one record of layout l to dst (see
// [Encode]) and returns the extended slice.
func AppendEncode(dst []byte, r Record, l Layout) []byte {
	if !l.Valid() {
		l = Layout384
	}
	n := len(dst)
	dst = append(dst, make([]byte, l.Size)...)
	b := dst[n:]
	o := l.order()
	o.PutUint16(b[offType:], uint16(r.Type))
	o.PutUint32(b[offPID:], uint32(r.PID))
	copy(b[offLine:offLine+lineSize], r.Line)
	copy(b[offID:offID+idSize], r.ID)
	copy(b[offUser:offUser+userSize], r.User)
	copy(b[offHost:offHost+hostSize], r.Host)
	o.PutUint16(b[offExitTerm:], uint16(r.ExitTermination))
	o.PutUint16(b[offExitCode:], uint16(r.ExitStatus))
	var sec, usec int64
	if !r.Time.IsZero() {
		sec = r.Time.Unix()
		usec = int64(r.Time.Nanosecond() / 1000)
	}
	if l.wide() {
		o.PutUint64(b[offSession:], uint64(r.Session))
		o.PutUint64(b[344:], uint64(sec))
		o.PutUint64(b[352:], uint64(usec))
	} else {
		o.PutUint32(b[offSession:], uint32(r.Session))
		o.PutUint32(b[340:], uint32(sec))
		o.PutUint32(b[344:], uint32(usec))
	}
	if r.Addr.IsValid() {
		a := b[l.offAddr():]
		if r.Addr.Is4() {
			a4 := r.Addr.As4()
			copy(a, a4[:])
		} else {
			a16 := r.Addr.As16()
			copy(a, a16[:])
		}
	}
	return dst
}
