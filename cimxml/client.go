package cimxml

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// Client asks a CIM-XML server (DSP0200: cimsess serve, OpenPegasus,
// SFCB, WMI through a gateway) for the instances of a namespace (root/cimv2
// unless Namespace names another) with EnumerateInstances, GetInstance and
// ExecQuery, over HTTP Basic.
type Client struct {
	// URL is the server's CIM operations address, such as
	// https://host:5989/cimom.
	URL string
	// User and Password authenticate with HTTP Basic when User is set.
	User, Password string
	// HTTP sends the requests; nil is http.DefaultClient.
	HTTP *http.Client
	// Schema types what the server leaves untyped (key bindings); nil
	// keeps them as sent.
	Schema *schema.Registry
	// MaxResponseBytes bounds what is read of a response (default
	// DefaultMaxResponseBytes).
	MaxResponseBytes int64
	// Namespace is the CIM namespace asked, such as root/interop ('/' or
	// '\' separators; default root/cimv2). The paths of the instances
	// that come back name it.
	Namespace string
}

// clientNS is the namespace asked when Client.Namespace is empty.
const clientNS = "root/cimv2"

// ns is the namespace asked, with '/' separators and no outer ones.
func (c *Client) ns() string {
	ns := strings.Trim(strings.ReplaceAll(strings.TrimSpace(c.Namespace), `\`, "/"), "/")
	if ns == "" {
		return clientNS
	}
	return ns
}

// Host is the host name of the server's URL: what the instances' paths
// name as their server.
func (c *Client) Host() string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// EnumerateClass runs EnumerateInstances of class (deep, all properties)
// and hands the result to page, in one page: DSP0200's read-only server
// has one response per request.
func (c *Client) EnumerateClass(ctx context.Context, class string, page func([]*cim.Instance) error) error {
	insts, err := c.call(ctx, "EnumerateInstances", iparam("ClassName", `<CLASSNAME NAME="`+Escape(class)+`"/>`)+
		iparam("DeepInheritance", "<VALUE>TRUE</VALUE>")+iparam("LocalOnly", "<VALUE>FALSE</VALUE>"))
	if err != nil {
		return err
	}
	return page(insts)
}

// Query runs ExecQuery with WQL and hands the result to page.
func (c *Client) Query(ctx context.Context, wql string, page func([]*cim.Instance) error) error {
	insts, err := c.call(ctx, "ExecQuery", iparam("QueryLanguage", "<VALUE>WQL</VALUE>")+iparam("Query", "<VALUE>"+Escape(wql)+"</VALUE>"))
	if err != nil {
		return err
	}
	return page(insts)
}

// Get runs GetInstance of path.
func (c *Client) Get(ctx context.Context, path cim.ObjectPath) (*cim.Instance, error) {
	e := NewEncoder(nil)
	e.InstanceName(path.Relative())
	insts, err := c.call(ctx, "GetInstance", iparam("InstanceName", string(e.Bytes()))+iparam("LocalOnly", "<VALUE>FALSE</VALUE>"))
	if err != nil {
		return nil, err
	}
	if len(insts) != 1 {
		return nil, cim.Errorf(cim.ErrFailed, "%s: GetInstance returned %d instances", c.URL, len(insts))
	}
	in := insts[0]
	c.Schema.KeepAskedKeys(in, path) // GetInstance answers an INSTANCE, without its path (DSP0200)
	return in, nil
}

func iparam(name, value string) string {
	return `<IPARAMVALUE NAME="` + name + `">` + value + `</IPARAMVALUE>`
}

// call sends one intrinsic method call and decodes the instances of its
// response.
func (c *Client) call(ctx context.Context, method, params string) ([]*cim.Instance, error) {
	ns := c.ns()
	e := NewEncoder(nil)
	e.LocalNamespacePath(ns)
	body := `<?xml version="1.0" encoding="utf-8"?>` +
		`<CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="` + method + `">` +
		string(e.Bytes()) + params +
		`</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(body))
	if err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%v", err)
	}
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.Header.Set("CIMOperation", "MethodCall")
	req.Header.Set("CIMMethod", method)
	req.Header.Set("CIMObject", url.QueryEscape(ns))
	// A server that streams its answer tells an error found after the
	// first byte in the CIMStatusCode trailer (DSP0200).
	req.Header.Set("TE", "trailers")
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
	max := c.MaxResponseBytes
	if max <= 0 {
		max = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "reading the response of %s: %v", c.URL, err)
	}
	if int64(len(data)) > max {
		return nil, cim.Errorf(cim.ErrFailed, "the response of %s is over %d bytes", c.URL, max)
	}
	if code := strings.TrimSpace(resp.Trailer.Get("CIMStatusCode")); code != "" && code != "0" {
		// The trailers carry a failure's status however early it came; a
		// body that is a whole answer with its ERROR says it as it is,
		// one cut short failed after it began.
		if _, perr := Parse(data, Limits{MaxElements: responseItems(max), MaxDepth: 64, MaxAttributes: 64}); perr == nil {
			if _, err := decodeResponse(data, c.Host(), ns, c.Schema, responseItems(max)); err != nil && cim.CodeOf(err) == wireStatus(code) {
				return nil, cim.Wrapf(cim.CodeOf(err), err, "%s", c.URL)
			}
		}
		return nil, cim.Errorf(wireStatus(code), "%s: the answer failed after it began: %s", c.URL, resp.Trailer.Get("CIMStatusCodeDescription"))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, cim.Errorf(cim.ErrAccessDenied, "%s: wrong user name or password (HTTP 401)", c.URL)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, cim.Errorf(cim.ErrFailed, "%s: HTTP %s: a redirect to %s, which is not followed (the password would go with it)", c.URL, resp.Status, cim.Clip(resp.Header.Get("Location")))
	case resp.StatusCode != http.StatusOK:
		return nil, cim.Errorf(cim.ErrFailed, "%s: HTTP %s %s: %s", c.URL, resp.Status, resp.Header.Get("CIMError"), cim.Clip(strings.TrimSpace(string(data))))
	}
	insts, err := decodeResponse(data, c.Host(), ns, c.Schema, responseItems(max))
	if err != nil {
		return nil, cim.Wrapf(cim.ErrFailed, err, "%s", c.URL)
	}
	return insts, nil
}

