package wsman

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/cimxml"
)

// Defaults of the Config.
const (
	DefaultMaxEnvelopeSize = 512000 // WinRM's MaxEnvelopeSizekb, 500
	DefaultMaxElements     = 32000
	// DefaultOperationTimeout is how long an operation may take when the
	// request does not say (WinRM's default).
	DefaultOperationTimeout = 60 * time.Second
	// MaxOperationTimeout caps what a request may ask for, below the
	// HTTP server's write timeout.
	MaxOperationTimeout = 50 * time.Second
	// MinEnvelopeSize is the smallest MaxEnvelopeSize a request may ask
	// for (DSP0226 6.2): less is wsman:EncodingLimit.
	MinEnvelopeSize = 8192
)

// Config configures a Handler. Zero fields take the defaults.
type Config struct {
	// ObjectManager answers the operations. Required.
	ObjectManager *cimom.ObjectManager
	// Limits bound the XML of a request.
	Limits Limits
	// Contexts bound the open enumeration contexts.
	Contexts ContextLimits
	// MaxEnvelopeSize bounds a response when the request does not; a
	// request may ask for less, or more up to four times this.
	MaxEnvelopeSize int
	// MaxElements caps the instances of one Enumerate or Pull response.
	MaxElements int
	// ProductVersion is what Identify says of the product.
	ProductVersion string
}

// Handler answers WS-Management requests; see the package doc. Close it to
// drop its open enumeration contexts.
type Handler struct {
	cfg   Config
	om    *cimom.ObjectManager
	store *store
}

// New returns a handler for the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.ObjectManager == nil {
		return nil, cim.Errorf(cim.ErrFailed, "wsman: no object manager")
	}
	if cfg.MaxEnvelopeSize <= 0 {
		cfg.MaxEnvelopeSize = DefaultMaxEnvelopeSize
	}
	if cfg.MaxElements <= 0 {
		cfg.MaxElements = DefaultMaxElements
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &Handler{cfg: cfg, om: cfg.ObjectManager, store: newStore(cfg.Contexts)}, nil
}

// Close drops every open enumeration context.
func (h *Handler) Close() { h.store.close() }

// Stats returns what the open enumeration contexts hold.
func (h *Handler) Stats() Stats { return h.store.stats() }

// AnonymousIdentify returns a handler that answers Identify only, and
// anything else with 401: what the server mounts for a request without
// credentials that carries WinRM's "WSMANIDENTIFY: unauthenticated".
func (h *Handler) AnonymousIdentify() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, true) })
}

// IsAnonymousIdentify reports whether r asks for an unauthenticated
// Identify as WinRM's clients do (the WSMANIDENTIFY header).
func IsAnonymousIdentify(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("WSMANIDENTIFY")), "unauthenticated")
}

// ServeHTTP answers one WS-Management request for the viewer of the
// request's context.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.serve(w, r, false) }

// Info is what a handler learnt of a request, for the server's log and
// metrics.
type Info struct {
	Action      string // as the client sent it (clipped)
	Operation   string // Identify, Get, Enumerate, Pull, Release, or "" for another
	ResourceURI string // as the client sent it (clipped)
	Class       string // the class the resource URI names
	Fault       string // the fault's subcode (or code); "" when none
	Detail      string // the fault's reason
	HTTPStatus  int    // the response's status
	// Panic is a panic the handler recovered from while answering, with
	// its stack: a bug, for the log.
	Panic string
}

type infoKey struct{}

