// Package cimxml encodes and decodes CIM-XML, the XML representation of CIM
// objects and operation messages (DMTF DSP0201) that CIM operations over HTTP
// (DSP0200) carry.
//
// The [Encoder] writes instances, instance names, object paths, classes and
// whole operation responses; [DecodeRequest] reads an operation request
// (IMETHODCALL, METHODCALL, MULTIREQ) with hard limits on size, nesting,
// element and attribute counts and with DTDs refused, so that a hostile
// request costs little; [Validate] checks a document against the element
// and attribute structure of the DSP0201 DTD.
package cimxml
