package wsman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/wql"
)

// Client asks a WS-Management service (cimsess's, or WinRM on Windows)
// for CIM instances, with HTTP Basic authentication, shaping its messages
// as WinRM's own clients do (MS-WSMV): WMI resource URIs, optimized
// enumerations pulled page by page, WQL filters.
type Client struct {
	// URL is the service's address, such as https://host:5986/wsman.
	URL string
	// User and Password authenticate with HTTP Basic when User is set.
	User, Password string
	// HTTP sends the requests; nil is http.DefaultClient.
	HTTP *http.Client
	// Schema types the values of the classes it knows; the values of
	// others are strings.
	Schema *schema.Registry
	// Namespace is the CIM namespace asked (default root/cimv2).
	Namespace string
	// PageSize is how many instances a page asks for (default 100).
	PageSize int
	// MaxEnvelopeSize is the largest response asked for (default 512000).
	MaxEnvelopeSize int
	// OperationTimeout is each request's timeout (default 60 s).
	OperationTimeout time.Duration
	// MaxResponseBytes bounds what is read of one response (default
	// 4 × MaxEnvelopeSize).
	MaxResponseBytes int
}

func (c *Client) ns() string {
	if c.Namespace == "" {
		return defaultCIMNS
	}
	return normNamespace(c.Namespace)
}

// ResourceURI is the WMI resource URI of class ("*" for the wildcard).
func (c *Client) ResourceURI(class string) string { return PrefixWMI + c.ns() + "/" + class }

// Host is the host name of the service's URL: what the instances' paths
// name as their server.
func (c *Client) Host() string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Send posts one message and returns the decoded response envelope. A
// SOAP fault comes back as a *cim.Error whose description is the fault's
// subcode and reason; HTTP errors as *cim.Error too.
func (c *Client) Send(ctx context.Context, m Message) (*Node, error) {
	if m.To == "" {
		m.To = c.URL
	}
	if m.MaxEnvelopeSize == 0 {
		m.MaxEnvelopeSize = c.maxEnv()
	}
	if m.OperationTimeout == 0 {
		m.OperationTimeout = c.timeout()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(m.Envelope()))
	if err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%v", err)
	}
	req.Header.Set("Content-Type", ContentType)
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "%v", err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = 4 * c.maxEnv()
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "reading the response of %s: %v", c.URL, err)
	}
	if len(data) > limit {
		return nil, cim.Errorf(cim.ErrFailed, "the response of %s is over %d bytes", c.URL, limit)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil, cim.Errorf(cim.ErrAccessDenied, "%s: wrong user name or password (HTTP 401)", c.URL)
	case http.StatusOK, http.StatusInternalServerError, http.StatusBadRequest:
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return nil, cim.Errorf(cim.ErrFailed, "%s: HTTP %s: a redirect to %s, which is not followed (the password would go with it)", c.URL, resp.Status, cim.Clip(resp.Header.Get("Location")))
	default:
		return nil, cim.Errorf(cim.ErrFailed, "%s: HTTP %s: %s", c.URL, resp.Status, cim.Clip(strings.TrimSpace(string(data))))
	}
	env, err := Parse(data, Limits{MaxBytes: limit, MaxElements: 1 << 22, MaxDepth: 64, MaxAttrs: 64})
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "%s: the response is not a SOAP envelope: %v", c.URL, err)
	}
	b := env.Child(NSSOAP, "Body")
	if f := b.Child(NSSOAP, "Fault"); f != nil {
		return nil, faultError(f)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, cim.Errorf(cim.ErrFailed, "%s: HTTP %s", c.URL, resp.Status)
	}
	return env, nil
}

func (c *Client) maxEnv() int {
	if c.MaxEnvelopeSize > 0 {
		return c.MaxEnvelopeSize
	}
	return DefaultMaxEnvelopeSize
}

func (c *Client) timeout() time.Duration {
	if c.OperationTimeout > 0 {
		return c.OperationTimeout
	}
	return DefaultOperationTimeout
}

