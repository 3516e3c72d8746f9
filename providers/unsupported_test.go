package providers

import (
	"context"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
)

// TestUnsupportedSystem: on a system cimsess has no source for, asking
// for logon sessions is CIM_ERR_NOT_SUPPORTED, not an empty list.
func TestUnsupportedSystem(t *testing.T) {
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h"}, unsupported{})
	if err != nil {
		t.Fatal(err)
	}
	for _, class := range []string{"Win32_LogonSession", "Win32_Session"} {
		_, err := om.EnumerateInstances(context.Background(), class, cimom.EnumOptions{})
		if cim.CodeOf(err) != cim.ErrNotSupported {
			t.Errorf("%s: %v, want CIM_ERR_NOT_SUPPORTED", class, err)
		}
	}
}
