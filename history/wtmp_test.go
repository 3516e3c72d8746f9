package history

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

var t0 = time.Date(2026, 2, 3, 8, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func login(min int, user, line, host string, pid int32) utmp.Record {
	return utmp.Record{Type: utmp.UserProcess, PID: pid, Line: line, ID: idOf(line), User: user, Host: host, Time: at(min)}
}

func logout(min int, line string, pid int32) utmp.Record {
	return utmp.Record{Type: utmp.DeadProcess, PID: pid, Line: line, ID: idOf(line), Time: at(min)}
}

func boot(min int) utmp.Record {
	return utmp.Record{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0-test", Time: at(min)}
}

func shutdown(min int) utmp.Record {
	return utmp.Record{Type: utmp.RunLevel, Line: "~", ID: "~~", User: "shutdown", Host: "6.1.0-test", Time: at(min)}
}

func runlevel(min int, lvl byte) utmp.Record {
	return utmp.Record{Type: utmp.RunLevel, PID: 'N'<<8 | int32(lvl), Line: "~", ID: "~~", User: "runlevel", Host: "6.1.0-test", Time: at(min)}
}

func idOf(line string) string {
	if len(line) > 4 {
		return line[len(line)-4:]
	}
	return line
}

type pairCase struct {
	name string
	recs []utmp.Record
	want []Lifecycle // only User, Line, Start, End, How are compared
}

var pairCases = []pairCase{
	{"login-logout", []utmp.Record{boot(0), login(1, "alice", "pts/0", "10.0.0.1", 100), logout(61, "pts/0", 100)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(61), How: EndLogout}}},
	{"still-logged-in", []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), login(2, "bob", "pts/1", "h", 101), logout(3, "pts/0", 100)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(3), How: EndLogout}, {User: "bob", Line: "pts/1", Start: at(2)}}},
	{"crash", []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), boot(90), login(95, "bob", "tty1", "", 5)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(90), How: EndCrash}, {User: "bob", Line: "tty1", Start: at(95)}}},
	{"shutdown", []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), shutdown(80), boot(90), login(95, "bob", "tty1", "", 5), logout(100, "tty1", 5)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(80), How: EndShutdown}, {User: "bob", Line: "tty1", Start: at(95), End: at(100), How: EndLogout}}},
	{"runlevel-6", []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), runlevel(70, '6'), boot(90)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(70), How: EndShutdown}}},
	{"runlevel-5-is-not-down", []utmp.Record{boot(0), runlevel(0, '5'), login(1, "alice", "pts/0", "", 100), boot(90)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(90), How: EndCrash}}},
	{"line-reused", []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), login(5, "bob", "pts/0", "", 101), logout(9, "pts/0", 101)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1), End: at(5), How: EndLogout}, {User: "bob", Line: "pts/0", Start: at(5), End: at(9), How: EndLogout}}},
	{"login-process-ignored", []utmp.Record{boot(0), {Type: utmp.LoginProcess, PID: 7, Line: "tty2", ID: "2", User: "LOGIN", Time: at(1)},
		login(2, "carol", "tty2", "", 7), logout(4, "tty2", 7)},
		[]Lifecycle{{User: "carol", Line: "tty2", Start: at(2), End: at(4), How: EndLogout}}},
	{"init-process-with-user-is-a-login", []utmp.Record{boot(0), {Type: utmp.InitProcess, PID: 8, Line: "tty3", ID: "3", User: "dave", Time: at(1)}, logout(2, "tty3", 8)},
		[]Lifecycle{{User: "dave", Line: "tty3", Start: at(1), End: at(2), How: EndLogout}}},
	{"user-process-without-user-is-a-logout", []utmp.Record{boot(0), login(1, "alice", "pts/4", "", 9), {Type: utmp.UserProcess, PID: 9, Line: "pts/4", Time: at(3)}},
		[]Lifecycle{{User: "alice", Line: "pts/4", Start: at(1), End: at(3), How: EndLogout}}},
	{"no-boot-at-all", []utmp.Record{login(1, "alice", "pts/0", "", 100)},
		[]Lifecycle{{User: "alice", Line: "pts/0", Start: at(1)}}},
	{"logout-without-login", []utmp.Record{boot(0), logout(3, "pts/7", 1)}, nil},
	{"empty", nil, nil},
}

func TestPairWtmp(t *testing.T) {
	for _, tc := range pairCases {
		t.Run(tc.name, func(t *testing.T) {
			got := withoutBoots(PairWtmp(tc.recs))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d lifecycles %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.User != w.User || g.Line != w.Line || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.How != w.How {
					t.Errorf("#%d: got %s %s %v–%v %q, want %s %s %v–%v %q", i, g.User, g.Line, g.Start, g.End, g.How, w.User, w.Line, w.Start, w.End, w.How)
				}
			}
		})
	}
}

func withoutBoots(lcs []Lifecycle) []Lifecycle {
	var out []Lifecycle
	for _, lc := range lcs {
		if !lc.Boot {
			out = append(out, lc)
		}
	}
	return out
}

