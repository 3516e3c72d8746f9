package wire

import (
	"encoding/json"
	"math"

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
	s, ok := newFastScanner(data)
	if !ok {
		return nil, false
	}
	var out Answer
	ok = s.object(answerMembers, func(key string) (ok bool) {
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
			out.Properties = []string{} // [] is an empty slice, as encoding/json makes it
			ok = s.array(func() bool {
				t, ok := s.text()
				out.Properties = append(out.Properties, t)
				return ok
			})
		case "instances":
			out.Instances = []Instance{}
			ok = s.array(func() bool {
				var in Instance
				ok := s.instance(&in)
				out.Instances = append(out.Instances, in)
				return ok
			})
		case "error":
			out.Error, ok = s.answerError()
		}
		return ok
	})
	if !ok || !s.end() {
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

// answerError reads {"code":N,"message":"…"}, each member once.
func (s *fastScanner) answerError() (*AnswerError, bool) {
	var e AnswerError
	ok := s.object(errorMembers, func(key string) (ok bool) {
		if key == "code" {
			e.Code, ok = s.int()
		} else {
			e.Message, ok = s.text()
		}
		return ok
	})
	if !ok {
		return nil, false
	}
	return &e, true
}

// errorMembers are the members of an answer's error.
var errorMembers = []string{"code", "message"}