// WithInfo returns a context in which the handler records what it learns
// of the request into info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, anonymous bool) {
	info, _ := r.Context().Value(infoKey{}).(*Info)
	if info == nil {
		info = &Info{}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		info.HTTPStatus, info.Fault = http.StatusMethodNotAllowed, "http_405"
		http.Error(w, "WS-Management requests are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		cs := strings.ToLower(params["charset"])
		if err != nil || (mt != "application/soap+xml" && mt != "text/xml" && mt != "application/xml") ||
			(cs != "" && cs != "utf-8" && cs != "utf-16" && cs != "utf-16le" && cs != "utf-16be") {
			info.HTTPStatus, info.Fault = http.StatusUnsupportedMediaType, "http_415"
			http.Error(w, "Content-Type must be application/soap+xml;charset=UTF-8 (or UTF-16)", http.StatusUnsupportedMediaType)
			return
		}
	}
	max := int64(2*h.cfg.Limits.MaxBytes + 4) // a UTF-16 body takes up to twice its UTF-8
	if r.ContentLength > max {
		w.Header().Set("Connection", "close")
		h.fault(w, nil, faultEncodingLimit("ServiceEnvelopeLimit", "the request is over %d bytes", h.cfg.Limits.MaxBytes), info)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fault(w, nil, faultEncodingLimit("ServiceEnvelopeLimit", "the request is over %d bytes", h.cfg.Limits.MaxBytes), info)
			return
		}
		info.HTTPStatus, info.Fault = http.StatusBadRequest, "http_400"
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if bytes.HasPrefix(body, []byte{0xFF, 0xFE}) || bytes.HasPrefix(body, []byte{0xFE, 0xFF}) {
		// A UTF-16 request is answered in UTF-16, as WinRM does.
		u := &utf16Writer{ResponseWriter: w, code: http.StatusOK}
		defer u.flush()
		w = u
	}
	req, err := DecodeRequest(body, h.cfg.Limits)
	if err != nil {
		h.fault(w, nil, faultOfCIM(err), info)
		return
	}
	info.Action, info.ResourceURI = cim.Clip(req.Action), cim.Clip(req.ResourceURI)
	if res, ok := parseResourceURI(req.ResourceURI, req.Selectors); ok {
		info.Class = res.class
	}
	if req.Body.Is(NSIdentity, "Identify") && (req.Action == "" || req.Action == NSIdentity+"/Identify") {
		info.Operation, info.HTTPStatus = "Identify", http.StatusOK
		h.identify(w)
		return
	}
	if anonymous {
		info.HTTPStatus, info.Fault = http.StatusUnauthorized, "unauthenticated"
		w.Header().Set("WWW-Authenticate", `Basic realm="cimsess"`)
		http.Error(w, "authentication required: only Identify is answered without it", http.StatusUnauthorized)
		return
	}
	for _, o := range req.Options {
		if o.MustComply && !knownOption(o.Name) {
			h.fault(w, req, faultInvalidOptions("the option %q is not supported", cim.Clip(o.Name)), info)
			return
		}
	}
	timeout := req.OperationTimeout
	if timeout <= 0 {
		timeout = DefaultOperationTimeout
	}
	timeout = min(timeout, MaxOperationTimeout)
	action, body2, err := h.operate(r.Context(), req, info, timeout)
	if err != nil {
		var f *Fault
		if !errors.As(err, &f) {
			f = faultOfCIM(err)
		}
		h.fault(w, req, f, info)
		return
	}
	info.HTTPStatus = http.StatusOK
	h.respond(w, http.StatusOK, action, req, nil, body2)
}

// operate runs the operation a request asks for and returns its response
// action and body. A panic in it is a bug: it is logged and answered with
// wsman:InternalError, and the server goes on.
func (h *Handler) operate(ctx context.Context, req *Request, info *Info, timeout time.Duration) (action string, body2 []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			info.Panic = fmt.Sprintf("%v\n%s", p, debug.Stack())
			action, body2, err = "", nil, faultInternal("the server failed on this request (a bug, logged)")
		}
	}()
	switch req.Action {
	case ActionGet:
		info.Operation = "Get"
		action = ActionGetResponse
		body2, err = h.get(ctx, req, timeout)
	case ActionEnumerate:
		info.Operation = "Enumerate"
		action = ActionEnumerateResp
		body2, err = h.enumerate(ctx, req, timeout)
	case ActionPull:
		info.Operation = "Pull"
		action = ActionPullResponse
		body2, err = h.pull(ctx, req, timeout)
	case ActionRelease:
		info.Operation = "Release"
		action = ActionReleaseResponse
		body2, err = h.release(ctx, req)
	case "":
		err = senderFault(actionAddrFault, "a:MessageInformationHeaderRequired", "", codeInvalidActionURI, "the request has no Action header")
	default:
		err = faultActionNotSupported(req.Action)
	}
	return action, body2, err
}

// knownOption reports whether the handler honours an option (the others
// may be ignored unless a client insists with MustComply).
func knownOption(name string) bool {
	switch strings.ToLower(name) {
	case "__cimnamespace", "msftwinrm.usetypeddefs", "polymorphism", "includeinheritanceonly", "includeinheritedelements":
		return true
	}
	return false
}

// envelopeHead is the start of every response envelope, with every prefix
// the handler writes declared once.
const envelopeHead = `<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddr + `" xmlns:w="` + NSWSMan +
	`" xmlns:n="` + NSEnum + `" xmlns:x="` + NSTransfer + `" xmlns:b="` + NSCIMBind + `" xmlns:cim="` + NSCommon +
	`" xmlns:xsi="` + NSXSI + `" xml:lang="en-US"><s:Header>`

