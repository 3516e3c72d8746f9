package wsman

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/cimsess/cimsess/cim"
)

// Fault is a SOAP 1.2 fault as DSP0226 §14 defines them, with the detail
// WinRM adds (MS-WSMV's WSManFault) and the HTTP status WinRM answers it
// with (500 for every SOAP fault).
type Fault struct {
	Action  string // the fault's wsa:Action
	Code    string // SOAP code, qualified: "s:Sender", "s:Receiver", "s:MustUnderstand"
	Subcode string // qualified: "w:InvalidSelectors", "a:ActionNotSupported", … ("" for none)
	Reason  string // for people
	Detail  string // DSP0226 fault detail URI ("" for none)
	// WinRMCode is the number WinRM puts in WSManFault's Code attribute
	// (an ERROR_WSMAN_* value or a WMI HRESULT); 0 leaves WSManFault out.
	WinRMCode uint32
	// HTTPStatus is the status the fault is sent with; 0 means 500.
	HTTPStatus int
	// RelatesTo is the MessageID of the request the fault answers, for a
	// fault of a request that was not decoded whole (DecodeRequest's):
	// the fault's a:RelatesTo.
	RelatesTo string
	// NotUnderstood names the header blocks an s:MustUnderstand fault is
	// about, each written as a NotUnderstood header block (SOAP 1.2 Part 1
	// §5.4.8).
	NotUnderstood []xml.Name
}

// Error returns the fault as one line.
func (f *Fault) Error() string {
	s := f.Subcode
	if s == "" {
		s = f.Code
	}
	return s + ": " + f.Reason
}

// status returns the HTTP status of the fault.
func (f *Fault) status() int {
	if f.HTTPStatus == 0 {
		return http.StatusInternalServerError
	}
	return f.HTTPStatus
}

const detailPrefix = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

// WinRM's numbers for the faults (ERROR_WSMAN_* and WMI's HRESULTs).
const (
	codeInvalidActionURI      = 2150858753
	codeActionNotSupported    = 2150858771
	codeEnumCannotProcess     = 2150858778
	codeOperationTimeout      = 2150858793
	codeInvalidResourceURI    = 2150858811
	codeQuotaLimit            = 2150858815
	codeUnsupportedFeature    = 2150858818
	codeInvalidXML            = 2150858819
	codeOptionsNotSupported   = 2150858833
	codeInsufficientSelectors = 2150858842
	codeUnexpectedSelectors   = 2150858843
	codeInvalidSelectorValue  = 2150858845
	codeDuplicateSelectors    = 2150858847
	codeEnumerationInvalid    = 2150858884
	codeInvalidSelectorName   = 2150859032
	codeCannotProcessFilter   = 2150859042
	codeQuotaUser             = 2150859175
	codeQuotaSystem           = 2150859176
	wbemFailed                = 0x80041001
	wbemNotFound              = 0x80041002
	wbemAccessDenied          = 0x80041003
	wbemInvalidClass          = 0x80041010
	wbemInvalidNamespace      = 0x8004100E
)

func senderFault(action, subcode, detail string, code uint32, format string, args ...any) *Fault {
	return &Fault{Action: action, Code: "s:Sender", Subcode: subcode, Detail: detail, WinRMCode: code,
		Reason: fmt.Sprintf(format, args...)}
}

func receiverFault(action, subcode, detail string, code uint32, format string, args ...any) *Fault {
	return &Fault{Action: action, Code: "s:Receiver", Subcode: subcode, Detail: detail, WinRMCode: code,
		Reason: fmt.Sprintf(format, args...)}
}

// The faults the handler sends (DSP0226 Annex/§14.6).
func faultActionNotSupported(action string) *Fault {
	return senderFault(actionAddrFault, "a:ActionNotSupported", detailPrefix+"ActionMismatch", codeActionNotSupported,
		"the action %q is not supported: this server is read-only and answers Identify, Get, Enumerate, Pull and Release", cim.Clip(action))
}

func faultSchemaValidation(format string, args ...any) *Fault {
	return senderFault(actionWSManFault, "w:SchemaValidationError", "", codeInvalidXML, format, args...)
}

