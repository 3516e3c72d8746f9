package cimxml

import (
	"io"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/schema"
)

// EncodeInstances writes instances as a standalone CIM-XML declaration
// document: CIM, DECLARATION, DECLGROUP.WITHPATH, then one
// VALUE.OBJECTWITHPATH per instance (VALUE.OBJECTWITHLOCALPATH when its
// path has no host). reg, when not nil, gives every property of each
// instance's class its declared type; nil takes types from the values.
func EncodeInstances(w io.Writer, insts []*cim.Instance, reg *schema.Registry) error {
	e := NewEncoder(w)
	e.Raw(`<?xml version="1.0" encoding="utf-8" ?>` + "\n")
	e.Raw(`<CIM CIMVERSION="` + CIMVersion + `" DTDVERSION="` + DTDVersion + `"><DECLARATION><DECLGROUP.WITHPATH>` + "\n")
	for _, in := range insts {
		var c *cim.Class
		if reg != nil {
			c, _ = reg.Class(in.ClassName)
		}
		p := in.Path
		if p.ClassName == "" {
			p.ClassName = in.ClassName
		}
		switch {
		case p.Host != "" && p.Namespace != "":
			e.Raw("<VALUE.OBJECTWITHPATH>")
			e.InstancePath(p)
			e.Instance(in, c, InstanceOptions{})
			e.Raw("</VALUE.OBJECTWITHPATH>\n")
		default:
			if p.Namespace == "" {
				p.Namespace = schema.Namespace
			}
			p.Host = ""
			e.Raw("<VALUE.OBJECTWITHLOCALPATH>")
			e.InstancePath(p)
			e.Instance(in, c, InstanceOptions{})
			e.Raw("</VALUE.OBJECTWITHLOCALPATH>\n")
		}
	}
	e.Raw("</DECLGROUP.WITHPATH></DECLARATION></CIM>\n")
	return e.Flush()
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
