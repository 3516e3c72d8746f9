package cli

import (
	"io"

	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
)

// The CIM-XML encoders behind --output xml of the instance commands (a
// document written as the instances come) and of `cimsess class`.
func init() {
	output.XMLWriter = func(w io.Writer, reg *schema.Registry, props []string) output.Writer {
		d := cimxml.NewInstanceDocument(w, reg)
		d.Only(props)
		return d
	}
	ClassXMLEncoder = cimxml.EncodeClass
}