const envelopeTail = `</s:Body></s:Envelope>`

// head appends the response envelope up to the body's content, with the
// header blocks extra (already XML) after the usual ones.
func head(b []byte, action string, req *Request, extra []byte) []byte {
	b = append(b, envelopeHead...)
	b = append(b, "<a:Action>"...)
	b = esc(b, action)
	b = append(b, "</a:Action><a:MessageID>uuid:"...)
	b = append(b, newUUID()...)
	b = append(b, "</a:MessageID><a:To>"+AddrAnonymous+"</a:To>"...)
	if req != nil && req.MessageID != "" {
		b = append(b, "<a:RelatesTo>"...)
		b = esc(b, req.MessageID)
		b = append(b, "</a:RelatesTo>"...)
	}
	if req != nil && req.OperationID != "" {
		b = append(b, `<p:OperationID xmlns:p="`+NSMSWSMan+`" s:mustUnderstand="false">`...)
		b = esc(b, req.OperationID)
		b = append(b, "</p:OperationID>"...)
	}
	b = append(b, extra...)
	return append(b, "</s:Header><s:Body>"...)
}

// respond writes the envelope around body: its head (with the header
// blocks extra), the body as it is (a page may be hundreds of KiB: it is
// not copied) and its tail.
func (h *Handler) respond(w http.ResponseWriter, status int, action string, req *Request, extra, body []byte) {
	hd := head(make([]byte, 0, 1024), action, req, extra)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(hd)+len(body)+len(envelopeTail)))
	w.WriteHeader(status)
	_, _ = w.Write(hd)
	_, _ = w.Write(body)
	_, _ = io.WriteString(w, envelopeTail)
}

// fault sends f as a SOAP fault with WinRM's HTTP status.
func (h *Handler) fault(w http.ResponseWriter, req *Request, f *Fault, info *Info) {
	info.Fault, info.Detail, info.HTTPStatus = f.Subcode, f.Reason, f.status()
	if info.Fault == "" {
		info.Fault = f.Code
	}
	var b []byte
	b = append(b, "<s:Fault><s:Code><s:Value>"...)
	b = esc(b, f.Code)
	b = append(b, "</s:Value>"...)
	if f.Subcode != "" {
		b = append(b, "<s:Subcode><s:Value>"...)
		b = esc(b, f.Subcode)
		b = append(b, "</s:Value></s:Subcode>"...)
	}
	b = append(b, `</s:Code><s:Reason><s:Text xml:lang="en-US">`...)
	b = esc(b, f.Reason)
	b = append(b, "</s:Text></s:Reason>"...)
	if f.Detail != "" || f.WinRMCode != 0 {
		b = append(b, "<s:Detail>"...)
		if f.Detail != "" {
			b = append(b, "<w:FaultDetail>"...)
			b = esc(b, f.Detail)
			b = append(b, "</w:FaultDetail>"...)
		}
		if f.WinRMCode != 0 {
			b = append(b, `<f:WSManFault xmlns:f="`+NSMSFault+`" Code="`...)
			b = strconv.AppendUint(b, uint64(f.WinRMCode), 10)
			b = append(b, `" Machine="`...)
			b = escAttr(b, h.om.Host())
			b = append(b, `"><f:Message>`...)
			b = esc(b, f.Reason)
			b = append(b, "</f:Message></f:WSManFault>"...)
		}
		b = append(b, "</s:Detail>"...)
	}
	b = append(b, "</s:Fault>"...)
	if f.status() == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="cimsess"`)
	}
	if req == nil && f.RelatesTo != "" {
		req = &Request{Header: Header{MessageID: f.RelatesTo}}
	}
	h.respond(w, f.status(), f.Action, req, notUnderstood(f.NotUnderstood), b)
}

// notUnderstood writes a NotUnderstood header block per name (SOAP 1.2
// Part 1 §5.4.8), each declaring the prefix of its qname.
func notUnderstood(names []xml.Name) []byte {
	var b []byte
	for _, n := range names {
		b = append(b, `<s:NotUnderstood qname="`...)
		if n.Space != "" {
			b = append(b, "q:"...)
		}
		b = escAttr(b, n.Local)
		b = append(b, '"')
		if n.Space != "" {
			b = append(b, ` xmlns:q="`...)
			b = escAttr(b, n.Space)
			b = append(b, '"')
		}
		b = append(b, "/>"...)
	}
	return b
}

