// Package windows is the provider of Windows sessions. It serves
// Win32_LogonSession from LSA (LsaEnumerateLogonSessions and
// LsaGetLogonSessionData), refined by the terminal sessions' states from
// WTS (WTSEnumerateSessions), and Win32_ServerSession,
// Win32_ServerConnection and Win32_SessionConnection from the Server
// service (NetSessionEnum level 502, NetConnectionEnum level 1).
//
// The operating system sits behind a small private interface, so that the
// mapping — all of this package but the *_windows.go files — builds and
// is tested everywhere; on other systems the providers answer
// [provider.ErrNotImplemented]. The rules it keeps are tables in this
// package: [statusOf] for Status, [logonTypeOf] for LogonType and
// [sessionTypeOf] for SessionType. LogonId is the logon session's LUID as
// one unsigned decimal number, (HighPart<<32 | LowPart), as WMI shows it.
package windows

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// LUID is a logon session's locally unique identifier.
type LUID struct {
	LowPart  uint32
	HighPart int32
}

// String returns the LUID as WMI's LogonId shows it: the 64-bit number
// HighPart<<32 | LowPart in decimal.
func (l LUID) String() string {
	return strconv.FormatUint(uint64(uint32(l.HighPart))<<32|uint64(l.LowPart), 10)
}

// LogonSessionData is what LSA tells of one logon session
// (SECURITY_LOGON_SESSION_DATA), as Go values.
type LogonSessionData struct {
	LogonID               LUID
	UserName              string
	LogonDomain           string
	AuthenticationPackage string
	LogonType             uint32    // SECURITY_LOGON_TYPE
	Session               uint32    // the terminal (WTS) session it belongs to
	Sid                   string    // "S-1-5-…", or "" when LSA gave none
	LogonTime             time.Time // zero when LSA gave none
	LogonServer           string
	DNSDomainName         string
	Upn                   string
}

// SessionInfo502 is one SMB session of the Server service
// (SESSION_INFO_502).
type SessionInfo502 struct {
	ComputerName string // sesi502_cname, as given (often "\\ADDRESS")
	UserName     string // sesi502_username
	NumOpens     uint32 // sesi502_num_opens
	Time         uint32 // sesi502_time: seconds the session has been active
	IdleTime     uint32 // sesi502_idle_time: seconds it has been idle
	UserFlags    uint32 // sesi502_user_flags: SESS_GUEST, SESS_NOENCRYPTION
	ClientType   string // sesi502_cltype_name
	Transport    string // sesi502_transport
}

// The flags of SessionInfo502.UserFlags.
const (
	SessGuest        uint32 = 1 // SESS_GUEST
	SessNoEncryption uint32 = 2 // SESS_NOENCRYPTION
)

// ConnectionInfo1 is one connection to a share (CONNECTION_INFO_1).
type ConnectionInfo1 struct {
	ID       uint32 // coni1_id
	Type     uint32 // coni1_type: STYPE_DISKTREE, STYPE_IPC, …
	NumOpens uint32 // coni1_num_opens
	NumUsers uint32 // coni1_num_users
	Time     uint32 // coni1_time: seconds the connection has been up
	UserName string // coni1_username
	NetName  string // coni1_netname: the share, when asked per client computer
}

// WTSSession is one terminal session (WTS_SESSION_INFO).
type WTSSession struct {
	SessionID      uint32
	WinStationName string // "Console", "RDP-Tcp#3", "Services"
	State          uint32 // WTS_CONNECTSTATE_CLASS
}

// The WTS_CONNECTSTATE_CLASS values of WTSSession.State.
const (
	WTSActive       uint32 = 0
	WTSConnected    uint32 = 1
	WTSConnectQuery uint32 = 2
	WTSShadow       uint32 = 3
	WTSDisconnected uint32 = 4
	WTSIdle         uint32 = 5
	WTSListen       uint32 = 6
	WTSReset        uint32 = 7
	WTSDown         uint32 = 8
	WTSInit         uint32 = 9
)

// api is the operating system as this package sees it. The real one is in
// api_windows.go; tests use a fake. Every call may block: the providers
// call it off the caller's goroutine and give up when ctx ends.
type api interface {
	// LogonSessions returns the logon sessions the caller may read, and
	// how many it was denied (those of other users need an
	// administrator).
	LogonSessions(ctx context.Context) (sessions []LogonSessionData, denied int, err error)
	// ServerSessions returns the Server service's SMB sessions.
	ServerSessions(ctx context.Context) ([]SessionInfo502, error)
	// ServerConnections returns the connections to shares from one client
	// computer (its name as ServerSessions gave it).
	ServerConnections(ctx context.Context, computer string) ([]ConnectionInfo1, error)
	// TerminalSessions returns the terminal sessions.
	TerminalSessions(ctx context.Context) ([]WTSSession, error)
}

// Win32 error codes the providers tell apart.
const (
	errorAccessDenied       uint32 = 5    // ERROR_ACCESS_DENIED
	errorNotSupported       uint32 = 50   // ERROR_NOT_SUPPORTED
	errorCallNotImplemented uint32 = 120  // ERROR_CALL_NOT_IMPLEMENTED
	rpcServerUnavailable    uint32 = 1722 // RPC_S_SERVER_UNAVAILABLE
	nerrNetNotStarted       uint32 = 2102 // NERR_NetNotStarted
	nerrServerNotStarted    uint32 = 2114 // NERR_ServerNotStarted
	errorServiceNotActive   uint32 = 1062 // ERROR_SERVICE_NOT_ACTIVE
	errorNoSuchLogonSession uint32 = 1312 // ERROR_NO_SUCH_LOGON_SESSION
	nerrClientNameNotFound  uint32 = 2312 // NERR_ClientNameNotFound: the client's session ended
)

// clientGone reports whether err says that an SMB client's session ended
// between NetSessionEnum and NetConnectionEnum.
func clientGone(err error) bool {
	e, ok := err.(*APIError)
	return ok && e.Code == nerrClientNameNotFound
}

// APIError is a Windows call that failed: the call's name, its Win32
// error code (NTSTATUS codes are converted to Win32 ones) and the
// system's text for it.
type APIError struct {
	Call string
	Code uint32
	Text string
}

// Error describes the failure.
func (e *APIError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("%s failed with error %d", e.Call, e.Code)
	}
	return fmt.Sprintf("%s: %s (error %d)", e.Call, e.Text, e.Code)
}

// accessDenied reports whether err is a Windows access-denied error.
func accessDenied(err error) bool {
	e, ok := err.(*APIError)
	return ok && e.Code == errorAccessDenied
}

// serviceDown reports whether err says the Server service (or the RPC
// behind it, or terminal services) does not run: an empty answer, not
// a failure.
func serviceDown(err error) bool {
	e, ok := err.(*APIError)
	if !ok {
		return false
	}
	switch e.Code {
	case nerrServerNotStarted, nerrNetNotStarted, rpcServerUnavailable, errorServiceNotActive, errorNotSupported, errorCallNotImplemented:
		return true
	}
	return false
}

// toCIM turns an error of the api into the *cim.Error that leaves the
// package: access denied is [cim.ErrAccessDenied], anything else
// [cim.ErrFailed].
func toCIM(what string, err error) *cim.Error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*cim.Error); ok {
		return ce
	}
	if accessDenied(err) {
		return cim.Errorf(cim.ErrAccessDenied, "windows: reading %s: access denied; run as an administrator to see every user's sessions (%v)", what, err)
	}
	return cim.Errorf(cim.ErrFailed, "windows: reading %s: %v", what, err)
}
