package samba

import (
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/internal/prop"
	"github.com/cimsess/cimsess/provider/internal/serversess"
)

// The classes this package serves.
const (
	SessionClass     = serversess.SessionClass
	ConnectionClass  = serversess.ConnectionClass
	AssociationClass = serversess.AssociationClass
)

// The SessionType values.
const (
	SessionGuest        uint32 = 0
	SessionNoEncryption uint32 = 1
	SessionOther        uint32 = 2
)

// MapOptions are what [Map] needs besides smbstatus's output.
type MapOptions struct {
	// Now is the time ActiveTime counts to.
	Now time.Time
	// Host is the host of the reference paths in associations.
	Host string
	// GuestAccount is the Unix account Samba maps guests to; default "nobody".
	GuestAccount string
	// ProcStart returns when a process started, for a session's ActiveTime
	// when Samba does not print one; nil or false means unknown.
	ProcStart func(pid int) (time.Time, bool)
	// UserName names a uid, for the Owner of a session whose username
	// Samba printed as a number; nil leaves the number.
	UserName func(uid uint32) (string, bool)
}

// Snapshot is smbstatus's output as CIM instances, without paths (the
// object manager sets them).
type Snapshot struct {
	Sessions    []*cim.Instance // Win32_ServerSession
	Connections []*cim.Instance // Win32_ServerConnection
	Links       []*cim.Instance // Win32_SessionConnection
}

// session is one session on its way to an instance; several may merge.
type session struct {
	computer, user, owner string
	pid                   int64
	uid                   Int
	started               time.Time // zero when unknown
	opened                uint32
	dialect, transport    string
	sessionType           uint32
	tcons                 []*conn
}

type conn struct {
	s         *session
	share     string
	id        any // uint32 or nil
	connected time.Time
	files     any // uint32 or nil
}

// Map turns smbstatus's output into instances (see the package
// documentation for the rules). It never fails: what it cannot read it
// leaves NULL, and entries without the keys it needs are left out.
func Map(st *Status, opts MapOptions) Snapshot {
	if opts.GuestAccount == "" {
		opts.GuestAccount = "nobody"
	}
	// Open files per (pid, uid).
	opens := map[pu]uint32{}
	for _, f := range st.OpenFiles {
		for _, o := range f.Opens {
			if o.ServerID.PID.Valid {
				opens[pu{o.ServerID.PID.V, uidOr(o.UID)}]++
			}
		}
	}
	// Sessions by id, in a stable order.
	ids := sortedKeys(st.Sessions)
	byID := map[string]*session{}
	var all []*session
	for _, id := range ids {
		s := st.Sessions[id]
		sid := s.SessionID
		if sid == "" {
			sid = id
		}
		computer := clean(s.RemoteMachine)
		addr, transport := parseHostname(s.Hostname)
		if computer == "" {
			computer = addr
		}
		user := clean(s.Username)
		if computer == "" || user == "" {
			continue // no key: a session still being set up
		}
		se := &session{computer: computer, user: user, owner: user, pid: -1, uid: s.UID,
			dialect: clean(s.SessionDialect), transport: transport}
		if s.UID.Valid && opts.UserName != nil && s.UID.V >= 0 && s.UID.V <= math.MaxUint32 {
			if _, err := strconv.ParseUint(user, 10, 32); err == nil {
				if n, ok := opts.UserName(uint32(s.UID.V)); ok {
					se.owner = n
				}
			}
		}
		se.sessionType = SessionOther // see the package doc: never NoEncryption
		if user == opts.GuestAccount {
			se.sessionType = SessionGuest
		}
		if s.ServerID.PID.Valid {
			se.pid = s.ServerID.PID.V
			se.opened = opens[pu{se.pid, uidOr(s.UID)}]
		}
		if t, ok := ParseTime(s.AuthTime); ok {
			se.started = t
		} else if t, ok := ParseTime(s.CreationTime); ok {
			se.started = t
		} else if opts.ProcStart != nil && se.pid > 0 && se.pid <= math.MaxInt32 {
			if t, ok := opts.ProcStart(int(se.pid)); ok {
				se.started = t
			}
		}
		byID[sid] = se
		all = append(all, se)
	}
	for _, id := range sortedKeys(st.Tcons) {
		tc := st.Tcons[id]
		se := byID[tc.SessionID]
		share := clean(tc.Service)
		if se == nil || share == "" {
			continue
		}
		c := &conn{s: se, share: share}
		tid := tc.TconID
		if tid == "" {
			tid = id
		}
		if n, err := strconv.ParseUint(tid, 10, 32); err == nil {
			c.id = uint32(n)
		}
		c.connected, _ = ParseTime(tc.ConnectedAt)
		se.tcons = append(se.tcons, c)
	}
	for _, se := range all {
		var fileConns []*conn
		for _, c := range se.tcons {
			if !strings.EqualFold(c.share, "IPC$") {
				fileConns = append(fileConns, c)
			}
		}
		if len(fileConns) == 1 {
			fileConns[0].files = se.opened
		} else if len(fileConns) == 0 && len(se.tcons) == 1 {
			se.tcons[0].files = se.opened
		}
	}
	return build(all, opts)
}

