// Package mof reads and writes class declarations in the Managed Object
// Format (DMTF DSP0221), the subset that the cimsess schema uses.
//
// [Parse] and [ParseFile] turn a MOF compilation unit into [cim.Class]
// values: class declarations with qualifier lists, properties, references
// and default values, #pragma directives, comments, and qualifier
// declarations (kept in [File.Qualifiers]). Instance declarations and
// methods are rejected with an error that says so. Every error is a
// [*cim.Error] with code [cim.ErrInvalidParameter] whose description starts
// with "file:line:column:" (columns count characters from 1).
//
// [Format] writes a class back as canonical MOF, so that parsing its output
// gives back the class as it was declared ([cim.Class.Local]).
//
// The values a parse yields are those of the cim package's mapping:
// qualifier values are bool (a bare qualifier such as Key is true), string,
// int64 (uint64 for integers above the int64 range), float64, cim.Char16, nil
// for null, and []any for arrays; property defaults are converted to the
// property's type.
package mof
