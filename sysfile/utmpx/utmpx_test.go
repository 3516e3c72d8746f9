package utmpx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

var login = time.Date(2026, 5, 4, 9, 15, 30, 250000000, time.UTC)

// darwinBytes lays a record out by hand, at the offsets of Libc's struct
// utmpx32, without the package's encoder.
func darwinBytes(typ int16, pid int32, user, id, line, host string, sec, usec int32) []byte {
	b := make([]byte, 628)
	copy(b[0:256], user)
	copy(b[256:260], id)
	copy(b[260:292], line)
	binary.LittleEndian.PutUint32(b[292:], uint32(pid))
	binary.LittleEndian.PutUint16(b[296:], uint16(typ))
	binary.LittleEndian.PutUint32(b[300:], uint32(sec))
	binary.LittleEndian.PutUint32(b[304:], uint32(usec))
	copy(b[308:564], host)
	return b
}

// freebsdBytes lays a record out by hand, as FreeBSD's packed struct futx.
func freebsdBytes(typ uint8, pid uint32, user, id, line, host string, usec uint64) []byte {
	b := make([]byte, 197)
	b[0] = typ
	binary.BigEndian.PutUint64(b[1:], usec)
	copy(b[9:17], id)
	binary.BigEndian.PutUint32(b[17:], pid)
	copy(b[21:53], user)
	copy(b[53:69], line)
	copy(b[69:197], host)
	return b
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Format
		b    []byte
		want Record
	}{
		{"darwin signature", Darwin, darwinBytes(10, 0, "utmpx-1.00", "", "", "", 0, 0), SignatureRecord()},
		{"darwin console", Darwin, darwinBytes(7, 412, "alice", "\x00\x00\x00\x00", "console", "", int32(login.Unix()), 250000),
			Record{Type: UserProcess, PID: 412, User: "alice", Line: "console", Time: login}},
		{"darwin ssh", Darwin, darwinBytes(7, 9001, "bob", "s003", "ttys003", "10.0.0.7", int32(login.Unix()), 250000),
			Record{Type: UserProcess, PID: 9001, User: "bob", ID: "s003", Line: "ttys003", Host: "10.0.0.7", Time: login}},
		{"darwin dead", Darwin, darwinBytes(8, 9001, "", "s003", "ttys003", "", int32(login.Unix()), 250000),
			Record{Type: DeadProcess, PID: 9001, ID: "s003", Line: "ttys003", Time: login}},
		{"darwin boot, types differ from glibc", Darwin, darwinBytes(2, 0, "", "", "~", "", 1, 0),
			Record{Type: BootTime, Line: "~", Time: time.Unix(1, 0)}},
		{"darwin full fields have no NUL", Darwin, darwinBytes(7, 1, strings.Repeat("u", 256), "abcd", strings.Repeat("l", 32), strings.Repeat("h", 256), 0, 0),
			Record{Type: UserProcess, PID: 1, User: strings.Repeat("u", 256), ID: "abcd", Line: strings.Repeat("l", 32), Host: strings.Repeat("h", 256)}},
		{"darwin negative pid and type", Darwin, darwinBytes(-1, -5, "", "", "", "", 0, 0), Record{Type: -1, PID: -5}},
		{"freebsd user", FreeBSD, freebsdBytes(4, 777, "carol", "pts/1", "pts/1", "192.0.2.9", uint64(login.UnixMicro())),
			Record{Type: UserProcess, PID: 777, User: "carol", ID: "pts/1", Line: "pts/1", Host: "192.0.2.9", Time: login}},
		{"freebsd dead", FreeBSD, freebsdBytes(7, 777, "", "pts/1", "", "", 5), Record{Type: DeadProcess, PID: 777, ID: "pts/1", Time: time.UnixMicro(5)}},
		{"freebsd boot", FreeBSD, freebsdBytes(1, 0, "", "", "", "", 1), Record{Type: BootTime, Time: time.UnixMicro(1)}},
		{"freebsd shutdown", FreeBSD, freebsdBytes(8, 0, "", "", "", "", 0), Record{Type: ShutdownTime}},
		{"freebsd unknown type is EMPTY", FreeBSD, freebsdBytes(200, 0, "", "", "", "", 0), Record{Type: Empty}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Decode(tc.b, tc.f)
			if !ok {
				t.Fatal("not decoded")
			}
			if !got.Time.Equal(tc.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tc.want.Time)
			}
			got.Time, tc.want.Time = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if _, ok := Decode(tc.b[:len(tc.b)-1], tc.f); ok {
				t.Error("a short record decoded")
			}
		})
	}
}

func TestEncodeMatchesLayout(t *testing.T) {
	r := Record{Type: UserProcess, PID: 9001, User: "bob", ID: "s003", Line: "ttys003", Host: "10.0.0.7", Time: login}
	if got, want := Encode(r, Darwin), darwinBytes(7, 9001, "bob", "s003", "ttys003", "10.0.0.7", int32(login.Unix()), 250000); !bytes.Equal(got, want) {
		t.Errorf("darwin encoding differs from the layout")
	}
	if got, want := Encode(r, FreeBSD), freebsdBytes(4, 9001, "bob", "s003", "ttys003", "10.0.0.7", uint64(login.UnixMicro())); !bytes.Equal(got, want) {
		t.Errorf("freebsd encoding differs from the layout")
	}
	// A type FreeBSD lacks is written as EMPTY, as its libc does.
	if b := Encode(Record{Type: Signature}, FreeBSD); b[0] != 0 {
		t.Errorf("SIGNATURE on FreeBSD: type byte %d", b[0])
	}
	if len(Encode(r, Format(0))) != 628 {
		t.Error("an invalid format is not taken as Darwin")
	}
}