// faultError turns a received SOAP fault into a *cim.Error with the CIM
// code closest to its meaning.
func faultError(f *Node) *cim.Error {
	code := f.Child(NSSOAP, "Code")
	sub := code.Child(NSSOAP, "Subcode").Child(NSSOAP, "Value").T()
	if sub == "" {
		sub = code.Child(NSSOAP, "Value").T()
	}
	reason := f.Child(NSSOAP, "Reason").Child(NSSOAP, "Text").T()
	detail := f.Child(NSSOAP, "Detail")
	wmf := detail.Child(NSMSFault, "WSManFault")
	if reason == "" {
		reason = wmf.Child(NSMSFault, "Message").T()
	}
	status := cim.ErrFailed
	_, local, _ := strings.Cut(sub, ":")
	if local == "" {
		local = sub
	}
	wcode, _ := wmf.Attr("Code")
	// WinRM puts what WMI said in a ProviderFault inside the message.
	inner, _ := wmf.Child(NSMSFault, "Message").Child(NSMSFault, "ProviderFault").Child(NSMSFault, "WSManFault").Attr("Code")
	switch {
	case wcode == fmt.Sprint(uint32(wbemInvalidNamespace)) || inner == fmt.Sprint(uint32(wbemInvalidNamespace)):
		status = cim.ErrInvalidNamespace
	case wcode == fmt.Sprint(uint32(wbemNotFound)):
		status = cim.ErrNotFound
	case wcode == fmt.Sprint(uint32(wbemInvalidClass)):
		status = cim.ErrInvalidClass
	case local == "InvalidSelectors":
		status = cim.ErrInvalidParameter
	case local == "CannotProcessFilter" || local == "FilterDialectRequestedUnavailable":
		status = cim.ErrInvalidQuery
	case local == "AccessDenied":
		status = cim.ErrAccessDenied
	case local == "DestinationUnreachable":
		status = cim.ErrInvalidClass
		if strings.HasSuffix(detail.Child(NSWSMan, "FaultDetail").T(), "InvalidResourceURI") {
			status = cim.ErrInvalidClass
		} else {
			status = cim.ErrNotFound
		}
	case local == "ActionNotSupported" || local == "UnsupportedFeature":
		status = cim.ErrNotSupported
	}
	e := cim.Errorf(status, "%s: %s", sub, reason)
	if local == "TimedOut" {
		e.Err = errTimedOut
	}
	return e
}

// errTimedOut is the cause of a w:TimedOut fault's error, whatever prefix
// the server gave its namespace: a Pull with nothing ready yet.
var errTimedOut = errors.New("timed out")

// Identify asks the service who it is (anonymously: WinRM's
// WSMANIDENTIFY header is not needed with credentials) and returns its
// vendor and version.
func (c *Client) Identify(ctx context.Context) (vendor, version string, err error) {
	env, err := c.Send(ctx, Message{Body: "<wsmid:Identify/>"})
	if err != nil {
		return "", "", err
	}
	r := env.Child(NSSOAP, "Body").Child(NSIdentity, "IdentifyResponse")
	if r == nil {
		return "", "", cim.Errorf(cim.ErrFailed, "%s: no IdentifyResponse", c.URL)
	}
	return r.Child(NSIdentity, "ProductVendor").T(), r.Child(NSIdentity, "ProductVersion").T(), nil
}

// Get returns the instance of class with the given keys. A GetResponse
// carries the instance alone, not its path: when the schema does not know
// its class (so cannot tell its keys), the instance takes the keys asked,
// its class name as sent, for the caller to compare with path's.
func (c *Client) Get(ctx context.Context, path cim.ObjectPath) (*cim.Instance, error) {
	sels, err := c.selectors(path)
	if err != nil {
		return nil, err
	}
	env, err := c.Send(ctx, Message{Action: ActionGet, ResourceURI: c.ResourceURI(path.ClassName), Selectors: sels})
	if err != nil {
		return nil, err
	}
	b := env.Child(NSSOAP, "Body")
	if len(b.Children) == 0 {
		return nil, cim.Errorf(cim.ErrFailed, "%s: an empty GetResponse", c.URL)
	}
	in, err := c.decodeInstance(b.Children[0])
	if err != nil {
		return nil, err
	}
	c.Schema.KeepAskedKeys(in, path)
	return in, nil
}

// selectors returns a path's keys as selectors; reference keys as
// endpoint references.
func (c *Client) selectors(p cim.ObjectPath) ([]Selector, error) {
	var out []Selector
	for _, k := range p.Keys {
		if ref, ok := k.Value.(cim.ObjectPath); ok {
			sels, err := c.selectors(ref)
			if err != nil {
				return nil, err
			}
			out = append(out, Selector{Name: k.Name, EPR: &EPR{ResourceURI: c.ResourceURI(ref.ClassName), Selectors: sels}})
			continue
		}
		out = append(out, Selector{Name: k.Name, Value: cim.FormatValue(k.Value)})
	}
	return out, nil
}

