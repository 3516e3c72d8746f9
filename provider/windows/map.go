package windows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider/internal/serversess"
	"github.com/cimsess/cimsess/schema"
)

// The classes this package serves.
const (
	LogonClass       = "Win32_LogonSession"
	SessionClass     = serversess.SessionClass
	ConnectionClass  = serversess.ConnectionClass
	AssociationClass = serversess.AssociationClass
)

// Status values Windows sessions take.
const (
	StatusOK       = "OK"
	StatusStarting = "Starting"
	StatusStopping = "Stopping"
	StatusLostComm = "Lost Comm"
	StatusUnknown  = "Unknown"
)

// interactiveTypes are the logon types that belong to a desktop, whose
// life is that of their terminal session.
func interactiveType(lt uint32) bool {
	switch lt {
	case 2, 7, 10, 11, 12, 13: // Interactive, Unlock, RemoteInteractive, Cached*
		return true
	}
	return false
}

// statusOf is the one table that maps a logon session to its Status. LSA
// lists live logon sessions only; what can still be said of one is the
// state of the terminal session an interactive logon belongs to:
//
//	not interactive, or in session 0 (services), or no WTS answer → OK
//	WTS answered, but without the logon's session                 → Lost Comm
//	WTSActive, WTSConnected, WTSShadow, WTSIdle                   → OK
//	WTSConnectQuery, WTSInit                                      → Starting
//	WTSDisconnected (the session lives, its client has gone)      → Lost Comm
//	WTSReset, WTSDown                                             → Stopping
//	any other state                                               → Unknown
//
// A disconnected session is kept, never dropped: "Lost Comm" is CIM's
// word for an element that was reached before and is unreachable now. So
// is a logon whose terminal session is gone: Windows keeps a logon
// session while anything holds its token, after its user logged off.
// wtsRead says whether WTS answered at all.
func statusOf(d *LogonSessionData, wts *WTSSession, wtsRead bool) string {
	if d.Session == 0 || !interactiveType(d.LogonType) {
		return StatusOK
	}
	if wts == nil {
		if wtsRead {
			return StatusLostComm
		}
		return StatusOK
	}
	switch wts.State {
	case WTSActive, WTSConnected, WTSShadow, WTSIdle:
		return StatusOK
	case WTSConnectQuery, WTSInit:
		return StatusStarting
	case WTSDisconnected:
		return StatusLostComm
	case WTSReset, WTSDown:
		return StatusStopping
	}
	return StatusUnknown
}

// logonTypeNames names the LogonType values, as Win32_LogonSession's
// Values qualifier does.
var logonTypeNames = map[uint32]string{
	0: "System", 2: "Interactive", 3: "Network", 4: "Batch", 5: "Service", 6: "Proxy",
	7: "Unlock", 8: "NetworkCleartext", 9: "NewCredentials", 10: "RemoteInteractive",
	11: "CachedInteractive", 12: "CachedRemoteInteractive", 13: "CachedUnlock",
}

// logonTypeOf maps LSA's SECURITY_LOGON_TYPE to LogonType: the numbers are
// the same as WMI's ValueMap (0 for the system's own sessions, 2 to 13);
// any other (1, or one a later Windows adds) is NULL, never guessed.
func logonTypeOf(lt uint32) (uint32, bool) {
	_, ok := logonTypeNames[lt]
	return lt, ok
}

// sessionTypeOf is the one table that maps SESSION_INFO_502's user flags
// to Win32_ServerSession.SessionType:
//
//	SESS_GUEST (1) set          → 0 Guest
//	SESS_NOENCRYPTION (2) set   → 1 NoEncryption
//	otherwise                   → 2 Other
func sessionTypeOf(flags uint32) uint32 {
	switch {
	case flags&SessGuest != 0:
		return 0
	case flags&SessNoEncryption != 0:
		return 1
	}
	return 2
}

// LogonOptions are what [MapLogonSessions] needs besides LSA's answer.
type LogonOptions struct {
	// Location is the time zone of StartTime's offset; default time.Local.
	Location *time.Location
}

