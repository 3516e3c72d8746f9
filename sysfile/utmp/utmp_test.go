package utmp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

var layouts = []utmp.Layout{
	utmp.Layout384,
	utmp.Layout384BE,
	utmp.Layout400,
	{Size: 400, BigEndian: true},
}

// sample returns records covering every type and the awkward cases.
func sample() []utmp.Record {
	t0 := time.Unix(1767261600, 123456000) // 2026-01-01 10:00:00.123456 UTC
	long := strings.Repeat("h", utmp.MaxHost)
	return []utmp.Record{
		{Type: utmp.Empty},
		{Type: utmp.RunLevel, PID: 'N'<<8 | '5', Line: "~", ID: "~~", User: "runlevel", Host: "6.1.0", Time: t0},
		{Type: utmp.BootTime, Line: "~", ID: "~~", User: "reboot", Host: "6.1.0", Time: t0},
		{Type: utmp.NewTime, Line: "|", Time: t0.Add(time.Hour)},
		{Type: utmp.OldTime, Line: "{", Time: t0},
		{Type: utmp.InitProcess, PID: 512, ID: "si", Line: "", Time: t0},
		{Type: utmp.LoginProcess, PID: 601, Line: "tty1", ID: "tty1", User: "LOGIN", Time: t0},
		{Type: utmp.UserProcess, PID: 4242, Line: "pts/3", ID: "ts/3", User: "alice", Host: "192.0.2.7", Session: 17,
			Time: t0, Addr: netip.MustParseAddr("192.0.2.7")},
		{Type: utmp.UserProcess, PID: 4243, Line: "pts/4", ID: "ts/4", User: "bob", Host: "2001:db8::1",
			Time: t0, Addr: netip.MustParseAddr("2001:db8::1")},
		{Type: utmp.UserProcess, PID: 4244, Line: "tty7", ID: "tty7", User: "carol", Host: ":0", Time: t0},
		// Fields filled to the last byte, no NUL.
		{Type: utmp.UserProcess, PID: 1, Line: strings.Repeat("l", utmp.MaxLine), ID: "abcd",
			User: strings.Repeat("u", utmp.MaxUser), Host: long, Time: t0},
		// Bytes that are not UTF-8.
		{Type: utmp.UserProcess, PID: 2, Line: "pts/\xff", User: "d\xe9j\xe0", Host: "h\x80\xfe.example", Time: t0},
		// Zero time; negative and extreme values.
		{Type: utmp.DeadProcess, PID: -1, Line: "pts/3", ID: "ts/3", ExitTermination: -2, ExitStatus: 255, Session: -5},
		{Type: utmp.Accounting, Time: time.Unix(-1, 0)},
		{Type: utmp.Type(-7), PID: 1<<31 - 1, Time: time.Unix(1<<31-1, 999999000)},
		{Type: utmp.Type(42), Time: time.Unix(-1<<31, 0)},
	}
}

func equal(a, b utmp.Record) bool {
	ta, tb := a.Time, b.Time
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && ta.IsZero() == tb.IsZero()
}

func TestRoundTrip(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w := utmp.NewWriter(&buf, l)
			recs := sample()
			for _, r := range recs {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if buf.Len() != len(recs)*l.Size {
				t.Fatalf("wrote %d bytes, want %d", buf.Len(), len(recs)*l.Size)
			}
			rd := utmp.NewReader(&buf, l)
			for i, want := range recs {
				got, err := rd.Next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !equal(got, want) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want)
				}
				if !bytes.Equal(rd.Raw(), utmp.Encode(want, l)) {
					t.Errorf("record %d: Raw differs from Encode", i)
				}
			}
			if _, err := rd.Next(); err != io.EOF {
				t.Fatalf("after last record: %v, want io.EOF", err)
			}
			if rd.Warning() != nil {
				t.Fatalf("warning %v on a whole file", rd.Warning())
			}
		})
	}
}

