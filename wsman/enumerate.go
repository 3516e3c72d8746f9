package wsman

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/wql"
)

// enumerate answers WS-Enumeration Enumerate: it opens a context whose
// operation runs at once and, with OptimizeEnumeration, returns the first
// page if the operation is done within the operation timeout.
func (h *Handler) enumerate(ctx context.Context, req *Request, timeout time.Duration) ([]byte, error) {
	res, err := h.resolve(req)
	if err != nil {
		return nil, err
	}
	en := req.Body
	if !en.Is(NSEnum, "Enumerate") {
		return nil, faultSchemaValidation("an Enumerate request's body must be wsen:Enumerate")
	}
	if res.kind == resClassDecl {
		return nil, faultUnsupportedFeature("", "class declarations are got one at a time, with Get and the ClassName selector")
	}
	mode := modeObject
	switch m := en.Child(NSWSMan, "EnumerationMode").T(); m {
	case "":
	case "EnumerateEPR":
		mode = modeEPR
	case "EnumerateObjectAndEPR":
		mode = modeObjectAndEPR
	default:
		return nil, faultUnsupportedFeature("EnumerationMode", "the EnumerationMode %q is not EnumerateEPR or EnumerateObjectAndEPR", cim.Clip(m))
	}
	shallow := false
	if pm := en.Child(NSCIMBind, "PolymorphismMode").T(); pm != "" {
		switch pm {
		case "None":
			shallow = true
		case "IncludeSubClassProperties":
		default:
			return nil, faultUnsupportedFeature("PolymorphismModeNotSupported", "the PolymorphismMode %q is not supported", cim.Clip(pm))
		}
	}
	optimize := en.Child(NSWSMan, "OptimizeEnumeration") != nil
	maxElems := 1
	if me := en.Child(NSWSMan, "MaxElements"); me != nil {
		n, err := strconv.Atoi(me.T())
		if err != nil || n <= 0 {
			return nil, faultSchemaValidation("MaxElements %q is not a positive number", cim.Clip(me.T()))
		}
		maxElems = n
	}
	var idle time.Duration
	if ex := en.Child(NSEnum, "Expires").T(); ex != "" {
		d, err := ParseDuration(ex)
		if err != nil || d <= 0 {
			return nil, receiverFault(actionEnumFault, "n:InvalidExpirationTime", "", codeEnumerationInvalid, "Expires %q is not a positive xs:duration", cim.Clip(ex))
		}
		idle = d
	}
	stream, props, err := h.filter(res, en, req.Selectors, shallow)
	if err != nil {
		return nil, err
	}
	e, turn, err := h.store.open(ctx, cimom.ViewerFrom(ctx).User, idle, props, stream)
	if err != nil {
		return nil, err
	}
	defer h.store.dropIfBusy(e, turn)
	e.rend, e.mode = h.renderer(res), mode
	open := func(id string) []byte {
		b := append([]byte(nil), "<n:EnumerateResponse><n:EnumerationContext>"...)
		b = append(b, id...)
		return append(b, "</n:EnumerationContext>"...)
	}
	if !optimize {
		h.store.put(e)
		return append(open(e.id), "</n:EnumerateResponse>"...), nil
	}
	// The first page: what the operation makes within the timeout.
	items, end, err := h.page(ctx, e, req, maxElems, 0, len(open(e.id))+64, time.Now().Add(timeout))
	if err != nil {
		if isTimedOut(err) {
			h.store.put(e)
			return append(open(e.id), "<w:Items></w:Items></n:EnumerateResponse>"...), nil
		}
		// A fault carries no context id: the client could never pull
		// or release it, so it goes whatever the fault.
		h.store.drop(e)
		return nil, err
	}
	// A finished enumeration's context is empty: there is nothing to
	// pull (and clients such as wsl pull while they have one).
	var b []byte
	if end {
		h.store.drop(e)
		b = open("")
	} else {
		h.store.put(e)
		b = open(e.id)
	}
	b = append(b, "<w:Items>"...)
	b = append(b, items...)
	b = append(b, "</w:Items>"...)
	if end {
		b = append(b, "<w:EndOfSequence/>"...)
	}
	return append(b, "</n:EnumerateResponse>"...), nil
}

// isTimedOut reports whether err is the w:TimedOut fault.
func isTimedOut(err error) bool {
	f, ok := err.(*Fault)
	return ok && f.Subcode == "w:TimedOut"
}

// dropOnError ends a context whose page failed: an instance too big for
// the envelope leaves it open (a larger envelope may take it), anything
// else drops it.
func (h *Handler) dropOnError(e *enumeration, err error) {
	if f, ok := err.(*Fault); ok && (f.Subcode == "w:EncodingLimit" || f.Subcode == "w:TimedOut") {
		h.store.put(e)
		return
	}
	h.store.drop(e)
}

