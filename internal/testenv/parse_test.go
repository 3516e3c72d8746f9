package testenv

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var statCases = []struct {
	in    string
	pid   int
	state byte
	ppid  int
	ok    bool
	name  string
}{
	{in: "8371 (sshd) S 8365 8365 8365 0 -1 4194560", pid: 8371, state: 'S', ppid: 8365, ok: true, name: "plain"},
	{in: "42 (a b) (c)) Z 1 42 42", pid: 42, state: 'Z', ppid: 1, ok: true, name: "parens and spaces in comm"},
	{in: "1 (init) R 0", pid: 1, state: 'R', ppid: 0, ok: true, name: "pid 1"},
	{in: "", name: "empty"},
	{in: "x (sshd) S 1", name: "bad pid"},
	{in: "7 (sshd) SS 1", name: "bad state"},
	{in: "7 (sshd) S", name: "no ppid"},
	{in: "7 sshd S 1", name: "no parens"},
	{in: "7 (sshd) S -4", name: "negative ppid"},
}

func TestParseStat(t *testing.T) {
	for _, tc := range statCases {
		t.Run(tc.name, func(t *testing.T) {
			pid, state, ppid, ok := parseStat([]byte(tc.in))
			if ok != tc.ok || (ok && (pid != tc.pid || state != tc.state || ppid != tc.ppid)) {
				t.Errorf("parseStat(%q) = %d %c %d %v", tc.in, pid, state, ppid, ok)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	for _, tc := range statCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pid, _, ppid, ok := parseStat(data)
		if ok && (pid <= 0 || ppid < 0) {
			t.Fatalf("accepted pid %d ppid %d", pid, ppid)
		}
	})
}

const netTCPHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

var netTCPCases = []struct {
	name string
	in   string
	want []tcpEntry
}{
	{"listen and established", netTCPHeader +
		"   0: 0100007F:1162 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11636 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0100007F:BC82 0100007F:1162 01 00000000:00000000 00:00000000 00000000     0        0 22001 1 0000000000000000 20 4 30 10 -1\n",
		[]tcpEntry{{"0100007F", 0x1162, 0, 11636}, {"0100007F", 0xBC82, 0x1162, 22001}}},
	{"tcp6", netTCPHeader +
		"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1\n",
		[]tcpEntry{{"00000000000000000000000001000000", 22, 0, 999}}},
	{"header only", netTCPHeader, nil},
	{"garbage", netTCPHeader + "   0: zz:1 00:0 0A 0 0 0 0 0 1\n   1: 01:GG 00:0 0A 0 0 0 0 0 1\n   2: 01:1 00:0 0A 0 0 0 0 0 x\n   3: short\n", nil},
	{"empty", "", nil},
}

func TestParseProcNetTCP(t *testing.T) {
	for _, tc := range netTCPCases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseProcNetTCP([]byte(tc.in))
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzParseProcNetTCP(f *testing.F) {
	for _, tc := range netTCPCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, e := range parseProcNetTCP(data) {
			if e.LocalPort < 0 || e.LocalPort > 0xffff || e.RemotePort < 0 || e.RemotePort > 0xffff {
				t.Fatalf("port out of range: %+v", e)
			}
		}
	})
}

// utmpRecord builds one x86-64 sized utmp record.
func utmpRecord(typ int16, pid int32, line, id, user, host string) []byte {
	r := make([]byte, 384)
	binary.LittleEndian.PutUint16(r[utOffType:], uint16(typ))
	binary.LittleEndian.PutUint32(r[utOffPID:], uint32(pid))
	copy(r[utOffLine:utOffID], line)
	copy(r[utOffID:utOffUser], id)
	copy(r[utOffUser:utOffHost], user)
	copy(r[utOffHost:utOffHost+utHostLen], host)
	return r
}

func TestParseUtmp(t *testing.T) {
	live := utmpRecord(UtmpUserProcess, 8365, "pts/0", "ts/0", TestUser, "127.0.0.1")
	dead := utmpRecord(UtmpDeadProcess, 8000, "pts/1", "ts/1", "", "")
	data := append(append(append([]byte{}, live...), dead...), 1, 2, 3) // short tail ignored
	got := parseUtmp(data, 384)
	want := []UtmpEntry{
		{Type: UtmpUserProcess, PID: 8365, Line: "pts/0", ID: "ts/0", User: TestUser, Host: "127.0.0.1"},
		{Type: UtmpDeadProcess, PID: 8000, Line: "pts/1", ID: "ts/1"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("parseUtmp = %+v, want %+v", got, want)
	}
	if parseUtmp(data, 10) != nil {
		t.Error("record size below the struct's fields accepted")
	}

	// markDeadInPlace closes only the live record of the given pid.
	if n := markDeadInPlace(data, 384, map[int32]bool{8365: true, 8000: true}); n != 1 {
		t.Fatalf("markDeadInPlace changed %d records, want 1", n)
	}
	got = parseUtmp(data, 384)
	if got[0].Type != UtmpDeadProcess || got[0].User != "" || got[0].Host != "" || got[0].Line != "pts/0" || got[0].PID != 8365 {
		t.Errorf("after markDead: %+v", got[0])
	}

	// markDead on a file.
	path := filepath.Join(t.TempDir(), "utmp")
	if err := os.WriteFile(path, append(append([]byte{}, live...), dead...), 0o644); err != nil {
		t.Fatal(err)
	}
	if utmpRecordSize() == 384 {
		if n, err := markDead(path, 8365); err != nil || n != 1 {
			t.Fatalf("markDead = %d, %v", n, err)
		}
		recs, err := readUtmp(path)
		if err != nil || len(recs) != 2 || recs[0].Type != UtmpDeadProcess {
			t.Errorf("readUtmp after markDead = %+v, %v", recs, err)
		}
	}
}

func FuzzParseUtmp(f *testing.F) {
	f.Add(utmpRecord(UtmpUserProcess, 8365, "pts/0", "ts/0", TestUser, "127.0.0.1"), 384)
	f.Add(utmpRecord(UtmpDeadProcess, 1, "pts/1", "ts/1", "", ""), 400)
	f.Add([]byte{}, 384)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		if size > 4096 {
			size = 4096
		}
		recs := parseUtmp(data, size)
		if size >= utMinSize && len(recs) != len(data)/size {
			t.Fatalf("%d records from %d bytes of size %d", len(recs), len(data), size)
		}
		before := len(data)
		markDeadInPlace(data, size, map[int32]bool{8365: true})
		if len(data) != before {
			t.Fatal("markDeadInPlace changed the length")
		}
	})
}

