package cim

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := strings.Repeat("é", 1000) // 2000 bytes
	got := Clip(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…[+1744 bytes]") || len(got) > MaxEcho+32 {
		t.Errorf("Clip(2000 bytes) = %q", got)
	}
	e := Errorf(ErrInvalidClass, "class %q: %v (%s)", strings.Repeat("x", 4<<20), errors.New(strings.Repeat("y", 1<<20)), []byte(strings.Repeat("z", 1000)))
	if len(e.Description) > 2*MaxEcho+4*MaxEcho+100 {
		t.Errorf("Errorf kept %d bytes of a 5 MB echo", len(e.Description))
	}
}
