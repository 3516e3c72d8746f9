// Package panicsite names where a panic came from, for the errors that
// the program's recovers make of a bug: the object manager's, for a
// provider's panic, and internal/ahead's, which carries a producer's
// panic to its consumer's goroutine.
package panicsite

import (
	"runtime"
	"strconv"
	"strings"
)

// Site names the function and line a panic being recovered came from:
// the first frame of the panicking stack outside the runtime. Call it in
// the deferred function that recovers; skip is how many frames between
// that function and Site's caller (0 when it is that function).
func Site(skip int) string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3+skip, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return f.Function + " line " + strconv.Itoa(f.Line)
		}
		if !more {
			return "an unknown place"
		}
	}
}

// Carried is a panic carried from the goroutine it happened on to
// another, where a recover can see it: its value and where it happened.
type Carried interface {
	PanicValue() any
	PanicSite() string
}