func TestTypes(t *testing.T) {
	for _, tc := range []struct {
		t    Type
		want string
	}{{Empty, "EMPTY"}, {OldTime, "OLD_TIME"}, {NewTime, "NEW_TIME"}, {UserProcess, "USER_PROCESS"}, {Signature, "SIGNATURE"}, {ShutdownTime, "SHUTDOWN_TIME"}, {12, "12"}, {-3, "-3"}} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.t, got, tc.want)
		}
	}
	for _, tc := range []struct {
		goos string
		f    Format
		size int
		path string
	}{{"darwin", Darwin, 628, "/var/run/utmpx"}, {"freebsd", FreeBSD, 197, "/var/run/utx.active"}, {"ios", Darwin, 628, "/var/run/utmpx"}} {
		f := FormatFor(tc.goos)
		if f != tc.f || f.Size() != tc.size || f.DefaultPath() != tc.path || !f.Valid() {
			t.Errorf("%s: %v %d %s", tc.goos, f, f.Size(), f.DefaultPath())
		}
	}
	if Format(9).Valid() || Format(9).Size() != 0 || !strings.Contains(Format(9).String(), "invalid") {
		t.Error("invalid format")
	}
}

// file is a macOS utmpx file as login and sshd leave it.
func file(f Format) ([]byte, []Record) {
	recs := []Record{
		{Type: BootTime, Line: "~", Time: login.Add(-time.Hour)},
		{Type: UserProcess, PID: 412, User: "alice", Line: "console", Time: login},
		{Type: UserProcess, PID: 9001, User: "bob", ID: "s003", Line: "ttys003", Host: "10.0.0.7", Time: login.Add(time.Minute)},
		{Type: DeadProcess, PID: 9002, ID: "s004", Line: "ttys004", Time: login.Add(2 * time.Minute)},
	}
	if f == Darwin {
		recs = append([]Record{SignatureRecord()}, recs...)
	}
	var b []byte
	for _, r := range recs {
		b = AppendEncode(b, r, f)
	}
	return b, recs
}

func TestReader(t *testing.T) {
	for _, f := range []Format{Darwin, FreeBSD} {
		t.Run(f.String(), func(t *testing.T) {
			b, want := file(f)
			for _, cut := range []int{0, 1, f.Size() - 1} {
				data := b
				if cut > 0 {
					data = append(bytes.Clone(b), make([]byte, cut)...)
				}
				rd := NewReader(bytes.NewReader(data), f)
				var got []Record
				for {
					r, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(rd.Raw(), Encode(r, f)) {
						t.Errorf("Raw differs from the record")
					}
					got = append(got, r)
				}
				if len(got) != len(want) {
					t.Fatalf("cut %d: %d records, want %d", cut, len(got), len(want))
				}
				for i := range want {
					if !got[i].Time.Equal(want[i].Time) || got[i].User != want[i].User || got[i].Type != want[i].Type || got[i].Line != want[i].Line {
						t.Errorf("record %d: %+v, want %+v", i, got[i], want[i])
					}
				}
				var te *TruncatedError
				switch w := rd.Warning(); {
				case cut == 0 && w != nil:
					t.Errorf("warning %v on a whole file", w)
				case cut > 0 && (!errors.As(w, &te) || te.Have != cut || te.Offset != int64(len(b)) || te.Size != f.Size()):
					t.Errorf("cut %d: warning %v", cut, w)
				case cut > 0 && cim.CodeOf(w) != cim.ErrFailed:
					t.Errorf("warning code %v", cim.CodeOf(w))
				}
				if rd.Offset() != int64(len(data)) {
					t.Errorf("offset %d of %d", rd.Offset(), len(data))
				}
			}
		})
	}
	if _, err := NewReader(strings.NewReader(""), Format(0)).Next(); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("invalid format: %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrors(t *testing.T) {
	rd := NewReader(failingReader{}, Darwin)
	_, err := rd.Next()
	if cim.CodeOf(err) != cim.ErrFailed {
		t.Fatalf("%v", err)
	}
	if _, err2 := rd.Next(); err2 != err {
		t.Error("the error is not sticky")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := ReadFile(ctx, filepath.Join(dir, "none"), Darwin, nil); cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadFile(ctx, dir, Darwin, func(Record) error { return nil }); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("a directory: %v", err)
	}
	b, _ := file(Darwin)
	path := filepath.Join(dir, "utmpx")
	if err := os.WriteFile(path, append(b, 1, 2, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, warn, err := ReadAll(ctx, path, Darwin)
	if err != nil || len(recs) != 5 || warn == nil {
		t.Errorf("ReadAll: %d records, %v, %v", len(recs), warn, err)
	}
	stop := errors.New("stop")
	if _, err := ReadFile(ctx, path, Darwin, func(Record) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ReadFile(cctx, path, Darwin, nil); cim.CodeOf(err) != cim.ErrFailed {
		t.Errorf("cancelled: %v", err)
	}
}
