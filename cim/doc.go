// Package cim is the CIM meta-model (DMTF DSP0004) that every other part of
// cimsess speaks: CIM types and values, classes with their properties and
// qualifiers, instances, object paths, the CIM datetime codec and the CIM
// status codes with the typed error [Error].
//
// Values are plain Go values. The mapping from CIM types is fixed:
//
//	string    string          char16   Char16
//	boolean   bool            datetime DateTime
//	uint8…64  uint8…uint64    sint8…64 int8…int64
//	real32    float32         real64   float64
//	reference ObjectPath      arrays   []any of the element values
//
// A nil value is NULL.
package cim
