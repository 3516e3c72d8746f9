package wsman

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
)

// eprServer serves h over HTTP; rewrite, when not nil, changes each
// request's bytes before h reads them (a peer that reads the request
// otherwise than h does).
func eprServer(t *testing.T, h *Handler, rewrite func([]byte) []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rewrite != nil {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(rewrite(b)))
		}
		h.ServeHTTP(w, r.WithContext(cimom.WithViewer(r.Context(), cimom.Viewer{})))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/wsman"
}

// collect runs an enumeration and returns what it gave.
func collect(t *testing.T, run func(func([]*cim.Instance) error) error) ([]*cim.Instance, int) {
	t.Helper()
	var got []*cim.Instance
	pages := 0
	if err := run(func(p []*cim.Instance) error { pages++; got = append(got, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	return got, pages
}

// TestClientEPRUnknownClass: the instances of a class the client's schema
// does not know (root/interop's, which the root/cimv2 schema lacks; any
// class, without a schema) are asked with their endpoint references, in
// the first page and in those pulled after it, and their paths carry the
// keys the server gives them, where they used to be the class's path.
// What the schema knows keeps the schema's paths, asked as before.
func TestClientEPRUnknownClass(t *testing.T) {
	h := newTestHandler(t, 7, Config{})
	var modes atomic.Int32
	url := eprServer(t, h, func(b []byte) []byte {
		if bytes.Contains(b, []byte("<w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode>")) {
			modes.Add(1)
		}
		return b
	})
	ctx := context.Background()

	c := &Client{URL: url, Schema: schema.MustDefault(), Namespace: "root/interop", PageSize: 1}
	got, pages := collect(t, func(p func([]*cim.Instance) error) error { return c.EnumerateClass(ctx, "CIM_Namespace", p) })
	if len(got) != 2 || pages != 2 || modes.Load() != 1 {
		t.Fatalf("CIM_Namespace: %d in %d pages, the mode asked %d times", len(got), pages, modes.Load())
	}
	for _, in := range got {
		name, _ := in.Path.Key("Name")
		if in.Path.IsClass() || in.Path.ClassName != "CIM_Namespace" || in.Path.Namespace != "root/interop" || name != in.Value("Name") {
			t.Errorf("path %s of %v", in.Path, in.Value("Name"))
		}
	}
	got, _ = collect(t, func(p func([]*cim.Instance) error) error {
		return c.Query(ctx, "SELECT * FROM CIM_Namespace WHERE Name = 'root/cimv2'", p)
	})
	if len(got) != 1 || got[0].Path.IsClass() || got[0].Value("Name") != "root/cimv2" {
		t.Fatalf("a query of an unknown class: %v", got)
	}
	if n, ok := got[0].Path.Key("CreationClassName"); !ok || n != "CIM_Namespace" {
		t.Errorf("query path %s", got[0].Path)
	}

	// Without a schema, a class of root/cimv2: pulled three at a time.
	modes.Store(0)
	c = &Client{URL: url, PageSize: 3}
	got, pages = collect(t, func(p func([]*cim.Instance) error) error { return c.EnumerateClass(ctx, "Win32_LogonSession", p) })
	if len(got) != 7 || pages != 3 || modes.Load() != 1 {
		t.Fatalf("no schema: %d in %d pages, the mode asked %d times", len(got), pages, modes.Load())
	}
	for _, in := range got {
		if id, _ := in.Path.Key("LogonId"); in.Path.ClassName != "Linux_LogonSession" || id != in.Value("LogonId") || id == nil {
			t.Errorf("path %s of %v", in.Path, in.Value("LogonId"))
		}
	}
	// ASSOCIATORS OF an instance: its results' classes are not known
	// before they come.
	got, _ = collect(t, func(p func([]*cim.Instance) error) error {
		return c.Query(ctx, `ASSOCIATORS OF {Linux_LogonSession.LogonId="100"}`, p)
	})
	if len(got) != 1 || got[0].Path.IsClass() || got[0].Path.ClassName != "Win32_UserAccount" || modes.Load() != 2 {
		t.Fatalf("associators: %v, the mode asked %d times", got, modes.Load())
	}

	// The schema knows the class: the mode is asked all the same (its
	// subclasses may be unknown), and the paths are the schema's.
	modes.Store(0)
	c = &Client{URL: url, Schema: schema.MustDefault(), PageSize: 3}
	got, _ = collect(t, func(p func([]*cim.Instance) error) error { return c.EnumerateClass(ctx, "Win32_LogonSession", p) })
	if len(got) != 7 || got[0].Path.IsClass() || modes.Load() == 0 {
		t.Fatalf("a known class: %d, %s, the mode asked %d times", len(got), got[0].Path, modes.Load())
	}
	for _, q := range []string{"SELECT * FROM meta_class", `ASSOCIATORS OF {Linux_LogonSession} WHERE SchemaOnly`,
		`REFERENCES OF {Linux_LogonSession.LogonId="100"} WHERE ClassDefsOnly`, "SELECT FROM"} {
		if queryNeedsEPRs(q) {
			t.Errorf("%s asks for endpoint references", q)
		}
	}
	for _, q := range []string{"SELECT * FROM Vendor_Thing", "SELECT * FROM Win32_LogonSession", `REFERENCES OF {Linux_LogonSession.LogonId="100"}`} {
		if !queryNeedsEPRs(q) {
			t.Errorf("%s does not ask for endpoint references", q)
		}
	}
	if st := h.Stats(); st.Contexts != 0 {
		t.Errorf("contexts left open: %+v", st)
	}
}

// TestClientEPRIgnoredOrRefused: a peer that ignores the enumeration mode
// sends the objects alone, which keep the paths they had (the class's,
// for a class the schema does not know), without an error; one that
// refuses it (w:UnsupportedFeature) is asked again without it.
func TestClientEPRIgnoredOrRefused(t *testing.T) {
	h := newTestHandler(t, 4, Config{})
	mode := []byte("<w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode>")
	var refused atomic.Int32
	for _, tc := range []struct {
		name    string
		rewrite func([]byte) []byte
	}{
		{"ignored", func(b []byte) []byte { return bytes.Replace(b, mode, nil, 1) }},
		{"refused", func(b []byte) []byte {
			if bytes.Contains(b, mode) {
				refused.Add(1)
				return bytes.Replace(b, []byte("EnumerateObjectAndEPR<"), []byte("EnumerateBogus<"), 1)
			}
			return b
		}},
	} {
		c := &Client{URL: eprServer(t, h, tc.rewrite), Schema: schema.MustDefault(), Namespace: "root/interop", PageSize: 1}
		got, _ := collect(t, func(p func([]*cim.Instance) error) error {
			return c.EnumerateClass(context.Background(), "CIM_Namespace", p)
		})
		if len(got) != 2 || !got[0].Path.IsClass() || got[0].Path.ClassName != "CIM_Namespace" || got[0].Value("Name") == nil {
			t.Errorf("%s: %d, %s %v", tc.name, len(got), got[0].Path, got[0].Properties)
		}
	}
	if refused.Load() != 1 {
		t.Errorf("the mode refused %d times, want 1", refused.Load())
	}
}

// TestDecodeItemOrders: an Item holds the object and its endpoint
// reference in either order; the reference alone is the path alone.
func TestDecodeItemOrders(t *testing.T) {
	in := cim.NewInstance("MSFT_NetAdapter").Set("DeviceID", "{1234}").Set("Name", "eth0")
	in.Path = cim.ObjectPath{ClassName: "MSFT_NetAdapter", Keys: []cim.KeyBinding{{Name: "DeviceID", Value: "{1234}"}, {Name: "SystemName", Value: "win1"}}}
	obj, epr := renderItemParts(in, "root/standardcimv2")
	c := &Client{URL: "http://h/wsman", Schema: schema.MustDefault()}
	for _, tc := range []struct{ item, wantName string }{
		{obj + epr, "eth0"},
		{epr + obj, "eth0"},
		{epr, ""},
		{"<x:Other xmlns:x=\"urn:x\"/>" + epr, ""},
	} {
		got, err := decodeItem(t, c, tc.item)
		if err != nil {
			t.Errorf("%.60s: %v", tc.item, err)
			continue
		}
		if tc.wantName != "" && (got.ClassName != "MSFT_NetAdapter" || got.Value("Name") != tc.wantName) {
			t.Errorf("%.60s: %s %v", tc.item, got.ClassName, got.Properties)
		}
		if strings.HasPrefix(tc.item, "<x:Other") {
			continue // an object of another class: the reference's keys, its class
		}
		if sys, _ := got.Path.Key("SystemName"); sys != "win1" || got.Path.ClassName != "MSFT_NetAdapter" || got.Path.Namespace != "root/standardcimv2" || got.Path.Host != "h" {
			t.Errorf("%s: path %s", tc.item, got.Path)
		}
	}
}

// TestDecodeOddItems: an Item that is empty or holds two objects or two
// references is an error that names the service; a reference this client
// cannot take for the object's (another vendor's resource URI, a selector
// twice, an unrelated class) leaves the path as it was without the mode,
// and costs no row.
func TestDecodeOddItems(t *testing.T) {
	svc := cim.NewInstance("Win32_Group").Set("Name", "Administrators").Set("Domain", "WIN")
	svc.Path = cim.ObjectPath{ClassName: "Win32_Group", Keys: []cim.KeyBinding{{Name: "Domain", Value: "WIN"}, {Name: "Name", Value: "Administrators"}}}
	obj, epr := renderItemParts(svc, "root/cimv2")
	foreignEPR := func(uri, selectors string) string {
		return `<a:EndpointReference><a:Address>http://h/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>` + uri +
			`</w:ResourceURI><w:SelectorSet>` + selectors + `</w:SelectorSet></a:ReferenceParameters></a:EndpointReference>`
	}
	c := &Client{URL: "http://h/wsman", Schema: schema.MustDefault()}
	decode := func(item string) (*cim.Instance, error) { return decodeItem(t, c, item) }
	// A subclass the schema lacks, of a class it knows: the keys are the
	// reference's.
	in, err := decode(obj + epr)
	if name, _ := in.Path.Key("Name"); err != nil || name != "Administrators" {
		t.Errorf("a class the schema lacks: %v, %v", in, err)
	}
	for _, item := range []string{"", obj + obj, epr + epr, obj + epr + epr} {
		if _, err := decode(item); err == nil || !strings.Contains(err.Error(), "http://h/wsman") {
			t.Errorf("%.80s: %v, want an error naming the service", item, err)
		}
	}
	for _, ref := range []string{
		foreignEPR("http://sblim.sf.net/wbem/wscim/1/cim-schema/2/Linux_OperatingSystem", ""),
		foreignEPR(PrefixWMI+"root/cimv2/*", `<w:Selector Name="Name">x</w:Selector>`),
		foreignEPR(PrefixWMI+"root/cimv2/Win32_Group", `<w:Selector Name="Name">A</w:Selector><w:Selector Name="name">B</w:Selector>`),
		foreignEPR(PrefixWMI+"root/cimv2/Win32_Process", `<w:Selector Name="Handle">4</w:Selector>`),
	} {
		in, err := decode(obj + ref)
		if err != nil || in.ClassName != "Win32_Group" || !in.Path.IsClass() || in.Value("Name") != "Administrators" {
			t.Errorf("%.120s: %v, %v; want the object with its path as without the mode", ref, in, err)
		}
	}
}

// renderItemParts renders in, of namespace ns, as this server writes the
// object and the EndpointReference of an enumeration item.
func renderItemParts(in *cim.Instance, ns string) (obj, epr string) {
	r := renderer{reg: schema.MustDefault(), prefix: PrefixWMI + ns + "/", namespace: ns}
	return string(r.instance(nil, in, nil)), "<a:EndpointReference>" + string(r.epr(nil, in.Path)) + "</a:EndpointReference>"
}

// decodeItem decodes a wsman:Item holding item as c decodes one of an
// enumeration.
func decodeItem(t *testing.T, c *Client, item string) (*cim.Instance, error) {
	t.Helper()
	doc := `<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddr + `" xmlns:w="` + NSWSMan + `" xmlns:cim="` + NSCommon +
		`" xmlns:xsi="` + NSXSI + `"><s:Body><w:Item>` + item + `</w:Item></s:Body></s:Envelope>`
	env, err := Parse([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return c.decodeInstance(env.Child(NSSOAP, "Body").Children[0])
}
