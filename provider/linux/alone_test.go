package linux

import (
	"strconv"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// FuzzAlone checks the first pass's shortcut against the whole rule: a
// record that alone, from its head, says belongs to no session and has no
// live process is one that of says is neither attached nor live, with or
// without remembered ids; and its id made from the head's bytes is the id
// made from the decoded record, "utmp:" + utmp.Display(line) + ":" + pid.
func FuzzAlone(f *testing.F) {
	for _, s := range []struct {
		line     string
		pid      int32
		sec      int64
		remember bool
	}{
		{"pts/0", 100, 1_800_000_000, false}, // its process is live, without an audit id
		{"pts/1", 101, 1_800_000_000, false}, // its process is in session 7
		{"pts/2", 4_000_000, 1_800_000_000, false},
		{"pts/3", 4_000_001, 1_800_000_000, false}, // session 7 holds pts/3
		{"pts/3", 4_000_001, 1_700_000_000, false}, // from before session 7 began
		{"pts/4", 4_000_002, 1_800_000_000, true},
		{"", 4_000_003, 0, false},
		{"pts\\5", 4_000_004, 1, false},
		{"pts/\xff\x1b", -1, 1, false},
	} {
		f.Add(s.line, s.pid, s.sec, s.remember)
	}
	start := time.Unix(1_799_999_000, 0)
	f.Fuzz(func(t *testing.T, line string, pid int32, sec int64, remember bool) {
		if len(line) > 32 {
			line = line[:32] // ut_line's size
		}
		r := utmp.Record{Type: utmp.UserProcess, PID: pid, Line: line, User: "alice", Time: time.Unix(sec, 0)}
		if sec == 0 {
			r.Time = time.Time{}
		}
		seven := &session{id: "7", audit: 7, hasAudit: true, procs: []procfs.Process{
			{PID: 101, SessionID: 7, TTYName: "pts/3", StartTime: start},
		}}
		o := &recordOwners{
			sessions: map[string]*session{"7": seven},
			byPID: map[int]*procfs.Process{
				100: {PID: 100, SessionID: procfs.Unset, StartTime: start},
				101: &seven.procs[0],
			},
		}
		if remember {
			o.ids = map[string]uint32{string(appendRecordKey(nil, &r)): 7}
		}
		if o.alone(r.PID, []byte(r.Line)) {
			if s, pr, audit, attached := o.of(&r); attached || pr != nil || s != nil || audit != 0 {
				t.Fatalf("alone, yet of says session %v process %v audit %d attached %v", s, pr, audit, attached)
			}
		}
		want := "utmp:" + utmp.Display(line) + ":" + strconv.Itoa(int(pid))
		if got := string(appendFallbackID(nil, []byte(line), pid)); got != want {
			t.Fatalf("id from the head %q, want %q", got, want)
		}
		if got := string(appendFallbackID(nil, line, pid)); got != want {
			t.Fatalf("id from the record %q, want %q", got, want)
		}
	})
}
