// Package provider defines how sources of CIM instances plug into the
// object manager: the [Provider] interface that every source implements,
// the optional [Reporter] and [Notifier] interfaces, and [ErrNotImplemented]
// for platforms a source does not run on. The sources themselves live in
// sub-packages, one per operating-system source.
package provider

import (
	"context"
	"runtime"
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
	// Enumerate returns the current instances of class, one of Classes().
	// A provider may use hint to do less work; it may also ignore it, since
	// the object manager filters what it returns again. The instances
	// returned belong to the caller, which sets their Path: a provider that
	// caches instances must hand out clones.
	Enumerate(ctx context.Context, class string, hint Hint) ([]*cim.Instance, error)
}

// Checker is implemented by providers that build many instances and can
// hand each run of them to the object manager's checks (the schema, the
// path) as soon as the run is made, on the goroutine that made it: the
// instances are then checked while they are still in the CPU's cache,
// not in a second pass over all of them, which for a big utmp cost as
// much as building them.
type Checker interface {
	Provider
	// EnumerateChecked is Enumerate that calls check on runs of the
	// instances it returns, each instance in exactly one run, before it
	// returns; runs may be checked on several goroutines at once. It
	// fails with the error of the first run, in the order of the result,
	// whose check failed. A nil check checks nothing.
	EnumerateChecked(ctx context.Context, class string, hint Hint, check func(run []*cim.Instance) error) ([]*cim.Instance, error)
}

// Hint narrows what the object manager needs from a provider.
type Hint struct {
	// Keys, when not nil, asks only for instances whose key properties
	// have these values; names are lower-case.
	Keys map[string]any
	// RefersTo, when not nil, asks an association provider only for the
	// association instances one of whose references is this path.
	RefersTo *cim.ObjectPath
}

// Source says what a provider read and what it found there, for the line a
// user sees when a query returns nothing ("sources checked: …").
type Source struct {
	Name  string // what kind of source: "utmp", "logind", "smbstatus"
	Where string // its path or command
	Found int    // how many records it held
	Note  string // why it held nothing, or "" when it was read as usual
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