// EnumerateClass enumerates the instances of class (and its subclasses),
// calling page with each page as it arrives. Each instance's path is
// the schema's when it knows the instance's class, else the one the
// service sends with it (EnumerateObjectAndEPR): a class the schema
// knows may have subclasses it does not (Win32_Account's Win32_Group).
func (c *Client) EnumerateClass(ctx context.Context, class string, page func([]*cim.Instance) error) error {
	return c.enumerate(ctx, c.ResourceURI(class), "", "", true, page)
}

// Query runs a WQL query (SELECT, ASSOCIATORS OF, REFERENCES OF) on the
// wildcard resource URI, calling page with each page as it arrives. An
// instance's path is the schema's when it knows the instance's class,
// else the one the service sends with it (EnumerateObjectAndEPR, asked
// of every query whose results are instances).
func (c *Client) Query(ctx context.Context, wql string, page func([]*cim.Instance) error) error {
	return c.enumerate(ctx, c.ResourceURI("*"), DialectWQL, string(esc(nil, wql)), queryNeedsEPRs(wql), page)
}

// queryNeedsEPRs reports whether the results of a WQL query are
// instances, whose classes the schema may not know (a SELECT is
// polymorphic), so that their paths are asked of the service. Classes
// (meta_class, ClassDefsOnly, SchemaOnly, the associations of a class)
// have their paths as they are, and a query that does not parse is the
// service's to refuse.
func queryNeedsEPRs(query string) bool {
	st, err := wql.Parse(query)
	if err != nil {
		return false
	}
	switch q := st.(type) {
	case *wql.Select:
		return !strings.EqualFold(q.Class, wql.MetaClass)
	case *wql.Associators:
		return !q.ClassDefsOnly && !q.SchemaOnly && !q.Path.IsClass()
	case *wql.References:
		return !q.ClassDefsOnly && !q.SchemaOnly && !q.Path.IsClass()
	}
	return false
}

// Enumerate runs an optimized enumeration of resourceURI with an optional
// filter (dialect and its XML content) and pulls it to the end, calling
// page with each page's instances. An error of page releases the
// enumeration and is returned.
func (c *Client) Enumerate(ctx context.Context, resourceURI, dialect, filter string, page func([]*cim.Instance) error) error {
	return c.enumerate(ctx, resourceURI, dialect, filter, false, page)
}

// enumerate is Enumerate, in mode EnumerateObjectAndEPR when withEPRs:
// each item then holds its endpoint reference too, which gives its path.
// A service that ignores the mode sends the objects alone, whose paths
// are then the schema's (keyless for a class it does not know).
func (c *Client) enumerate(ctx context.Context, resourceURI, dialect, filter string, withEPRs bool, page func([]*cim.Instance) error) error {
	n := c.PageSize
	if n <= 0 {
		n = 100
	}
	mode := ""
	if withEPRs {
		mode = "EnumerateObjectAndEPR"
	}
	env, err := c.Send(ctx, Message{Action: ActionEnumerate, ResourceURI: resourceURI, Body: EnumerateBody(n, dialect, filter, mode)})
	if err != nil && mode != "" && cim.CodeOf(err) == cim.ErrNotSupported {
		// A service that refuses the mode (w:UnsupportedFeature) is
		// asked for the objects alone, as before the mode was asked:
		// their paths are then the schema's.
		env, err = c.Send(ctx, Message{Action: ActionEnumerate, ResourceURI: resourceURI, Body: EnumerateBody(n, dialect, filter, "")})
	}
	if err != nil {
		return err
	}
	r := env.Child(NSSOAP, "Body").Child(NSEnum, "EnumerateResponse")
	if r == nil {
		return cim.Errorf(cim.ErrFailed, "%s: no EnumerateResponse", c.URL)
	}
	items, end := r.Child(NSWSMan, "Items"), r.Child(NSWSMan, "EndOfSequence") != nil
	id := r.Child(NSEnum, "EnumerationContext").T()
	timeouts, empty := 0, 0
	for {
		if items == nil || len(items.Children) == 0 {
			empty++
		} else {
			empty = 0
		}
		if empty > maxEmptyPages {
			c.release(resourceURI, id, end)
			return cim.Errorf(cim.ErrFailed, "%s: %d pages in a row without an instance or the end of the enumeration: given up", c.URL, maxEmptyPages)
		}
		if items != nil {
			insts := make([]*cim.Instance, 0, len(items.Children))
			for _, it := range items.Children {
				in, err := c.decodeInstance(it)
				if err != nil {
					c.release(resourceURI, id, end)
					return err
				}
				insts = append(insts, in)
			}
			if err := page(insts); err != nil {
				c.release(resourceURI, id, end)
				return err
			}
		}
		if end {
			return nil
		}
		if id == "" {
			return cim.Errorf(cim.ErrFailed, "%s: an enumeration without a context and without an end", c.URL)
		}
		env, err := c.Send(ctx, Message{Action: ActionPull, ResourceURI: resourceURI, Body: PullBody(id, n)})
		if err != nil {
			if errors.Is(err, errTimedOut) && timeouts < maxTimeouts {
				timeouts++
				items = nil // nothing ready yet: pull again
				empty--     // counted as a timeout, not an empty page
				continue
			}
			c.release(resourceURI, id, false)
			return err
		}
		r := env.Child(NSSOAP, "Body").Child(NSEnum, "PullResponse")
		if r == nil {
			return cim.Errorf(cim.ErrFailed, "%s: no PullResponse", c.URL)
		}
		timeouts = 0
		items, end = r.Child(NSEnum, "Items"), r.Child(NSEnum, "EndOfSequence") != nil
		if next := r.Child(NSEnum, "EnumerationContext").T(); next != "" {
			id = next
		}
	}
}

