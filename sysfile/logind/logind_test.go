package logind

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

func TestReadFixture(t *testing.T) {
	snap, err := Read(context.Background(), filepath.Join("testdata", "sessions"))
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Present {
		t.Fatal("Present = false for an existing folder")
	}
	want := []Session{
		{ID: "3", UID: 1000, User: "alice", State: "active", Type: "tty", Class: "user", Service: "sshd",
			TTY: "pts/0", RemoteHost: "192.0.2.10", Scope: "session-3.scope", Remote: true, Active: true,
			Leader: 4242, AuditID: 3, Start: time.UnixMicro(1767261600123456),
			Extra: map[string]string{"IS_DISPLAY": "0", "LEADER_FD_SAVED": "no", "ORIGINAL_TYPE": "tty",
				"FIFO": "/run/systemd/sessions/3.ref", "MONOTONIC": "12345678"}},
		{ID: "7", UID: 1002, User: `carol "the admin"`, State: "opening", Type: "x11", Class: "user",
			Display: ":1", RemoteHost: `quoted\x20host`, Scope: "session-7.scope", Active: true,
			IdleHint: true, IdleSince: time.UnixMicro(1767261700000000),
			Extra: map[string]string{"EMPTY": ""}},
		{ID: "12", UID: 1001, User: "bob", State: "closing", Type: "tty", Class: "user", Service: "sshd",
			Desktop: "GNOME!", RemoteHost: "h\u00e9te\nx\\y.example", RemoteUser: "remote\tbob", Remote: true, Active: true,
			Leader: 5151, Start: time.UnixMicro(1767270000000001)},
		{ID: "c1", UID: 116, User: "gdm", State: "online", Type: "wayland", Class: "greeter",
			Service: "gdm-launch-environment", TTY: "tty1", Seat: "seat0", Scope: "session-c1.scope", VTNr: 1,
			Leader: 900, Start: time.UnixMicro(1767250000000000),
			Extra: map[string]string{"IS_DISPLAY": "0", "ORIGINAL_TYPE": "wayland", "FIFO": "/run/systemd/sessions/c1.ref",
				"POSITION": "0", "MONOTONIC": "5000000", "CONTROLLER": ":1.21", "DEVICES": "226:0 13:64 13:65"}},
	}
	if len(snap.Sessions) != len(want) {
		t.Fatalf("got %d sessions, want %d: %+v", len(snap.Sessions), len(want), snap.Sessions)
	}
	for i, w := range want {
		if !reflect.DeepEqual(snap.Sessions[i], w) {
			t.Errorf("session %s:\n got %+v\nwant %+v", w.ID, snap.Sessions[i], w)
		}
	}
	// 98 (LEADER=abc) and 99 (no UID) are garbled: skipped, with a warning each.
	if len(snap.Warnings) != 2 {
		t.Fatalf("warnings: %v", snap.Warnings)
	}
	for _, w := range snap.Warnings {
		// A reader's errors are plain; the provider maps them.
		if ce := (*cim.Error)(nil); errors.As(w, &ce) || cim.CodeOf(w) != cim.ErrFailed {
			t.Errorf("warning %v is not a plain error that maps to CIM_ERR_FAILED", w)
		}
	}
	if !strings.Contains(snap.Warnings[0].Error(), "98") || !strings.Contains(snap.Warnings[1].Error(), "99") {
		t.Errorf("warnings do not name the files: %v", snap.Warnings)
	}
	ss, err := ReadDir(context.Background(), filepath.Join("testdata", "sessions"))
	if err != nil || len(ss) != len(want) {
		t.Errorf("ReadDir: %d sessions, %v", len(ss), err)
	}
}

func TestMissingFolder(t *testing.T) {
	snap, err := Read(context.Background(), filepath.Join(t.TempDir(), "sessions"))
	if err != nil || snap.Present || len(snap.Sessions) != 0 || len(snap.Warnings) != 0 {
		t.Fatalf("missing folder: %+v, %v", snap, err)
	}
	ss, err := ReadDir(context.Background(), filepath.Join(t.TempDir(), "nope"))
	if err != nil || ss != nil {
		t.Fatalf("ReadDir of a missing folder: %v, %v", ss, err)
	}
}

func TestFolderErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Read(context.Background(), file); cim.CodeOf(err) == cim.StatusOK {
		t.Error("a file as the folder: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, dir); err == nil {
		t.Error("cancelled context: no error")
	}
}

