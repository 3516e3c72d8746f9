package testenv

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
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