// maxTimeouts is how many Pulls in a row may time out (WinRM's way of
// saying "nothing yet") before the client gives up; maxEmptyPages how
// many may answer neither an instance nor the end, as a server that never
// ends its enumeration would.
const (
	maxTimeouts   = 30
	maxEmptyPages = 30
)

// release releases an enumeration the client stops pulling.
func (c *Client) release(resourceURI, id string, ended bool) {
	if ended || id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = c.Send(ctx, Message{Action: ActionRelease, ResourceURI: resourceURI, Body: ReleaseBody(id)})
}

// decodeInstance reads an instance rendered per DSP0230 (or an
// EndpointReference, as the path alone): the element names the class,
// each child a property, typed by the schema when it knows the class. An
// Item of EnumerateObjectAndEPR holds the instance and its
// EndpointReference (in either order), which gives its path when the
// schema cannot.
func (c *Client) decodeInstance(n *Node) (*cim.Instance, error) {
	var epr *Node
	if n.Is(NSWSMan, "Item") {
		obj, ref, err := splitItem(n)
		if err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "%s: %v", c.URL, err)
		}
		if obj != nil {
			n, epr = obj, ref
		} else {
			n = ref // the reference alone: the path without the object
		}
	}
	if n.Is(NSAddr, "EndpointReference") {
		p, err := c.eprToPath(n)
		if err != nil {
			return nil, err
		}
		in := cim.NewInstance(p.ClassName)
		for _, k := range p.Keys {
			in.Set(k.Name, k.Value)
		}
		in.Path = p
		return in, nil
	}
	var class *cim.Class
	if c.Schema != nil {
		class, _ = c.Schema.Class(n.Name.Local)
	}
	in := cim.NewInstance(n.Name.Local)
	if class != nil {
		in.ClassName = class.Name
	}
	for _, pe := range n.Children {
		name := pe.Name.Local
		var prop *cim.Property
		if class != nil {
			if prop = class.Property(name); prop != nil {
				name = prop.Name
			}
		}
		v, err := c.decodeValue(pe, prop)
		if err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "%s.%s: %v", in.ClassName, name, err)
		}
		old, had := in.Get(name)
		switch {
		case !had:
			if prop != nil && prop.Type.Array && v != nil {
				v = []any{v}
			}
			in.Set(name, v)
		case v == nil:
		default:
			arr, isArr := old.([]any)
			if !isArr {
				arr = []any{old}
			}
			in.Set(name, append(arr, v))
		}
	}
	p := cim.ObjectPath{Host: c.Host(), Namespace: c.ns(), ClassName: in.ClassName}
	known := false
	if c.Schema != nil && class != nil {
		if path, err := c.Schema.PathOf(in, c.Host(), c.ns()); err == nil {
			p, known = path, true
		}
	}
	if epr != nil && !known {
		// The schema cannot tell the keys (it lacks the class, or the
		// instance lacks a key's value): the service's path of the
		// instance tells them. Its class is the instance's, which the
		// reference may name less precisely. A reference this client
		// cannot read (another vendor's resource URI), or one that
		// cannot be the instance's, leaves the path as it was without
		// the mode: asked only to better the paths, it costs no row.
		if ep, ok := c.instancePath(epr, in.ClassName); ok {
			p = ep
		}
	}
	in.Path = p
	return in, nil
}

