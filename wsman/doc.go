// Package wsman is cimsess's WS-Management front end (DMTF DSP0226 with the
// CIM binding of DSP0227 and the instance mapping of DSP0230), shaped as
// Microsoft's WinRM speaks it (MS-WSMV): SOAP 1.2 envelopes over HTTP,
// WS-Transfer Get, WS-Enumeration Enumerate/Pull/Release with WQL,
// selector and association filters, the WMI and DMTF resource URIs (the
// latter under OMI's host name too), and
// the faults WinRM returns. [Handler] is a self-contained http.Handler over
// a [cimom.ObjectManager]: who asks is the viewer in the request's context
// ([cimom.WithViewer]), set by the server's authentication in front of it.
// [Client] is the other side, for asking any WS-Man host.
//
// Every request body is decoded within bounds (size, nesting, element
// count); DTDs are refused, so no entity is ever expanded; UTF-8 and, with
// a byte-order mark, UTF-16 bodies are taken.
package wsman

// XML namespaces of the protocols.
const (
	NSSOAP     = "http://www.w3.org/2003/05/soap-envelope"
	NSAddr     = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NSTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	NSEnum     = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
	NSWSMan    = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	NSIdentity = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
	NSCIMBind  = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
	NSCommon   = "http://schemas.dmtf.org/wbem/wscim/1/common"
	NSMSWSMan  = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	NSMSFault  = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	NSXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)

// Actions (WS-Addressing Action header values).
const (
	ActionGet             = NSTransfer + "/Get"
	ActionGetResponse     = NSTransfer + "/GetResponse"
	ActionPut             = NSTransfer + "/Put"
	ActionCreate          = NSTransfer + "/Create"
	ActionDelete          = NSTransfer + "/Delete"
	ActionEnumerate       = NSEnum + "/Enumerate"
	ActionEnumerateResp   = NSEnum + "/EnumerateResponse"
	ActionPull            = NSEnum + "/Pull"
	ActionPullResponse    = NSEnum + "/PullResponse"
	ActionRelease         = NSEnum + "/Release"
	ActionReleaseResponse = NSEnum + "/ReleaseResponse"
	ActionRenew           = NSEnum + "/Renew"
	ActionGetStatus       = NSEnum + "/GetStatus"

	actionAddrFault  = NSAddr + "/fault"
	actionWSManFault = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	actionEnumFault  = NSEnum + "/fault"
)

// Filter dialects.
const (
	DialectWQL         = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
	DialectSelector    = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
	DialectAssociation = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"
)

// AddrAnonymous is WS-Addressing's anonymous address: reply on this connection.
const AddrAnonymous = NSAddr + "/role/anonymous"

// ContentType is the media type of requests and responses.
const ContentType = "application/soap+xml;charset=UTF-8"
