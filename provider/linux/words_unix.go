//go:build linux || darwin || freebsd || netbsd || openbsd

package linux

import (
	"syscall"
	"unsafe"
)

// minMapped is the smallest filter worth a mapping of its own.
const minMapped = 64 << 10

// newWords returns n zeroed words outside the Go heap when they are many
// (an anonymous private mapping), and the function that gives them back.
// Held in the heap, a filter of a few MiB raised the collector's goal by
// as much again, so that peak memory grew twice its size with the utmp
// file; mapped, it costs its pages and nothing more, and they are
// returned at once when the pass is over. Should the mapping fail, the
// words are made in the heap.
func newWords(n int) ([]uint64, func()) {
	if n*8 < minMapped {
		return make([]uint64, n), func() {}
	}
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n), func() {}
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), func() { _ = syscall.Munmap(b) }
}
