// Package provider defines how sources of CIM instances plug into the
// object manager: the streaming [Provider] interface that every source
// implements (one Enumerate that emits bounded batches),
// the optional [Reporter] and [Notifier] interfaces, and [ErrNotImplemented]
// for platforms a source does not run on. The sources themselves live in
// sub-packages, one per operating-system source.
package provider

import (
	"context"
	"runtime"
	"strings"
	"sync"

	"github.com/cimsess/cimsess/cim"
)

// Provider yields the instances of some concrete classes from one source.
// Providers know the cim package and nothing of the object manager.
type Provider interface {
	// Name names the provider in reports and logs, such as "linux-logon".
	Name() string
	// Classes returns the concrete classes whose instances it yields.
	Classes() []string
	// Enumerate streams the current instances of class, one of Classes(),
	// to emit in batches of at most [MaxBatch] instances, in order, one
	// call at a time. A provider may use hint to do less work; it may also
	// ignore it, since the object manager filters what it gets again.
	//
	// The instances emitted belong to the caller, which sets their Path: a
	// provider that caches instances must hand out clones. The batch slice
	// itself is lent for the call: a provider may reuse it once emit
	// returns, and the caller keeps the instances, not the slice.
	//
	// When emit returns an error the provider stops at once and returns
	// that error unchanged; it also stops, within one batch, when ctx ends.
	// Errors of the source are returned as *cim.Error with a CIM code.
	Enumerate(ctx context.Context, class string, hint Hint, emit Emit) error
}

// Emit receives one batch of instances from a [Provider]'s Enumerate.
type Emit func(batch []*cim.Instance) error

// MaxBatch is the most instances one call of an [Emit] carries: enough
// that per-batch costs vanish, few enough that a batch is still in the
// CPU's cache while it is filtered, checked and written, and that memory
// does not grow with the number of instances.
const MaxBatch = 256

// EmitSlice hands insts to emit in batches of at most [MaxBatch], checking
// ctx between them: the way a provider that builds its (small) result as
// a slice streams it.
func EmitSlice(ctx context.Context, insts []*cim.Instance, emit Emit) error {
	for len(insts) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(insts), MaxBatch)
		if err := emit(insts[:n:n]); err != nil {
			return err
		}
		insts = insts[n:]
	}
	return nil
}

// Collect runs p's Enumerate and returns every instance it emits, for
// callers (tests, small classes, the association provider's sessions)
// that want the whole result at once.
func Collect(ctx context.Context, p Provider, class string, hint Hint) ([]*cim.Instance, error) {
	var out []*cim.Instance
	err := p.Enumerate(ctx, class, hint, func(b []*cim.Instance) error {
		out = append(out, b...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Hint narrows what the object manager needs from a provider.
type Hint struct {
	// Keys, when not nil, asks only for instances whose key properties
	// have these values; names are lower-case.
	Keys map[string]any
	// RefersTo, when not nil, asks an association provider only for the
	// association instances one of whose references is this path.
	RefersTo *cim.ObjectPath
	// Properties, when not nil, names the only properties the caller will
	// read (as CMPI passes a property list down): a provider may leave the
	// others unset. Key properties are always set, whatever it says.
	Properties []string
	// Lent says that the caller is done with a batch's instances (and
	// their paths) when its emit returns, as a writer that prints each
	// batch is: a provider may make the next batch in the same memory. A
	// caller that keeps instances (collects them, holds a page) leaves it
	// false.
	Lent bool
}

// Wants reports whether the hint asks for property name (any case): true
// for every name when Properties is nil.
func (h Hint) Wants(name string) bool {
	if h.Properties == nil {
		return true
	}
	for _, p := range h.Properties {
		if strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// Source says what a provider read and what it found there, for the line a
// user sees when a query returns nothing ("sources checked: …").
type Source struct {
	Name  string // what kind of source: "utmp", "logind", "smbstatus"
	Where string // its path or command
	Found int    // how many records it held
	Note  string // why it held nothing, or "" when it was read as usual
	// Warn says the note is a warning to show even when instances were
	// found: part of the source could not be read (a truncated last
	// record), or the source failed and the answer comes from the others.
	Warn bool
}

// Reporter is implemented by providers that can report what their last
// Enumerate read.
type Reporter interface {
	Sources() []Source
}

// SourceLog keeps what a provider's last read found and implements
// [Reporter] for it: embed it, and call SetSources after each read. It is
// safe for concurrent use and has a lock of its own.
type SourceLog struct {
	mu      sync.Mutex
	sources []Source
}

// SetSources records what the last read found.
func (l *SourceLog) SetSources(s ...Source) {
	l.mu.Lock()
	l.sources = append([]Source(nil), s...)
	l.mu.Unlock()
}

// Sources returns what the last read found.
func (l *SourceLog) Sources() []Source {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Source(nil), l.sources...)
}

// Notifier is implemented by providers that can tell the object manager
// at once when their sources change (inotify on utmp, say). Watch calls
// changed, at least once per change and possibly more, until ctx ends.
type Notifier interface {
	Watch(ctx context.Context, changed func()) error
}

// ErrNotImplemented is the error a source returns on an operating system
// it does not run on.
var ErrNotImplemented = &cim.Error{Code: cim.ErrNotSupported, Description: "not implemented on " + runtime.GOOS}
