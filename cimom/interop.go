package cimom

import (
	"context"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// ProductName is the object manager's name in root/interop:
// CIM_ObjectManager's Name and ElementName, and the ObjectManagerName of
// each CIM_Namespace. pywbem's WBEMServer.brand is its ElementName.
const ProductName = "cimsess"

// interopProvider serves root/interop's instances from what the object
// manager knows of itself: one CIM_ObjectManager, whose ElementName is
// the product and whose Description ends in "Version V" (what pywbem
// parses the version from, as it does OpenPegasus's), and one
// CIM_Namespace for each namespace served. It registers no profile, so
// CIM_RegisteredProfile has no instances.
type interopProvider struct {
	host, version string
	namespaces    []string
}

func (p *interopProvider) Name() string { return "interop" }

func (p *interopProvider) Classes() []string { return []string{"CIM_ObjectManager", "CIM_Namespace"} }

// system is the scoping system's keys: this host, as a CIM_ComputerSystem
// (which cimsess does not serve; OpenPegasus and SFCB name it alike).
func (p *interopProvider) system() []cim.PropertyValue {
	return []cim.PropertyValue{{Name: "SystemCreationClassName", Value: "CIM_ComputerSystem"}, {Name: "SystemName", Value: p.host}}
}

func (p *interopProvider) Enumerate(ctx context.Context, class string, _ provider.Hint, emit provider.Emit) error {
	var out []*cim.Instance
	switch class {
	case "CIM_ObjectManager":
		out = append(out, &cim.Instance{ClassName: class, Properties: append(p.system(),
			cim.PropertyValue{Name: "CreationClassName", Value: "CIM_ObjectManager"},
			cim.PropertyValue{Name: "Name", Value: ProductName},
			cim.PropertyValue{Name: "ElementName", Value: ProductName},
			cim.PropertyValue{Name: "Caption", Value: "cimsess CIM server"},
			cim.PropertyValue{Name: "Description", Value: "cimsess CIM Server Version " + p.version},
			cim.PropertyValue{Name: "Started", Value: true})})
	case "CIM_Namespace":
		for _, ns := range p.namespaces {
			out = append(out, &cim.Instance{ClassName: class, Properties: append(p.system(),
				cim.PropertyValue{Name: "ObjectManagerCreationClassName", Value: "CIM_ObjectManager"},
				cim.PropertyValue{Name: "ObjectManagerName", Value: ProductName},
				cim.PropertyValue{Name: "CreationClassName", Value: "CIM_Namespace"},
				cim.PropertyValue{Name: "Name", Value: ns})})
		}
	}
	return provider.EmitSlice(ctx, out, emit)
}
