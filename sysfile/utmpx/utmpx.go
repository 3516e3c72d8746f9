// Package utmpx reads and writes the BSD login-record files: macOS's
// /var/run/utmpx (Libc's struct utmpx32, 628 bytes a record, little-endian,
// after a SIGNATURE header record) and FreeBSD's /var/run/utx.active
// (libc's packed struct futx, 197 bytes a record, big-endian). They are
// file formats, so the package builds and runs on every system.
//
// The two systems number record types differently from each other and
// from glibc (macOS has OLD_TIME 3 and NEW_TIME 4, as glibc has them the
// other way round; FreeBSD has USER_PROCESS 4). A [Record]'s [Type] uses
// macOS's numbers whatever the file; FreeBSD's are translated both ways.
//
// Strings are the raw bytes before the first NUL (a full field has
// none); they are not checked for UTF-8.
package utmpx

import (
	"encoding/binary"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/sysfile/internal/recfile"
)

// Type is a record's ut_type, in macOS's numbering.
type Type int16

// The record types of macOS's <utmpx.h>.
const (
	Empty        Type = 0
	RunLevel     Type = 1
	BootTime     Type = 2
	OldTime      Type = 3
	NewTime      Type = 4
	InitProcess  Type = 5
	LoginProcess Type = 6
	UserProcess  Type = 7
	DeadProcess  Type = 8
	Accounting   Type = 9
	Signature    Type = 10
	ShutdownTime Type = 11
)

var typeNames = [...]string{"EMPTY", "RUN_LVL", "BOOT_TIME", "OLD_TIME", "NEW_TIME", "INIT_PROCESS",
	"LOGIN_PROCESS", "USER_PROCESS", "DEAD_PROCESS", "ACCOUNTING", "SIGNATURE", "SHUTDOWN_TIME"}

// String returns the C name of the type, such as "USER_PROCESS", or the
// number for a type macOS does not define.
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return strconv.Itoa(int(t))
}

// Magic is the ut_user of the SIGNATURE record that begins macOS's
// utmpx file.
const Magic = "utmpx-1.00"

// Record is one decoded login record.
type Record struct {
	Type Type  // ut_type, in macOS's numbering
	PID  int32 // ut_pid
	// Line is ut_line, the terminal without "/dev/" ("ttys003", "console").
	Line string
	// ID is ut_id (4 bytes on macOS, 8 on FreeBSD).
	ID string
	// User is ut_user, the login name.
	User string
	// Host is ut_host, the remote host, or "" for a local login.
	Host string
	// Time is ut_tv; the zero Time when the record holds none.
	Time time.Time
}

// UserProcess reports whether the record is a login, as who(1) counts
// one: a USER_PROCESS record with a user name.
func (r Record) UserProcess() bool { return r.Type == UserProcess && r.User != "" }

// SignatureRecord returns the header record macOS writes first in a new
// utmpx file.
func SignatureRecord() Record { return Record{Type: Signature, User: Magic} }

// Format is a file format.
type Format int

// The formats.
const (
	// Darwin is macOS's utmpx: struct utmpx32 from Libc's utmpx-darwin.h,
	// the layout of every macOS, 32- and 64-bit: ut_user[256] at 0,
	// ut_id[4] at 256, ut_line[32] at 260, ut_pid (int32) at 292,
	// ut_type (int16) at 296, ut_tv as two int32 (seconds, microseconds)
	// at 300, ut_host[256] at 308, ut_pad[16] (uint32) at 564; 628 bytes,
	// little-endian (every Mac since the PowerPC ones).
	Darwin Format = iota + 1
	// FreeBSD is FreeBSD's utx.active: struct futx from libc's utxdb.h,
	// packed: fu_type (uint8) at 0, fu_tv (microseconds since 1970,
	// big-endian uint64) at 1, fu_id[8] at 9, fu_pid (big-endian uint32)
	// at 17, fu_user[32] at 21, fu_line[16] at 53, fu_host[128] at 69;
	// 197 bytes.
	FreeBSD
)

// FormatFor returns the format of a GOOS's active-login file: FreeBSD's
// for "freebsd", macOS's for anything else.
func FormatFor(goos string) Format {
	if goos == "freebsd" {
		return FreeBSD
	}
	return Darwin
}

// Valid reports whether f is one of the formats.
func (f Format) Valid() bool { return f == Darwin || f == FreeBSD }

// Size returns the size of one record, or 0 for an invalid format.
func (f Format) Size() int {
	switch f {
	case Darwin:
		return darwinSize
	case FreeBSD:
		return freebsdSize
	}
	return 0
}

// DefaultPath returns where the system keeps its active logins.
func (f Format) DefaultPath() string {
	if f == FreeBSD {
		return "/var/run/utx.active"
	}
	return "/var/run/utmpx"
}

// String names the format.
func (f Format) String() string {
	switch f {
	case Darwin:
		return "macOS utmpx"
	case FreeBSD:
		return "FreeBSD utx"
	}
	return "invalid format " + strconv.Itoa(int(f))
}

