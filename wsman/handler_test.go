package wsman

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cimom"
)

func TestIdentify(t *testing.T) {
	h := newTestHandler(t, 1, Config{ProductVersion: "1.2.3"})
	env := Message{Body: "<wsmid:Identify/>"}.Envelope()
	code, n := post(t, h.AnonymousIdentify(), admin, env)
	r := body(n)
	if code != 200 || !r.Is(NSIdentity, "IdentifyResponse") || r.Child(NSIdentity, "ProductVersion").T() != "1.2.3" ||
		r.Child(NSIdentity, "ProtocolVersion").T() != NSWSMan {
		t.Fatalf("identify: %d %+v", code, r)
	}
	// Anything else without credentials is refused.
	code, _ = postRaw(h.AnonymousIdentify(), admin, Message{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession"}.Envelope())
	if code != http.StatusUnauthorized {
		t.Fatalf("anonymous Get: %d", code)
	}
	// In UTF-16, the refusal is UTF-16 and its Content-Type says so.
	r16 := httptest.NewRequest(http.MethodPost, "/wsman", bytes.NewReader(utf16Body(string(Message{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession"}.Envelope()), true)))
	r16.Header.Set("Content-Type", "application/soap+xml;charset=UTF-16")
	w16 := httptest.NewRecorder()
	h.AnonymousIdentify().ServeHTTP(w16, r16)
	if ct := w16.Header().Get("Content-Type"); w16.Code != http.StatusUnauthorized || ct != "text/plain; charset=UTF-16" || !bytes.HasPrefix(w16.Body.Bytes(), []byte{0xFF, 0xFE}) {
		t.Errorf("anonymous UTF-16 Get: %d %q %.20q", w16.Code, ct, w16.Body.Bytes())
	}
}

func TestGet(t *testing.T) {
	h := newTestHandler(t, 3, Config{})
	get := func(uri string, sels ...Selector) (int, *Node) {
		return post(t, h, admin, Message{Action: ActionGet, ResourceURI: uri, Selectors: sels, MessageID: "uuid:m1"}.Envelope())
	}
	for _, uri := range []string{wmiCIMv2 + "Win32_LogonSession", wmiCIMv2 + "win32_logonsession", PrefixCIM + "Linux_LogonSession", PrefixMSCIM + "Win32_LogonSession"} {
		code, n := get(uri, Selector{Name: "LogonId", Value: "100"})
		in := body(n)
		if code != 200 || in == nil || in.Name.Local != "Linux_LogonSession" {
			t.Fatalf("%s: %d %+v", uri, code, in)
		}
		wantNS := PrefixWMI + "root/cimv2/Linux_LogonSession"
		switch {
		case strings.HasPrefix(uri, PrefixCIM):
			wantNS = PrefixCIM + "Linux_LogonSession"
		case strings.HasPrefix(uri, PrefixMSCIM):
			wantNS = PrefixMSCIM + "Linux_LogonSession"
		}
		if in.Name.Space != wantNS {
			t.Errorf("%s: namespace %s", uri, in.Name.Space)
		}
		if typ, _ := attrNS(in, NSXSI, "type"); typ != "p:Linux_LogonSession_Type" {
			t.Errorf("xsi:type %q", typ)
		}
		if v := in.Child(wantNS, "TTY").T(); v != "pts/0" {
			t.Errorf("TTY %q", v)
		}
		if nil_, _ := attrNS(in.Child(wantNS, "Seat"), NSXSI, "nil"); nil_ != "true" {
			t.Errorf("Seat not nil")
		}
		if v := in.Child(wantNS, "StartTime").Child(NSCommon, "Datetime").T(); v != "2026-01-15T09:30:00.123456+01:00" {
			t.Errorf("StartTime %q", v)
		}
		if v := in.Child(wantNS, "IdleTime").Child(NSCommon, "Interval").T(); v != "P0DT0H1M30.500000S" {
			t.Errorf("IdleTime %q", v)
		}
		if rel := n.Child(NSSOAP, "Header").Child(NSAddr, "RelatesTo").T(); rel != "uuid:m1" {
			t.Errorf("RelatesTo %q", rel)
		}
	}
	// The DMTF URI with its namespace selector, in either spelling, and
	// the same under Microsoft's host name (OMI's): answered in the
	// family asked. A namespace in a query part of the URI is no
	// selector (a client such as winrm sends it as one): refused in both.
	for _, prefix := range []string{PrefixCIM, PrefixMSCIM} {
		for _, ns := range []string{"root/cimv2", `root\cimv2`} {
			code, n := get(prefix+"Win32_LogonSession", Selector{Name: "LogonId", Value: "101"}, Selector{Name: "__cimnamespace", Value: ns})
			if code != 200 || body(n).Child(prefix+"Linux_LogonSession", "Caption").T() != `a <b> & "c"` {
				t.Fatalf("%s %s: %d %s", prefix, ns, code, subcode(n))
			}
		}
		code, n := get(prefix+"Win32_LogonSession", Selector{Name: "LogonId", Value: "101"}, Selector{Name: "__cimnamespace", Value: "root/other"})
		if code != 500 || subcode(n) != "a:DestinationUnreachable" {
			t.Fatalf("%s, other namespace: %d %s", prefix, code, subcode(n))
		}
		code, n = get(prefix+"Win32_LogonSession?__cimnamespace=root/cimv2", Selector{Name: "LogonId", Value: "101"})
		if code != 500 || subcode(n) != "a:DestinationUnreachable" {
			t.Fatalf("%s, a query part: %d %s", prefix, code, subcode(n))
		}
	}
	// Selectors that are not the keys.
	for _, c := range []struct {
		sels   []Selector
		detail string
	}{
		{nil, "InsufficientSelectors"},
		{[]Selector{{Name: "Nope", Value: "1"}}, "UnexpectedSelectors"},
		{[]Selector{{Name: "LogonId", Value: "1"}, {Name: "logonid", Value: "2"}}, "DuplicateSelectors"},
	} {
		code, n := get(wmiCIMv2+"Win32_LogonSession", c.sels...)
		d := body(n).Child(NSSOAP, "Detail")
		if code != 500 || subcode(n) != "w:InvalidSelectors" || d.Child(NSWSMan, "FaultDetail").T() != detailPrefix+c.detail ||
			d.Child(NSMSFault, "WSManFault") == nil {
			t.Errorf("%v: %d %s %+v", c.sels, code, subcode(n), d)
		}
	}
	code, n := get(wmiCIMv2+"Win32_LogonSession", Selector{Name: "LogonId", Value: "999"})
	if code != 500 || subcode(n) != "a:DestinationUnreachable" {
		t.Errorf("not found: %d %s", code, subcode(n))
	}
	code, n = get(wmiCIMv2+"No_Such_Class", Selector{Name: "X", Value: "1"})
	if code != 500 || subcode(n) != "a:DestinationUnreachable" {
		t.Errorf("no class: %d %s", code, subcode(n))
	}
	// A reference key as an endpoint reference.
	acct := &EPR{ResourceURI: wmiCIMv2 + "Win32_UserAccount", Selectors: []Selector{{Name: "Domain", Value: testHost}, {Name: "Name", Value: "alice"}}}
	sess := &EPR{ResourceURI: wmiCIMv2 + "Linux_LogonSession", Selectors: []Selector{{Name: "LogonId", Value: "100"}}}
	code, n = get(wmiCIMv2+"Win32_LoggedOnUser", Selector{Name: "Antecedent", EPR: acct}, Selector{Name: "Dependent", EPR: sess})
	if code != 200 || body(n).Name.Local != "Win32_LoggedOnUser" {
		t.Fatalf("association Get: %d %+v", code, body(n))
	}
	ref := body(n).ChildLocal("Dependent")
	if ref.Child(NSAddr, "ReferenceParameters").Child(NSWSMan, "ResourceURI").T() != wmiCIMv2+"Linux_LogonSession" {
		t.Errorf("reference: %+v", ref)
	}
	// Get-CimClass: the class declaration in CIM-XML.
	code, n = get(PrefixCIMXML+"*", Selector{Name: "ClassName", Value: "win32_logonsession"}, Selector{Name: "__cimnamespace", Value: "root/cimv2"})
	if code != 200 || body(n).Name.Local != "CLASS" {
		t.Fatalf("class: %d %+v", code, body(n))
	}
	if name, _ := body(n).Attr("NAME"); name != "Win32_LogonSession" {
		t.Errorf("class NAME %q", name)
	}
}

// enumerateAll runs Enumerate then Pulls to the end and returns the items.
func enumerateAll(t *testing.T, h http.Handler, v cimom.Viewer, uri, enumBody string, page int) []*Node {
	t.Helper()
	code, n := post(t, h, v, Message{Action: ActionEnumerate, ResourceURI: uri, Body: enumBody}.Envelope())
	r := body(n)
	if code != 200 || !r.Is(NSEnum, "EnumerateResponse") {
		t.Fatalf("enumerate: %d %s %s", code, subcode(n), body(n).Child(NSSOAP, "Reason").Child(NSSOAP, "Text").T())
	}
	var items []*Node
	if it := r.Child(NSWSMan, "Items"); it != nil {
		items = append(items, it.Children...)
	}
	end := r.Child(NSWSMan, "EndOfSequence") != nil
	ctx := r.Child(NSEnum, "EnumerationContext").T()
	for i := 0; !end; i++ {
		if i > 10000 {
			t.Fatal("no end")
		}
		code, n := post(t, h, v, Message{Action: ActionPull, ResourceURI: uri, Body: PullBody(ctx, page)}.Envelope())
		r := body(n)
		if code != 200 || !r.Is(NSEnum, "PullResponse") {
			t.Fatalf("pull: %d %s", code, subcode(n))
		}
		got := r.Child(NSEnum, "Items").Children
		if len(got) > page {
			t.Fatalf("pull of %d gave %d", page, len(got))
		}
		items = append(items, got...)
		end = r.Child(NSEnum, "EndOfSequence") != nil
		if c := r.Child(NSEnum, "EnumerationContext"); c != nil {
			ctx = c.T()
		}
	}
	return items
}

func TestEnumeratePull(t *testing.T) {
	h := newTestHandler(t, 25, Config{})
	for _, c := range []struct {
		body string
		page int
	}{
		{EnumerateBody(0, "", "", ""), 1},
		{EnumerateBody(10, "", "", ""), 10},
		{EnumerateBody(100, "", "", ""), 7},
	} {
		items := enumerateAll(t, h, admin, wmiCIMv2+"Win32_LogonSession", c.body, c.page)
		if len(items) != 25 {
			t.Fatalf("%s: %d items", c.body, len(items))
		}
		for _, it := range items {
			if it.Name.Local != "Linux_LogonSession" {
				t.Fatalf("item %s", it.Name.Local)
			}
		}
	}
	if st := h.Stats(); st.Contexts != 0 || st.Held != 0 {
		t.Errorf("contexts left: %+v", st)
	}
	// A restricted user sees their own sessions only.
	items := enumerateAll(t, h, cimom.Viewer{User: "bob", Restricted: true}, wmiCIMv2+"Win32_LogonSession", EnumerateBody(5, "", "", ""), 5)
	if len(items) != 12 {
		t.Errorf("bob sees %d", len(items))
	}
	// EPRs, and objects with their EPRs.
	items = enumerateAll(t, h, admin, wmiCIMv2+"Linux_LogonSession", EnumerateBody(30, "", "", "EnumerateEPR"), 30)
	if len(items) != 25 || !items[0].Is(NSAddr, "EndpointReference") {
		t.Fatalf("EPR mode: %d %+v", len(items), items[0])
	}
	sel := items[0].Child(NSAddr, "ReferenceParameters").Child(NSWSMan, "SelectorSet").Child(NSWSMan, "Selector")
	if name, _ := sel.Attr("Name"); name != "LogonId" || sel.T() != "100" {
		t.Errorf("EPR selector %s=%s", name, sel.T())
	}
	items = enumerateAll(t, h, admin, wmiCIMv2+"Linux_LogonSession", EnumerateBody(30, "", "", "EnumerateObjectAndEPR"), 30)
	if len(items) != 25 || !items[0].Is(NSWSMan, "Item") || len(items[0].Children) != 2 {
		t.Fatalf("ObjectAndEPR mode: %d %+v", len(items), items[0])
	}
	// Release ends a context; pulling it then is a fault.
	_, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(1, "", "", "")}.Envelope())
	ctx := body(n).Child(NSEnum, "EnumerationContext").T()
	if code, n := post(t, h, cimom.Viewer{User: "bob", Restricted: true}, Message{Action: ActionRelease, Body: ReleaseBody(ctx)}.Envelope()); code != 500 || subcode(n) != "n:InvalidEnumerationContext" {
		t.Errorf("another user's release: %d %s", code, subcode(n))
	}
	if code, _ := post(t, h, admin, Message{Action: ActionRelease, Body: ReleaseBody(ctx)}.Envelope()); code != 200 {
		t.Errorf("release: %d", code)
	}
	if code, n := post(t, h, admin, Message{Action: ActionPull, Body: PullBody(ctx, 1)}.Envelope()); code != 500 || subcode(n) != "n:InvalidEnumerationContext" {
		t.Errorf("pull after release: %d %s", code, subcode(n))
	}
	// A MaxTime of no time: a fault that says so.
	_, n = post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(1, "", "", "")}.Envelope())
	ctx = body(n).Child(NSEnum, "EnumerationContext").T()
	for _, mt := range []string{"PT0S", "-PT5S"} {
		pull := strings.Replace(PullBody(ctx, 1), "</n:Pull>", "<n:MaxTime>"+mt+"</n:MaxTime></n:Pull>", 1)
		code, n := post(t, h, admin, Message{Action: ActionPull, Body: pull}.Envelope())
		reason := n.Child(NSSOAP, "Body").Child(NSSOAP, "Fault").Child(NSSOAP, "Reason").Child(NSSOAP, "Text").T()
		if code != 500 || !strings.Contains(reason, `MaxTime "`+mt+`" is not a positive xs:duration`) {
			t.Errorf("MaxTime %s: %d %q", mt, code, reason)
		}
	}
}

// TestEnvelopeSizePages: a page holds what fits in the MaxEnvelopeSize a
// request asks for; one under 8,192 octets is wsman:EncodingLimit (MS-WSMV
// 3.1.4.1.7), as is a response whose headers alone fill the envelope (a
// huge MessageID echoed), and neither leaves a context open.
func TestEnvelopeSizePages(t *testing.T) {
	h := newTestHandler(t, 40, Config{})
	m := Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(40, "", "", ""), MaxEnvelopeSize: MinEnvelopeSize}
	code, n := post(t, h, admin, m.Envelope())
	r := body(n)
	got := len(r.Child(NSWSMan, "Items").Children)
	if code != 200 || got == 0 || got >= 40 || r.Child(NSWSMan, "EndOfSequence") != nil {
		t.Fatalf("%d: %d items in %d bytes", code, got, MinEnvelopeSize)
	}
	ctx := r.Child(NSEnum, "EnumerationContext").T()
	pull := Message{Action: ActionPull, Body: PullBody(ctx, 40), MaxEnvelopeSize: MinEnvelopeSize, MessageID: "uuid:" + strings.Repeat("7", MinEnvelopeSize)}
	if code, n := post(t, h, admin, pull.Envelope()); code != 500 || subcode(n) != "w:EncodingLimit" {
		t.Fatalf("pull whose headers fill the envelope: %d %s", code, subcode(n))
	}
	pull.MessageID = ""
	if code, n := post(t, h, admin, pull.Envelope()); code != 200 || len(body(n).Child(NSEnum, "Items").Children) == 0 {
		t.Fatalf("the context after it: %d %s", code, subcode(n))
	}
	if code, _ := post(t, h, admin, Message{Action: ActionRelease, Body: ReleaseBody(ctx)}.Envelope()); code != 200 {
		t.Fatalf("release: %d", code)
	}
	for _, tc := range []struct {
		size int
		id   string
	}{{1500, ""}, {MinEnvelopeSize - 1, ""}, {0, "uuid:" + strings.Repeat("7", DefaultMaxEnvelopeSize)}} {
		m.MaxEnvelopeSize, m.MessageID = tc.size, tc.id
		m.Body = EnumerateBody(2, "", "", "") // optimized: the first page comes with the answer
		if code, n := post(t, h, admin, m.Envelope()); code != 500 || subcode(n) != "w:EncodingLimit" {
			t.Fatalf("MaxEnvelopeSize %d, MessageID of %d: %d %s", tc.size, len(tc.id), code, subcode(n))
		}
	}
	if st := h.Stats(); st.Contexts != 0 {
		t.Errorf("%d contexts left open by faults that named none", st.Contexts)
	}
}

func TestFilters(t *testing.T) {
	h := newTestHandler(t, 6, Config{})
	wql := func(q string) string { return EnumerateBody(50, DialectWQL, escText(q), "") }
	items := enumerateAll(t, h, admin, wmiCIMv2+"*", wql("SELECT LogonId, UserName FROM Linux_LogonSession WHERE UserName = 'bob'"), 50)
	if len(items) != 3 || len(items[0].Children) != 2 {
		t.Fatalf("WQL: %d items, %+v", len(items), items[0])
	}
	items = enumerateAll(t, h, admin, wmiCIMv2+"*", wql(`ASSOCIATORS OF {Win32_LogonSession.LogonId="100"} WHERE ResultClass = Win32_UserAccount`), 50)
	if len(items) != 1 || items[0].Name.Local != "Win32_UserAccount" {
		t.Fatalf("ASSOCIATORS OF: %+v", items)
	}
	for q, want := range map[string]string{
		"SELECT FROM":     "w:CannotProcessFilter",
		"SELECT * FROM X": "w:CannotProcessFilter",
		"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession'": "w:CannotProcessFilter",
	} {
		code, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "*", Body: wql(q)}.Envelope())
		if code != 500 || subcode(n) != want {
			t.Errorf("%s: %d %s", q, code, subcode(n))
		}
	}
	code, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "*", Body: EnumerateBody(1, "http://example.com/xpath", "x", "")}.Envelope())
	if code != 500 || subcode(n) != "n:FilterDialectRequestedUnavailable" {
		t.Errorf("dialect: %d %s", code, subcode(n))
	}
	code, n = post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "*", Body: EnumerateBody(1, "", "", "")}.Envelope())
	if code != 500 || subcode(n) != "w:UnsupportedFeature" {
		t.Errorf("wildcard without filter: %d %s", code, subcode(n))
	}
	// Selector filter.
	sf := string(appendSelectorSet(nil, []Selector{{Name: "UserName", Value: "ALICE"}}))
	items = enumerateAll(t, h, admin, wmiCIMv2+"Linux_LogonSession", EnumerateBody(50, DialectSelector, sf, ""), 50)
	if len(items) != 3 {
		t.Errorf("selector filter: %d", len(items))
	}
	// Selectors in the header pick the same (a resource URI's ?UserName=),
	// unknown ones are a fault, and so are selectors beside a filter.
	code, n = post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Linux_LogonSession", Body: EnumerateBody(50, "", "", ""),
		Selectors: []Selector{{Name: "username", Value: "alice"}}}.Envelope())
	if got := body(n).Child(NSWSMan, "Items"); code != 200 || got == nil || len(got.Children) != 3 {
		t.Errorf("header selectors: %d %s", code, subcode(n))
	}
	for _, m := range []Message{
		{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Linux_LogonSession", Body: EnumerateBody(50, "", "", ""), Selectors: []Selector{{Name: "Bogus", Value: "1"}}},
		{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Linux_LogonSession", Body: EnumerateBody(50, DialectSelector, sf, ""), Selectors: []Selector{{Name: "LogonId", Value: "100"}}},
		{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "*", Body: wql("SELECT * FROM Linux_LogonSession"), Selectors: []Selector{{Name: "LogonId", Value: "100"}}},
	} {
		if code, n := post(t, h, admin, m.Envelope()); code != 500 || subcode(n) != "w:InvalidSelectors" {
			t.Errorf("selectors %+v with %s: %d %s", m.Selectors, m.ResourceURI, code, subcode(n))
		}
	}
	// Association filter: the sessions of alice, and the links to them.
	alice := &EPR{ResourceURI: PrefixCIM + "Win32_UserAccount", Selectors: []Selector{{Name: "Domain", Value: testHost}, {Name: "Name", Value: "alice"}}}
	items = enumerateAll(t, h, admin, WildcardCIM, EnumerateBody(50, DialectAssociation, AssociationFilter(alice, false, "Win32_LoggedOnUser", "Win32_LogonSession", "Antecedent", "Dependent"), ""), 50)
	if len(items) != 3 || items[0].Name.Space != PrefixCIM+"Linux_LogonSession" {
		t.Fatalf("associated: %d %+v", len(items), items)
	}
	items = enumerateAll(t, h, admin, WildcardCIM, EnumerateBody(50, DialectAssociation, AssociationFilter(alice, true, "", "Win32_LoggedOnUser", "", ""), ""), 50)
	if len(items) != 3 || items[0].Name.Local != "Win32_LoggedOnUser" {
		t.Fatalf("association instances: %d", len(items))
	}
	if sels := items[0].ChildLocal("Antecedent").Child(NSAddr, "ReferenceParameters").Child(NSWSMan, "SelectorSet").Children; len(sels) != 3 {
		t.Errorf("DMTF references carry __cimnamespace: %+v", sels)
	}
}

func escText(s string) string { return string(esc(nil, s)) }

func TestFaults(t *testing.T) {
	h := newTestHandler(t, 2, Config{Limits: Limits{MaxBytes: 64 << 10}})
	uri := wmiCIMv2 + "Win32_LogonSession"
	for _, a := range []string{ActionPut, ActionCreate, ActionDelete, ActionRenew, ActionGetStatus, "http://example.com/custom/GetOwner"} {
		code, n := post(t, h, admin, Message{Action: a, ResourceURI: uri}.Envelope())
		if code != 500 || subcode(n) != "a:ActionNotSupported" {
			t.Errorf("%s: %d %s", a, code, subcode(n))
		}
	}
	must := strings.Replace(string(Message{Action: ActionGet, ResourceURI: uri}.Envelope()), "<s:Header>",
		`<s:Header><x:Frob xmlns:x="urn:x" s:mustUnderstand="true">1</x:Frob><x:Ok xmlns:x="urn:x">1</x:Ok>`, 1)
	code, n := post(t, h, admin, []byte(must))
	if code != 500 || body(n).Child(NSSOAP, "Code").Child(NSSOAP, "Value").T() != "s:MustUnderstand" {
		t.Errorf("mustUnderstand: %d %+v", code, body(n))
	}
	// UTF-16 with a BOM, both byte orders.
	get := Message{Action: ActionGet, ResourceURI: uri, Selectors: []Selector{{Name: "LogonId", Value: "100"}}}.Envelope()
	get = []byte(strings.Replace(string(get), `encoding="UTF-8"`, `encoding="UTF-16"`, 1))
	for _, le := range []bool{true, false} {
		code, raw := postRaw(h, admin, utf16Body(string(get), le))
		if !bytes.HasPrefix(raw, []byte{0xFF, 0xFE}) {
			t.Errorf("UTF-16 request, response not in UTF-16: %.40q", raw)
		}
		n, err := Parse(raw, Limits{})
		if err != nil || code != 200 || body(n).Name.Local != "Linux_LogonSession" {
			t.Errorf("UTF-16 (le %v): %d %v", le, code, err)
		}
	}
	hostile := map[string][]byte{
		"doctype":    []byte(`<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><s:Envelope xmlns:s="` + NSSOAP + `"><s:Body>&b;</s:Body></s:Envelope>`),
		"entity":     []byte(`<s:Envelope xmlns:s="` + NSSOAP + `"><s:Body>&xxe;</s:Body></s:Envelope>`),
		"deep":       []byte(`<s:Envelope xmlns:s="` + NSSOAP + `"><s:Body>` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</s:Body></s:Envelope>`),
		"bad utf-8":  []byte("<s:Envelope xmlns:s=\"" + NSSOAP + "\"><s:Body>\xff\xfe\xfd</s:Body></s:Envelope>"),
		"bad utf-16": append([]byte{0xFF, 0xFE}, 0x00, 0xD8, 0x41, 0x00),
		"odd utf-16": {0xFE, 0xFF, 0x00},
		"not soap":   []byte(`<Envelope><Body/></Envelope>`),
		"soap 1.1":   []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`),
		"huge":       []byte(`<s:Envelope xmlns:s="` + NSSOAP + `"><s:Body>` + strings.Repeat("x", 200<<10) + `</s:Body></s:Envelope>`),
		"empty":      nil,
	}
	for name, b := range hostile {
		code, n := post(t, h, admin, b)
		if code != 500 || body(n) == nil || !body(n).Is(NSSOAP, "Fault") {
			t.Errorf("%s: %d %+v", name, code, body(n))
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "/wsman", nil)
	w := newRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

func utf16Body(s string, le bool) []byte {
	out := []byte{0xFE, 0xFF}
	if le {
		out = []byte{0xFF, 0xFE}
	}
	for _, r := range s {
		if le {
			out = append(out, byte(r), byte(r>>8))
		} else {
			out = append(out, byte(r>>8), byte(r))
		}
	}
	return out
}

func TestContextLimits(t *testing.T) {
	h := newTestHandler(t, 5, Config{Contexts: ContextLimits{MaxPerUser: 3, MaxTotal: 5, MaxHeld: 15}})
	open := func(user string) (int, string) {
		_, n := post(t, h, cimom.Viewer{User: user}, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(1, "", "", "")}.Envelope())
		return 0, subcode(n)
	}
	for i := range 3 {
		if _, f := open("u1"); f != "" {
			t.Fatalf("context %d: %s", i, f)
		}
	}
	if _, f := open("u1"); f != "w:QuotaLimit" {
		t.Errorf("4th context of a user: %q", f)
	}
	// 3 contexts hold 4 instances each: the held bound (15) refuses 5 more.
	if _, f := open("u2"); f != "w:QuotaLimit" {
		t.Errorf("over the held bound: %q (%+v)", f, h.Stats())
	}
	if st := h.Stats(); st.Contexts != 3 || st.Held != 12 {
		t.Errorf("stats %+v", st)
	}
}

func TestContextExpiry(t *testing.T) {
	h := newTestHandler(t, 3, Config{Contexts: ContextLimits{Idle: 50 * 1e6}})
	_, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(1, "", "", "")}.Envelope())
	ctx := body(n).Child(NSEnum, "EnumerationContext").T()
	for i := 0; h.Stats().Contexts != 0; i++ {
		if i > 200 {
			t.Fatal("context never expired")
		}
		sleep()
	}
	if code, n := post(t, h, admin, Message{Action: ActionPull, Body: PullBody(ctx, 1)}.Envelope()); code != 500 || subcode(n) != "n:InvalidEnumerationContext" {
		t.Errorf("expired: %d %s", code, subcode(n))
	}
	_ = fmt.Sprint()
}

