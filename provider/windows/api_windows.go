//go:build windows

package windows

import (
	"context"
	"errors"
	"syscall"
	"time"
	"unsafe"

	"github.com/cimsess/cimsess/provider/windows/internal/winapi"
	xwin "golang.org/x/sys/windows"
)

// systemAPI is this system's LSA, Server service and WTS.
func systemAPI() api { return sysAPI{} }

type sysAPI struct{}

// errnoError turns a Win32 error into an *APIError.
func errnoError(call string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &APIError{Call: call, Code: uint32(errno), Text: errno.Error()}
	}
	return err
}

// ntError turns an NTSTATUS into an *APIError with its Win32 code.
func ntError(call string, status uint32) error {
	errno := xwin.NTStatus(status).Errno()
	return &APIError{Call: call, Code: uint32(errno), Text: errno.Error()}
}

// unicode copies an LSA_UNICODE_STRING, whose Length is in bytes.
func unicode(s *winapi.UnicodeString) string {
	if s.Buffer == nil || s.Length == 0 {
		return ""
	}
	return xwin.UTF16ToString(unsafe.Slice(s.Buffer, s.Length/2))
}

// fieldEnd is the offset just past a field of SecurityLogonSessionData,
// to compare with the Size LSA filled in.
func fieldEnd(off, size uintptr) uint32 { return uint32(off + size) }

// LogonSessions enumerates the logon sessions and reads each one's data.
// Sessions that end in between, and those of other users when the caller
// is no administrator (counted in denied), are left out; when every one
// is denied, so is the call. LocalSystem's session (LUID 999), for which
// LsaGetLogonSessionData returns no data, is kept, of LogonType 0 (the
// System's, in WMI's ValueMap).
func (sysAPI) LogonSessions(ctx context.Context) ([]LogonSessionData, int, error) {
	var count uint32
	var luids *winapi.LUID
	if st := winapi.LsaEnumerateLogonSessions(&count, &luids); st != 0 {
		return nil, 0, ntError("LsaEnumerateLogonSessions", st)
	}
	if luids == nil {
		return nil, 0, nil
	}
	defer winapi.LsaFreeReturnBuffer(uintptr(unsafe.Pointer(luids)))
	ids := unsafe.Slice(luids, count)
	out := make([]LogonSessionData, 0, count)
	denied := 0
	var firstDenied error
	for i := range ids {
		if i&63 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		asked := LUID{LowPart: ids[i].LowPart, HighPart: ids[i].HighPart}
		var d *winapi.SecurityLogonSessionData
		if st := winapi.LsaGetLogonSessionData(&ids[i], &d); st != 0 {
			err := ntError("LsaGetLogonSessionData", st)
			if accessDenied(err) {
				denied++
				if firstDenied == nil {
					firstDenied = err
				}
			}
			continue // gone, or not ours to read
		}
		if d == nil {
			if asked == localSystem {
				out = append(out, LogonSessionData{LogonID: asked})
			}
			continue
		}
		out = append(out, logonData(asked, d))
		winapi.LsaFreeReturnBuffer(uintptr(unsafe.Pointer(d)))
	}
	if len(out) == 0 && denied > 0 {
		return nil, denied, firstDenied
	}
	return out, denied, nil
}

// localSystem is the LUID of LocalSystem's logon session (0x0:0x3e7).
var localSystem = LUID{LowPart: 0x3e7}

// logonData copies what LSA returned for the logon session asked into
// Go values, reading only the fields within the Size it filled in. The
// LUID is the one asked: LocalSystem's data comes back zero.
func logonData(asked LUID, d *winapi.SecurityLogonSessionData) LogonSessionData {
	var z winapi.SecurityLogonSessionData
	has := func(off, size uintptr) bool { return d.Size >= fieldEnd(off, size) }
	out := LogonSessionData{LogonID: asked}
	if has(unsafe.Offsetof(z.UserName), unsafe.Sizeof(z.UserName)) {
		out.UserName = unicode(&d.UserName)
	}
	if has(unsafe.Offsetof(z.LogonDomain), unsafe.Sizeof(z.LogonDomain)) {
		out.LogonDomain = unicode(&d.LogonDomain)
	}
	if has(unsafe.Offsetof(z.AuthenticationPackage), unsafe.Sizeof(z.AuthenticationPackage)) {
		out.AuthenticationPackage = unicode(&d.AuthenticationPackage)
	}
	if has(unsafe.Offsetof(z.LogonType), unsafe.Sizeof(z.LogonType)) {
		out.LogonType = d.LogonType
	}
	if has(unsafe.Offsetof(z.Session), unsafe.Sizeof(z.Session)) {
		out.Session = d.Session
	}
	if has(unsafe.Offsetof(z.Sid), unsafe.Sizeof(z.Sid)) && d.Sid != nil {
		sid := (*xwin.SID)(unsafe.Pointer(d.Sid))
		if sid.IsValid() {
			out.Sid = sid.String()
		}
	}
	if has(unsafe.Offsetof(z.LogonTime), unsafe.Sizeof(z.LogonTime)) && d.LogonTime > 0 {
		ft := xwin.Filetime{LowDateTime: uint32(d.LogonTime), HighDateTime: uint32(d.LogonTime >> 32)}
		out.LogonTime = time.Unix(0, ft.Nanoseconds())
	}
	if has(unsafe.Offsetof(z.LogonServer), unsafe.Sizeof(z.LogonServer)) {
		out.LogonServer = unicode(&d.LogonServer)
	}
	if has(unsafe.Offsetof(z.DNSDomainName), unsafe.Sizeof(z.DNSDomainName)) {
		out.DNSDomainName = unicode(&d.DNSDomainName)
	}
	if has(unsafe.Offsetof(z.Upn), unsafe.Sizeof(z.Upn)) {
		out.Upn = unicode(&d.Upn)
	}
	return out
}

