package winapi

// LUID is a locally unique identifier, as <winnt.h> declares it.
type LUID struct {
	LowPart  uint32
	HighPart int32
}

// UnicodeString is LSA_UNICODE_STRING: Length and MaximumLength are in
// bytes, and Buffer need not end in a NUL.
type UnicodeString struct {
	Length        uint16
	MaximumLength uint16
	Buffer        *uint16
}

// SecurityLogonSessionData is the leading part of
// SECURITY_LOGON_SESSION_DATA (<ntsecapi.h>) up to Upn, the fields the
// provider reads. LSA allocates the whole structure; Size says how much
// of it this Windows version fills, so fields past Size are not read.
type SecurityLogonSessionData struct {
	Size                  uint32
	LogonID               LUID
	UserName              UnicodeString
	LogonDomain           UnicodeString
	AuthenticationPackage UnicodeString
	LogonType             uint32
	Session               uint32
	Sid                   *byte // PSID
	LogonTime             int64 // LARGE_INTEGER: 100 ns since 1601 (FILETIME)
	LogonServer           UnicodeString
	DNSDomainName         UnicodeString
	Upn                   UnicodeString
}

// SessionInfo502 is SESSION_INFO_502 (<lmshare.h>).
type SessionInfo502 struct {
	Cname      *uint16
	Username   *uint16
	NumOpens   uint32
	Time       uint32
	IdleTime   uint32
	UserFlags  uint32
	CltypeName *uint16
	Transport  *uint16
}

// ConnectionInfo1 is CONNECTION_INFO_1 (<lmshare.h>).
type ConnectionInfo1 struct {
	ID       uint32
	Type     uint32
	NumOpens uint32
	NumUsers uint32
	Time     uint32
	Username *uint16
	Netname  *uint16
}

// Constants of the calls.
const (
	MaxPreferredLength = 0xFFFFFFFF // MAX_PREFERRED_LENGTH: the whole answer in one buffer
)
