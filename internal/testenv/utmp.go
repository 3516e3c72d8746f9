package testenv

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"runtime"

	"github.com/cimsess/cimsess/cim"
)

// UtmpPath is the utmp file that sshd writes through glibc.
const UtmpPath = "/var/run/utmp"

// utmp record types the harness looks at (glibc's ut_type values).
const (
	UtmpUserProcess int16 = 7 // USER_PROCESS: a live login
	UtmpDeadProcess int16 = 8 // DEAD_PROCESS: a login that ended
)

// Offsets in glibc's struct utmp, the same on every Linux architecture up to
// ut_host; only the tail (exit status, session, time, address) differs.
const (
	utOffType = 0
	utOffPID  = 4
	utOffLine = 8
	utOffID   = 40
	utOffUser = 44
	utOffHost = 76
	utHostLen = 256
	utMinSize = utOffHost + utHostLen
)

// utmpRecordSize is sizeof(struct utmp) on the architecture the test runs on:
// 384 bytes with 32-bit ut_session and ut_tv, 400 where they are 64-bit.
func utmpRecordSize() int {
	switch runtime.GOARCH {
	case "arm64", "loong64":
		return 400
	}
	return 384
}

// UtmpEntry is the part of a utmp record the harness reports.
type UtmpEntry struct {
	Type int16  // ut_type, e.g. UtmpUserProcess
	PID  int32  // ut_pid
	Line string // ut_line, e.g. "pts/0"
	ID   string // ut_id, e.g. "ts/0"
	User string // ut_user
	Host string // ut_host
}

// cstr returns b up to its first NUL.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseUtmp splits data into records of size bytes; a short tail is ignored.
func parseUtmp(data []byte, size int) []UtmpEntry {
	if size < utMinSize {
		return nil
	}
	var out []UtmpEntry
	for off := 0; off+size <= len(data); off += size {
		r := data[off : off+size]
		out = append(out, UtmpEntry{
			Type: int16(binary.LittleEndian.Uint16(r[utOffType:])),
			PID:  int32(binary.LittleEndian.Uint32(r[utOffPID:])),
			Line: cstr(r[utOffLine:utOffID]),
			ID:   cstr(r[utOffID:utOffUser]),
			User: cstr(r[utOffUser:utOffHost]),
			Host: cstr(r[utOffHost : utOffHost+utHostLen]),
		})
	}
	return out
}

// readUtmp reads every record of the utmp file at path.
func readUtmp(path string) ([]UtmpEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	return parseUtmp(data, utmpRecordSize()), nil
}

// markDeadInPlace turns every USER_PROCESS record of data whose pid is in
// pids into DEAD_PROCESS with user and host cleared, as glibc's logout()
// does. It reports how many records changed.
func markDeadInPlace(data []byte, size int, pids map[int32]bool) int {
	if size < utMinSize {
		return 0
	}
	n := 0
	for off := 0; off+size <= len(data); off += size {
		r := data[off : off+size]
		if int16(binary.LittleEndian.Uint16(r[utOffType:])) != UtmpUserProcess {
			continue
		}
		if !pids[int32(binary.LittleEndian.Uint32(r[utOffPID:]))] {
			continue
		}
		binary.LittleEndian.PutUint16(r[utOffType:], uint16(UtmpDeadProcess))
		clear(r[utOffUser : utOffHost+utHostLen])
		n++
	}
	return n
}

// markDead rewrites the utmp file at path under its lock, closing the
// records of the given (dead) pids, so that ghosts a test made do not outlive
// it. It reports how many records changed.
func markDead(path string, pids ...int) (int, error) {
	set := map[int32]bool{}
	for _, p := range pids {
		set[int32(p)] = true
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, cim.Wrap(cim.ErrFailed, err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return 0, cim.Wrap(cim.ErrFailed, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, cim.Wrap(cim.ErrFailed, err)
	}
	n := markDeadInPlace(data, utmpRecordSize(), set)
	if n == 0 {
		return 0, nil
	}
	if _, err := f.WriteAt(data[:len(data)-len(data)%utmpRecordSize()], 0); err != nil {
		return 0, cim.Wrap(cim.ErrFailed, err)
	}
	return n, nil
}