// pull answers WS-Enumeration Pull: the next page of the context.
func (h *Handler) pull(ctx context.Context, req *Request, timeout time.Duration) ([]byte, error) {
	p := req.Body
	if !p.Is(NSEnum, "Pull") {
		return nil, faultSchemaValidation("a Pull request's body must be wsen:Pull")
	}
	id := p.Child(NSEnum, "EnumerationContext").T()
	maxElems := 1
	if me := p.Child(NSEnum, "MaxElements"); me != nil {
		n, err := strconv.Atoi(me.T())
		if err != nil || n <= 0 {
			return nil, faultSchemaValidation("MaxElements %q is not a positive number", cim.Clip(me.T()))
		}
		maxElems = n
	}
	maxChars := 0
	if mc := p.Child(NSEnum, "MaxCharacters"); mc != nil {
		n, err := strconv.Atoi(mc.T())
		if err != nil || n <= 0 {
			return nil, faultSchemaValidation("MaxCharacters %q is not a positive number", cim.Clip(mc.T()))
		}
		maxChars = n
	}
	if mt := p.Child(NSEnum, "MaxTime").T(); mt != "" {
		d, err := ParseDuration(mt)
		if err != nil || d <= 0 {
			return nil, faultSchemaValidation("MaxTime %q is not a positive xs:duration", cim.Clip(mt))
		}
		timeout = min(timeout, d)
	}
	e, turn, err := h.store.take(id, cimom.ViewerFrom(ctx).User)
	if err != nil {
		return nil, err
	}
	defer h.store.dropIfBusy(e, turn)
	items, end, err := h.page(ctx, e, req, maxElems, maxChars, len(e.id)+128, time.Now().Add(timeout))
	if err != nil {
		h.dropOnError(e, err)
		return nil, err
	}
	var b []byte
	b = append(b, "<n:PullResponse>"...)
	if !end {
		b = append(b, "<n:EnumerationContext>"...)
		b = append(b, e.id...)
		b = append(b, "</n:EnumerationContext>"...)
	}
	b = append(b, "<n:Items>"...)
	b = append(b, items...)
	b = append(b, "</n:Items>"...)
	if end {
		h.store.drop(e)
		b = append(b, "<n:EndOfSequence/>"...)
	} else {
		h.store.put(e)
	}
	return append(b, "</n:PullResponse>"...), nil
}

// release answers WS-Enumeration Release.
func (h *Handler) release(ctx context.Context, req *Request) ([]byte, error) {
	if !req.Body.Is(NSEnum, "Release") {
		return nil, faultSchemaValidation("a Release request's body must be wsen:Release")
	}
	if !h.store.release(req.Body.Child(NSEnum, "EnumerationContext").T(), cimom.ViewerFrom(ctx).User) {
		return nil, faultInvalidContext()
	}
	return nil, nil
}

// page renders up to maxElems instances of the context, as many as the
// operation makes by deadline and as fit the envelope size the request
// allows (and maxChars, when given), and says whether the context is
// then finished. Nothing by the deadline is w:TimedOut; an instance too
// big on its own is wsman:EncodingLimit, which names the limit that bound
// it: MaxEnvelopeSize (with that fault detail) or MaxCharacters (DSP0226
// has no fault detail for it: none is sent).
func (h *Handler) page(ctx context.Context, e *enumeration, req *Request, maxElems, maxChars, extra int, deadline time.Time) ([]byte, bool, error) {
	maxElems = min(maxElems, h.cfg.MaxElements)
	room := h.envelopeLimit(req) - overhead(req) - extra
	byChars := maxChars > 0 && maxChars <= room
	if byChars {
		room = maxChars
	}
	if room <= 0 {
		// The response's own headers (a huge MessageID echoed) leave no
		// room: nothing is taken from the context.
		return nil, false, faultEncodingLimit("MaxEnvelopeSize", "the response's headers alone fill MaxEnvelopeSize %d", h.envelopeLimit(req))
	}
	insts, end, err := h.store.next(ctx, e, maxElems, deadline)
	if err != nil {
		return nil, false, err
	}
	if len(insts) == 0 && !end {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, faultTimedOut()
	}
	var b []byte
	for i, in := range insts {
		n := len(b)
		b = h.item(b, e, in)
		if i == 0 && len(insts) > 1 {
			// The rest are mostly the size of the first: room for them
			// all at once, within the envelope's.
			nb := make([]byte, len(b), max(len(b), min(room+len(b), len(b)*len(insts)*5/4+1024)))
			copy(nb, b)
			b = nb
		}
		if len(b) > room {
			b = b[:n]
			h.store.back(e, insts[i:])
			if i == 0 && byChars {
				return nil, false, faultEncodingLimit("", "an instance does not fit in the Pull's MaxCharacters %d; pull with a larger one", maxChars)
			}
			if i == 0 {
				return nil, false, faultEncodingLimit("MaxEnvelopeSize", "an instance does not fit in MaxEnvelopeSize %d; ask for a larger one", h.envelopeLimit(req))
			}
			return b, false, nil
		}
	}
	return b, end, nil
}