// TestPairWtmpBoots checks last's boot rows: each boot lasts until the
// next shutdown (a crash does not end it), the last one still runs.
func TestPairWtmpBoots(t *testing.T) {
	recs := []utmp.Record{boot(0), login(1, "alice", "pts/0", "", 100), boot(90), shutdown(120), boot(130), runlevel(200, '6'), boot(210)}
	var got []string
	for _, lc := range PairWtmp(recs) {
		if lc.Boot {
			got = append(got, fmt.Sprintf("%s %s %s %v %v %q", lc.User, lc.Line, lc.Host, lc.Start.Sub(t0), lc.End.Sub(t0), lc.How))
		}
	}
	want := []string{
		`reboot system boot 6.1.0-test 0s 2h0m0s "shutdown"`,
		`reboot system boot 6.1.0-test 1h30m0s 2h0m0s "shutdown"`,
		`reboot system boot 6.1.0-test 2h10m0s 3h20m0s "shutdown"`,
		fmt.Sprintf(`reboot system boot 6.1.0-test 3h30m0s %v ""`, time.Time{}.Sub(t0)),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("boots:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func FuzzPairWtmp(f *testing.F) {
	for _, tc := range pairCases {
		var b []byte
		for _, r := range tc.recs {
			b = utmp.AppendEncode(b, r, utmp.Layout384)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []utmp.Record
		for len(data) >= 384 {
			r, _ := utmp.Decode(data, utmp.Layout384)
			recs = append(recs, r)
			data = data[384:]
		}
		got := PairWtmp(recs)
		logins := 0
		for _, r := range recs {
			if typ := lastType(r); typ == utmp.UserProcess || typ == utmp.BootTime {
				logins++
			}
		}
		if len(got) != logins {
			t.Fatalf("%d lifecycles from %d logins", len(got), logins)
		}
		for _, lc := range got {
			switch lc.How {
			case EndNone:
				if !lc.End.IsZero() {
					t.Fatalf("open lifecycle with an end: %+v", lc)
				}
			case EndLogout, EndShutdown, EndCrash:
			default:
				t.Fatalf("unexpected end %q", lc.How)
			}
		}
	})
}

// compareWithLast checks that lifecycles show what last printed.
func compareWithLast(t *testing.T, got []Lifecycle, want []testenv.LastSession) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("PairWtmp found %d sessions, last %d:\n%+v\n%+v", len(got), len(want), got, want)
	}
	for i, w := range want {
		g := got[i]
		how := End(w.How)
		if how == EndGoneNoLogout {
			how = EndNone // gone or not is the machine's to say, not wtmp's
		}
		ok := g.User == w.User && g.Line == w.Line && g.Host == w.Host && g.Start.Unix() == w.Start.Unix() && g.How == how
		if ok && how == EndLogout {
			ok = g.End.Unix() == w.End.Unix()
		}
		if ok && (how == EndCrash || how == EndShutdown) {
			ok = testenv.LastLength(g.End.Truncate(time.Second).Sub(g.Start.Truncate(time.Second))) == w.Length
		}
		if !ok {
			t.Errorf("#%d: PairWtmp %s %s %q %v–%v %q; last %s %s %q %v–%v %q %s", i, g.User, g.Line, g.Host, g.Start, g.End, g.How,
				w.User, w.Line, w.Host, w.Start, w.End, w.How, w.Length)
		}
	}
}

// TestPairWtmpAgreesWithLast writes each table case (and a busy generated
// file) as a wtmp file and checks PairWtmp against util-linux last.
func TestPairWtmpAgreesWithLast(t *testing.T) {
	dir := t.TempDir()
	cases := append([]pairCase(nil), pairCases...)
	cases = append(cases, pairCase{name: "busy", recs: busyWtmp(400)})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".wtmp")
			if err := utmp.WriteFile(file, tc.recs, utmp.Native); err != nil {
				t.Fatal(err)
			}
			compareWithLast(t, PairWtmp(tc.recs), testenv.RunLast(t, file))
		})
	}
}

// busyWtmp returns n records of logins, logouts, line reuse, shutdowns
// and crashes, the same every time.
func busyWtmp(n int) []utmp.Record {
	var recs []utmp.Record
	seed := uint32(12345)
	rnd := func(k uint32) uint32 {
		seed = seed*1664525 + 1013904223
		return (seed >> 8) % k
	}
	minute := 0
	open := map[string]int32{}
	recs = append(recs, boot(minute))
	for len(recs) < n {
		minute += int(rnd(30)) + 1
		line := fmt.Sprintf("pts/%d", rnd(6))
		switch k := rnd(100); {
		case k < 2:
			recs = append(recs, shutdown(minute), boot(minute+1))
			minute++
			clear(open)
		case k < 4:
			recs = append(recs, boot(minute))
			clear(open)
		case k < 50:
			pid := int32(1000 + rnd(30000))
			open[line] = pid
			recs = append(recs, login(minute, fmt.Sprintf("user%d", rnd(5)), line, fmt.Sprintf("10.0.0.%d", rnd(250)), pid))
		default:
			recs = append(recs, logout(minute, line, open[line]))
			delete(open, line)
		}
	}
	return recs
}
