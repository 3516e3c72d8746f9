package provider

import (
	"context"

	"github.com/cimsess/cimsess/cim"
)

// Invoker is implemented by providers whose classes have extrinsic
// methods. The object manager finds the target instance (so that the
// caller may see it), checks the method and its in parameters against
// Methods, and then calls Invoke.
type Invoker interface {
	// Methods returns the methods of class, one of the provider's classes.
	Methods(class string) []cim.Method
	// Invoke runs method m of the instance target with the in parameters
	// (converted to their declared types; absent ones are missing). A
	// failure of the method itself is a return value, as WMI's methods
	// report it; an error is for what stops the call.
	Invoke(ctx context.Context, target *cim.Instance, m *cim.Method, in map[string]any) (cim.MethodResult, error)
}