// item renders one instance in the context's enumeration mode.
func (h *Handler) item(b []byte, e *enumeration, in *cim.Instance) []byte {
	switch e.mode {
	case modeEPR:
		b = append(b, "<a:EndpointReference>"...)
		b = e.rend.epr(b, in.Path)
		return append(b, "</a:EndpointReference>"...)
	case modeObjectAndEPR:
		b = append(b, "<w:Item>"...)
		b = e.rend.instance(b, in, e.props)
		b = append(b, "<a:EndpointReference>"...)
		b = e.rend.epr(b, in.Path)
		return append(b, "</a:EndpointReference></w:Item>"...)
	}
	return e.rend.instance(b, in, e.props)
}

// filter returns the operation an Enumerate asks for, as a stream, and
// the properties to render (nil for all): all instances of the class, or
// those a WQL, selector or association filter picks. What can be checked
// at once (the dialect, the query's syntax, the class) is.
func (h *Handler) filter(res resource, en *Node, sels []Selector, shallow bool) (streamFunc, []string, error) {
	f := en.Child(NSWSMan, "Filter")
	if f == nil {
		f = en.Child(NSEnum, "Filter")
	}
	om := res.om
	selected := slices.ContainsFunc(sels, func(s Selector) bool { return !strings.EqualFold(s.Name, SelectorCIMNS) })
	if selected && (f != nil || res.kind != resInstances) {
		return nil, nil, faultInvalidSelectors("UnexpectedSelectors", codeUnexpectedSelectors, "selectors in the header of an Enumerate pick instances of a class's resource URI, without a filter")
	}
	if f == nil {
		if res.kind == resWildcard {
			return nil, nil, faultUnsupportedFeature("FilteringRequired", "a wildcard resource URI needs a filter (WQL or association) to say what to enumerate")
		}
		if selected {
			// As a selector filter: the instances whose properties the
			// selectors name have those values (a URI's ?Name=value).
			stream, err := h.selectorFilter(om, res.class, sels, shallow)
			return stream, nil, err
		}
		return func(ctx context.Context, emit provider.Emit) error {
			return om.StreamInstances(ctx, res.class, cimom.EnumOptions{Shallow: shallow}, emit)
		}, nil, nil
	}
	dialect, _ := f.Attr("Dialect")
	switch dialect {
	case DialectWQL, "":
		if dialect == "" && len(f.Children) > 0 {
			return nil, nil, faultDialectUnavailable(dialect)
		}
		q, err := om.Compile(f.T())
		if err != nil {
			return nil, nil, faultCannotProcessFilter("%s", errorText(err))
		}
		if _, ok := q.Statement().(*wql.EventQuery); ok {
			return nil, nil, faultCannotProcessFilter("an event query delivers events as they happen; enumerate with a data query (SELECT, ASSOCIATORS OF, REFERENCES OF)")
		}
		return func(ctx context.Context, emit provider.Emit) error {
			err := om.StreamQuery(ctx, q, emit)
			if cim.CodeOf(err) == cim.ErrNotSupported || cim.CodeOf(err) == cim.ErrInvalidQuery {
				err = faultCannotProcessFilter("%s", errorText(err))
			}
			return err
		}, cimom.QueryProperties(q), nil
	case DialectSelector:
		if res.kind != resInstances {
			return nil, nil, faultCannotProcessFilter("a selector filter needs a class's resource URI")
		}
		ss := f.Child(NSWSMan, "SelectorSet")
		if ss == nil {
			return nil, nil, faultCannotProcessFilter("a selector filter needs a SelectorSet")
		}
		sels, err := decodeSelectorSet(ss)
		if err != nil {
			return nil, nil, err
		}
		stream, err := h.selectorFilter(om, res.class, sels, shallow)
		return stream, nil, err
	case DialectAssociation:
		return h.assocFilter(res, f)
	}
	return nil, nil, faultDialectUnavailable(dialect)
}

// errorText is an error's description without its CIM status name.
func errorText(err error) string {
	if ce, ok := err.(*cim.Error); ok {
		return ce.Description
	}
	return err.Error()
}