// TestTenThousandContexts opens 10,000 enumeration contexts, from one
// user and from many, and never pulls: the bounds refuse what is over
// them with w:QuotaLimit, what is held stays bounded, and the handler
// keeps serving.
func TestTenThousandContexts(t *testing.T) {
	h := newTestHandler(t, 3, Config{})
	env := Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(1, "", "", "")}.Envelope()
	refused := 0
	for i := range 10_000 {
		v := cimom.Viewer{User: fmt.Sprint("user", i%500)}
		if i < 2000 {
			v.User = "one"
		}
		code, data := postRaw(h, v, env)
		if code != 200 {
			if code != 500 || !strings.Contains(string(data), "w:QuotaLimit") {
				t.Fatalf("context %d: %d %s", i, code, data)
			}
			refused++
		}
	}
	st := h.Stats()
	lim := ContextLimits{}.withDefaults()
	if st.Contexts != lim.MaxTotal || refused != 10_000-lim.MaxTotal || st.Held > lim.MaxTotal*3 {
		t.Errorf("%d refused, %+v", refused, st)
	}
	code, n := post(t, h, admin, Message{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Selectors: []Selector{{Name: "LogonId", Value: "100"}}}.Envelope())
	if code != 200 || body(n).Name.Local != "Linux_LogonSession" {
		t.Errorf("Get after the flood: %d %s", code, subcode(n))
	}
}

