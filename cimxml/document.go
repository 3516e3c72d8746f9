package cimxml

import (
	"io"
	"strings"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// EncodeInstances writes instances as a standalone CIM-XML declaration
// document: CIM, DECLARATION, DECLGROUP.WITHPATH, then one
// VALUE.OBJECTWITHPATH per instance (VALUE.OBJECTWITHLOCALPATH when its
// path has no host). reg, when not nil, gives every property of each
// instance's class its declared type; nil takes types from the values.
func EncodeInstances(w io.Writer, insts []*cim.Instance, reg *schema.Registry) error {
	d := NewInstanceDocument(w, reg)
	if err := d.Write(insts); err != nil {
		return err
	}
	return d.Close()
}

// InstanceDocument writes the document of [EncodeInstances] as the
// instances come: the head with the first batch (or at Close), each batch
// flushed to w when written, the tail at Close. Its memory does not grow
// with the number of instances.
type InstanceDocument struct {
	e     *Encoder
	reg   *schema.Registry
	keep  func(p *cim.Property) bool
	begun bool
}

// Only makes the document write, of each instance's class, only the
// properties named (case-insensitively), as a query's select list or a
// PropertyList asks; the rest are left out, not written as NULL. System
// properties named (__RELPATH, __PATH) are carried by each instance's
// path. A nil list writes every property.
func (d *InstanceDocument) Only(props []string) {
	if props == nil {
		d.keep = nil
		return
	}
	names := make(map[string]bool, len(props))
	for _, n := range props {
		names[strings.ToLower(n)] = true
	}
	d.keep = func(p *cim.Property) bool { return names[strings.ToLower(p.Name)] }
}

// NewInstanceDocument begins a document of instances on w; see
// [EncodeInstances] for reg.
func NewInstanceDocument(w io.Writer, reg *schema.Registry) *InstanceDocument {
	return &InstanceDocument{e: NewEncoder(w), reg: reg}
}

func (d *InstanceDocument) begin() {
	if !d.begun {
		d.begun = true
		d.e.Raw(`<?xml version="1.0" encoding="utf-8" ?>` + "\n")
		d.e.Raw(`<CIM CIMVERSION="` + CIMVersion + `" DTDVERSION="` + DTDVersion + `"><DECLARATION><DECLGROUP.WITHPATH>` + "\n")
	}
}

// Write writes one batch of instances and flushes it.
func (d *InstanceDocument) Write(insts []*cim.Instance) error {
	d.begin()
	e := d.e
	for _, in := range insts {
		var c *cim.Class
		if d.reg != nil {
			c, _ = d.reg.Class(in.ClassName)
		}
		p := in.Path
		if p.ClassName == "" {
			p.ClassName = in.ClassName
		}
		switch {
		case p.Host != "" && p.Namespace != "":
			e.Raw("<VALUE.OBJECTWITHPATH>")
			e.InstancePath(p)
			e.Instance(in, c, InstanceOptions{Keep: d.keep})
			e.Raw("</VALUE.OBJECTWITHPATH>\n")
		default:
			if p.Namespace == "" {
				p.Namespace = schema.Namespace
			}
			p.Host = ""
			e.Raw("<VALUE.OBJECTWITHLOCALPATH>")
			e.InstancePath(p)
			e.Instance(in, c, InstanceOptions{Keep: d.keep})
			e.Raw("</VALUE.OBJECTWITHLOCALPATH>\n")
		}
	}
	return e.Flush()
}

// Close ends the document and flushes it.
func (d *InstanceDocument) Close() error {
	d.begin()
	d.e.Raw("</DECLGROUP.WITHPATH></DECLARATION></CIM>\n")
	return d.e.Flush()
}

// EncodeClass writes one resolved class, with its qualifiers and every
// property (inherited ones marked PROPAGATED, each with its CLASSORIGIN),
// as a standalone CIM-XML declaration document.
func EncodeClass(w io.Writer, c *cim.Class) error {
	e := NewEncoder(w)
	e.Raw(`<?xml version="1.0" encoding="utf-8" ?>` + "\n")
	e.Raw(`<CIM CIMVERSION="` + CIMVersion + `" DTDVERSION="` + DTDVersion + `"><DECLARATION><DECLGROUP><VALUE.OBJECT>` + "\n")
	e.Class(c, ClassOptions{IncludeQualifiers: true, IncludeClassOrigin: true})
	e.Raw("\n</VALUE.OBJECT></DECLGROUP></DECLARATION></CIM>\n")
	return e.Flush()
}
