package cimom

import (
	"context"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// TestInterop checks root/interop as pywbem's WBEMServer reads it: the
// namespace found by In under the names clients spell, one
// CIM_ObjectManager giving the product and version, a CIM_Namespace per
// namespace with the CIM schema's keys, no registered profile, all of it
// seen by a viewer who sees no session, and WQL and GetInstance there.
func TestInterop(t *testing.T) {
	w := newWorld(t)
	ctx := WithViewer(context.Background(), Viewer{User: "nobody", Restricted: true})
	for _, ns := range []string{"root/interop", `root\interop`, "ROOT/Interop", "/root/interop/"} {
		iom, err := w.om.In(ns)
		if err != nil || iom.Namespace() != schema.InteropNamespace {
			t.Fatalf("In(%q) = %v, %v", ns, iom, err)
		}
	}
	for _, ns := range []string{"interop", "root/PG_Interop", "root"} {
		if _, err := w.om.In(ns); cim.CodeOf(err) != cim.ErrInvalidNamespace {
			t.Errorf("In(%q): %v, want CIM_ERR_INVALID_NAMESPACE", ns, err)
		}
	}
	if got := strings.Join(w.om.Namespaces(), ","); got != "root/cimv2,root/interop" {
		t.Errorf("Namespaces() = %s", got)
	}
	iom, _ := w.om.In("root/interop")
	if _, err := iom.Schema().Class("Win32_LogonSession"); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("Win32_LogonSession in root/interop: %v", err)
	}
	if _, err := w.om.Schema().Class("CIM_ObjectManager"); cim.CodeOf(err) != cim.ErrInvalidClass {
		t.Errorf("CIM_ObjectManager in root/cimv2: %v", err)
	}

	oms, err := iom.EnumerateInstances(ctx, "CIM_ObjectManager", EnumOptions{})
	if err != nil || len(oms) != 1 {
		t.Fatalf("CIM_ObjectManager: %v, %v", oms, err)
	}
	if oms[0].Value("ElementName") != "cimsess" || oms[0].Value("Description") != "cimsess CIM Server Version dev" {
		t.Errorf("CIM_ObjectManager: %v", oms[0].Properties)
	}
	nss, err := iom.EnumerateInstances(ctx, "CIM_Namespace", EnumOptions{})
	if err != nil || len(nss) != 2 {
		t.Fatalf("CIM_Namespace: %v, %v", nss, err)
	}
	for i, want := range []string{"root/cimv2", "root/interop"} {
		p := nss[i].Path
		if name, _ := p.Key("Name"); name != want || len(p.Keys) != 6 || p.Namespace != "root/interop" || p.Host != host {
			t.Errorf("CIM_Namespace %d: %s", i, p)
		}
	}
	if rp, err := iom.EnumerateInstances(ctx, "CIM_RegisteredProfile", EnumOptions{}); err != nil || len(rp) != 0 {
		t.Errorf("CIM_RegisteredProfile: %v, %v", rp, err)
	}
	// GetInstance of root/cimv2's object manager goes to root/interop by
	// the path's namespace, as `cimsess get` would.
	got, err := w.om.GetInstance(ctx, nss[0].Path)
	if err != nil || got.Value("Name") != "root/cimv2" {
		t.Errorf("GetInstance(%s) = %v, %v", nss[0].Path, got, err)
	}
	res, _, err := iom.ExecQuery(ctx, "SELECT Name FROM CIM_Namespace WHERE Name LIKE '%interop'")
	if err != nil || len(res) != 1 || res[0].Value("Name") != "root/interop" {
		t.Errorf("WQL in root/interop: %v, %v", res, err)
	}
	if _, _, err := iom.ExecQuery(ctx, "SELECT * FROM Win32_LogonSession"); err == nil {
		t.Error("Win32_LogonSession queried in root/interop")
	}

	om, err := New(schema.MustDefault(), Options{Host: host, Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	iom, _ = om.In("root/interop")
	oms, _ = iom.EnumerateInstances(ctx, "CIM_ObjectManager", EnumOptions{})
	if len(oms) != 1 || oms[0].Value("Description") != "cimsess CIM Server Version 1.2.3" {
		t.Errorf("Options.Version 1.2.3: %v", oms)
	}
}