// Darwin's offsets and sizes.
const (
	darwinSize    = 628
	dUser, dUserN = 0, 256
	dID, dIDN     = 256, 4
	dLine, dLineN = 260, 32
	dPID          = 292
	dType         = 296
	dSec, dUsec   = 300, 304
	dHost, dHostN = 308, 256
)

// FreeBSD's offsets and sizes.
const (
	freebsdSize   = 197
	fType         = 0
	fTV           = 1
	fID, fIDN     = 9, 8
	fPID          = 17
	fUser, fUserN = 21, 32
	fLine, fLineN = 53, 16
	fHost, fHostN = 69, 128
)

// freebsdTypes maps FreeBSD's type numbers to macOS's.
var freebsdTypes = [...]Type{Empty, BootTime, OldTime, NewTime, UserProcess, InitProcess, LoginProcess, DeadProcess, ShutdownTime}

// toFreeBSD maps a type to FreeBSD's number; ok is false for one FreeBSD
// has not, which is written as EMPTY, as FreeBSD's libc does.
func toFreeBSD(t Type) (uint8, bool) {
	for i, ft := range freebsdTypes {
		if ft == t {
			return uint8(i), true
		}
	}
	return 0, false
}

// fields returns the offsets and sizes of the four strings in a format:
// line, id, user, host.
func (f Format) fields() [4][2]int {
	if f == FreeBSD {
		return [4][2]int{{fLine, fLineN}, {fID, fIDN}, {fUser, fUserN}, {fHost, fHostN}}
	}
	return [4][2]int{{dLine, dLineN}, {dID, dIDN}, {dUser, dUserN}, {dHost, dHostN}}
}

// decodeFixed decodes the non-string fields of one record.
func decodeFixed(b []byte, f Format, r *Record) {
	if f == FreeBSD {
		ft := b[fType]
		r.Type = Empty
		if int(ft) < len(freebsdTypes) {
			r.Type = freebsdTypes[ft]
		}
		r.PID = int32(binary.BigEndian.Uint32(b[fPID:]))
		if us := binary.BigEndian.Uint64(b[fTV:]); us != 0 {
			r.Time = time.UnixMicro(int64(us))
		}
		return
	}
	le := binary.LittleEndian
	r.Type = Type(int16(le.Uint16(b[dType:])))
	r.PID = int32(le.Uint32(b[dPID:]))
	sec, usec := int32(le.Uint32(b[dSec:])), int32(le.Uint32(b[dUsec:]))
	if sec != 0 || usec != 0 {
		r.Time = time.Unix(int64(sec), int64(usec)*1000)
	}
}

// Decode decodes one record of format f from the first f.Size() bytes of
// b. It returns false when b is shorter or the format invalid.
func Decode(b []byte, f Format) (Record, bool) {
	n := f.Size()
	if n == 0 || len(b) < n {
		return Record{}, false
	}
	var r Record
	decodeFixed(b, f, &r)
	fs := f.fields()
	r.Line = string(recfile.CString(b[fs[0][0] : fs[0][0]+fs[0][1]]))
	r.ID = string(recfile.CString(b[fs[1][0] : fs[1][0]+fs[1][1]]))
	r.User = string(recfile.CString(b[fs[2][0] : fs[2][0]+fs[2][1]]))
	r.Host = string(recfile.CString(b[fs[3][0] : fs[3][0]+fs[3][1]]))
	return r, true
}

// Encode returns r as one record of format f (an invalid format is taken
// as [Darwin]). Strings longer than their field are cut; a string that
// fills its field has no NUL, as C's strncpy leaves it. The time is cut
// to microseconds; on macOS, to the seconds an int32 holds.
func Encode(r Record, f Format) []byte { return AppendEncode(nil, r, f) }

// AppendEncode appends r encoded as one record of format f to dst (see
// [Encode]).
func AppendEncode(dst []byte, r Record, f Format) []byte {
	if !f.Valid() {
		f = Darwin
	}
	start := len(dst)
	dst = append(dst, make([]byte, f.Size())...)
	b := dst[start:]
	fs := f.fields()
	for i, s := range [4]string{r.Line, r.ID, r.User, r.Host} {
		copy(b[fs[i][0]:fs[i][0]+fs[i][1]], s)
	}
	if f == FreeBSD {
		b[fType], _ = toFreeBSD(r.Type)
		binary.BigEndian.PutUint32(b[fPID:], uint32(r.PID))
		if !r.Time.IsZero() {
			binary.BigEndian.PutUint64(b[fTV:], uint64(r.Time.UnixMicro()))
		}
		return dst
	}
	le := binary.LittleEndian
	le.PutUint16(b[dType:], uint16(r.Type))
	le.PutUint32(b[dPID:], uint32(r.PID))
	if !r.Time.IsZero() {
		le.PutUint32(b[dSec:], uint32(int32(r.Time.Unix())))
		le.PutUint32(b[dUsec:], uint32(int32(r.Time.Nanosecond()/1000)))
	}
	return dst
}