// MapLogonSessions turns LSA's logon sessions into Win32_LogonSession
// instances, one per LUID, ordered by LogonId; wts, when not nil, are
// the terminal sessions whose states refine Status (see [statusOf]): nil
// when WTS could not be read.
func MapLogonSessions(sessions []LogonSessionData, wts []WTSSession, opts LogonOptions) []*cim.Instance {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	byID := make(map[uint32]*WTSSession, len(wts))
	for i := range wts {
		byID[wts[i].SessionID] = &wts[i]
	}
	type keyed struct {
		id uint64
		in *cim.Instance
	}
	seen := map[LUID]bool{}
	var out []keyed
	for i := range sessions {
		d := &sessions[i]
		if seen[d.LogonID] {
			continue
		}
		seen[d.LogonID] = true
		out = append(out, keyed{uint64(uint32(d.LogonID.HighPart))<<32 | uint64(d.LogonID.LowPart), logonInstance(d, byID[d.Session], wts != nil, loc)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	insts := make([]*cim.Instance, len(out))
	for i := range out {
		insts[i] = out[i].in
	}
	return insts
}

// accountName is DOMAIN\user, or user alone when LSA names no domain.
func accountName(domain, user string) string {
	switch {
	case user == "":
		return ""
	case domain == "":
		return user
	}
	return domain + `\` + user
}

// logonInstance builds the instance of one logon session.
func logonInstance(d *LogonSessionData, wts *WTSSession, wtsRead bool, loc *time.Location) *cim.Instance {
	id := d.LogonID.String()
	user := prop.Clean(d.UserName)
	account := accountName(prop.Clean(d.LogonDomain), user)
	pkg := prop.Clean(d.AuthenticationPackage)

	in := cim.NewInstance(LogonClass)
	in.Set("LogonId", id)
	in.Set("AuthenticationPackage", prop.NullIfEmpty(pkg))
	typeName := ""
	if lt, ok := logonTypeOf(d.LogonType); ok {
		in.Set("LogonType", lt)
		typeName = logonTypeNames[lt]
	} else {
		in.Set("LogonType", nil)
	}
	if !d.LogonTime.IsZero() {
		in.Set("StartTime", cim.NewDateTime(d.LogonTime.In(loc)))
	}
	status := statusOf(d, wts, wtsRead)
	in.Set("Status", status)

	// Where: the window station of an interactive logon, else its kind.
	where := ""
	if wts != nil && d.Session != 0 && interactiveType(d.LogonType) {
		where = prop.Clean(wts.WinStationName)
	}
	who := account
	if who == "" {
		who = "logon " + id
	}
	switch {
	case where != "":
		in.Set("Name", who+"@"+where)
	case typeName != "":
		in.Set("Name", who+"@"+typeName)
	default:
		in.Set("Name", who)
	}
	caption := who
	if typeName != "" {
		caption += ", " + typeName
	}
	if where != "" {
		caption += " on " + where
	}
	in.Set("Caption", schema.Truncate(caption, 64))

	var desc strings.Builder
	fmt.Fprintf(&desc, "Logon session %s of %s", id, prop.OrUnknown(account))
	if d.Sid != "" {
		fmt.Fprintf(&desc, " (%s)", prop.Clean(d.Sid))
	}
	if typeName != "" {
		fmt.Fprintf(&desc, ", %s logon", typeName)
	} else {
		fmt.Fprintf(&desc, ", logon type %d", d.LogonType)
	}
	if pkg != "" {
		fmt.Fprintf(&desc, " via %s", pkg)
	}
	if s := prop.Clean(d.LogonServer); s != "" {
		fmt.Fprintf(&desc, " at %s", s)
	}
	fmt.Fprintf(&desc, ", terminal session %d", d.Session)
	if where != "" {
		fmt.Fprintf(&desc, " (%s)", where)
	}
	switch {
	case status == StatusLostComm && wts == nil:
		desc.WriteString("; its terminal session is gone: the logon outlives its user's logoff while something holds its token")
	case status == StatusLostComm:
		desc.WriteString("; disconnected: the session lives but its client has gone")
	}
	in.Set("Description", desc.String())
	in.Owner = account
	return in
}

// ServerOptions are what [MapServer] needs besides the Server service's
// answer.
type ServerOptions struct {
	// Host is the host of the reference paths in associations.
	Host string
}

// ServerSnapshot is the Server service's state as CIM instances, without
// paths (the object manager sets them).
type ServerSnapshot struct {
	Sessions    []*cim.Instance // Win32_ServerSession
	Connections []*cim.Instance // Win32_ServerConnection
	Links       []*cim.Instance // Win32_SessionConnection
}

// computerName is a client's name without the "\\" NetSessionEnum puts
// before it, as WMI shows it.
func computerName(cname string) string {
	return strings.TrimLeft(prop.Clean(cname), `\`)
}

// MapServer turns NetSessionEnum's sessions and, per client computer (the
// key is the name as NetSessionEnum gave it), NetConnectionEnum's
// connections into instances. Sessions or connections with equal keys
// merge: counts add up, times take the longest. Each connection is linked
// to the session of its computer and user when there is one.
func MapServer(sessions []SessionInfo502, conns map[string][]ConnectionInfo1, opts ServerOptions) ServerSnapshot {
	var snap ServerSnapshot
	type skey struct{ computer, user string }
	merged := map[skey]*cim.Instance{}
	for i := range sessions {
		s := &sessions[i]
		computer, user := computerName(s.ComputerName), prop.Clean(s.UserName)
		if computer == "" {
			continue // no key
		}
		k := skey{strings.ToLower(computer), strings.ToLower(user)}
		if in := merged[k]; in != nil {
			in.Set("ResourcesOpened", in.Value("ResourcesOpened").(uint32)+s.NumOpens)
			if s.Time > in.Value("ActiveTime").(uint32) {
				in.Set("ActiveTime", s.Time)
			}
			if s.IdleTime < in.Value("IdleTime").(uint32) {
				in.Set("IdleTime", s.IdleTime)
			}
			continue
		}
		in := cim.NewInstance(SessionClass)
		in.Set("ComputerName", computer).Set("UserName", user).
			Set("ActiveTime", s.Time).Set("IdleTime", s.IdleTime).
			Set("ResourcesOpened", s.NumOpens).
			Set("ClientType", prop.NullIfEmpty(prop.Clean(s.ClientType))).
			Set("TransportName", prop.NullIfEmpty(prop.Clean(s.Transport))).
			Set("SessionType", sessionTypeOf(s.UserFlags)).
			Set("Name", user+"@"+computer).
			Set("Caption", schema.Truncate("SMB session of "+prop.OrUnknown(user)+" from "+computer, 64)).
			Set("Status", StatusOK)
		in.Owner = user
		merged[k] = in
		snap.Sessions = append(snap.Sessions, in)
	}

	computers := make([]string, 0, len(conns))
	for c := range conns {
		computers = append(computers, c)
	}
	sort.Strings(computers)
	type ckey struct{ computer, user, share string }
	seen := map[ckey]*cim.Instance{}
	for _, cname := range computers {
		computer := computerName(cname)
		if computer == "" {
			continue
		}
		for _, c := range conns[cname] {
			user, share := prop.Clean(c.UserName), prop.Clean(c.NetName)
			if share == "" {
				continue
			}
			k := ckey{strings.ToLower(computer), strings.ToLower(user), strings.ToLower(share)}
			if in := seen[k]; in != nil {
				in.Set("NumberOfFiles", in.Value("NumberOfFiles").(uint32)+c.NumOpens)
				if c.Time > in.Value("ActiveTime").(uint32) {
					in.Set("ActiveTime", c.Time)
				}
				continue
			}
			in := cim.NewInstance(ConnectionClass)
			in.Set("ComputerName", computer).Set("ShareName", share).Set("UserName", user).
				Set("ActiveTime", c.Time).Set("ConnectionID", c.ID).
				Set("NumberOfFiles", c.NumOpens).Set("NumberOfUsers", c.NumUsers).
				Set("Name", user+"@"+computer+`\`+share).
				Set("Caption", schema.Truncate(prop.OrUnknown(user)+" from "+computer+" on share "+share, 64)).
				Set("Status", StatusOK)
			in.Owner = user
			seen[k] = in
			snap.Connections = append(snap.Connections, in)
			if se := merged[skey{k.computer, k.user}]; se != nil {
				link := cim.NewInstance(AssociationClass)
				link.Owner = user
				link.Set("Antecedent", SessionPath(opts.Host, se.String("ComputerName"), se.String("UserName"))).
					Set("Dependent", ConnectionPath(opts.Host, computer, share, user))
				snap.Links = append(snap.Links, link)
			}
		}
	}
	return snap
}

// SessionPath returns the object path of a Win32_ServerSession.
func SessionPath(host, computer, user string) cim.ObjectPath {
	return serversess.SessionPath(host, computer, user)
}

// ConnectionPath returns the object path of a Win32_ServerConnection.
func ConnectionPath(host, computer, share, user string) cim.ObjectPath {
	return serversess.ConnectionPath(host, computer, share, user)
}
