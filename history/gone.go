package history

import "sync"

// EndGoneNoLogout is how an open login session shows when last(1) would
// call it "gone - no logout" (see [GoneNoLogout]). It is worked out when
// the session is shown, from the machine as it is then, and never stored.
const EndGoneNoLogout End = "gone-no-logout"

// GoneNoLogout reports whether an open login session is gone with no
// logout, by last's rule: it began before this machine's current boot;
// or, for a session wtmp alone knows, its user is unknown here, or its
// process runs under another login uid, or (no such process) its terminal
// does not exist or is not the user's. Closed sessions and boots never
// are; on a system that cannot tell, none is.
func GoneNoLogout(s Session) bool {
	if !s.Open() || s.Class == "" || s.Start.IsZero() {
		return false
	}
	if b := currentBoot(); !b.IsZero() && s.Start.Before(b) {
		return true
	}
	return s.Source == SourceWtmp && phantom(s)
}

var currentBoot = sync.OnceValue(bootTime)