var envCases = []struct {
	in   string
	want string // "KEY=value|" per assignment, values quoted with %q
}{
	{"A=1\nB=two words\n", `A="1"|B="two words"|`},
	{"A=1", `A="1"|`},
	{"  A  =  x  \n", `A="x"|`},
	{"A='single \\n $x'\n", `A="single \\n $x"|`},
	{`A="d \" \\ \$ \` + "`" + ` \n"` + "\n", `A="d \" \\ $ ` + "`" + ` \\n"|`},
	{"A=bare\\ escaped\\\"\n", `A="bare escaped\""|`},
	{"A=con\\\ntinued\n", `A="continued"|`},
	{"A=\"multi\nline\"\n", `A="multi\nline"|`},
	{"A=\"con\\\ntinued\"\n", `A="continued"|`},
	{"# c\n; c\nA=1 # not a comment\n", `A="1 # not a comment"|`},
	{"#c \\\nB=2\nC=3\n", `C="3"|`},
	{"NOEQ\nA=1\n", `A="1"|`},
	{"A=\nB=\"\"\n", `A=""|B=""|`},
	{"A=1\nA=2\n", `A="1"|A="2"|`},
	{"A='x'y\"z\"\n", `A="xy\"z\""|`}, // quotes are literal inside a bare value
	{"A=\"open\n", `A="open\n"|`},
	{"A=trailing\\", `A="trailing"|`},
	{"=nokey\n", ``},
	{"A=x\r\n", `A="x"|`},
	{"A=\xff\xfe\n", `A="\xff\xfe"|`},
}

func TestParseEnvFile(t *testing.T) {
	for _, tc := range envCases {
		var got strings.Builder
		parseEnvFile([]byte(tc.in), func(k, v, raw string, bare bool) {
			fmt.Fprintf(&got, "%s=%q|", k, v)
		})
		if got.String() != tc.want {
			t.Errorf("parseEnvFile(%q)\n got %s\nwant %s", tc.in, got.String(), tc.want)
		}
	}
}

func TestCunescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:            "plain",
		`a\nb\tc\\d\"e\'f`: "a\nb\tc\\d\"e'f",
		`\303\251`:         "é",
		`\x41\x4a`:         "AJ",
		`\u00e9\U0001F600`: "é😀",
		`\q\x4\777\x00`:    `\q\x4\777\x00`,
		`end\`:             `end\`,
		`\s\a\b\f\v\r`:     " \a\b\f\v\r",
		`\000`:             `\000`,
	} {
		if got := cunescape(in); got != want {
			t.Errorf("cunescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	for _, in := range []string{
		"", "USER=x\n", "UID=-1\n", "UID=4294967296\n", "UID=1\nLEADER=x\n", "UID=1\nREMOTE=maybe\n",
		"UID=1\nREALTIME=soon\n", "UID=1\nVTNR=-3\n", "UID=1\nAUDIT=99999999999\n",
	} {
		if _, err := ParseFile("1", strings.NewReader(in)); cim.CodeOf(err) != cim.ErrFailed {
			t.Errorf("ParseFile(%q): %v, want CIM_ERR_FAILED", in, err)
		}
	}
	big := "UID=1\nX=" + strings.Repeat("x", maxFileSize) + "\n"
	if _, err := ParseFile("1", strings.NewReader(big)); err == nil {
		t.Error("a file over 64 KiB parsed")
	}
	s, err := ParseFile("1", strings.NewReader("UID=0\nREALTIME=0\n"))
	if err != nil || !s.Start.IsZero() || s.Extra != nil {
		t.Errorf("REALTIME=0: %+v, %v", s, err)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"3": true, "c1": true, "Abc9": true, "": false, ".#3abc": false,
		"3.ref": false, "a-b": false, "ü": false} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range envCases {
		f.Add(tc.in)
	}
	for _, name := range []string{"3", "7", "12", "c1", "98", "99"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sessions", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseFile("1", strings.NewReader(in))
		if err != nil {
			if cim.CodeOf(err) != cim.ErrFailed {
				t.Fatalf("error %v is not a CIM_ERR_FAILED", err)
			}
			return
		}
		if s.ID != "1" {
			t.Fatalf("ID %q", s.ID)
		}
		// Every assignment the parser reports is a key of the result.
		n := 0
		parseEnvFile([]byte(in), func(k, v, raw string, bare bool) {
			n++
			if k == "" || strings.ContainsAny(k[:1], " \t\n#;") {
				t.Fatalf("bad key %q", k)
			}
			if bare && strings.ContainsRune(raw, '\n') {
				t.Fatalf("bare raw value %q spans lines", raw)
			}
		})
		if n == 0 {
			t.Fatal("parsed with no assignment at all")
		}
		// Writing the values back double-quoted reads the same values.
		var b strings.Builder
		parseEnvFile([]byte(in), func(k, v, raw string, bare bool) {
			if strings.ContainsAny(k, "=\n") {
				return
			}
			r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
			fmt.Fprintf(&b, "%s=\"%s\"\n", k, r.Replace(v))
		})
		var first, second []string
		parseEnvFile([]byte(in), func(k, v, _ string, _ bool) {
			if !strings.ContainsAny(k, "=\n") {
				first = append(first, k+"="+v)
			}
		})
		parseEnvFile([]byte(b.String()), func(k, v, _ string, _ bool) { second = append(second, k+"="+v) })
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("re-quoted file reads differently:\n%q\n%q", first, second)
		}
	})
}

// TestReadSystem reads this machine's logind folder, which may be missing.
func TestReadSystem(t *testing.T) {
	snap, err := Read(context.Background(), "")
	if cim.CodeOf(err) == cim.ErrAccessDenied {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: present=%v sessions=%d warnings=%v", snap.Root, snap.Present, len(snap.Sessions), snap.Warnings)
}
