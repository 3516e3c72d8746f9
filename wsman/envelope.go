package wsman

import (
	"encoding/xml"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// Selector is one wsman:Selector: a name and either text or, for a
// reference key, an endpoint reference.
type Selector struct {
	Name  string
	Value string
	EPR   *EPR
}

// EPR is a WS-Addressing endpoint reference to a CIM object, as WS-Man
// writes references: an address, the object's resource URI and its
// selectors (the keys).
type EPR struct {
	Address     string
	ResourceURI string
	Selectors   []Selector
}

// Option is one wsman:Option of an OptionSet.
type Option struct {
	Name, Value, Type string
	MustComply        bool
}

// Header is what the SOAP header of a request says.
type Header struct {
	To, Action, ResourceURI, MessageID, ReplyTo string
	Selectors                                   []Selector
	Options                                     []Option
	Locale, DataLocale                          string
	// MaxEnvelopeSize bounds the response in bytes (0: the server's default).
	MaxEnvelopeSize int
	// OperationTimeout bounds the time the operation may take (0: none given).
	OperationTimeout       time.Duration
	SessionID, OperationID string
}

// Request is a decoded SOAP request: its header and the first element of
// its body (nil for an empty body).
type Request struct {
	Header
	Body *Node
}

// understood lists the header elements the server processes; any other
// marked mustUnderstand="true" is refused with s:MustUnderstand.
var understood = map[[2]string]bool{
	{NSAddr, "To"}: true, {NSAddr, "Action"}: true, {NSAddr, "MessageID"}: true, {NSAddr, "ReplyTo"}: true,
	{NSAddr, "FaultTo"}: true, {NSAddr, "From"}: true,
	{NSWSMan, "ResourceURI"}: true, {NSWSMan, "SelectorSet"}: true, {NSWSMan, "OptionSet"}: true,
	{NSWSMan, "Locale"}: true, {NSWSMan, "MaxEnvelopeSize"}: true, {NSWSMan, "OperationTimeout"}: true,
	{NSMSWSMan, "DataLocale"}: true, {NSMSWSMan, "SessionId"}: true, {NSMSWSMan, "OperationID"}: true,
	{NSMSWSMan, "SequenceId"}: true,
}

// DecodeRequest decodes a SOAP 1.2 request body within the limits. Every
// error is a *[Fault] ready to send; one of the header carries the
// request's MessageID in RelatesTo.
func DecodeRequest(body []byte, limits Limits) (*Request, error) {
	root, err := Parse(body, limits)
	if err != nil {
		if errors.Is(err, errTooBig) {
			return nil, faultEncodingLimit("ServiceEnvelopeLimit", "%v", err)
		}
		return nil, faultSchemaValidation("the request is not a well-formed XML document: %v", err)
	}
	if root.Name.Local != "Envelope" {
		return nil, faultSchemaValidation("the root element is %s, not a SOAP Envelope", cim.Clip(root.Name.Local))
	}
	if root.Name.Space != NSSOAP {
		return nil, &Fault{Action: actionAddrFault, Code: "s:VersionMismatch",
			Reason: "the envelope is not SOAP 1.2 (" + NSSOAP + "), it is in " + cim.Clip(root.Name.Space)}
	}
	req := &Request{}
	hdr := root.Child(NSSOAP, "Header")
	if b := root.Child(NSSOAP, "Body"); b == nil {
		return nil, faultSchemaValidation("the envelope has no Body")
	} else if len(b.Children) > 0 {
		req.Body = b.Children[0]
	}
	if hdr == nil {
		return req, nil
	}
	// A fault of the header relates to the request's MessageID, as every
	// other fault does (DSP0226), though the request goes no further.
	if err := decodeHeader(hdr, req); err != nil {
		if f, ok := err.(*Fault); ok {
			f.RelatesTo = hdr.Child(NSAddr, "MessageID").T()
		}
		return nil, err
	}
	return req, nil
}

// maxNotUnderstood bounds the NotUnderstood header blocks of one fault,
// and maxNotUnderstoodName the length of a name one of them may carry: a
// small request of many long-named headers must not make a huge fault.
const (
	maxNotUnderstood     = 16
	maxNotUnderstoodName = 1024
)

// decodeHeader reads the header blocks into req. SOAP 1.2 Part 1 §5.2.3:
// when a block marked mustUnderstand is not understood, none is processed
// and the fault names every such block (§5.4.8).
func decodeHeader(hdr *Node, req *Request) error {
	var notUnderstood []xml.Name
	first := ""
	for _, h := range hdr.Children {
		if understood[[2]string{h.Name.Space, h.Name.Local}] {
			continue
		}
		if mu, _ := attrNS(h, NSSOAP, "mustUnderstand"); mu != "true" && mu != "1" {
			continue
		}
		if first == "" {
			first = "{" + h.Name.Space + "}" + h.Name.Local
		}
		if len(notUnderstood) < maxNotUnderstood && len(h.Name.Space)+len(h.Name.Local) <= maxNotUnderstoodName &&
			!slices.Contains(notUnderstood, h.Name) {
			notUnderstood = append(notUnderstood, h.Name)
		}
	}
	if first != "" {
		f := faultMustUnderstand(first)
		f.NotUnderstood = notUnderstood
		return f
	}
	for _, h := range hdr.Children {
		switch [2]string{h.Name.Space, h.Name.Local} {
		case [2]string{NSAddr, "To"}:
			req.To = h.T()
		case [2]string{NSAddr, "Action"}:
			req.Action = h.T()
		case [2]string{NSAddr, "MessageID"}:
			req.MessageID = h.T()
		case [2]string{NSAddr, "ReplyTo"}:
			req.ReplyTo = h.Child(NSAddr, "Address").T()
		case [2]string{NSWSMan, "ResourceURI"}:
			req.ResourceURI = h.T()
		case [2]string{NSWSMan, "SelectorSet"}:
			sels, err := decodeSelectorSet(h)
			if err != nil {
				return err
			}
			req.Selectors = sels
		case [2]string{NSWSMan, "OptionSet"}:
			for _, o := range h.Children {
				if !o.Is(NSWSMan, "Option") {
					continue
				}
				name, _ := o.Attr("Name")
				typ, _ := o.Attr("Type")
				mc, _ := o.Attr("MustComply")
				req.Options = append(req.Options, Option{Name: name, Value: o.T(), Type: typ, MustComply: mc == "true" || mc == "1"})
			}
		case [2]string{NSWSMan, "Locale"}:
			req.Locale, _ = attrNS(h, "http://www.w3.org/XML/1998/namespace", "lang")
		case [2]string{NSMSWSMan, "DataLocale"}:
			req.DataLocale, _ = attrNS(h, "http://www.w3.org/XML/1998/namespace", "lang")
		case [2]string{NSMSWSMan, "SessionId"}:
			req.SessionID = h.T()
		case [2]string{NSMSWSMan, "OperationID"}:
			req.OperationID = h.T()
		case [2]string{NSWSMan, "MaxEnvelopeSize"}:
			n, err := strconv.Atoi(h.T())
			if err != nil || n <= 0 {
				return faultSchemaValidation("MaxEnvelopeSize %q is not a positive number", cim.Clip(h.T()))
			}
			if n < MinEnvelopeSize {
				// DSP0226 6.2; MS-WSMV 3.1.4.1.7: WinRM MUST fault it.
				return faultEncodingLimit("MinimumEnvelopeLimit", "MaxEnvelopeSize %d is under the %d octets every service may require", n, MinEnvelopeSize)
			}
			req.MaxEnvelopeSize = n
		case [2]string{NSWSMan, "OperationTimeout"}:
			d, err := ParseDuration(h.T())
			if err != nil {
				return faultSchemaValidation("OperationTimeout: %v", err)
			}
			req.OperationTimeout = d
		}
	}
	return nil
}

// attrNS returns the attribute local of namespace space.
func attrNS(n *Node, space, local string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == space {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// decodeSelectorSet reads a wsman:SelectorSet: selectors with text, or
// with an endpoint reference for a reference key.
func decodeSelectorSet(n *Node) ([]Selector, error) {
	var out []Selector
	for _, s := range n.Children {
		if !s.Is(NSWSMan, "Selector") {
			continue
		}
		name, ok := s.Attr("Name")
		if !ok || name == "" {
			return nil, faultInvalidSelectors("InvalidValue", codeInvalidSelectorName, "a Selector without a Name")
		}
		sel := Selector{Name: name, Value: s.Text}
		if e := s.Child(NSAddr, "EndpointReference"); e != nil {
			epr, err := decodeEPR(e)
			if err != nil {
				return nil, err
			}
			sel.EPR, sel.Value = epr, ""
		}
		out = append(out, sel)
	}
	return out, nil
}

// decodeEPR reads an endpoint reference (Address, then ResourceURI and
// SelectorSet in ReferenceParameters, or in ReferenceProperties as older
// clients write them).
func decodeEPR(n *Node) (*EPR, error) {
	e := &EPR{Address: n.Child(NSAddr, "Address").T()}
	rp := n.Child(NSAddr, "ReferenceParameters")
	if rp == nil {
		rp = n.Child(NSAddr, "ReferenceProperties")
	}
	if rp == nil {
		return nil, faultSchemaValidation("an EndpointReference without ReferenceParameters")
	}
	e.ResourceURI = rp.Child(NSWSMan, "ResourceURI").T()
	if ss := rp.Child(NSWSMan, "SelectorSet"); ss != nil {
		sels, err := decodeSelectorSet(ss)
		if err != nil {
			return nil, err
		}
		e.Selectors = sels
	}
	return e, nil
}