// instancePath returns the path that epr, sent with an instance of
// class, gives it; false when epr cannot be read, repeats a selector, or
// names another class than class that the schema does not know for one
// of its superclasses or subclasses (a wrong path is worse than none).
func (c *Client) instancePath(epr *Node, class string) (cim.ObjectPath, bool) {
	ep, err := c.eprToPath(epr)
	if err != nil {
		return ep, false
	}
	for i, k := range ep.Keys {
		for _, other := range ep.Keys[:i] {
			if strings.EqualFold(k.Name, other.Name) {
				return ep, false
			}
		}
	}
	if !strings.EqualFold(ep.ClassName, class) && (!c.Schema.Knows(ep.ClassName) || !c.Schema.Knows(class) ||
		!c.Schema.IsA(class, ep.ClassName) && !c.Schema.IsA(ep.ClassName, class)) {
		return ep, false
	}
	ep.ClassName = class
	if ep.Namespace == "" {
		ep.Namespace = c.ns()
	}
	return ep, true
}

// splitItem returns what a wsman:Item holds: an object, its
// EndpointReference, or both (EnumerateObjectAndEPR), either nil when
// missing. DSP0226 puts the object first; the order is not relied on. An
// Item that is empty or holds two of either is an error.
func splitItem(item *Node) (obj, epr *Node, err error) {
	for _, ch := range item.Children {
		if ch.Is(NSAddr, "EndpointReference") {
			if epr != nil {
				return nil, nil, errors.New("an enumeration item with two EndpointReferences")
			}
			epr = ch
			continue
		}
		if obj != nil {
			return nil, nil, fmt.Errorf("an enumeration item with two objects (%s and %s)", cim.Clip(obj.Name.Local), cim.Clip(ch.Name.Local))
		}
		obj = ch
	}
	if obj == nil && epr == nil {
		return nil, nil, errors.New("an empty enumeration item")
	}
	return obj, epr, nil
}

// decodeValue reads one property element's value.
func (c *Client) decodeValue(pe *Node, prop *cim.Property) (any, error) {
	if nilv, _ := attrNS(pe, NSXSI, "nil"); nilv == "true" || nilv == "1" {
		return nil, nil
	}
	if dt := pe.Child(NSCommon, "Datetime"); dt != nil {
		return parseXSDateTime(dt.T())
	}
	if iv := pe.Child(NSCommon, "Interval"); iv != nil {
		d, err := ParseDuration(iv.T())
		if err != nil {
			return nil, err
		}
		return cim.NewInterval(d), nil
	}
	if cd := pe.Child(NSCommon, "CIMDateTime"); cd != nil {
		return cim.ParseDateTime(cd.T())
	}
	if pe.Child(NSAddr, "ReferenceParameters") != nil || pe.Child(NSAddr, "Address") != nil {
		return c.eprToPath(pe)
	}
	if prop == nil || prop.Type.Kind == cim.KindString {
		return pe.Text, nil
	}
	if prop.Type.Kind == cim.KindDateTime {
		return cim.ParseDateTime(pe.T())
	}
	return cim.ParseValue(prop.Type.Scalar(), pe.T())
}

// eprToPath reads an endpoint reference (the node holds Address and
// ReferenceParameters) as an object path on the remote host.
func (c *Client) eprToPath(n *Node) (cim.ObjectPath, error) {
	e, err := decodeEPR(n)
	if err != nil {
		return cim.ObjectPath{}, err
	}
	return c.pathOfEPR(e)
}

// pathOfEPR returns the object path an endpoint reference names.
func (c *Client) pathOfEPR(e *EPR) (cim.ObjectPath, error) {
	res, ok := parseResourceURI(e.ResourceURI, e.Selectors)
	if !ok || res.class == "" {
		return cim.ObjectPath{}, cim.Errorf(cim.ErrFailed, "a reference to %q, which names no class", cim.Clip(e.ResourceURI))
	}
	p := cim.ObjectPath{Host: c.Host(), Namespace: res.namespace, ClassName: res.class}
	var class *cim.Class
	if c.Schema != nil {
		if cl, err := c.Schema.Class(res.class); err == nil {
			class, p.ClassName = cl, cl.Name
		}
	}
	for _, s := range e.Selectors {
		if strings.EqualFold(s.Name, SelectorCIMNS) {
			continue
		}
		var v any = strings.TrimSpace(s.Value)
		if s.EPR != nil {
			ref, err := c.pathOfEPR(s.EPR)
			if err != nil {
				return p, err
			}
			v = ref
		} else if class != nil {
			if kp := class.Property(s.Name); kp != nil && kp.Type.Kind != cim.KindString {
				if tv, err := cim.ParseValue(kp.Type.Scalar(), s.Value); err == nil {
					v = tv
				}
			}
		}
		p.Keys = append(p.Keys, cim.KeyBinding{Name: s.Name, Value: v})
	}
	return p, nil
}
