package wsman

import (
	"strconv"
	"time"
)

// Message is a request to build: what a client sends. Body is the
// body's content as XML text, using the prefixes the envelope declares
// (s, a, w, n, x, b, p for Microsoft's wsman extension, wsmid).
type Message struct {
	To, Action, ResourceURI string
	Selectors               []Selector
	Options                 []Option
	// MaxEnvelopeSize and OperationTimeout are sent when not zero.
	MaxEnvelopeSize  int
	OperationTimeout time.Duration
	MessageID        string // a new uuid: when empty
	Body             string
}

const requestHead = `<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddr + `" xmlns:w="` + NSWSMan +
	`" xmlns:n="` + NSEnum + `" xmlns:x="` + NSTransfer + `" xmlns:b="` + NSCIMBind + `" xmlns:p="` + NSMSWSMan +
	`" xmlns:wsmid="` + NSIdentity + `"><s:Header>`

// Envelope returns the SOAP envelope of the message, shaped as WinRM's own
// clients shape theirs (MS-WSMV): To, ResourceURI, ReplyTo, Action,
// MaxEnvelopeSize, MessageID, Locale, DataLocale, OperationTimeout,
// SelectorSet, OptionSet.
func (m Message) Envelope() []byte {
	b := []byte(`<?xml version="1.0" encoding="UTF-8"?>` + requestHead)
	if m.To != "" {
		b = append(b, "<a:To>"...)
		b = esc(b, m.To)
		b = append(b, "</a:To>"...)
	}
	if m.ResourceURI != "" {
		b = append(b, `<w:ResourceURI s:mustUnderstand="true">`...)
		b = esc(b, m.ResourceURI)
		b = append(b, "</w:ResourceURI>"...)
	}
	b = append(b, `<a:ReplyTo><a:Address s:mustUnderstand="true">`+AddrAnonymous+`</a:Address></a:ReplyTo>`...)
	if m.Action != "" {
		b = append(b, `<a:Action s:mustUnderstand="true">`...)
		b = esc(b, m.Action)
		b = append(b, "</a:Action>"...)
	}
	if m.MaxEnvelopeSize > 0 {
		b = append(b, `<w:MaxEnvelopeSize s:mustUnderstand="true">`...)
		b = strconv.AppendInt(b, int64(m.MaxEnvelopeSize), 10)
		b = append(b, "</w:MaxEnvelopeSize>"...)
	}
	id := m.MessageID
	if id == "" {
		id = "uuid:" + newUUID()
	}
	b = append(b, "<a:MessageID>"...)
	b = esc(b, id)
	b = append(b, `</a:MessageID><w:Locale xml:lang="en-US" s:mustUnderstand="false"/><p:DataLocale xml:lang="en-US" s:mustUnderstand="false"/>`...)
	if m.OperationTimeout > 0 {
		b = append(b, "<w:OperationTimeout>"...)
		b = append(b, FormatDuration(m.OperationTimeout)...)
		b = append(b, "</w:OperationTimeout>"...)
	}
	if len(m.Selectors) > 0 {
		b = appendSelectorSet(b, m.Selectors)
	}
	if len(m.Options) > 0 {
		b = append(b, `<w:OptionSet s:mustUnderstand="true">`...)
		for _, o := range m.Options {
			b = append(b, `<w:Option Name="`...)
			b = escAttr(b, o.Name)
			b = append(b, '"')
			if o.Type != "" {
				b = append(b, ` Type="`...)
				b = escAttr(b, o.Type)
				b = append(b, '"')
			}
			if o.MustComply {
				b = append(b, ` MustComply="true"`...)
			}
			b = append(b, '>')
			b = esc(b, o.Value)
			b = append(b, "</w:Option>"...)
		}
		b = append(b, "</w:OptionSet>"...)
	}
	b = append(b, "</s:Header><s:Body>"...)
	b = append(b, m.Body...)
	return append(b, "</s:Body></s:Envelope>"...)
}

