// Package samba serves the SMB server's sessions and tree connects as
// Win32_ServerSession, Win32_ServerConnection and their association
// Win32_SessionConnection, from `smbstatus --json` (Samba 4.16 or later,
// run as root).
//
// How smbstatus's fields map onto the classes:
//
//   - Win32_ServerSession.ComputerName is the session's remote_machine (the
//     NetBIOS name an SMB1 client sent, else the client's address), or the
//     address in hostname when remote_machine is empty; UserName is
//     username. Windows keys a server session by these two alone, so two
//     sessions of one user from one machine (two smbclient processes, say)
//     are one instance: ActiveTime is the older one's, ResourcesOpened the
//     sum. Owner is the Unix user name (username, or the name of uid where
//     Samba printed a number).
//   - ActiveTime is the seconds since the session began: Samba's auth_time
//     or creation_time where the version prints one (4.18 and later), else
//     the start time of the smbd process that serves the client connection
//     (smbd forks one per connection, just before the session is set up),
//     else NULL.
//   - IdleTime is always NULL: smbstatus does not say when a session was
//     last used, and a guess would be worse than no value.
//   - ResourcesOpened counts the open files held by the session's smbd
//     process under the session's uid (opens carry no session id).
//   - ClientType is the SMB dialect (session_dialect, e.g. SMB3_11): the
//     only thing Samba knows about the client's kind.
//   - TransportName is "TCP/IPv4" or "TCP/IPv6" from the prefix of hostname
//     ("ipv4:ADDR:PORT"); smbd serves SMB over TCP only. NULL otherwise.
//   - SessionType is 0 (Guest) when the session runs as the guest account
//     (Options.GuestAccount, Samba's default "nobody"), since Samba maps
//     guest logons to it; else 2 (Other). 1 (NoEncryption) is the Net
//     API's SESS_NOENCRYPTION: a logon whose password went in clear
//     (MS-SRVS 2.2.2.3), not a session without SMB3 transport encryption,
//     and smbstatus tells of no such logon (Samba refuses clear-text
//     passwords unless told otherwise), so it is never given.
//   - Win32_ServerConnection is one tree connect (tcons): ShareName is the
//     service, ComputerName and UserName are its session's, ActiveTime is
//     the seconds since connected_at, ConnectionID is tcon_id,
//     NumberOfUsers is 1 (a tree connect belongs to one session). Two tree
//     connects with the same three keys are one instance, as for sessions.
//   - NumberOfFiles is the number of the session's open files when the
//     session has only that one tree connect (IPC$ aside, which holds no
//     files); opens do not name their tree connect, so with several it is
//     NULL.
//
// When smbstatus is not installed or smbd is not running there are no
// instances, and [Provider.Sources] says which. Not being root is
// CIM_ERR_ACCESS_DENIED: Samba shows its sessions to root only.
package samba

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// Status is the part of `smbstatus --json` this package reads.
type Status struct {
	Timestamp string             `json:"timestamp"`
	Version   string             `json:"version"`
	SmbConf   string             `json:"smb_conf"`
	Sessions  map[string]Session `json:"sessions"`
	Tcons     map[string]Tcon    `json:"tcons"`
	OpenFiles map[string]File    `json:"open_files"`
	// LockedFiles is what some 4.17 builds call open_files.
	LockedFiles map[string]File `json:"locked_files"`
}

// ServerID names the smbd process behind a session, tree connect or open.
type ServerID struct {
	PID Int `json:"pid"`
}

// Crypto is the shape of the encryption and signing objects.
type Crypto struct {
	Cipher string `json:"cipher"`
	Degree string `json:"degree"`
}

// Session is one entry of "sessions".
type Session struct {
	SessionID      string   `json:"session_id"`
	ServerID       ServerID `json:"server_id"`
	UID            Int      `json:"uid"`
	GID            Int      `json:"gid"`
	Username       string   `json:"username"`
	Groupname      string   `json:"groupname"`
	RemoteMachine  string   `json:"remote_machine"`
	Hostname       string   `json:"hostname"`
	SessionDialect string   `json:"session_dialect"`
	Encryption     Crypto   `json:"encryption"`
	Signing        Crypto   `json:"signing"`
	AuthTime       string   `json:"auth_time"`
	CreationTime   string   `json:"creation_time"`
}

// Tcon is one entry of "tcons": a tree connect to a share.
type Tcon struct {
	Service     string   `json:"service"`
	ServerID    ServerID `json:"server_id"`
	TconID      string   `json:"tcon_id"`
	SessionID   string   `json:"session_id"`
	Machine     string   `json:"machine"`
	ConnectedAt string   `json:"connected_at"`
	Encryption  Crypto   `json:"encryption"`
	Signing     Crypto   `json:"signing"`
}

// File is one entry of "open_files": a file and who holds it open.
type File struct {
	ServicePath string          `json:"service_path"`
	Filename    string          `json:"filename"`
	Opens       map[string]Open `json:"opens"`
}

// Open is one open of a file.
type Open struct {
	ServerID ServerID `json:"server_id"`
	UID      Int      `json:"uid"`
	OpenedAt string   `json:"opened_at"`
}

// Int is a JSON integer that Samba writes as a number or as a string
// ("pid": "4242" or 4242). Valid is false when it was absent or not an
// integer.
type Int struct {
	V     int64
	Valid bool
}

// UnmarshalJSON accepts a number, a string holding a number, or null.
func (i *Int) UnmarshalJSON(b []byte) error {
	*i = Int{}
	b = bytes.TrimSpace(b)
	if len(b) > 1 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		b = []byte(strings.TrimSpace(s))
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*i = Int{V: v, Valid: true}
	}
	return nil
}

// Parse decodes smbstatus's JSON. Its error is CIM_ERR_FAILED and says
// where the JSON went wrong.
func Parse(data []byte) (*Status, error) {
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "samba: smbstatus printed JSON this program cannot read: %w", err)
	}
	if st.OpenFiles == nil {
		st.OpenFiles = st.LockedFiles
	}
	return &st, nil
}

// ParseTime reads the timestamps smbstatus prints: RFC 3339 with or
// without fractional seconds, and with the offset as "+00:00" or "+0000".
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