// TestOffsets checks the layouts against glibc's struct utmp, written by
// hand here rather than derived from the code under test.
func TestOffsets(t *testing.T) {
	type offs struct{ session, sec, usec, addr, size int }
	for _, tc := range []struct {
		l Layout
		o offs
	}{
		{utmp.Layout384, offs{336, 340, 344, 348, 384}},
		{utmp.Layout384BE, offs{336, 340, 344, 348, 384}},
		{utmp.Layout400, offs{336, 344, 352, 360, 400}},
	} {
		b := make([]byte, tc.o.size)
		var o binary.ByteOrder = binary.LittleEndian
		if tc.l.BigEndian {
			o = binary.BigEndian
		}
		o.PutUint16(b[0:], 7)
		o.PutUint32(b[4:], 4242)
		copy(b[8:], "pts/3")
		copy(b[40:], "ts/3")
		copy(b[44:], "alice")
		copy(b[76:], "example.org")
		o.PutUint16(b[332:], 3)
		o.PutUint16(b[334:], 4)
		if tc.o.size == 400 {
			o.PutUint64(b[tc.o.session:], 99)
			o.PutUint64(b[tc.o.sec:], 1767261600)
			o.PutUint64(b[tc.o.usec:], 5)
		} else {
			o.PutUint32(b[tc.o.session:], 99)
			o.PutUint32(b[tc.o.sec:], 1767261600)
			o.PutUint32(b[tc.o.usec:], 5)
		}
		copy(b[tc.o.addr:], []byte{192, 0, 2, 7})
		r, ok := utmp.Decode(b, tc.l)
		if !ok {
			t.Fatalf("%v: Decode failed", tc.l)
		}
		want := utmp.Record{Type: utmp.UserProcess, PID: 4242, Line: "pts/3", ID: "ts/3", User: "alice", Host: "example.org",
			ExitTermination: 3, ExitStatus: 4, Session: 99, Time: time.Unix(1767261600, 5000),
			Addr: netip.MustParseAddr("192.0.2.7")}
		if !equal(r, want) {
			t.Errorf("%v:\n got %+v\nwant %+v", tc.l, r, want)
		}
		if enc := utmp.Encode(want, tc.l); !bytes.Equal(enc, b) {
			t.Errorf("%v: Encode differs from the hand-made record", tc.l)
		}
	}
}

type Layout = utmp.Layout

func TestLayoutFor(t *testing.T) {
	for goarch, want := range map[string]utmp.Layout{
		"amd64": utmp.Layout384, "386": utmp.Layout384, "arm": utmp.Layout384, "riscv64": utmp.Layout384,
		"ppc64le": utmp.Layout384, "mipsle": utmp.Layout384, "mips64le": utmp.Layout384,
		"arm64": utmp.Layout400, "loong64": utmp.Layout400,
		"s390x": utmp.Layout400BE, "s390": utmp.Layout400BE, "ppc64": utmp.Layout384BE, "mips": utmp.Layout384BE, "mips64": utmp.Layout384BE,
		"wasm": utmp.Layout384,
	} {
		if got := utmp.LayoutFor(goarch); got != want {
			t.Errorf("LayoutFor(%q) = %v, want %v", goarch, got, want)
		}
	}
	if !utmp.Native.Valid() {
		t.Errorf("Native layout %v is not valid", utmp.Native)
	}
	if (utmp.Layout{}).Valid() || (utmp.Layout{Size: 392}).Valid() {
		t.Error("invalid layouts reported valid")
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"EMPTY", "RUN_LVL", "BOOT_TIME", "NEW_TIME", "OLD_TIME", "INIT_PROCESS",
		"LOGIN_PROCESS", "USER_PROCESS", "DEAD_PROCESS", "ACCOUNTING"}
	for i, w := range want {
		if got := utmp.Type(i).String(); got != w {
			t.Errorf("Type(%d) = %q, want %q", i, got, w)
		}
	}
	if got := utmp.Type(10).String(); got != "Type(10)" {
		t.Errorf("Type(10) = %q", got)
	}
	if got := utmp.Type(-1).String(); got != "Type(-1)" {
		t.Errorf("Type(-1) = %q", got)
	}
}

func TestDecodeFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(b []byte)
		want func(r utmp.Record) bool
	}{
		{"zero time", func(b []byte) {}, func(r utmp.Record) bool { return r.Time.IsZero() }},
		{"usec only: a zero tv_sec is no time", func(b []byte) { b[344] = 1 }, func(r utmp.Record) bool { return r.Time.IsZero() }},
		{"negative seconds", func(b []byte) { binary.LittleEndian.PutUint32(b[340:], 0xffffffff) },
			func(r utmp.Record) bool { return r.Time.Equal(time.Unix(-1, 0)) }},
		{"no address", func(b []byte) {}, func(r utmp.Record) bool { return !r.Addr.IsValid() }},
		{"ipv4", func(b []byte) { copy(b[348:], []byte{127, 0, 0, 1}) },
			func(r utmp.Record) bool { return r.Addr == netip.MustParseAddr("127.0.0.1") }},
		{"ipv6 loopback", func(b []byte) { b[348+15] = 1 },
			func(r utmp.Record) bool { return r.Addr == netip.IPv6Loopback() }},
		{"bytes after NUL ignored", func(b []byte) { copy(b[44:], "ann\x00garbage") },
			func(r utmp.Record) bool { return r.User == "ann" }},
		{"host full, no NUL", func(b []byte) { copy(b[76:332], strings.Repeat("x", 256)); b[332] = 9 },
			func(r utmp.Record) bool { return r.Host == strings.Repeat("x", 256) && r.ExitTermination == 9 }},
		{"empty host after NUL", func(b []byte) { copy(b[76:], "\x00not-a-host") },
			func(r utmp.Record) bool { return r.Host == "" }},
	} {
		b := make([]byte, 384)
		tc.set(b)
		r, ok := utmp.Decode(b, utmp.Layout384)
		if !ok || !tc.want(r) {
			t.Errorf("%s: got %+v", tc.name, r)
		}
		// The Reader decodes strings its own way; it must agree.
		rr, err := utmp.NewReader(bytes.NewReader(b), utmp.Layout384).Next()
		if err != nil || !equal(rr, r) {
			t.Errorf("%s: Reader got %+v, %v; Decode %+v", tc.name, rr, err, r)
		}
	}
	if _, ok := utmp.Decode(make([]byte, 383), utmp.Layout384); ok {
		t.Error("Decode of a short slice succeeded")
	}
}

func TestTruncated(t *testing.T) {
	for _, l := range layouts {
		recs := sample()
		var buf bytes.Buffer
		for _, r := range recs {
			buf.Write(utmp.Encode(r, l))
		}
		whole := buf.Len()
		buf.Write(utmp.Encode(recs[7], l)[:100])
		rd := utmp.NewReader(&buf, l)
		n := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%v: record %d: %v", l, n, err)
			}
			n++
		}
		if n != len(recs) {
			t.Errorf("%v: read %d records, want %d", l, n, len(recs))
		}
		var te *utmp.TruncatedError
		if !errors.As(rd.Warning(), &te) || te.Offset != int64(whole) || te.Have != 100 || te.Size != l.Size {
			t.Errorf("%v: warning %#v", l, rd.Warning())
		}
		if cim.CodeOf(rd.Warning()) != cim.ErrFailed {
			t.Errorf("%v: warning maps to %v", l, cim.CodeOf(rd.Warning()))
		}
		if _, err := rd.Next(); err != io.EOF {
			t.Errorf("%v: Next after EOF: %v", l, err)
		}
	}
}

type failReader struct{ n int }

