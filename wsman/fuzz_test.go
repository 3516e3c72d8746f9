package wsman

import (
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add(Message{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Selectors: []Selector{{Name: "LogonId", Value: "1"}},
		OperationTimeout: time.Second, MaxEnvelopeSize: 1000, Options: []Option{{Name: "x", Value: "y", MustComply: true}}}.Envelope())
	f.Add(Message{Action: ActionEnumerate, Body: EnumerateBody(5, DialectAssociation, AssociationFilter(&EPR{ResourceURI: "u",
		Selectors: []Selector{{Name: "a", EPR: &EPR{ResourceURI: "v"}}}}, false, "A", "B", "C", "D"), "EnumerateEPR")}.Envelope())
	f.Add(utf16Body(string(Message{Body: "<wsmid:Identify/>"}.Envelope()), true))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data, Limits{})
		if err == nil {
			if req == nil {
				t.Fatal("nil request without error")
			}
			_, _ = parseResourceURI(req.ResourceURI, req.Selectors)
			return
		}
		if _, ok := err.(*Fault); !ok {
			t.Fatalf("error %T is not a *Fault", err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT60S", "PT1.5S", "P1DT2H3M4.000005S", "-PT1S", "P1Y2M", "PT", "P", "PT1.2.3S", "P99999999999999999999D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d >= 0 && d < 1000*time.Hour {
			back, err := ParseDuration(FormatDuration(d))
			if err != nil || (back-d).Abs() > time.Millisecond {
				t.Fatalf("%q: %v round-trips to %v (%v)", s, d, back, err)
			}
		}
	})
}

func FuzzToUTF8(f *testing.F) {
	f.Add([]byte{0xFF, 0xFE, 'a', 0})
	f.Add([]byte{0xFE, 0xFF, 0xD8, 0x00, 0xDC, 0x00})
	f.Add([]byte("\xEF\xBB\xBFabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ToUTF8(data)
		if err == nil && !utf8.Valid(out) {
			t.Fatalf("%q decoded to invalid UTF-8 %q", data, out)
		}
	})
}

// FuzzClientDecode feeds the client's response decoding: an envelope, its
// items as instances (typed by the schema), references and faults.
func FuzzClientDecode(f *testing.F) {
	h := newTestHandler(f, 2, Config{})
	for _, m := range []Message{
		{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession", Selectors: []Selector{{Name: "LogonId", Value: "100"}}},
		{Action: ActionEnumerate, ResourceURI: wmiCIMv2 + "Win32_LoggedOnUser", Body: EnumerateBody(5, "", "", "EnumerateObjectAndEPR")},
		{Action: ActionGet, ResourceURI: wmiCIMv2 + "Win32_LogonSession"},
	} {
		_, resp := postRaw(h, admin, m.Envelope())
		f.Add(resp)
	}
	// Items of EnumerateObjectAndEPR as other peers may send them: the
	// reference first, the reference alone, a class the schema lacks, in
	// a PullResponse.
	item := `<w:Item><a:EndpointReference><a:Address>` + AddrAnonymous + `</a:Address><a:ReferenceParameters><w:ResourceURI>` +
		PrefixWMI + `root/standardcimv2/MSFT_NetAdapter</w:ResourceURI><w:SelectorSet><w:Selector Name="DeviceID">{1}</w:Selector>` +
		`</w:SelectorSet></a:ReferenceParameters></a:EndpointReference>%s</w:Item>`
	for _, body := range []string{
		`<n:EnumerateResponse><w:Items>` + fmt.Sprintf(item, `<p:MSFT_NetAdapter xmlns:p="urn:p"><p:Name>eth0</p:Name></p:MSFT_NetAdapter>`) + `</w:Items><w:EndOfSequence/></n:EnumerateResponse>`,
		`<n:PullResponse><n:Items>` + fmt.Sprintf(item, "") + `<w:Item><p:Win32_LogonSession xmlns:p="urn:p"><p:LogonId>1</p:LogonId></p:Win32_LogonSession>` +
			`<a:EndpointReference><a:Address/></a:EndpointReference></w:Item><w:Item/></n:Items><n:EndOfSequence/></n:PullResponse>`,
	} {
		f.Add([]byte(`<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddr + `" xmlns:w="` + NSWSMan + `" xmlns:n="` + NSEnum +
			`"><s:Body>` + body + `</s:Body></s:Envelope>`))
	}
	c := &Client{URL: "http://h/wsman", Schema: h.om.Schema()}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data, Limits{})
		if err != nil {
			return
		}
		b := env.Child(NSSOAP, "Body")
		if fl := b.Child(NSSOAP, "Fault"); fl != nil {
			_ = faultError(fl)
		}
		var walk func(n *Node, depth int)
		walk = func(n *Node, depth int) {
			if n == nil || depth > 4 {
				return
			}
			_, _ = c.decodeInstance(n)
			for _, ch := range n.Children {
				walk(ch, depth+1)
			}
		}
		walk(b, 0)
	})
}
