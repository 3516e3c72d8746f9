package cim

// QualifierDecl declares a qualifier type (DSP0004 §5.1.2), as
// EnumerateQualifiers and GetQualifier return it: its name, its type, the
// kinds of element it applies to and whether a subclass may override it.
type QualifierDecl struct {
	Name string
	Type Type
	// Scopes are the DSP0201 SCOPE attributes that are true: "CLASS",
	// "ASSOCIATION", "PROPERTY", "REFERENCE".
	Scopes      []string
	Overridable bool
}
