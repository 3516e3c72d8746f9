// Package box makes interface values that hold their value in memory the
// caller gives, instead of in a copy of their own on the heap.
//
// Storing a string, a large integer or a struct in an interface (an
// `any`) copies it to a new heap object: one allocation a value. A
// provider that makes its instances in memory it reuses batch after batch
// (provider.Hint.Lent) would pay that for every property of every
// instance, the largest cost of listing a big utmp. A [Boxer] makes the
// interface refer to a slot of that memory instead.
//
// [String] does the same for text built in the caller's bytes.
//
// The contract is the caller's: a slot must not be written again while an
// interface made of it is in use, since the interface would then show the
// new value. Slots live in memory that is handed out and taken back as a
// whole (a chunk of instances), so that the interfaces and their slots are
// reused together.
package box

import (
	"reflect"
	"unsafe"
)

// eface is the layout of an empty interface value: the type's descriptor
// and a pointer to the value (for every type that [For] accepts).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// Boxer makes interface values of type T that refer to slots.
type Boxer[T any] struct{ typ unsafe.Pointer }

// For returns the Boxer of T. It panics for a type whose values an
// interface holds in itself rather than by pointer (pointers, maps,
// channels, functions and structs or arrays of one such): those are
// never allocated when boxed, and a slot would not be read.
func For[T any]() Boxer[T] {
	t := reflect.TypeFor[T]()
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		panic("box: an interface holds a " + t.String() + " in itself")
	case reflect.Struct, reflect.Array:
		if t.Size() == unsafe.Sizeof(uintptr(0)) {
			// Possibly one pointer-shaped field: held in the interface.
			panic("box: an interface may hold a " + t.String() + " in itself")
		}
	}
	var zero T
	x := any(zero)
	return Boxer[T]{typ: (*eface)(unsafe.Pointer(&x)).typ}
}

// At returns an interface value of type T whose value is *slot, read
// through slot whenever it is used.
func (b Boxer[T]) At(slot *T) any {
	var x any
	e := (*eface)(unsafe.Pointer(&x))
	e.typ = b.typ
	e.data = unsafe.Pointer(slot)
	return x
}

// String returns the bytes of b as a string without copying them. The
// caller must not write b's bytes again while the string is in use.
func String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
