package procfs

import (
	"bytes"
	"errors"
	"strconv"
)

// stat is what this package takes from /proc/PID/stat.
type stat struct {
	pid   int
	comm  string
	state byte
	ppid  int
	tty   uint64
	start uint64 // field 22, clock ticks after boot
	// kthread: field 9 (flags) has PF_KTHREAD, a kernel thread, which
	// no login and no audit session can own.
	kthread bool
}

// pfKthread is the kernel's PF_KTHREAD flag of a task (include/linux/sched.h).
const pfKthread = 0x00200000

// usage is what [FieldUsage] takes from /proc/PID/stat besides stat.
type usage struct {
	faults       uint64 // fields 10 and 12, minflt + majflt
	prio         int64  // field 18, the kernel's priority (negative for real-time)
	nice         int64  // field 19
	utime, stime uint64 // fields 14 and 15, clock ticks
	threads      uint32 // field 20
	vsize        uint64 // field 23, bytes
	rss          uint64 // field 24, pages
}

var errStat = errors.New("malformed stat line")

// parseStat parses a /proc/PID/stat line: "pid (comm) state ppid pgrp
// session tty_nr tpgid flags ... starttime ...". comm may hold spaces,
// parentheses and newlines, so it runs from the first '(' to the last ')'.
func parseStat(b []byte) (stat, error) { return parseStatUsage(b, nil) }

// parseStatUsage is parseStat that also fills u, when not nil, from the
// fields after starttime too. Fields it cannot read as numbers, and
// fields 23 and 24 when the line ends before them, leave u's zero.
func parseStatUsage(b []byte, u *usage) (stat, error) {
	var st stat
	open := bytes.IndexByte(b, '(')
	close := bytes.LastIndexByte(b, ')')
	if open < 1 || close < open || b[open-1] != ' ' {
		return st, errStat
	}
	pid, err := strconv.Atoi(string(b[:open-1]))
	if err != nil || pid < 0 {
		return st, errStat
	}
	st.pid = pid
	st.comm = string(b[open+1 : close])
	rest := b[close+1:]
	// fields[0] is field 3 (state), so field N is fields[N-3]. Field 22
	// (starttime) is the last one stat needs, 24 (rss) the last of usage.
	var fields [22][]byte
	want := 20
	if u != nil {
		want = len(fields)
	}
	n := 0
	for n < want {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 || rest[0] == '\n' {
			break
		}
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		fields[n] = rest[:end]
		rest = rest[end:]
		n++
	}
	if n < 20 || len(fields[0]) != 1 {
		return st, errStat
	}
	st.state = fields[0][0]
	if st.ppid, err = strconv.Atoi(string(fields[1])); err != nil || st.ppid < 0 {
		return st, errStat
	}
	// tty_nr is printed as a signed int; it is a 32-bit encoded dev_t.
	tty, err := strconv.ParseInt(string(fields[4]), 10, 64)
	if err != nil {
		return st, errStat
	}
	st.tty = uint64(uint32(tty))
	if flags, err := strconv.ParseUint(string(fields[6]), 10, 64); err == nil {
		st.kthread = flags&pfKthread != 0
	}
	if st.start, err = strconv.ParseUint(string(fields[19]), 10, 64); err != nil {
		return st, errStat
	}
	if u != nil {
		num := func(field int) uint64 { v, _ := strconv.ParseUint(string(fields[field-3]), 10, 64); return v }
		u.utime, u.stime = num(14), num(15)
		u.faults = num(10) + num(12)
		u.prio, _ = strconv.ParseInt(string(fields[18-3]), 10, 64)
		u.nice, _ = strconv.ParseInt(string(fields[19-3]), 10, 64)
		if t := num(20); t <= 1<<32-1 {
			u.threads = uint32(t)
		}
		u.vsize, u.rss = num(23), num(24)
	}
	return st, nil
}

// TTYName returns the name under /dev of the terminal whose device number
// /proc/PID/stat gives as tty_nr: "pts/3" (majors 136-143), "tty1" (major
// 4, minors 0-63), "ttyS0" (major 4, minors 64-255), "console", "ttyUSB0",
// "ttyACM0", "ttyAMA0", "hvc0"... It returns "" for 0 (no terminal) and for
// devices it does not know.
func TTYName(ttyNr uint64) string {
	if ttyNr == 0 {
		return ""
	}
	// The kernel's new_encode_dev: minor low byte in bits 0-7, major in
	// bits 8-19, the rest of the minor in bits 20-31.
	major := (ttyNr >> 8) & 0xfff
	minor := (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00)
	num := func(prefix string, n uint64) string { return prefix + strconv.FormatUint(n, 10) }
	switch {
	case major >= 136 && major <= 143:
		return num("pts/", (major-136)<<8|minor)
	case major == 4 && minor < 64:
		return num("tty", minor)
	case major == 4 && minor < 256:
		return num("ttyS", minor-64)
	case major == 5 && minor == 0:
		return "tty"
	case major == 5 && minor == 1:
		return "console"
	case major == 188:
		return num("ttyUSB", minor)
	case major == 166:
		return num("ttyACM", minor)
	case major == 204 && minor >= 64 && minor <= 77:
		return num("ttyAMA", minor-64)
	case major == 229:
		return num("hvc", minor)
	case major == 3:
		return num("ttyp", minor) // legacy BSD pty slaves
	}
	return ""
}