// selectorFilter enumerates the instances of class of om's namespace
// whose properties equal the selectors (strings whatever their case, as
// WMI compares keys).
func (h *Handler) selectorFilter(om *cimom.ObjectManager, class string, sels []Selector, shallow bool) (streamFunc, error) {
	c, _ := om.Schema().Class(class)
	want := map[string]string{}
	keys := map[string]any{}
	allKeys := true
	for _, s := range sels {
		if strings.EqualFold(s.Name, SelectorCIMNS) {
			continue
		}
		p := c.Property(s.Name)
		if p == nil {
			return nil, faultInvalidSelectors("UnexpectedSelectors", codeUnexpectedSelectors, "%s has no property %q", c.Name, cim.Clip(s.Name))
		}
		if s.EPR != nil {
			ref, _, err := h.eprPath(s.EPR)
			if err != nil {
				return nil, err
			}
			want[strings.ToLower(p.Name)] = ref.Canonical()
		} else {
			want[strings.ToLower(p.Name)] = strings.TrimSpace(s.Value)
		}
		if p.IsKey() && p.Type.Kind == cim.KindString && s.EPR == nil {
			keys[strings.ToLower(p.Name)] = strings.TrimSpace(s.Value)
		} else {
			allKeys = false
		}
	}
	match := func(in *cim.Instance) bool {
		for name, v := range want {
			got := in.Value(name)
			s := cim.FormatValue(got)
			if ref, isRef := got.(cim.ObjectPath); isRef {
				s = ref.Canonical()
			}
			if got == nil || !strings.EqualFold(s, v) {
				return false
			}
		}
		return true
	}
	return func(ctx context.Context, emit provider.Emit) error {
		opts := cimom.EnumOptions{Shallow: shallow}
		if allKeys && len(keys) > 0 {
			opts.Hint = provider.Hint{Keys: keys}
		}
		var out []*cim.Instance
		return om.StreamInstances(ctx, c.Name, opts, func(batch []*cim.Instance) error {
			out = out[:0]
			for _, in := range batch {
				if match(in) {
					out = append(out, in)
				}
			}
			return emit(out)
		})
	}, nil
}

// assocFilter reads DSP0227's association filter: AssociatedInstances
// (ASSOCIATORS OF) or AssociationInstances (REFERENCES OF).
func (h *Handler) assocFilter(res resource, f *Node) (streamFunc, []string, error) {
	var n *Node
	refs := false
	if n = f.Child(NSCIMBind, "AssociatedInstances"); n == nil {
		if n = f.Child(NSCIMBind, "AssociationInstances"); n == nil {
			return nil, nil, faultCannotProcessFilter("an association filter needs AssociatedInstances or AssociationInstances")
		}
		refs = true
	}
	obj := n.Child(NSCIMBind, "Object")
	if obj == nil {
		return nil, nil, faultCannotProcessFilter("an association filter needs the Object whose associations to follow")
	}
	epr, err := decodeEPR(obj)
	if err != nil {
		return nil, nil, err
	}
	path, om, err := h.eprPath(epr)
	if err != nil {
		return nil, nil, err
	}
	if om != res.om {
		// The answer is rendered in the resource URI's namespace: objects
		// of another would come back under names that do not exist there.
		return nil, nil, faultCannotProcessFilter("the Object is in %s, the resource URI in %s: ask for its associations under a resource URI of its own namespace", om.Namespace(), res.namespace)
	}
	opts := cimom.AssocOptions{
		AssocClass:  n.Child(NSCIMBind, "AssociationClassName").T(),
		ResultClass: n.Child(NSCIMBind, "ResultClassName").T(),
		Role:        n.Child(NSCIMBind, "Role").T(),
		ResultRole:  n.Child(NSCIMBind, "ResultRole").T(),
	}
	for _, cn := range []string{opts.AssocClass, opts.ResultClass} {
		if cn != "" {
			if _, err := om.Schema().Class(cn); err != nil {
				return nil, nil, faultCannotProcessFilter("no class %q", cim.Clip(cn))
			}
		}
	}
	var props []string
	for _, c := range n.Children {
		if c.Is(NSCIMBind, "IncludeResultProperty") {
			props = append(props, c.T())
		}
	}
	// The join is held whole by the object manager (bounded there) and
	// handed on in batches.
	return func(ctx context.Context, emit provider.Emit) error {
		var insts []*cim.Instance
		var err error
		if refs {
			insts, err = om.References(ctx, path, opts)
		} else {
			insts, err = om.Associators(ctx, path, opts)
		}
		if cim.CodeOf(err) == cim.ErrInvalidParameter {
			err = faultCannotProcessFilter("%s", errorText(err))
		}
		if err != nil {
			return err
		}
		return provider.EmitSlice(ctx, insts, emit)
	}, props, nil
}