// wireStatus is the CIM status a server's code says (an ERROR's CODE, the
// CIMStatusCode trailer): CIM_ERR_FAILED for one that is not a failure's
// code of DSP0200 (0, a negative number, a word), whose error must not
// read as success.
func wireStatus(code string) cim.Status {
	n, err := strconv.Atoi(strings.TrimSpace(code))
	if err != nil || n <= 0 || n > int(cim.ErrServerIsShuttingDown) {
		return cim.ErrFailed
	}
	return cim.Status(n)
}

// DefaultMaxResponseBytes bounds a response when Client.MaxResponseBytes
// is 0. The whole answer is read and parsed into memory: its elements,
// attributes, comments and pieces of text are bounded too, one for every
// 8 bytes of the bound (a real answer has one for every 14 or so, 130 a
// session, 1.8 KB), so that a hostile server's flood of tiny ones costs at
// most some 18 times the bound in memory. 128 MiB holds some 75,000
// sessions; a bigger host is better asked over WS-Management, page by
// page, or with a bigger bound.
const DefaultMaxResponseBytes = 128 << 20

// responseItems is how many items (see DefaultMaxResponseBytes) an answer
// of at most max bytes may hold.
func responseItems(max int64) int { return int(max/8) + 1<<16 }

// DecodeResponse reads the instances of a simple CIM-XML response
// (VALUE.NAMEDINSTANCE, VALUE.OBJECTWITHPATH or INSTANCE in IRETURNVALUE);
// an ERROR becomes a *cim.Error of its code. Paths name host and
// root/cimv2; reg, when not nil, gives the paths of instances that come
// without one.
func DecodeResponse(data []byte, host string, reg *schema.Registry) ([]*cim.Instance, error) {
	return decodeResponse(data, host, clientNS, reg, responseItems(DefaultMaxResponseBytes))
}

