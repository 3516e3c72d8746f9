package wsman

import (
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
