package linux

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cimsess/cimsess/sysfile/logind"
	"github.com/cimsess/cimsess/sysfile/procfs"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// TestFactsOfIsPure checks factsOf on sessions built by hand, without a
// proc tree or a provider: what each source says and which one wins.
func TestFactsOfIsPure(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	names := func(uid uint32) (string, bool) {
		if uid == 1000 {
			return "alice", true
		}
		return "", false
	}
	ghost := &session{id: "utmp:pts/3:4000001", recordOnly: true, rec: &utmp.Record{Type: utmp.UserProcess, PID: 4000001,
		Line: "pts/3", User: "bob", Host: "10.0.0.7", Addr: netip.MustParseAddr("10.0.0.7"), Time: at}}
	f := factsOf(ghost, names, nil)
	want := facts{id: ghost.id, userName: "bob", tty: "pts/3", remoteHost: "10.0.0.7", remoteAddr: "10.0.0.7",
		leader: 4000001, start: at, status: StatusLostComm, logonType: 10, hasLogonType: true}
	if f != want {
		t.Errorf("ghost:\n got %+v\nwant %+v", f, want)
	}

	// A live session: the login uid names the user over utmp's name;
	// logind's leader and state win, its service is the PAM service.
	live := &session{id: "42", audit: 42, hasAudit: true,
		procs: []procfs.Process{{PID: 900, Comm: "sshd", LoginUID: 1000, SessionID: 42, StartTime: at.Add(-time.Second)}},
		rec:   &utmp.Record{Type: utmp.UserProcess, PID: 901, Line: "pts/0", User: "root", Host: "example.org", Time: at},
		ld:    &logind.Session{ID: "42", AuditID: 42, Leader: 900, State: "active", Service: "sshd", UID: 1000, Remote: true}}
	f = factsOf(live, names, nil)
	if f.userName != "alice" || !f.hasUID || f.uid != 1000 || f.leader != 900 || f.status != StatusOK ||
		f.state != "active" || f.service != "sshd" || f.remoteHost != "example.org" || f.remoteAddr != "" || !f.start.Equal(at) {
		t.Errorf("live: %+v", f)
	}
	if text, n, c := f.texts(nil); text[:n] != "alice@pts/0" || text[n:c] != "alice on pts/0 from example.org" {
		t.Errorf("live texts: %q %d %d", text, n, c)
	}
}
