package history

import (
	"os"
	"os/user"
	"testing"
	"time"
)

// TestGoneNoLogout checks last's rule for a login with no logout: gone
// when it predates this boot, when its user is unknown, when its process
// runs under another login uid; not while its process is the user's.
func TestGoneNoLogout(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.ReadFile("/proc/self/loginuid"); err != nil {
		t.Skip("no loginuid here")
	}
	now := time.Now()
	live := Session{Class: "Linux_LogonSession", User: me.Username, TTY: "pts/999", PID: int64(os.Getpid()), Start: now, Source: SourceWtmp}
	for _, tc := range []struct {
		name string
		s    Session
		want bool
	}{
		{"before this boot", Session{Class: "Linux_LogonSession", User: me.Username, Start: time.Date(1991, 5, 1, 0, 0, 0, 0, time.UTC), Source: SourceLive}, true},
		{"unknown user", Session{Class: "Linux_LogonSession", User: "no-such-user-here", PID: int64(os.Getpid()), Start: now, Source: SourceWtmp}, true},
		{"no process, no terminal", Session{Class: "Linux_LogonSession", User: me.Username, TTY: "pts/999", PID: 1 << 30, Start: now, Source: SourceWtmp}, true},
		{"closed", Session{Class: "Linux_LogonSession", User: "x", Start: now, End: now, How: EndLogout, Source: SourceWtmp}, false},
		{"a boot", Session{User: "reboot", TTY: BootLine, Start: time.Date(1991, 5, 1, 0, 0, 0, 0, time.UTC), Source: SourceWtmp}, false},
	} {
		if got := GoneNoLogout(tc.s); got != tc.want {
			t.Errorf("%s: GoneNoLogout = %v", tc.name, got)
		}
	}
	// This process: gone only if its login uid is not ours (a test run
	// from a login session of another user, or with no audit login uid).
	b, _ := os.ReadFile("/proc/self/loginuid")
	if string(b) == me.Uid || string(b) == me.Uid+"\n" {
		if GoneNoLogout(live) {
			t.Error("a session whose process is the user's is gone")
		}
	}
}
