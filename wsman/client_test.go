package wsman

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
)

// TestClientRoundTrip asks the handler through the client and compares
// what comes back with what the object manager holds, instance for
// instance and value for value.
func TestClientRoundTrip(t *testing.T) {
	h := newTestHandler(t, 23, Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(cimom.WithViewer(r.Context(), cimom.Viewer{})))
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL + "/wsman", Schema: schema.MustDefault(), PageSize: 5}
	ctx := context.Background()
	if v, _, err := c.Identify(ctx); err != nil || v != "cimsess" {
		t.Fatalf("identify: %q %v", v, err)
	}
	want, err := h.om.EnumerateInstances(ctx, "Win32_LogonSession", cimom.EnumOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []*cim.Instance
	pages := 0
	err = c.EnumerateClass(ctx, "win32_logonsession", func(p []*cim.Instance) error {
		pages++
		got = append(got, p...)
		return nil
	})
	if err != nil || len(got) != len(want) || pages != 5 {
		t.Fatalf("enumerate: %d of %d in %d pages, %v", len(got), len(want), pages, err)
	}
	for i := range want {
		if !got[i].Equal(want[i]) && !sameValues(t, got[i], want[i]) {
			t.Fatalf("instance %d differs:\n got %+v\nwant %+v", i, got[i].Properties, want[i].Properties)
		}
		if got[i].Path.Host != "127.0.0.1" || !got[i].Path.Equal(want[i].Path.Relative()) {
			t.Errorf("path %s (want %s on 127.0.0.1)", got[i].Path, want[i].Path)
		}
	}
	in, err := c.Get(ctx, want[3].Path)
	if err != nil || !sameValues(t, in, want[3]) {
		t.Fatalf("get: %v", err)
	}
	var links []*cim.Instance
	if err := c.Query(ctx, `REFERENCES OF {Linux_LogonSession.LogonId="100"}`, func(p []*cim.Instance) error { links = append(links, p...); return nil }); err != nil || len(links) != 1 {
		t.Fatalf("references: %d %v", len(links), err)
	}
	if ref, ok := links[0].Value("Dependent").(cim.ObjectPath); !ok || ref.ClassName != "Linux_LogonSession" {
		t.Errorf("reference %v", links[0].Value("Dependent"))
	}
	_, err = c.Get(ctx, cim.ObjectPath{ClassName: "Win32_LogonSession", Keys: []cim.KeyBinding{{Name: "LogonId", Value: "nope"}}})
	if cim.CodeOf(err) != cim.ErrNotFound {
		t.Errorf("not found: %v", err)
	}
	if err := c.Query(ctx, "SELECT FROM", func([]*cim.Instance) error { return nil }); cim.CodeOf(err) != cim.ErrInvalidQuery {
		t.Errorf("bad query: %v", err)
	}
	if st := h.Stats(); st.Contexts != 0 {
		t.Errorf("contexts left open: %+v", st)
	}
}

// sameValues compares two instances property by property, NULL and absent
// alike.
func sameValues(t *testing.T, a, b *cim.Instance) bool {
	t.Helper()
	c, err := schema.MustDefault().Class(b.ClassName)
	if err != nil || a.ClassName != b.ClassName {
		return false
	}
	for _, p := range c.Properties {
		if !cim.Equal(a.Value(p.Name), b.Value(p.Name)) {
			t.Logf("%s: %#v != %#v", p.Name, a.Value(p.Name), b.Value(p.Name))
			return false
		}
	}
	return true
}

// TestArraysRoundTrip: an array is rendered as repeated elements and read
// back as an array, for a class the reader does not know (its values
// then strings) as for one it knows.
func TestArraysRoundTrip(t *testing.T) {
	r := renderer{reg: schema.MustDefault(), prefix: PrefixWMI + "root/cimv2/", namespace: "root/cimv2"}
	in := cim.NewInstance("Vendor_Thing").Set("Names", []any{"a", "b <c>", "d"}).Set("Empty", nil).Set("One", "x")
	doc := `<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddr + `" xmlns:w="` + NSWSMan + `" xmlns:cim="` + NSCommon +
		`" xmlns:xsi="` + NSXSI + `"><s:Body>` + string(r.instance(nil, in, nil)) + `</s:Body></s:Envelope>`
	env, err := Parse([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{URL: "http://h/wsman", Schema: schema.MustDefault()}
	got, err := c.decodeInstance(env.Child(NSSOAP, "Body").Children[0])
	if err != nil {
		t.Fatal(err)
	}
	if arr, ok := got.Value("Names").([]any); !ok || len(arr) != 3 || arr[1] != "b <c>" {
		t.Errorf("Names %#v", got.Value("Names"))
	}
	if got.Value("Empty") != nil || got.Value("One") != "x" || got.ClassName != "Vendor_Thing" {
		t.Errorf("%+v", got.Properties)
	}
}

// TestClientNamespace: a client whose Namespace is root/interop reaches
// that namespace (its paths name it, its values typed by its schema),
// and one whose namespace the server does not have gets
// CIM_ERR_INVALID_NAMESPACE, not an invalid class.
func TestClientNamespace(t *testing.T) {
	h := newTestHandler(t, 3, Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(cimom.WithViewer(r.Context(), cimom.Viewer{})))
	}))
	defer srv.Close()
	ctx := context.Background()
	ireg, err := schema.Interop()
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{URL: srv.URL + "/wsman", Schema: ireg, Namespace: `root\interop`}
	var got []*cim.Instance
	if err := c.EnumerateClass(ctx, "CIM_Namespace", func(p []*cim.Instance) error { got = append(got, p...); return nil }); err != nil || len(got) != 2 {
		t.Fatalf("enumerate: %v %v", got, err)
	}
	if got[0].Path.Namespace != "root/interop" || got[0].Path.ClassName != "CIM_Namespace" {
		t.Errorf("path %s", got[0].Path)
	}
	om, err := c.Get(ctx, cim.ObjectPath{ClassName: "CIM_ObjectManager", Keys: []cim.KeyBinding{
		{Name: "CreationClassName", Value: "CIM_ObjectManager"}, {Name: "Name", Value: "cimsess"},
		{Name: "SystemCreationClassName", Value: "CIM_ComputerSystem"}, {Name: "SystemName", Value: h.om.Host()}}})
	if err != nil || om.Value("Started") != true {
		t.Errorf("get: %v %v", om, err)
	}
	c.Namespace = "root/nothere"
	err = c.EnumerateClass(ctx, "CIM_Namespace", func([]*cim.Instance) error { return nil })
	if cim.CodeOf(err) != cim.ErrInvalidNamespace {
		t.Errorf("an unknown namespace: %v", err)
	}
}