// TestMustUnderstandFault: a header marked mustUnderstand that the server
// does not understand is refused with s:MustUnderstand, which relates to
// the request's MessageID as every fault does (DSP0226) and names each
// such header in a NotUnderstood block (SOAP 1.2 Part 1 §5.4.8), once,
// whatever else the header holds (the MaxEnvelopeSize below is not even
// looked at: SOAP processes nothing then).
func TestMustUnderstandFault(t *testing.T) {
	h := newTestHandler(t, 2, Config{})
	env := string(Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", MessageID: "uuid:req-1",
		Body: EnumerateBody(0, "", "", "")}.Envelope())
	env = strings.Replace(env, "<s:Header>", `<s:Header><x:Foo xmlns:x="urn:x" s:mustUnderstand="1"/><x:Ok xmlns:x="urn:x">1</x:Ok>`+
		`<Bare s:mustUnderstand="true"/><y:Foo xmlns:y="urn:x" s:mustUnderstand="1"/><w:MaxEnvelopeSize xmlns:w="`+NSWSMan+`">1</w:MaxEnvelopeSize>`, 1)
	code, n := post(t, h, admin, []byte(env))
	if code != 500 || body(n).Child(NSSOAP, "Code").Child(NSSOAP, "Value").T() != "s:MustUnderstand" {
		t.Fatalf("mustUnderstand: %d %+v", code, body(n))
	}
	hdr := n.Child(NSSOAP, "Header")
	if got := hdr.Child(NSAddr, "RelatesTo").T(); got != "uuid:req-1" {
		t.Errorf("RelatesTo %q, want the request's MessageID", got)
	}
	var got []string
	for _, c := range hdr.Children {
		if !c.Is(NSSOAP, "NotUnderstood") {
			continue
		}
		qname, _ := c.Attr("qname")
		space := ""
		if prefix, local, ok := strings.Cut(qname, ":"); ok {
			for _, a := range c.Attrs {
				if a.Name.Space == "xmlns" && a.Name.Local == prefix {
					space = a.Value
				}
			}
			qname = local
		}
		got = append(got, "{"+space+"}"+qname)
	}
	if strings.Join(got, " ") != "{urn:x}Foo {}Bare" {
		t.Errorf("NotUnderstood blocks %q, want {urn:x}Foo {}Bare", got)
	}
	// Any other fault of the header relates to the MessageID too, which
	// may come after the header at fault.
	code, n = post(t, h, admin, Message{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession", MaxEnvelopeSize: 100, MessageID: "uuid:req-2"}.Envelope())
	if code != 500 || subcode(n) != "w:EncodingLimit" || n.Child(NSSOAP, "Header").Child(NSAddr, "RelatesTo").T() != "uuid:req-2" {
		t.Errorf("a header's fault: %d %s, RelatesTo %q", code, subcode(n), n.Child(NSSOAP, "Header").Child(NSAddr, "RelatesTo").T())
	}
}

// TestMaxCharactersFault: a Pull whose MaxCharacters holds no instance is
// wsman:EncodingLimit that names MaxCharacters, not MaxEnvelopeSize (the
// envelope had room), and leaves the context to a Pull that asks for more.
func TestMaxCharactersFault(t *testing.T) {
	h := newTestHandler(t, 3, Config{})
	code, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Body: EnumerateBody(0, "", "", "")}.Envelope())
	ctx := body(n).Child(NSEnum, "EnumerationContext").T()
	if code != 200 || ctx == "" {
		t.Fatalf("enumerate: %d %s", code, subcode(n))
	}
	pull := strings.Replace(PullBody(ctx, 5), "</n:Pull>", "<n:MaxCharacters>100</n:MaxCharacters></n:Pull>", 1)
	code, n = post(t, h, admin, Message{Action: ActionPull, Body: pull, MaxEnvelopeSize: DefaultMaxEnvelopeSize}.Envelope())
	f := body(n)
	reason := f.Child(NSSOAP, "Reason").Child(NSSOAP, "Text").T()
	detail := f.Child(NSSOAP, "Detail").Child(NSWSMan, "FaultDetail").T()
	if code != 500 || subcode(n) != "w:EncodingLimit" || !strings.Contains(reason, "MaxCharacters 100") ||
		strings.Contains(reason, "MaxEnvelopeSize") || strings.HasSuffix(detail, "/MaxEnvelopeSize") {
		t.Errorf("MaxCharacters 100: %d %s %q, detail %q", code, subcode(n), reason, detail)
	}
	code, n = post(t, h, admin, Message{Action: ActionPull, Body: PullBody(ctx, 5)}.Envelope())
	if code != 200 || len(body(n).Child(NSEnum, "Items").Children) != 3 {
		t.Errorf("the context after it: %d %s", code, subcode(n))
	}
}

// TestMicrosoftCIMURI: OMI's spelling of the DMTF resource URI (its host
// schemas.microsoft.com) enumerates as the DMTF one does, and answers in
// its own family: references under it, with __cimnamespace.
func TestMicrosoftCIMURI(t *testing.T) {
	h := newTestHandler(t, 2, Config{})
	items := enumerateAll(t, h, admin, PrefixMSCIM+"Win32_LogonSession", EnumerateBody(10, "", "", "EnumerateEPR"), 10)
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	rp := items[0].Child(NSAddr, "ReferenceParameters")
	if uri := rp.Child(NSWSMan, "ResourceURI").T(); uri != PrefixMSCIM+"Linux_LogonSession" {
		t.Errorf("ResourceURI %q", uri)
	}
	ns := ""
	for _, s := range rp.Child(NSWSMan, "SelectorSet").Children {
		if name, _ := s.Attr("Name"); name == SelectorCIMNS {
			ns = s.T()
		}
	}
	if ns != "root/cimv2" {
		t.Errorf("__cimnamespace %q", ns)
	}
}
