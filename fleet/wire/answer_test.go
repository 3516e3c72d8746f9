package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// answerSeeds are answers as agents write them, and near misses.
var answerSeeds = []string{
	`{"host":"web-1","chunk":0,"last":true,"total":2,"instances":[{"class":"Linux_LogonSession","path":"Linux_LogonSession.LogonId=\"7\"","properties":{"LogonId":"7","LogonType":10}},{"class":"Linux_LogonSession","properties":{"LogonId":"8","StartTime":"20260102030405.000000+000"}}]}`,
	`{"host":"web-1","chunk":3,"properties":["LogonId","UserName"],"instances":[{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":"a \"b\" \\ c"}}]}`,
	`{"host":"db-7","chunk":0,"last":true,"error":{"code":6,"message":"no such class \u00e9"}}`,
	`{"host":"h","chunk":0,"last":true,"total":0,"instances":[]}`,
	`{"host":"h","chunk":0,"properties":[]}`,
	` { "host" : "ü" , "chunk" : 1 , "last" : false } `,
	`{"host":"h","Host":"g"}`,
	`{"host":"h","host":"g"}`,
	`{"host":"h","chunk":-1}`,
	`{"host":"h","chunk":1.5}`,
	`{"host":"h","chunk":1e2}`,
	`{"host":"h","chunk":99999999999999999999}`,
	`{"host":"h","last":null}`,
	`{"host":"h","instances":null}`,
	`{"host":"h","instances":[null]}`,
	`{"host":"h","instances":[{"class":"C","properties":{"a":1,"A":2}}]}`,
	`{"host":"h","error":{}}`,
	`{"host":"h","error":{"code":1,"code":2}}`,
	`{"host":"h","error":{"code":1,"extra":2}}`,
	`{"host":"h","unknown":1}`,
	`{"host":"h",}`,
	`{"host":"h"} x`,
	`{"host":"\x"}`,
}

// FuzzParseAnswer checks the one-pass reader of answers against
// encoding/json: an answer it takes is one json.Unmarshal takes too, and
// the same.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := parseFastAnswer(data)
		if !ok {
			if _, err := ParseAnswer(data); err != nil && cim.CodeOf(err) != cim.ErrInvalidParameter {
				t.Fatalf("%q: %v", data, err)
			}
			return
		}
		var ref Answer
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("parseFastAnswer took %q, encoding/json refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(fast, &ref) {
			t.Fatalf("%q:\nfast %#v\njson %#v", data, fast, &ref)
		}
	})
}

// TestParseAnswerReadsAgentsAnswers: what an agent writes (json.Marshal
// of an Answer) takes the one-pass path and reads back as written; every
// seed reads as encoding/json reads it.
func TestParseAnswerReadsAgentsAnswers(t *testing.T) {
	in := cim.NewInstance("Linux_LogonSession").Set("LogonId", "42").Set("UserName", `a "quoted" \ name`).
		Set("StartTime", cim.NewDateTime(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))).Set("LogonType", uint32(10))
	w, err := EncodeInstance(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Answer{
		{Host: "web-1", Chunk: 2, Last: true, Total: 513, Properties: []string{"LogonId", "UserName"}, Instances: []Instance{w, w}},
		{Host: "web-2", Chunk: 0, Last: true, Error: &AnswerError{Code: 6, Message: "no such class"}},
	} {
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseFastAnswer(data)
		if !ok {
			t.Fatalf("agent's answer %s not on the one-pass path", data)
		}
		var ref Answer
		if err := json.Unmarshal(data, &ref); err != nil || !reflect.DeepEqual(got, &ref) {
			t.Fatalf("fast %#v\njson %#v (%v)", got, &ref, err)
		}
	}
	for _, s := range answerSeeds {
		got, err := ParseAnswer([]byte(s))
		var ref Answer
		rerr := json.Unmarshal([]byte(s), &ref)
		if (err != nil) != (rerr != nil) || err == nil && !reflect.DeepEqual(got, &ref) {
			t.Errorf("%s: got %#v %v, json %#v %v", s, got, err, &ref, rerr)
		}
	}
}

// BenchmarkParseAnswer reads a host's answer of two sessions (as a fleet
// query's client reads a thousand for one query) on the one-pass path and
// with encoding/json.
func BenchmarkParseAnswer(b *testing.B) {
	var insts []Instance
	for _, id := range []string{"1000", "1001"} {
		in := cim.NewInstance("Linux_LogonSession").Set("LogonId", id).Set("UserName", "user1").Set("UserId", uint32(1000)).
			Set("TTY", "pts/1000").Set("RemoteHost", "192.0.2.7").Set("RemoteAddress", "192.0.2.7").Set("LogonType", uint32(10)).
			Set("LeaderProcessId", uint32(4242)).Set("StartTime", cim.NewDateTime(time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC))).Set("Status", "OK")
		w, _ := EncodeInstance(in)
		insts = append(insts, w)
	}
	data, _ := json.Marshal(Answer{Host: "host-001.example.com", Chunk: 0, Last: true, Total: 2, Instances: insts})
	for _, r := range []struct {
		name  string
		parse func([]byte) error
	}{{"fast", func(d []byte) error { _, err := ParseAnswer(d); return err }},
		{"encoding-json", func(d []byte) error { var a Answer; return json.Unmarshal(d, &a) }}} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := r.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
