package cli

import (
	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/output"
)

// The CIM-XML encoders behind --output xml of the instance commands and of
// `cimsess class`.
func init() {
	output.XMLEncoder = cimxml.EncodeInstances
	ClassXMLEncoder = cimxml.EncodeClass
}
