// Package ahead runs a producer on a goroutine of its own, a chunk ahead
// of its consumer: two chunks of a fixed size take turns (or a few more,
// with StartN), so that on a second CPU the consumer works through one
// while the producer fills the other, and memory does not grow with the
// input. A side that has to wait
// for the other polls a moment before it parks (wait.go). Both readers of big
// login files use it: the history's merge of wtmp and the Linux provider's
// listing of utmp.
package ahead

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/cimsess/cimsess/internal/panicsite"
)

// Reader hands out, in order, the chunks its producer filled.
type Reader[T any] struct {
	full chan chunk[T]
	free chan []T
	stop chan struct{}
	done chan struct{}
	held []T   // the chunk the consumer holds, given back at its next call
	err  error // what ended the producing, once its last chunk was handed out
	wait spinner
}

// chunk is a full chunk, or the last one with what ended the producing.
type chunk[T any] struct {
	items []T
	err   error
}

// Filler is what a producer fills its chunks through.
type Filler[T any] struct {
	r     *Reader[T]
	items []T
	wait  spinner
	// More chunks it may make when none is free (see StartN), of size.
	more, size int
}

// Start runs produce on a goroutine of its own, filling chunks of size
// items. What produce returns ends the input after the items it added:
// nil is the input's end, which Next reports as io.EOF.
func Start[T any](size int, produce func(*Filler[T]) error) *Reader[T] {
	return StartN(size, 2, produce)
}

// StartN is Start with up to chunks chunks (at least 2) in turn, for a
// consumer that works in bursts: while it is busy elsewhere (a merge
// writing a batch to its database), the producer fills more than one
// chunk ahead of it. Chunks beyond the first two are made only when the
// producer finds none free, so a short input costs what it does with
// Start.
func StartN[T any](size, chunks int, produce func(*Filler[T]) error) *Reader[T] {
	chunks = max(chunks, 2)
	r := &Reader[T]{
		full: make(chan chunk[T], chunks-1),
		free: make(chan []T, chunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		wait: newSpinner(),
	}
	for range 2 {
		r.free <- make([]T, 0, size)
	}
	go func() {
		defer close(r.done)
		f := &Filler[T]{r: r, wait: newSpinner(), more: chunks - 2, size: size}
		if !f.take() {
			return
		}
		err := guarded(produce, f)
		if err == nil {
			err = io.EOF
		}
		select {
		case r.full <- chunk[T]{f.items, err}:
		case <-r.stop:
		}
	}()
	return r
}

// guarded runs produce, making a panic of it a *Panic, which Next panics
// with on the consumer's goroutine: there a recover can see it, where on
// the producer's own it would end the program.
func guarded[T any](produce func(*Filler[T]) error, f *Filler[T]) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &Panic{Value: v, Site: panicsite.Site(0), Stack: debug.Stack()}
		}
	}()
	return produce(f)
}

// Panic is a producer's panic, carried to its consumer's goroutine.
type Panic struct {
	Value any    // what the producer panicked with
	Site  string // the function and line it panicked in
	Stack []byte // the producer's stack when it panicked
}

// Error tells the panic with the producer's stack, as the program prints
// it should nothing recover.
func (p *Panic) Error() string {
	return fmt.Sprintf("%v (in %s, on a producer's goroutine)\n\n%s", p.Value, p.Site, p.Stack)
}

// PanicValue is what the producer panicked with ([panicsite.Carried]).
func (p *Panic) PanicValue() any { return p.Value }

// PanicSite is where the producer panicked ([panicsite.Carried]).
func (p *Panic) PanicSite() string { return p.Site }

// Add returns the slot for the next item at the end of the chunk being
// filled, first handing the chunk over when it is full. The slot holds
// whatever an earlier item left there, or zero: the producer sets all of
// it. (Zeroing each slot, and each chunk given back, was a twentieth of
// a 10,000-record listing, for items of hundreds of bytes.) Add returns
// nil when the consumer has stopped: the producer should return then
// (what it returns is not seen).
func (f *Filler[T]) Add() *T {
	if len(f.items) == cap(f.items) && !f.handOver() {
		return nil
	}
	f.items = f.items[:len(f.items)+1]
	return &f.items[len(f.items)-1]
}

// Drop takes back the slot that Add returned last.
func (f *Filler[T]) Drop() {
	f.items = f.items[:len(f.items)-1]
}

// handOver sends the full chunk to the consumer and takes a free one.
func (f *Filler[T]) handOver() bool {
	return send(&f.wait, f.r.full, chunk[T]{items: f.items}, f.r.stop) && f.take()
}

// take waits for a free chunk; false when the consumer has stopped,
// which wins over a free chunk.
func (f *Filler[T]) take() bool {
	select {
	case <-f.r.stop:
		return false
	default:
	}
	select {
	case items := <-f.r.free:
		f.items = items
		return true
	default:
	}
	if f.more > 0 {
		f.more--
		f.items = make([]T, 0, f.size)
		return true
	}
	items, ok := recv(&f.wait, f.r.free, f.r.stop)
	if ok {
		f.items = items
	}
	return ok
}

// Next returns the next chunk, which is the caller's until its next call
// of Next or Close, or, after the last, nil and what ended the producing:
// io.EOF at the input's end, else the producer's error.
func (r *Reader[T]) Next() ([]T, error) {
	for {
		if r.held != nil {
			// What its items point to stays reachable until they are
			// written again: at most all the chunks' worth.
			r.free <- r.held[:0]
			r.held = nil
		}
		if r.err != nil {
			return nil, r.err
		}
		c, _ := recv(&r.wait, r.full, nil) // the producer always ends with a chunk
		if p, ok := c.err.(*Panic); ok {
			r.err = io.ErrClosedPipe // should the caller recover and ask again
			panic(p)
		}
		r.held, r.err = c.items, c.err
		if len(c.items) > 0 {
			return c.items, nil
		}
	}
}

// Close stops the producer and waits for its goroutine to end, after
// which what it read from may be closed and what it wrote may be read.
func (r *Reader[T]) Close() {
	close(r.stop)
	<-r.done
}