// netEnum runs one NetXxxEnum call to the end, through its resume
// handle, calling each for every entry of each buffer.
func netEnum[T any](ctx context.Context, name string, enum func(buf **byte, read, total, resume *uint32) error, each func(*T)) error {
	var resume uint32
	for {
		var buf *byte
		var read, total uint32
		err := enum(&buf, &read, &total, &resume)
		more := errors.Is(err, xwin.ERROR_MORE_DATA)
		if err != nil && !more {
			if buf != nil {
				xwin.NetApiBufferFree(buf)
			}
			return errnoError(name, err)
		}
		if buf != nil {
			for _, e := range unsafe.Slice((*T)(unsafe.Pointer(buf)), read) {
				each(&e)
			}
			xwin.NetApiBufferFree(buf)
		}
		if !more {
			return nil
		}
		if read == 0 {
			// More to come, but none given: going on would loop, and
			// stopping would pass a short list for the whole.
			return &APIError{Call: name, Code: uint32(xwin.ERROR_MORE_DATA), Text: "more data, but none returned"}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// ServerSessions calls NetSessionEnum at level 502 on this machine.
func (sysAPI) ServerSessions(ctx context.Context) ([]SessionInfo502, error) {
	var out []SessionInfo502
	err := netEnum(ctx, "NetSessionEnum", func(buf **byte, read, total, resume *uint32) error {
		return winapi.NetSessionEnum(nil, nil, nil, 502, buf, winapi.MaxPreferredLength, read, total, resume)
	}, func(s *winapi.SessionInfo502) {
		out = append(out, SessionInfo502{
			ComputerName: xwin.UTF16PtrToString(s.Cname),
			UserName:     xwin.UTF16PtrToString(s.Username),
			NumOpens:     s.NumOpens,
			Time:         s.Time,
			IdleTime:     s.IdleTime,
			UserFlags:    s.UserFlags,
			ClientType:   xwin.UTF16PtrToString(s.CltypeName),
			Transport:    xwin.UTF16PtrToString(s.Transport),
		})
	})
	return out, err
}

// ServerConnections calls NetConnectionEnum at level 1 for one client
// computer ("\\NAME"), which names each connection's share.
func (sysAPI) ServerConnections(ctx context.Context, computer string) ([]ConnectionInfo1, error) {
	q, err := xwin.UTF16PtrFromString(computer)
	if err != nil {
		return nil, &APIError{Call: "NetConnectionEnum", Code: 87, Text: "invalid computer name"}
	}
	var out []ConnectionInfo1
	err = netEnum(ctx, "NetConnectionEnum", func(buf **byte, read, total, resume *uint32) error {
		return winapi.NetConnectionEnum(nil, q, 1, buf, winapi.MaxPreferredLength, read, total, resume)
	}, func(c *winapi.ConnectionInfo1) {
		out = append(out, ConnectionInfo1{
			ID:       c.ID,
			Type:     c.Type,
			NumOpens: c.NumOpens,
			NumUsers: c.NumUsers,
			Time:     c.Time,
			UserName: xwin.UTF16PtrToString(c.Username),
			NetName:  xwin.UTF16PtrToString(c.Netname),
		})
	})
	return out, err
}

// TerminalSessions calls WTSEnumerateSessions on this machine.
func (sysAPI) TerminalSessions(ctx context.Context) ([]WTSSession, error) {
	var infos *xwin.WTS_SESSION_INFO
	var count uint32
	if err := xwin.WTSEnumerateSessions(0, 0, 1, &infos, &count); err != nil {
		return nil, errnoError("WTSEnumerateSessions", err)
	}
	if infos == nil {
		return nil, nil
	}
	defer xwin.WTSFreeMemory(uintptr(unsafe.Pointer(infos)))
	out := make([]WTSSession, 0, count)
	for _, s := range unsafe.Slice(infos, count) {
		out = append(out, WTSSession{SessionID: s.SessionID, WinStationName: xwin.UTF16PtrToString(s.WindowStationName), State: s.State})
	}
	return out, nil
}
