// Package changefuzz fuzzes collector.Change, the collector's decoding of
// the events agents publish, in a test binary of its own: the collector's
// tests link a NATS server, and coverage snapshots of that binary made
// fuzzing crawl.
package changefuzz

import (
	"strings"
	"testing"

	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/fleethistory/collector"
)

// FuzzChange: whatever comes on whatever subject, Change does not panic;
// what it accepts came on its own host's subject, and its indexed texts
// fit an index and hold no NUL.
func FuzzChange(f *testing.F) {
	const ev = `{"id":"web-1.a1.%d","host":"web-1","seq":1,"kind":"%s","time":"2026-12-01T10:00:00Z","class":"Linux_LogonSession",` +
		`"path":"linux_logonsession.logonid=\"7\"","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":"alice",` +
		`"UserId":1000,"TTY":"pts/1","RemoteHost":"192.0.2.7","StartTime":"20261201100000.000000+000","Status":"%s"}}%s}`
	subject := "cimsess.ev.web-1.Linux_LogonSession"
	for _, s := range []string{
		strings.NewReplacer("%d", "1", "%s", "creation").Replace(ev),
		`{"id":"web-1.a1.2","host":"web-1","kind":"modification","class":"Linux_LogonSession","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","Status":"Degraded"}},"previous":{"class":"Linux_LogonSession","properties":{"LogonId":"7","Status":"OK"}}}`,
		`{"id":"web-1.a1.3","host":"web-1","kind":"deletion","class":"Linux_LogonSession","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7","UserName":"a\u0000b","Status":"Lost Comm"}}}`,
		`{"id":"db-7.a1.1","host":"db-7","kind":"creation","class":"Linux_LogonSession","instance":{"class":"Linux_LogonSession","properties":{"LogonId":"7"}}}`,
	} {
		f.Add(subject, []byte(s))
	}
	c := &collector.Collector{}
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		ch, ok, err := c.Change(subject, data, "")
		if err != nil || !ok {
			return
		}
		ev, err := wire.ParseEventOn(subject, data)
		if err != nil || ev.Subject() != subject {
			t.Fatalf("accepted an event for %q on %q: %v", ev.Subject(), subject, err)
		}
		s := ch.Session
		for _, v := range []string{s.Host, s.Class, s.LogonID, s.User, ch.MsgID} {
			if len(v) > 1024 || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("accepted a text an index cannot hold: %.80q", v)
			}
		}
	})
}