// decodeResponse is DecodeResponse with at most items items (see
// DefaultMaxResponseBytes), the paths naming namespace ns.
func decodeResponse(data []byte, host, ns string, reg *schema.Registry, items int) ([]*cim.Instance, error) {
	root, err := Parse(data, Limits{MaxElements: items, MaxDepth: 64, MaxAttributes: 64})
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "the response is not CIM-XML: %v", err)
	}
	var rsp *Node
	if msg := root.Child("MESSAGE"); msg != nil {
		rsp = msg.Child("SIMPLERSP")
	}
	if root.Name != "CIM" || rsp == nil {
		return nil, cim.Errorf(cim.ErrFailed, "the response is not a simple CIM-XML response")
	}
	mr := rsp.Child("IMETHODRESPONSE")
	if mr == nil {
		return nil, cim.Errorf(cim.ErrFailed, "the response has no IMETHODRESPONSE")
	}
	if e := mr.Child("ERROR"); e != nil {
		code, _ := e.Attr("CODE")
		desc, _ := e.Attr("DESCRIPTION")
		if st := wireStatus(code); st != cim.ErrFailed || code == "1" {
			return nil, cim.Errorf(st, "%s", desc)
		}
		return nil, cim.Errorf(cim.ErrFailed, "an error of code %q, which is none of DSP0200's: %s", cim.Clip(code), desc)
	}
	rv := mr.Child("IRETURNVALUE")
	if rv == nil {
		return nil, nil
	}
	var out []*cim.Instance
	for _, c := range rv.Children {
		var inst *Node
		var path cim.ObjectPath
		hasPath := false
		switch c.Name {
		case "VALUE.NAMEDINSTANCE", "VALUE.OBJECTWITHPATH", "VALUE.INSTANCEWITHPATH":
			if len(c.Children) != 2 {
				return nil, cim.Errorf(cim.ErrFailed, "%s must hold a path and an instance", c.Name)
			}
			if path, err = decodePath(c.Children[0]); err != nil {
				return nil, cim.Errorf(cim.ErrFailed, "%v", err)
			}
			inst, hasPath = c.Children[1], true
		case "INSTANCE", "CLASS":
			inst = c
		default:
			continue // names are not objects
		}
		var in *cim.Instance
		if inst.Name == "CLASS" {
			// A query whose results are classes (meta_class,
			// ClassDefsOnly): the class as such a query's object.
			in = decodeClassObject(inst, host, ns, reg)
		} else if in, err = decodeInstance(inst); err != nil {
			return nil, err
		}
		if !hasPath && reg != nil {
			path, _ = reg.PathOf(in, "", "")
		}
		path.Host, path.Namespace = host, ns
		if path.ClassName == "" {
			path.ClassName = in.ClassName
		}
		in.Path = path
		out = append(out, in)
	}
	return out, nil
}

// decodeClassObject reads a CLASS element as the object a query returns
// for a class (cim.Class.Object): its derivation is the local schema's
// when it knows the class, else its superclass alone.
func decodeClassObject(n *Node, host, ns string, reg *schema.Registry) *cim.Instance {
	name, _ := n.Attr("NAME")
	super, _ := n.Attr("SUPERCLASS")
	c := &cim.Class{Name: name, SuperClass: super}
	for _, p := range n.Children {
		switch p.Name {
		case "PROPERTY", "PROPERTY.ARRAY", "PROPERTY.REFERENCE":
			pn, _ := p.Attr("NAME")
			c.Properties = append(c.Properties, cim.Property{Name: pn})
		}
	}
	var derivation []string
	if reg != nil {
		if _, err := reg.Class(name); err == nil {
			derivation = reg.Derivation(name)
		}
	}
	if derivation == nil && super != "" {
		derivation = []string{super}
	}
	return c.Object(host, ns, derivation)
}

// decodeInstance reads an INSTANCE element, each value typed by its TYPE.
func decodeInstance(n *Node) (*cim.Instance, error) {
	if n.Name != "INSTANCE" {
		return nil, cim.Errorf(cim.ErrFailed, "%s is not an INSTANCE", n.Name)
	}
	cn, _ := n.Attr("CLASSNAME")
	if strings.TrimSpace(cn) == "" {
		return nil, cim.Errorf(cim.ErrFailed, "an INSTANCE without its CLASSNAME (DSP0201 requires one)")
	}
	in := cim.NewInstance(cn)
	for _, p := range n.Children {
		name, _ := p.Attr("NAME")
		var v any
		var err error
		switch p.Name {
		case "PROPERTY":
			typ, _ := p.Attr("TYPE")
			if vn := p.Child("VALUE"); vn != nil {
				v, err = typedValue(typ, vn.Text)
			}
		case "PROPERTY.ARRAY":
			typ, _ := p.Attr("TYPE")
			if va := p.Child("VALUE.ARRAY"); va != nil {
				arr := make([]any, 0, len(va.Children))
				for _, e := range va.Children {
					var ev any
					if e.Name == "VALUE" {
						if ev, err = typedValue(typ, e.Text); err != nil {
							break
						}
					}
					arr = append(arr, ev)
				}
				v = arr
			}
		case "PROPERTY.REFERENCE":
			if vr := p.Child("VALUE.REFERENCE"); vr != nil && len(vr.Children) == 1 {
				v, err = decodePath(vr.Children[0])
			}
		default:
			continue // qualifiers
		}
		if err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "%s.%s: %v", cn, name, err)
		}
		in.Set(name, v)
	}
	return in, nil
}

// typedValue converts a VALUE's text to the Go value of its CIM type.
func typedValue(typ, text string) (any, error) {
	k, ok := cim.ParseKind(typ)
	if !ok || k == cim.KindString || typ == "" {
		return text, nil
	}
	v, err := cim.ParseValue(cim.Type{Kind: k}, strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("%q is not a %s", text, typ)
	}
	return v, nil
}