func (f *failReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk on fire")
	}
	k := min(f.n, len(p))
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestReadError(t *testing.T) {
	rd := utmp.NewReader(&failReader{n: 384}, utmp.Layout384)
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := rd.Next()
	if cim.CodeOf(err) != cim.ErrFailed || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
	if _, err := utmp.NewReader(bytes.NewReader(nil), utmp.Layout{Size: 7}).Next(); cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Fatalf("invalid layout: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "utmp")
	recs := sample()
	if err := utmp.WriteFile(path, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	got, warn, err := utmp.ReadAll(context.Background(), path, utmp.Native)
	if err != nil || warn != nil || len(got) != len(recs) {
		t.Fatalf("ReadAll: %d records, %v, %v", len(got), warn, err)
	}
	for i := range recs {
		if !equal(got[i], recs[i]) {
			t.Errorf("record %d: got %+v", i, got[i])
		}
	}
	// Append half a record: a warning, every record still read.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(make([]byte, 10))
	f.Close()
	got, warn, err = utmp.ReadAll(context.Background(), path, utmp.Native)
	if err != nil || len(got) != len(recs) {
		t.Fatalf("truncated: %d records, %v", len(got), err)
	}
	var te *utmp.TruncatedError
	if !errors.As(warn, &te) {
		t.Fatalf("truncated: warning %v", warn)
	}
	// fn's error stops the walk and comes back.
	stop := errors.New("stop")
	n := 0
	_, err = utmp.ReadFile(context.Background(), path, utmp.Native, func(utmp.Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("stop: n=%d err=%v", n, err)
	}
	if _, err := utmp.ReadFile(context.Background(), filepath.Join(dir, "missing"), utmp.Native, nil); cim.CodeOf(err) != cim.ErrNotFound {
		t.Fatalf("missing file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := utmp.ReadFile(ctx, path, utmp.Native, func(utmp.Record) error { return nil }); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func TestDisplay(t *testing.T) {
	for in, want := range map[string]string{
		"alice":       "alice",
		"dé":          "dé",
		"d\xe9j\xe0":  `d\xe9j\xe0`,
		"a\tb\x1b":    `a\x09b\x1b`,
		`back\slash`:  `back\\slash`,
		"":            "",
		"x\u2028y":    `x\u{2028}y`,
		"\U0010fffe!": `\u{10fffe}!`,
	} {
		if got := utmp.Display(in); got != want {
			t.Errorf("Display(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserProcess(t *testing.T) {
	if !(utmp.Record{Type: utmp.UserProcess, User: "a"}).UserProcess() {
		t.Error("USER_PROCESS with a user is not a user process")
	}
	if (utmp.Record{Type: utmp.UserProcess}).UserProcess() || (utmp.Record{Type: utmp.DeadProcess, User: "a"}).UserProcess() {
		t.Error("user process without a user, or a dead one, counted")
	}
}

// TestSystemFiles reads this machine's utmp and wtmp, when there are any.
func TestSystemFiles(t *testing.T) {
	for _, path := range []string{utmp.DefaultPath, utmp.DefaultWtmpPath} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Logf("%s: %v", path, err)
			continue
		}
		recs, warn, err := utmp.ReadAll(context.Background(), path, utmp.Native)
		if cim.CodeOf(err) == cim.ErrAccessDenied {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if fi.Size()%int64(utmp.Native.Size) == 0 && warn != nil {
			t.Errorf("%s: warning %v on a whole file", path, warn)
		}
		t.Logf("%s: %d records", path, len(recs))
	}
}

// TestTimeFields checks the rules for ut_tv that who and last keep: a
// tv_usec out of range is ignored, a zero tv_sec is no time.
func TestTimeFields(t *testing.T) {
	for _, l := range utmp.Layouts {
		base := utmp.Record{Type: utmp.UserProcess, PID: 1, Line: "pts/1", User: "u", Time: time.Unix(1700000000, 0)}
		b := utmp.Encode(base, l)
		o := binary.ByteOrder(binary.LittleEndian)
		if l.BigEndian {
			o = binary.BigEndian
		}
		setUsec := func(v int64) {
			if l.Size == 400 {
				o.PutUint64(b[352:], uint64(v))
			} else {
				o.PutUint32(b[344:], uint32(int32(v)))
			}
		}
		for _, usec := range []int64{2000000000, -5, 1000000} {
			setUsec(usec)
			if r, _ := utmp.Decode(b, l); !r.Time.Equal(base.Time) {
				t.Errorf("%v: tv_usec %d gives %v", l, usec, r.Time)
			}
		}
		setUsec(500)
		zero := utmp.Encode(utmp.Record{Type: utmp.UserProcess, PID: 1, Line: "pts/1", User: "u"}, l)
		if l.Size == 400 {
			o.PutUint64(zero[352:], 500)
		} else {
			o.PutUint32(zero[344:], 500)
		}
		if r, _ := utmp.Decode(zero, l); !r.Time.IsZero() {
			t.Errorf("%v: zero tv_sec gives %v", l, r.Time)
		}
	}
}

// TestEachRaw reads a file's records undecoded: each head read in place
// is that of the record decoded from the same bytes, the records decoded
// are those Each reads, a partial last record is the same warning, and
// fn's error stops the walk.
func TestEachRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "utmp")
	recs := sample()
	if err := utmp.WriteFile(path, recs, utmp.Native); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(make([]byte, 10))
	f.Close()
	uf, err := utmp.OpenFile(path, utmp.Native)
	if err != nil {
		t.Fatal(err)
	}
	defer uf.Close()
	ctx := context.Background()
	var each []utmp.Record
	wantWarn, err := uf.Each(ctx, func(r utmp.Record) error { each = append(each, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	warn, err := uf.EachRaw(ctx, func(rd *utmp.Reader) error {
		h := rd.Head()
		if fmt.Sprint(h) != fmt.Sprint(utmp.Native.Head(rd.Raw())) {
			t.Errorf("record %d: Head %+v, Layout.Head of Raw %+v", n, h, utmp.Native.Head(rd.Raw()))
		}
		r := rd.Decode()
		if h.Type != r.Type || h.PID != r.PID || string(h.Line) != r.Line || string(h.User) != r.User || (h.Sec != r.Time.Unix() && !r.Time.IsZero()) {
			t.Errorf("record %d: head %+v of %+v", n, h, r)
		}
		if !equal(r, each[n]) {
			t.Errorf("record %d: decoded %+v, Each read %+v", n, r, each[n])
		}
		texts := len(r.Line) + len(r.ID) + len(r.User) + len(r.Host)
		for _, size := range []int{0, texts - 1, texts, 400} {
			if size < 0 {
				continue
			}
			room := make([]byte, size)
			in, rest := rd.DecodeIn(room)
			if !equal(in, r) {
				t.Errorf("record %d: decoded in a room of %d %+v, Decode %+v", n, size, in, r)
			}
			wantRest := size // texts that do not fit are made apart
			if texts > 0 && size >= texts {
				wantRest = size - texts
			}
			if len(rest) != wantRest {
				t.Errorf("record %d: a room of %d for %d bytes of texts leaves %d", n, size, texts, len(rest))
			}
			if size >= texts && texts > 0 {
				if testing.AllocsPerRun(5, func() { rd.DecodeIn(room) }) != 0 {
					t.Errorf("record %d: DecodeIn allocates in a room big enough", n)
				}
				room[0] ^= 0xff // the texts are the room's
				if in2, _ := rd.DecodeIn(nil); equal(in, in2) {
					t.Errorf("record %d: the texts decoded in a room are not in it", n)
				}
			}
		}
		n++
		return nil
	})
	if err != nil || n != len(recs) || warn == nil || warn.Error() != wantWarn.Error() {
		t.Fatalf("EachRaw: %d records, warning %v (Each's %v), %v", n, warn, wantWarn, err)
	}
	stop := errors.New("stop")
	if _, err := uf.EachRaw(ctx, func(*utmp.Reader) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
}
