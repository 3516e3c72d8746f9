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

// TestEventLineNulls: a modification lists a property that became NULL (a
// provider leaves an unknown property out of the instance) as it lists
// one that came back.
func TestEventLineNulls(t *testing.T) {
	live := cim.NewInstance("Linux_LogonSession").Set("LogonId", "50").Set("Status", "OK").Set("Service", "sshd").Set("UserId", uint32(1000))
	lost := cim.NewInstance("Linux_LogonSession").Set("LogonId", "50").Set("Status", "Lost Comm")
	for _, tc := range []struct {
		prev, target *cim.Instance
		want         string
	}{
		{live, lost, "Service: sshd → NULL, Status: OK → \"Lost Comm\", UserId: 1000 → NULL"},
		{lost, live, "Service: NULL → sshd, Status: \"Lost Comm\" → OK, UserId: NULL → 1000"},
	} {
		line := eventLine(cimom.Event{Class: cimom.InstanceModificationEvent, Target: tc.target, Previous: tc.prev, Time: time.Now()})
		if !strings.HasSuffix(line, "  "+tc.want) {
			t.Errorf("%q, want it to end in %q", line, tc.want)
		}
	}
}
