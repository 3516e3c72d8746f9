package wire

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/cimsess/cimsess/cim"
)

// ParseAnswer reads one message of a host's answer to a [Query]. The form
// agents write — every member named once in lower case, no nulls — is read
// in one pass over the bytes (see parseFast); anything else goes through
// encoding/json, which is the reference: whatever the one-pass reader
// takes, it reads to the same Answer (FuzzParseAnswer). A client that
// asks a thousand hosts reads a thousand of these for one query. Errors
// are CIM_ERR_INVALID_PARAMETER. The instances are left in their wire
// form for [DecodeInstance].
func ParseAnswer(data []byte) (*Answer, error) {
	if ans, ok := parseFastAnswer(data); ok {
		return ans, nil
	}
	var ans Answer
	if err := json.Unmarshal(data, &ans); err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "not an answer: %v", err)
	}
	return &ans, nil
}

// answerMembers are the members of an answer's JSON object.
var answerMembers = []string{"host", "chunk", "last", "total", "properties", "instances", "error"}

// parseFastAnswer reads an answer as parseFast reads an event; ok is false
// for any form it leaves to encoding/json.
func parseFastAnswer(data []byte) (ans *Answer, ok bool) {
	s := fastScanner{b: data}
	if !s.byte('{') {
		return nil, false
	}
	s.str = string(data)
	var out Answer
	var seen uint8
	for first := true; ; first = false {
		if s.byte('}') {
			break
		}
		if !first && !s.byte(',') {
			return nil, false
		}
		key, ok := s.plain()
		if !ok || !s.byte(':') {
			return nil, false
		}
		i := slices.Index(answerMembers, key)
		if i < 0 || seen&(1<<i) != 0 {
			return nil, false
		}
		seen |= 1 << i
		switch key {
		case "host":
			out.Host, ok = s.text()
		case "chunk":
			out.Chunk, ok = s.int()
		case "total":
			out.Total, ok = s.int()
		case "last":
			out.Last, ok = s.bool()
		case "properties":
			ok = s.strings(&out.Properties)
		case "instances":
			ok = s.instances(&out.Instances)
		case "error":
			out.Error, ok = s.answerError()
		}
		if !ok {
			return nil, false
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false
	}
	return &out, true
}

// int reads a JSON number that is a decimal integer fitting int (not
// negative: agents write none).
func (s *fastScanner) int() (int, bool) {
	v, ok := s.uint()
	if !ok || v > math.MaxInt {
		return 0, false
	}
	return int(v), true
}

// bool reads true or false.
func (s *fastScanner) bool() (bool, bool) {
	s.ws()
	switch {
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	}
	return false, false
}

// strings reads an array of strings into *out (an empty array as an
// empty slice, as encoding/json makes it).
func (s *fastScanner) strings(out *[]string) bool {
	if !s.byte('[') {
		return false
	}
	v := []string{}
	for first := true; ; first = false {
		if s.byte(']') {
			*out = v
			return true
		}
		if !first && !s.byte(',') {
			return false
		}
		s.ws()
		t, ok := s.text()
		if !ok {
			return false
		}
		v = append(v, t)
	}
}

// instances reads an array of wire instances into *out.
func (s *fastScanner) instances(out *[]Instance) bool {
	if !s.byte('[') {
		return false
	}
	v := []Instance{}
	for first := true; ; first = false {
		if s.byte(']') {
			*out = v
			return true
		}
		if !first && !s.byte(',') {
			return false
		}
		var in Instance
		if !s.instance(&in) {
			return false
		}
		v = append(v, in)
	}
}

// answerError reads {"code":N,"message":"…"}, each member once.
func (s *fastScanner) answerError() (*AnswerError, bool) {
	if !s.byte('{') {
		return nil, false
	}
	var e AnswerError
	var seenCode, seenMessage bool
	for first := true; ; first = false {
		if s.byte('}') {
			return &e, true
		}
		if !first && !s.byte(',') {
			return nil, false
		}
		key, ok := s.plain()
		if !ok || !s.byte(':') {
			return nil, false
		}
		switch {
		case key == "code" && !seenCode:
			seenCode = true
			e.Code, ok = s.int()
		case key == "message" && !seenMessage:
			seenMessage = true
			e.Message, ok = s.text()
		default:
			return nil, false
		}
		if !ok {
			return nil, false
		}
	}
}