// appendSelectorSet appends a wsman:SelectorSet.
func appendSelectorSet(b []byte, sels []Selector) []byte {
	b = append(b, "<w:SelectorSet>"...)
	for _, s := range sels {
		b = append(b, `<w:Selector Name="`...)
		b = escAttr(b, s.Name)
		b = append(b, `">`...)
		if s.EPR != nil {
			b = append(b, "<a:EndpointReference>"...)
			b = appendEPR(b, s.EPR)
			b = append(b, "</a:EndpointReference>"...)
		} else {
			b = esc(b, s.Value)
		}
		b = append(b, "</w:Selector>"...)
	}
	return append(b, "</w:SelectorSet>"...)
}

// appendEPR appends the content of an endpoint reference.
func appendEPR(b []byte, e *EPR) []byte {
	addr := e.Address
	if addr == "" {
		addr = AddrAnonymous
	}
	b = append(b, "<a:Address>"...)
	b = esc(b, addr)
	b = append(b, "</a:Address><a:ReferenceParameters><w:ResourceURI>"...)
	b = esc(b, e.ResourceURI)
	b = append(b, "</w:ResourceURI>"...)
	b = appendSelectorSet(b, e.Selectors)
	return append(b, "</a:ReferenceParameters>"...)
}

// EnumerateBody returns the body of an Enumerate: optimized with
// maxElements per page (0: not optimized), with a filter when dialect is
// given (filter is then its XML content, already escaped), in an
// enumeration mode ("" for objects, "EnumerateEPR", "EnumerateObjectAndEPR").
func EnumerateBody(maxElements int, dialect, filter, mode string) string {
	b := []byte("<n:Enumerate>")
	if maxElements > 0 {
		b = append(b, "<w:OptimizeEnumeration/><w:MaxElements>"...)
		b = strconv.AppendInt(b, int64(maxElements), 10)
		b = append(b, "</w:MaxElements>"...)
	}
	if dialect != "" {
		b = append(b, `<w:Filter Dialect="`...)
		b = escAttr(b, dialect)
		b = append(b, `">`...)
		b = append(b, filter...)
		b = append(b, "</w:Filter>"...)
	}
	if mode != "" {
		b = append(b, "<w:EnumerationMode>"...)
		b = esc(b, mode)
		b = append(b, "</w:EnumerationMode>"...)
	}
	return string(append(b, "</n:Enumerate>"...))
}

// PullBody returns the body of a Pull of up to maxElements items.
func PullBody(context string, maxElements int) string {
	b := []byte("<n:Pull><n:EnumerationContext>")
	b = esc(b, context)
	b = append(b, "</n:EnumerationContext><n:MaxElements>"...)
	b = strconv.AppendInt(b, int64(max(maxElements, 1)), 10)
	return string(append(b, "</n:MaxElements></n:Pull>"...))
}

// ReleaseBody returns the body of a Release.
func ReleaseBody(context string) string {
	b := []byte("<n:Release><n:EnumerationContext>")
	b = esc(b, context)
	return string(append(b, "</n:EnumerationContext></n:Release>"...))
}

// AssociationFilter returns the content of an association filter
// (DSP0227): AssociatedInstances of obj, or with references
// AssociationInstances; empty names do not narrow.
func AssociationFilter(obj *EPR, references bool, assocClass, resultClass, role, resultRole string) string {
	el := "b:AssociatedInstances"
	if references {
		el = "b:AssociationInstances"
	}
	b := []byte("<" + el + "><b:Object>")
	b = appendEPR(b, obj)
	b = append(b, "</b:Object>"...)
	for _, f := range [][2]string{{"AssociationClassName", assocClass}, {"Role", role}, {"ResultClassName", resultClass}, {"ResultRole", resultRole}} {
		if f[1] != "" {
			b = append(b, "<b:"+f[0]+">"...)
			b = esc(b, f[1])
			b = append(b, "</b:"+f[0]+">"...)
		}
	}
	return string(append(b, "</"+el+">"...))
}