// identify answers WS-Management Identify.
func (h *Handler) identify(w http.ResponseWriter) {
	v := h.cfg.ProductVersion
	if v == "" {
		v = "dev"
	}
	var b []byte
	b = append(b, `<s:Envelope xmlns:s="`+NSSOAP+`" xmlns:wsmid="`+NSIdentity+`"><s:Header/><s:Body><wsmid:IdentifyResponse>`+
		`<wsmid:ProtocolVersion>`+NSWSMan+`</wsmid:ProtocolVersion><wsmid:ProductVendor>cimsess</wsmid:ProductVendor><wsmid:ProductVersion>`...)
	b = esc(b, v)
	b = append(b, `</wsmid:ProductVersion><wsmid:SecurityProfiles><wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic</wsmid:SecurityProfileName>`+
		`<wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic</wsmid:SecurityProfileName></wsmid:SecurityProfiles>`+
		`</wsmid:IdentifyResponse></s:Body></s:Envelope>`...)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// envelopeLimit is the response size the request allows.
func (h *Handler) envelopeLimit(req *Request) int {
	if req.MaxEnvelopeSize > 0 {
		return min(req.MaxEnvelopeSize, 4*h.cfg.MaxEnvelopeSize)
	}
	return h.cfg.MaxEnvelopeSize
}

// overhead is what an envelope takes besides the body's content.
func overhead(req *Request) int {
	return len(head(nil, ActionEnumerateResp, req, nil)) + len(envelopeTail) + 64
}

// resolve parses the request's resource URI and checks its namespace.
func (h *Handler) resolve(req *Request) (resource, error) {
	if req.ResourceURI == "" {
		return resource{}, faultDestinationUnreachable("InvalidResourceURI", codeInvalidResourceURI, "the request has no ResourceURI")
	}
	res, ok := parseResourceURI(req.ResourceURI, req.Selectors)
	if !ok {
		return resource{}, faultDestinationUnreachable("InvalidResourceURI", codeInvalidResourceURI,
			"the resource URI %q names nothing this server has: use %sroot/cimv2/CLASS or %sCLASS", cim.Clip(req.ResourceURI), PrefixWMI, PrefixCIM)
	}
	om, err := h.om.In(res.namespace)
	if err != nil {
		// WMI's code, as for an unknown class: the client can tell the
		// namespace was the matter (CIM_ERR_INVALID_NAMESPACE).
		return resource{}, faultDestinationUnreachable("InvalidResourceURI", wbemInvalidNamespace, "%s", err.(*cim.Error).Description)
	}
	res.om = om
	if res.class != "" {
		c, err := om.Schema().Class(res.class)
		if err != nil {
			return resource{}, faultDestinationUnreachable("InvalidResourceURI", wbemInvalidClass, "no class %q in %s", cim.Clip(res.class), res.namespace)
		}
		res.class = c.Name
	}
	return res, nil
}

func (h *Handler) renderer(res resource) renderer {
	return renderer{reg: res.om.Schema(), prefix: res.prefix, namespace: res.namespace}
}

// get answers WS-Transfer Get: selectors are the keys.
func (h *Handler) get(ctx context.Context, req *Request, timeout time.Duration) ([]byte, error) {
	res, err := h.resolve(req)
	if err != nil {
		return nil, err
	}
	switch res.kind {
	case resWildcard:
		return nil, faultDestinationUnreachable("InvalidResourceURI", codeInvalidResourceURI, "Get needs a class's resource URI, not a wildcard")
	case resClassDecl:
		if res.class == "" {
			return nil, faultInvalidSelectors("InsufficientSelectors", codeInsufficientSelectors, "a class declaration's Get needs the ClassName selector")
		}
		c, _ := res.om.Schema().Class(res.class)
		enc := cimxml.NewEncoder(nil)
		enc.Class(c, cimxml.ClassOptions{IncludeQualifiers: true})
		return append([]byte(nil), enc.Bytes()...), nil
	}
	path, err := h.selectorPath(res.om, res.class, req.Selectors)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	in, err := res.om.GetInstance(ctx, path)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, faultTimedOut()
		}
		return nil, err
	}
	r := h.renderer(res)
	out := r.instance(nil, in, nil)
	if len(out)+overhead(req) > h.envelopeLimit(req) {
		return nil, faultEncodingLimit("MaxEnvelopeSize", "the instance does not fit in MaxEnvelopeSize %d", h.envelopeLimit(req))
	}
	return out, nil
}

