package client

import (
	"context"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// TestMalformedHostsGlob: a glob that path.Match cannot read is the
// question's fault, said at once; it used to match no host, and every
// host seemed away.
func TestMalformedHostsGlob(t *testing.T) {
	_, err := (&Client{}).Live(context.Background(), "web-[")
	if cim.CodeOf(err) != cim.ErrInvalidParameter {
		t.Errorf("%v, want CIM_ERR_INVALID_PARAMETER", err)
	}
}
