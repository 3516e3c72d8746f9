package wsman

import "testing"

// TestInterop reaches root/interop as root/cimv2 is reached: by a WMI
// resource URI naming the namespace and by a DMTF URI with the
// __cimnamespace selector, for Enumerate, Get, WQL and the class
// declaration Get-CimClass asks for; its classes are not in root/cimv2,
// and root/cimv2's are not in it.
func TestInterop(t *testing.T) {
	h := newTestHandler(t, 1, Config{})
	wmiInterop := PrefixWMI + "root/interop/"
	nsSel := Selector{Name: SelectorCIMNS, Value: "root/interop"}
	items := enumerateAll(t, h, admin, wmiInterop+"CIM_Namespace", EnumerateBody(10, "", "", ""), 10)
	if len(items) != 2 || items[0].Name.Space != wmiInterop+"CIM_Namespace" || items[1].Child(wmiInterop+"CIM_Namespace", "Name").T() != "root/interop" {
		t.Fatalf("CIM_Namespace: %+v", items)
	}
	code, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: PrefixCIM + "CIM_ObjectManager", Selectors: []Selector{nsSel},
		Body: EnumerateBody(10, "", "", "")}.Envelope())
	om := body(n).Child(NSWSMan, "Items")
	if code != 200 || om == nil || len(om.Children) != 1 || om.Children[0].Child(PrefixCIM+"CIM_ObjectManager", "ElementName").T() != "cimsess" {
		t.Fatalf("CIM_ObjectManager by __cimnamespace: %d %+v", code, body(n))
	}
	items = enumerateAll(t, h, admin, wmiInterop+"*", EnumerateBody(10, DialectWQL, escText("SELECT Name FROM CIM_Namespace WHERE Name = 'root/cimv2'"), ""), 10)
	if len(items) != 1 {
		t.Errorf("WQL in root/interop: %+v", items)
	}
	code, n = post(t, h, admin, Message{Action: ActionGet, ResourceURI: wmiInterop + "CIM_ObjectManager", Selectors: []Selector{
		{Name: "SystemCreationClassName", Value: "CIM_ComputerSystem"}, {Name: "SystemName", Value: h.om.Host()},
		{Name: "CreationClassName", Value: "CIM_ObjectManager"}, {Name: "Name", Value: "cimsess"}}}.Envelope())
	if code != 200 || body(n).Name.Local != "CIM_ObjectManager" {
		t.Errorf("Get CIM_ObjectManager: %d %s", code, subcode(n))
	}
	code, n = post(t, h, admin, Message{Action: ActionGet, ResourceURI: PrefixCIMXML + "CIM_Namespace", Selectors: []Selector{nsSel}}.Envelope())
	if code != 200 || body(n) == nil || body(n).Name.Local != "CLASS" {
		t.Errorf("class declaration of CIM_Namespace: %d %s", code, subcode(n))
	}
	// An association filter whose Object is in root/cimv2, under a
	// root/interop URI: refused, where its answer came back under
	// root/interop names that do not exist there.
	session := &EPR{ResourceURI: wmiCIMv2 + "Linux_LogonSession", Selectors: []Selector{{Name: "LogonId", Value: "100"}}}
	for _, refs := range []bool{false, true} {
		code, n = post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: wmiInterop + "*",
			Body: EnumerateBody(10, DialectAssociation, AssociationFilter(session, refs, "", "", "", ""), "")}.Envelope())
		if code != 500 || subcode(n) != "w:CannotProcessFilter" {
			t.Errorf("associations of a root/cimv2 object under a root/interop URI (references %v): %d %s", refs, code, subcode(n))
		}
	}
	for _, uri := range []string{wmiInterop + "Win32_LogonSession", wmiCIMv2 + "CIM_Namespace", PrefixWMI + "root/default/CIM_Namespace"} {
		code, n := post(t, h, admin, Message{Action: ActionEnumerate, ResourceURI: uri, Body: EnumerateBody(10, "", "", "")}.Envelope())
		if code == 200 {
			t.Errorf("%s: enumerated: %+v", uri, body(n))
		}
	}
}