// selectorPath checks selectors against the keys of class of om's
// namespace, as WinRM does, and returns the object path they name.
func (h *Handler) selectorPath(om *cimom.ObjectManager, class string, sels []Selector) (cim.ObjectPath, error) {
	c, err := om.Schema().Class(class)
	if err != nil {
		return cim.ObjectPath{}, err
	}
	keys := c.KeyNames()
	path := cim.ObjectPath{ClassName: c.Name}
	seen := map[string]bool{}
	for _, s := range sels {
		if strings.EqualFold(s.Name, SelectorCIMNS) {
			continue
		}
		p := c.Property(s.Name)
		if p == nil || !p.IsKey() {
			return path, faultInvalidSelectors("UnexpectedSelectors", codeUnexpectedSelectors,
				"%q is not a key of %s; its keys are %s", cim.Clip(s.Name), c.Name, strings.Join(keys, ", "))
		}
		if seen[strings.ToLower(p.Name)] {
			return path, faultInvalidSelectors("DuplicateSelectors", codeDuplicateSelectors, "the selector %s is given twice", p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
		var v any = strings.TrimSpace(s.Value)
		if s.EPR != nil {
			if p.Type.Kind != cim.KindReference {
				return path, faultInvalidSelectors("TypeMismatch", codeInvalidSelectorValue, "the selector %s is a reference, the key is a %s", p.Name, p.Type)
			}
			ref, _, err := h.eprPath(s.EPR)
			if err != nil {
				return path, err
			}
			v = ref
		} else if p.Type.Kind == cim.KindReference {
			ref, err := cim.ParseObjectPath(s.Value)
			if err != nil {
				return path, faultInvalidSelectors("TypeMismatch", codeInvalidSelectorValue, "the selector %s must be an endpoint reference or an object path", p.Name)
			}
			v = ref
		} else if p.Type.Kind != cim.KindString {
			if _, err := cim.ParseValue(p.Type, strings.TrimSpace(s.Value)); err != nil {
				return path, faultInvalidSelectors("InvalidValue", codeInvalidSelectorValue, "the selector %s: %v", p.Name, err)
			}
			v = strings.TrimSpace(s.Value)
		}
		path.Keys = append(path.Keys, cim.KeyBinding{Name: p.Name, Value: v})
	}
	if len(path.Keys) < len(keys) {
		return path, faultInvalidSelectors("InsufficientSelectors", codeInsufficientSelectors,
			"%s needs the selectors %s", c.Name, strings.Join(keys, ", "))
	}
	return path, nil
}

// eprPath returns the object path an endpoint reference names and the
// object manager of its namespace.
func (h *Handler) eprPath(e *EPR) (cim.ObjectPath, *cimom.ObjectManager, error) {
	res, ok := parseResourceURI(e.ResourceURI, e.Selectors)
	if !ok || res.kind != resInstances {
		return cim.ObjectPath{}, nil, faultInvalidSelectors("InvalidValue", codeInvalidSelectorValue,
			"the endpoint reference's resource URI %q names no class", cim.Clip(e.ResourceURI))
	}
	om, err := h.om.In(res.namespace)
	if err != nil {
		return cim.ObjectPath{}, nil, faultDestinationUnreachable("InvalidResourceURI", wbemInvalidNamespace, "%v", err)
	}
	path, err := h.selectorPath(om, res.class, e.Selectors)
	return path, om, err
}

// utf16Writer holds a response and writes it as UTF-16 (little endian,
// with its byte-order mark) when flushed.
type utf16Writer struct {
	http.ResponseWriter
	code int
	buf  []byte
}

func (u *utf16Writer) WriteHeader(code int)        { u.code = code }
func (u *utf16Writer) Write(p []byte) (int, error) { u.buf = append(u.buf, p...); return len(p), nil }

func (u *utf16Writer) flush() {
	out := make([]byte, 2, 2+2*len(u.buf))
	out[0], out[1] = 0xFF, 0xFE
	for _, r := range utf16.Encode([]rune(string(u.buf))) {
		out = append(out, byte(r), byte(r>>8))
	}
	h := u.ResponseWriter.Header()
	if strings.HasPrefix(h.Get("Content-Type"), "application/soap+xml") {
		h.Set("Content-Type", "application/soap+xml;charset=UTF-16")
	} else if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "text/") {
		// A plain-text refusal (401, 400) is UTF-16 too, and says so.
		params["charset"] = "UTF-16"
		h.Set("Content-Type", mime.FormatMediaType(mt, params))
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	u.ResponseWriter.WriteHeader(u.code)
	_, _ = u.ResponseWriter.Write(out)
}
