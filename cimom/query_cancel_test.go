package cimom

import (
	"context"
	"fmt"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/provider"
)

// cancellingProvider cancels the caller's context and then hands over
// its instances in one batch: what the object manager does with them
// happens after the client has gone.
type cancellingProvider struct {
	cancel context.CancelFunc
	insts  []*cim.Instance
}

func (p *cancellingProvider) Name() string      { return "cancelling" }
func (p *cancellingProvider) Classes() []string { return []string{"Linux_LogonSession"} }
func (p *cancellingProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	p.cancel()
	return emit(p.insts)
}

// TestQueryStopsWhenCancelled: a WHERE is evaluated only while the caller
// waits; once its context ends the query stops between instances with an
// error instead of matching the rest.
func TestQueryStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &cancellingProvider{cancel: cancel}
	for i := 0; i < 1000; i++ {
		p.insts = append(p.insts, session(fmt.Sprint(i), "u"))
	}
	om := newEventOM(t, p)
	q, err := om.Compile("SELECT * FROM Linux_LogonSession WHERE UserName LIKE '%u%'")
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	err = om.StreamQuery(ctx, q, func(b []*cim.Instance) error { matched += len(b); return nil })
	if err == nil || matched != 0 {
		t.Errorf("cancelled query: %d instances passed, error %v", matched, err)
	}
}