func FuzzParseSMBStatus(f *testing.F) {
	if sample, err := os.ReadFile(filepath.Join("testdata", "smbstatus-sample.json")); err == nil {
		f.Add(sample)
	}
	f.Add([]byte(`{"sessions":{},"tcons":{},"open_files":{}}`))
	f.Add([]byte(`{"sessions":{"1":{"session_id":"1","server_id":{"pid":"7"},"hostname":"ipv4:127.0.0.1:445"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseSMBStatus(data)
		if err != nil {
			return
		}
		st.sessionFrom(445)
		st.hasOpen("7", SMBFile)
		st.hasTcon("1", SMBShare)
	})
}

// lastSample is what `last --time-format iso -w` prints, newest first.
const lastSample = `alice    pts/1        2001:db8::5      2026-04-05T06:53:00+00:00   still logged in
reboot   system boot  6.1.0-test       2026-04-05T06:52:00+00:00   still running
bob      pts/0        192.0.2.7        2026-04-05T06:01:00+00:00 - crash                     (00:51)
carol    tty1                          2026-04-05T06:00:30+00:00 - down                      (1+02:00)
dave     pts/2        host.example     2026-04-05T06:00:00+00:00 - 2026-04-05T06:50:00+00:00  (00:50)

wtmp begins 2026-04-05T06:00:00+00:00
`

func TestParseLast(t *testing.T) {
	got, err := ParseLast(lastSample)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { ts, _ := time.Parse(time.RFC3339, s); return ts }
	want := []LastSession{
		{User: "dave", Line: "pts/2", Host: "host.example", Start: at("2026-04-05T06:00:00Z"), End: at("2026-04-05T06:50:00Z"), How: "logout", Length: "(00:50)"},
		{User: "carol", Line: "tty1", Start: at("2026-04-05T06:00:30Z"), How: "shutdown", Length: "(1+02:00)"},
		{User: "bob", Line: "pts/0", Host: "192.0.2.7", Start: at("2026-04-05T06:01:00Z"), How: "crash", Length: "(00:51)"},
		{User: "reboot", Line: "system boot", Host: "6.1.0-test", Start: at("2026-04-05T06:52:00Z")},
		{User: "alice", Line: "pts/1", Host: "2001:db8::5", Start: at("2026-04-05T06:53:00Z")},
	}
	if len(got) != len(want) {
		t.Fatalf("%d sessions, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.User != w.User || g.Line != w.Line || g.Host != w.Host || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.How != w.How || g.Length != w.Length {
			t.Errorf("#%d: %+v, want %+v", i, g, w)
		}
	}
	if l := LastLength(26*time.Hour + 59*time.Second); l != "(1+02:00)" {
		t.Errorf("LastLength = %q", l)
	}
	if _, err := ParseLast("bob pts/0 nowhere - garbage\n"); err == nil {
		t.Error("a line without a time parsed")
	}
}

func FuzzParseLast(f *testing.F) {
	f.Add(lastSample)
	f.Add("x y 2026-04-05T06:00:00+00:00 - \n")
	f.Fuzz(func(t *testing.T, out string) {
		res, err := ParseLast(out)
		if err == nil && len(res) > strings.Count(out, "\n")+1 {
			t.Fatalf("%d sessions from %d lines", len(res), strings.Count(out, "\n")+1)
		}
	})
}
