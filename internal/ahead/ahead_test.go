package ahead

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// produceUpTo returns a producer of the even numbers below n (the odd ones
// are added and dropped), ending with end.
func produceUpTo(n int, end error) func(*Filler[int]) error {
	return func(f *Filler[int]) error {
		for i := range n {
			p := f.Add()
			if p == nil {
				return errors.New("stopped")
			}
			*p = i
			if i%2 == 1 {
				f.Drop()
			}
		}
		return end
	}
}

// drain returns every item r hands out and the error that ends them.
func drain(r *Reader[int]) ([]int, error) {
	var got []int
	for {
		c, err := r.Next()
		if err != nil {
			return got, err
		}
		if len(c) == 0 {
			return got, errors.New("an empty chunk")
		}
		got = append(got, c...)
	}
}

// TestOrderAndEnd checks that the items come in order across chunks, for
// inputs shorter than a chunk, of whole chunks and of a part of one more,
// and that the producer's end comes after them.
func TestOrderAndEnd(t *testing.T) {
	errDisk := errors.New("disk gone")
	for _, n := range []int{0, 1, 15, 16, 17, 64, 1001} {
		for _, end := range []error{nil, errDisk} {
			r := Start(8, produceUpTo(n, end))
			got, err := drain(r)
			r.Close()
			var want []int
			for i := 0; i < n; i += 2 {
				want = append(want, i)
			}
			if !slices.Equal(got, want) {
				t.Errorf("n=%d: got %v, want %v", n, got, want)
			}
			if wantErr := end; (wantErr == nil && err != io.EOF) || (wantErr != nil && err != wantErr) {
				t.Errorf("n=%d end %v: ended with %v", n, end, err)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("n=%d: Next after the end gave %v, then %v", n, err, err2)
			}
		}
	}
}

// TestCloseHalfWay checks that a consumer that stops after one chunk of an
// endless producer ends its goroutine, and that the producer sees it.
func TestCloseHalfWay(t *testing.T) {
	stopped := make(chan bool, 1)
	r := Start(4, func(f *Filler[int]) error {
		for i := 0; ; i++ {
			p := f.Add()
			if p == nil {
				stopped <- true
				return nil
			}
			*p = i
		}
	})
	c, err := r.Next()
	if err != nil || !slices.Equal(c, []int{0, 1, 2, 3}) {
		t.Fatalf("first chunk %v, %v", c, err)
	}
	r.Close() // returns only once the goroutine has ended
	select {
	case <-stopped:
	default:
		t.Fatal("the producer was not told to stop")
	}
}

// TestTwoChunks checks that the producer fills the same two chunks in
// turn, however much it produces: memory does not grow with the input.
func TestTwoChunks(t *testing.T) {
	r := Start(4, produceUpTo(1000, nil))
	defer r.Close()
	arrays := map[*int]bool{}
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		arrays[&c[:1][0]] = true
	}
	if len(arrays) != 2 {
		t.Errorf("%d chunks handed out, want the same two", len(arrays))
	}
}

// TestStartNFillsAhead checks that with StartN the producer fills up to
// its chunks ahead of a consumer that does not take them, in order, and
// makes no more chunks than that however long the input: and no more
// than two for a consumer that keeps up.
func TestStartNFillsAhead(t *testing.T) {
	const chunks = 5
	produced := make(chan int, 100)
	r := StartN(4, chunks, func(f *Filler[int]) error {
		for i := range 1000 {
			p := f.Add()
			if p == nil {
				return nil
			}
			*p = i
			produced <- i
		}
		return nil
	})
	defer r.Close()
	// Nothing taken yet: the producer fills every chunk (all but the one
	// it is filling are handed over) and then waits.
	deadline := time.After(10 * time.Second)
	for n := 0; n < 4*chunks; n++ {
		select {
		case <-produced:
		case <-deadline:
			t.Fatalf("the producer stopped after %d items, want %d", n, 4*chunks)
		}
	}
	select {
	case i := <-produced:
		t.Fatalf("the producer went on past %d chunks, to item %d", chunks, i)
	case <-time.After(50 * time.Millisecond):
	}
	go func() {
		for range produced {
		}
	}()
	arrays := map[*int]bool{}
	next := 0
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range c {
			if v != next {
				t.Fatalf("item %d, want %d", v, next)
			}
			next++
		}
		arrays[&c[:1][0]] = true
	}
	if next != 1000 || len(arrays) > chunks {
		t.Errorf("%d items in %d chunks, want 1000 in at most %d", next, len(arrays), chunks)
	}
}

// TestProducerPanic checks that a producer's panic reaches the consumer,
// as a *Panic that Next panics with, telling where it happened, and that
// Close still returns.
func TestProducerPanic(t *testing.T) {
	r := Start(4, func(f *Filler[int]) error {
		*f.Add() = 1
		var rows []int
		*f.Add() = rows[3] // out of range: a bug
		return nil
	})
	defer r.Close()
	defer func() {
		p, ok := recover().(*Panic)
		if !ok {
			t.Fatalf("Next panicked with %v", p)
		}
		if !strings.Contains(fmt.Sprint(p.Value), "index out of range [3]") || !strings.Contains(p.Site, "TestProducerPanic.func1 line ") ||
			!strings.Contains(p.Error(), "on a producer's goroutine") || !strings.Contains(string(p.Stack), "TestProducerPanic") {
			t.Errorf("the panic says %v, in %s", p.Value, p.Site)
		}
		if _, err := r.Next(); err == nil {
			t.Error("Next after the panic: no error")
		}
	}()
	r.Next()
	t.Error("Next did not panic")
}

// TestCloseWinsOverAFreeChunk checks that once Close is called, the producer's
// next Add that needs a new chunk returns nil, even when a chunk is free
// (take's comment: "the consumer has stopped, which wins over a free
// chunk").
func TestCloseWinsOverAFreeChunk(t *testing.T) {
	extra := 0
	for range 200 {
		gate := make(chan struct{})
		filled := make(chan struct{})
		after := 0
		r := StartN(1, 4, func(f *Filler[int]) error {
			for i := 0; ; i++ {
				p := f.Add()
				if p == nil {
					return nil
				}
				*p = i
				if i == 0 {
					close(filled)
					<-gate // Close is called meanwhile
				} else {
					after++
				}
			}
		})
		<-filled
		closed := make(chan struct{})
		go func() { r.Close(); close(closed) }()
		<-r.stop // Close has closed stop
		close(gate)
		<-closed
		extra += after
	}
	if extra > 0 {
		t.Fatalf("the producer was given %d items after Close over 200 runs", extra)
	}
}
