package winapi

import (
	"strconv"
	"testing"
	"unsafe"
)

// TestLayout checks the structures against the offsets and sizes the
// Windows SDK headers give them on 64-bit Windows (amd64 and arm64 lay
// them out alike). Go lays a struct out by architecture, not by system,
// so the check holds here as on Windows.
func TestLayout(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("the offsets are those of 64-bit Windows")
	}
	var d SecurityLogonSessionData
	var s SessionInfo502
	var c ConnectionInfo1
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"LUID size", unsafe.Sizeof(LUID{}), 8},
		{"LSA_UNICODE_STRING size", unsafe.Sizeof(UnicodeString{}), 16},
		{"LogonId", unsafe.Offsetof(d.LogonID), 4},
		{"UserName", unsafe.Offsetof(d.UserName), 16},
		{"LogonDomain", unsafe.Offsetof(d.LogonDomain), 32},
		{"AuthenticationPackage", unsafe.Offsetof(d.AuthenticationPackage), 48},
		{"LogonType", unsafe.Offsetof(d.LogonType), 64},
		{"Session", unsafe.Offsetof(d.Session), 68},
		{"Sid", unsafe.Offsetof(d.Sid), 72},
		{"LogonTime", unsafe.Offsetof(d.LogonTime), 80},
		{"LogonServer", unsafe.Offsetof(d.LogonServer), 88},
		{"DnsDomainName", unsafe.Offsetof(d.DNSDomainName), 104},
		{"Upn", unsafe.Offsetof(d.Upn), 120},
		{"through Upn", unsafe.Sizeof(d), 136},
		{"sesi502_num_opens", unsafe.Offsetof(s.NumOpens), 16},
		{"sesi502_user_flags", unsafe.Offsetof(s.UserFlags), 28},
		{"sesi502_cltype_name", unsafe.Offsetof(s.CltypeName), 32},
		{"SESSION_INFO_502 size", unsafe.Sizeof(s), 48},
		{"coni1_time", unsafe.Offsetof(c.Time), 16},
		{"coni1_username", unsafe.Offsetof(c.Username), 24},
		{"CONNECTION_INFO_1 size", unsafe.Sizeof(c), 40},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
