package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
)

// TestEventLineEscapes: an event line shows what a utmp record holds as
// every human format does, escaped, so that a user name of terminal
// control sequences cannot retitle the window or clear the screen of
// whoever watches.
func TestEventLineEscapes(t *testing.T) {
	evil := "bob\x1b]0;pwned\x07\x1b[2J"
	target := cim.NewInstance("Linux_LogonSession").Set("LogonId", "utmp:pts/\x1b[2J:7").Set("UserName", evil).Set("TTY", "pts/1")
	target.Path = cim.ObjectPath{ClassName: "Linux_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "utmp:pts/\x1b[2J:7"}}}
	prev := cim.NewInstance("Linux_LogonSession").Set("LogonId", "utmp:pts/\x1b[2J:7").Set("UserName", "bob").Set("TTY", "pts/1")
	for _, ev := range []cimom.Event{
		{Class: cimom.InstanceCreationEvent, Target: target, Time: time.Now()},
		{Class: cimom.InstanceModificationEvent, Target: target, Previous: prev, Time: time.Now()},
	} {
		line := eventLine(ev)
		if strings.ContainsAny(line, "\x1b\x07") || !strings.Contains(line, `bob\x1b]0;pwned\x07\x1b[2J`) || !strings.Contains(line, `pts/\x1b[2J:7`) {
			t.Errorf("%s: %q", ev.Class, line)
		}
	}
}
