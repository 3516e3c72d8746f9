package samba

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's start time: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procStart returns when process pid started, from procRoot/PID/stat
// (field 22, clock ticks after boot) and the boot time in procRoot/stat.
func procStart(procRoot string, pid int) (time.Time, bool) {
	stat, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return time.Time{}, false
	}
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return time.Time{}, false
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime(procRoot)
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * (time.Second / clockTicks)), true
}

func bootTime(procRoot string) (time.Time, bool) {
	data, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(s, 0), true
		}
	}
	return time.Time{}, false
}

// smbdRunning reports whether a process named smbd runs, and whether that
// could be known at all (false when procRoot cannot be read, as on systems
// without /proc).
func smbdRunning(procRoot string) (running, known bool) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return false, false
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
		if err != nil {
			continue
		}
		if c := string(bytes.TrimSpace(comm)); c == "smbd" || strings.HasPrefix(c, "smbd-") {
			// A zombie left by a stopped smbd does not serve anyone.
			if st, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat")); err == nil {
				if i := bytes.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) && st[i+2] == 'Z' {
					continue
				}
			}
			return true, true
		}
	}
	return false, true
}
