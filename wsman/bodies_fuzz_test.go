package wsman

import (
	"net/http"
	"testing"
)

// FuzzEnumerationBodies posts Enumerate, Pull and Release bodies, which
// FuzzDecodeRequest (the header) does not reach: MaxElements,
// MaxCharacters, MaxTime, Expires, filters and their dialects, enumeration
// contexts. Whatever the body, the answer is a SOAP envelope: a response,
// or a fault whose reason says something.
func FuzzEnumerationBodies(f *testing.F) {
	f.Add(uint8(0), EnumerateBody(5, "", "", ""))
	f.Add(uint8(0), EnumerateBody(5, DialectWQL, "SELECT * FROM Win32_LogonSession WHERE LogonId = '3'", "EnumerateEPR"))
	f.Add(uint8(0), `<n:Enumerate><n:Expires>PT10S</n:Expires><w:OptimizeEnumeration/><w:MaxElements>3</w:MaxElements><w:Filter Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"><w:SelectorSet><w:Selector Name="LogonId">2</w:Selector></w:SelectorSet></w:Filter></n:Enumerate>`)
	f.Add(uint8(1), PullBody("uuid:x", 3))
	f.Add(uint8(1), `<n:Pull><n:EnumerationContext>x</n:EnumerationContext><n:MaxTime>PT0S</n:MaxTime><n:MaxCharacters>-1</n:MaxCharacters></n:Pull>`)
	f.Add(uint8(2), ReleaseBody("uuid:x"))
	h := newTestHandler(f, 8, Config{})
	actions := []string{ActionEnumerate, ActionPull, ActionRelease}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		m := Message{Action: actions[int(which)%len(actions)], ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: body}
		code, data := postRaw(h, admin, m.Envelope())
		n, err := Parse(data, Limits{MaxBytes: 64 << 20, MaxElements: 1 << 20})
		if err != nil {
			t.Fatalf("HTTP %d, not XML (%v): %.300s", code, err, data)
		}
		fault := n.Child(NSSOAP, "Body").Child(NSSOAP, "Fault")
		switch {
		case code == http.StatusOK && fault == nil:
		case code != http.StatusOK && fault != nil:
			if fault.Child(NSSOAP, "Reason").Child(NSSOAP, "Text").T() == "" {
				t.Fatalf("a fault without a reason: %.300s", data)
			}
		default:
			t.Fatalf("HTTP %d with fault %v: %.300s", code, fault != nil, data)
		}
	})
}
