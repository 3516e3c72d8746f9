package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// fastSeeds are events as agents write them, and near misses.
var fastSeeds = []string{
	`{"id":"h.a.1","host":"h","seq":1,"kind":"creation","time":"2026-12-05T08:00:00Z","class":"Linux_LogonSession","path":"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","LogonType":10,"StartTime":"20260102030405.000000+000","IdleTime":"00000000000003.000000:000"}}}`,
	`{"id":"h.a.2","host":"h","seq":2,"kind":"modification","time":"2026-12-05T08:00:00.123456789+01:00","class":"Linux_LogonSession","path":"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7"}},"previous":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":null}}}`,
	`{"id":"h.a.3","host":"h","seq":3,"kind":"deletion","time":"2026-12-05T08:00:00Z","class":"Win32_SessionProcess","path":"","instance":{"class":"Win32_SessionProcess","properties":{"Antecedent":"Linux_LogonSession.LogonId=\"7\"","Dependent":"Win32_Process.Handle=\"9\""}}}`,
	` { "id" : "h.a.4" , "host":"ü","seq":18446744073709551615,"kind":"creation","time":"2026-12-05T08:00:00Z","class":"C","path":"p","instance":{"class":"C","path":"C.K=\"1\"","properties":{"A":[1,-2.5e3,"x\u00e9",null,true,false],"B":{"x":[{}]},"C":-0,"D":0.5E+2}}} `,
	`{"id":"h.a.5","host":"h","seq":5,"kind":"creation","time":"2026-12-05T08:00:00Z","class":"C","path":"","instance":{"class":"C","properties":{}}}`,
	`{"id":"h.a.6","host":"h","seq":6,"kind":"creation","time":"2026-12-05T08:00:00Z","class":"C","path":"","instance":{"class":"C"}}`,
	`{"id":"x","ID":"y"}`,
	`{"id":"x","id":"y"}`,
	`{"id":"x",}`,
	`{"seq":01}`,
	`{"seq":1.0}`,
	`{"seq":-1}`,
	`{"time":"2026-13-05T08:00:00Z"}`,
	`{"instance":{"class":"C","properties":{"a":1,"A":2}}}`,
	`{"instance":{"class":"C","properties":{"a":1,}}}`,
	`{"instance":{"class":"C","properties":{"a":01}}}`,
	`{"instance":{"class":"C","properties":{"a":"\x"}}}`,
	`{"instance":{"class":"C","properties":{"a":[1,}}}`,
	`{"previous":null}`,
	`{}}`,
	`{} x`,
	`{"host":"a\"b"}`,
	`{"path":"Linux_LogonSession.LogonId=\"7\"","host":"a\\b\/c\n\t\r\b\f","kind":"\u00e9\ud800"}`,
	`{"host":"\x"}`,
}

// FuzzParseFast checks the one-pass reader against encoding/json: an
// event parseFast takes is one parseJSON takes too, and the same.
func FuzzParseFast(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := parseFast(data)
		if !ok {
			return
		}
		ref, err := parseJSON(data)
		if err != nil {
			t.Fatalf("parseFast took %q, encoding/json refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q:\nfast %#v\njson %#v", data, fast, ref)
		}
	})
}

// TestParseFastReadsAgentsEvents: what an agent writes takes the fast
// path, whatever its values (escapes inside a value are fine), and reads
// back as written.
func TestParseFastReadsAgentsEvents(t *testing.T) {
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "42").Set("UserName", `a "quoted" \ name`).
		Set("StartTime", cim.NewDateTime(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))).Set("LogonType", uint32(10))
	w, err := EncodeInstance(in)
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{ID: "tok.agent.3", Host: "web-1", Seq: 3, Kind: KindModification, Time: time.Date(2026, 12, 5, 8, 0, 1, 5, time.UTC),
		Class: in.ClassName, Path: `Linux_LogonSession.LogonId="42"`, Instance: w, Previous: &w}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := parseFast(data)
	if !ok {
		t.Fatalf("agent's event %s not on the fast path", data)
	}
	ref, err := parseJSON(data)
	if err != nil || !reflect.DeepEqual(got, ref) {
		t.Fatalf("fast %#v\njson %#v (%v)", got, ref, err)
	}
	for _, s := range fastSeeds {
		fast, ok := parseFast([]byte(s))
		ref, err := parseJSON([]byte(s))
		if ok && (err != nil || !reflect.DeepEqual(fast, ref)) {
			t.Errorf("%s: fast %#v, json %#v %v", s, fast, ref, err)
		}
	}
}

// BenchmarkParseEvent reads an agent's modification event (two instances
// of 11 properties) on the one-pass path and with encoding/json.
func BenchmarkParseEvent(b *testing.B) {
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "1000").Set("UserName", "user1").Set("UserId", uint32(1000)).
		Set("TTY", "pts/1000").Set("RemoteHost", "192.0.2.7").Set("RemoteAddress", "192.0.2.7").Set("LogonType", uint32(10)).
		Set("LeaderProcessId", uint32(4242)).Set("StartTime", cim.NewDateTime(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))).Set("Status", "OK")
	w, _ := EncodeInstance(in)
	ev := Event{ID: "host-001.agent1.17", Host: "Host-001.example.com", Seq: 17, Kind: KindModification, Time: time.Now(),
		Class: in.ClassName, Path: `linux_logonsession.logonid="1000"`, Instance: w, Previous: &w}
	data, _ := json.Marshal(ev)
	for _, r := range []struct {
		name  string
		parse func([]byte) (*Event, error)
	}{{"fast", ParseEvent}, {"encoding-json", func(d []byte) (*Event, error) {
		ev, err := parseJSON(d)
		if err != nil {
			return nil, err
		}
		return checkEvent(ev)
	}}} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := r.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzStrings checks the short cuts for strings against encoding/json:
// appendString writes what json.Marshal writes, and a string plainString
// reads is what json.Unmarshal reads.
func FuzzStrings(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b`, `a\b`, "<&>", "é", "\xff", "\u2028", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, json.Marshal %s", s, got, want)
		}
		raw := []byte(`"` + s + `"`)
		if v, ok := plainString(raw); ok {
			var ref string
			if err := json.Unmarshal(raw, &ref); err != nil || ref != v {
				t.Fatalf("plainString(%s) = %q, json.Unmarshal %q %v", raw, v, ref, err)
			}
		}
	})
}