// pu is an smbd process and a user id: smbstatus counts open files by
// them, and several sessions (SMB2 binds several to one connection, one
// process) may share them.
type pu struct{ pid, uid int64 }

// build merges sessions and connections with equal keys and makes the
// instances. The open files of a (pid, uid) that several merged sessions
// share count once.
func build(all []*session, opts MapOptions) Snapshot {
	var snap Snapshot
	type skey struct{ computer, user string }
	merged := map[skey]*cim.Instance{}
	started := map[skey]time.Time{}
	counted := map[skey]map[pu]bool{}
	once := func(seen map[pu]bool, se *session) bool {
		k := pu{se.pid, uidOr(se.uid)}
		if se.pid < 0 || !seen[k] {
			seen[k] = true
			return true
		}
		return false
	}
	for _, se := range all {
		k := skey{se.computer, se.user}
		if counted[k] == nil {
			counted[k] = map[pu]bool{}
		}
		first := once(counted[k], se)
		in := merged[k]
		if in == nil {
			in = cim.NewInstance(SessionClass)
			in.Owner = se.owner
			in.Set("ComputerName", se.computer).Set("UserName", se.user).
				Set("ActiveTime", nil).Set("IdleTime", nil).
				Set("ResourcesOpened", se.opened).
				Set("ClientType", prop.NullIfEmpty(se.dialect)).
				Set("TransportName", prop.NullIfEmpty(se.transport)).
				Set("SessionType", se.sessionType)
			merged[k] = in
			snap.Sessions = append(snap.Sessions, in)
		} else if first {
			in.Set("ResourcesOpened", in.Value("ResourcesOpened").(uint32)+se.opened)
		}
		if !se.started.IsZero() && (started[k].IsZero() || se.started.Before(started[k])) {
			started[k] = se.started
			in.Set("ActiveTime", seconds(opts.Now, se.started)).
				Set("ClientType", prop.NullIfEmpty(se.dialect)).
				Set("TransportName", prop.NullIfEmpty(se.transport)).
				Set("SessionType", se.sessionType)
		}
	}
	type ckey struct{ computer, user, share string }
	conns := map[ckey]*cim.Instance{}
	connected := map[ckey]time.Time{}
	countedFiles := map[ckey]map[pu]bool{}
	for _, se := range all {
		for _, c := range se.tcons {
			k := ckey{se.computer, se.user, c.share}
			if countedFiles[k] == nil {
				countedFiles[k] = map[pu]bool{}
			}
			first := once(countedFiles[k], se)
			in := conns[k]
			if in == nil {
				in = cim.NewInstance(ConnectionClass)
				in.Owner = se.owner
				in.Set("ComputerName", se.computer).Set("UserName", se.user).Set("ShareName", c.share).
					Set("ActiveTime", nil).Set("ConnectionID", c.id).
					Set("NumberOfFiles", c.files).Set("NumberOfUsers", uint32(1))
				conns[k] = in
				snap.Connections = append(snap.Connections, in)
				link := cim.NewInstance(AssociationClass)
				link.Owner = se.owner
				link.Set("Antecedent", SessionPath(opts.Host, se.computer, se.user)).
					Set("Dependent", ConnectionPath(opts.Host, se.computer, c.share, se.user))
				snap.Links = append(snap.Links, link)
			} else if first {
				n1, ok1 := in.Value("NumberOfFiles").(uint32)
				n2, ok2 := c.files.(uint32)
				if ok1 && ok2 {
					in.Set("NumberOfFiles", n1+n2)
				} else {
					in.Set("NumberOfFiles", nil)
				}
			}
			if !c.connected.IsZero() && (connected[k].IsZero() || c.connected.Before(connected[k])) {
				connected[k] = c.connected
				in.Set("ActiveTime", seconds(opts.Now, c.connected)).Set("ConnectionID", c.id)
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

// parseHostname splits smbstatus's "ipv4:ADDR:PORT" / "ipv6:ADDR:PORT"
// into the address and the transport name.
func parseHostname(h string) (addr, transport string) {
	family, rest, ok := strings.Cut(h, ":")
	if !ok {
		return "", ""
	}
	switch family {
	case "ipv4":
		transport = "TCP/IPv4"
	case "ipv6":
		transport = "TCP/IPv6"
	default:
		return "", ""
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		if _, err := strconv.ParseUint(rest[i+1:], 10, 16); err == nil {
			rest = rest[:i]
		}
	}
	rest = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]")
	if a, err := netip.ParseAddr(rest); err == nil {
		return a.String(), transport
	}
	return "", transport
}

func uidOr(i Int) int64 {
	if i.Valid {
		return i.V
	}
	return -1
}

// seconds returns the whole seconds from then to now as a uint32, 0 for
// a time in the future (clocks differ by a little).
func seconds(now, then time.Time) uint32 {
	d := now.Sub(then) / time.Second
	switch {
	case d < 0:
		return 0
	case d > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(d)
}

// clean makes a string safe for a property ([prop.Clean]), without the
// spaces around it.
func clean(s string) string { return prop.Clean(strings.TrimSpace(s)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