// faultEncodingLimit is wsman:EncodingLimit with the DSP0226 fault detail
// detail ("" for none).
func faultEncodingLimit(detail string, format string, args ...any) *Fault {
	if detail != "" {
		detail = detailPrefix + detail
	}
	return senderFault(actionWSManFault, "w:EncodingLimit", detail, codeQuotaLimit, format, args...)
}

func faultInvalidSelectors(detail string, code uint32, format string, args ...any) *Fault {
	return senderFault(actionWSManFault, "w:InvalidSelectors", detailPrefix+detail, code, format, args...)
}

func faultDestinationUnreachable(detail string, code uint32, format string, args ...any) *Fault {
	d := ""
	if detail != "" {
		d = detailPrefix + detail
	}
	return senderFault(actionAddrFault, "a:DestinationUnreachable", d, code, format, args...)
}

func faultCannotProcessFilter(format string, args ...any) *Fault {
	return senderFault(actionWSManFault, "w:CannotProcessFilter", "", codeCannotProcessFilter, format, args...)
}

func faultDialectUnavailable(dialect string) *Fault {
	return senderFault(actionEnumFault, "n:FilterDialectRequestedUnavailable", "", codeEnumCannotProcess,
		"the filter dialect %q is not supported; use %s, %s or %s", cim.Clip(dialect), DialectWQL, DialectSelector, DialectAssociation)
}

func faultInvalidContext() *Fault {
	return receiverFault(actionEnumFault, "n:InvalidEnumerationContext", "", codeEnumerationInvalid,
		"the enumeration context is not valid: it was never issued, is finished, was released or expired")
}

func faultTimedOut() *Fault {
	return receiverFault(actionWSManFault, "w:TimedOut", "", codeOperationTimeout,
		"the operation did not complete within its OperationTimeout; pull again")
}

func faultQuota(code uint32, format string, args ...any) *Fault {
	return receiverFault(actionWSManFault, "w:QuotaLimit", "", code, format, args...)
}

func faultAccessDenied(format string, args ...any) *Fault {
	f := senderFault(actionWSManFault, "w:AccessDenied", "", wbemAccessDenied, format, args...)
	f.HTTPStatus = http.StatusUnauthorized
	return f
}

func faultInternal(format string, args ...any) *Fault {
	return receiverFault(actionWSManFault, "w:InternalError", "", wbemFailed, format, args...)
}

func faultInvalidOptions(format string, args ...any) *Fault {
	return senderFault(actionWSManFault, "w:InvalidOptions", detailPrefix+"NotSupported", codeOptionsNotSupported, format, args...)
}

func faultUnsupportedFeature(detail string, format string, args ...any) *Fault {
	return senderFault(actionWSManFault, "w:UnsupportedFeature", detailPrefix+detail, codeUnsupportedFeature, format, args...)
}

func faultMustUnderstand(name string) *Fault {
	return &Fault{Action: actionAddrFault, Code: "s:MustUnderstand", WinRMCode: codeInvalidXML,
		Reason: fmt.Sprintf("the header %s is marked mustUnderstand and this server does not understand it", cim.Clip(name))}
}

// faultOfCIM maps an object manager's error to the fault WinRM's WMI plugin
// returns for it.
func faultOfCIM(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	msg := err.Error()
	var ce *cim.Error
	if errors.As(err, &ce) {
		msg = ce.Description
	}
	switch cim.CodeOf(err) {
	case cim.ErrNotFound:
		return faultDestinationUnreachable("", wbemNotFound, "%s", msg)
	case cim.ErrInvalidClass:
		return faultDestinationUnreachable("InvalidResourceURI", codeInvalidResourceURI, "%s", msg)
	case cim.ErrInvalidNamespace:
		return faultDestinationUnreachable("InvalidResourceURI", wbemInvalidNamespace, "%s", msg)
	case cim.ErrInvalidQuery, cim.ErrQueryLanguageNotSupported:
		return faultCannotProcessFilter("%s", msg)
	case cim.ErrInvalidParameter:
		return faultInvalidSelectors("InvalidValue", codeInvalidSelectorValue, "%s", msg)
	case cim.ErrAccessDenied:
		return faultAccessDenied("%s", msg)
	case cim.ErrNotSupported:
		return faultUnsupportedFeature("", "%s", msg)
	}
	return faultInternal("%s", msg)
}
