package ahead

import (
	"testing"
	"time"
)

// A wait that the other side ends within the spin is a poll: the side
// keeps polling. One that outlasts slowWait turns polling off for the
// next wait, and a short wait turns it on again.
func TestSpinnerTurnsOffForASlowSide(t *testing.T) {
	s := spinner{}
	ch := make(chan int, 1)
	go func() { time.Sleep(2 * slowWait); ch <- 1 }()
	if v, ok := recv(&s, ch, nil); !ok || v != 1 {
		t.Fatalf("recv = %d, %v; want 1, true", v, ok)
	}
	if !s.off {
		t.Fatal("after a wait of 2 ms the side still polls")
	}
	s.waited(time.Now()) // a wait that took no time (a goroutine's start may take ms under load)
	if s.off {
		t.Fatal("after a short wait the side still parks at once")
	}
}

// stop ends a parked wait of either side, and a ready channel needs no
// wait at all, stop or not.
func TestStopEndsAWait(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	s := spinner{}
	full := make(chan int) // no receiver: send cannot succeed
	if send(&s, full, 1, stop) {
		t.Fatal("send on a channel nobody reads succeeded")
	}
	if _, ok := recv(&s, make(chan int), stop); ok {
		t.Fatal("recv on a channel nobody writes succeeded")
	}
	ready := make(chan int, 1)
	ready <- 3
	if v, ok := recv(&s, ready, stop); !ok || v != 3 {
		t.Fatalf("recv of a ready channel = %d, %v; want 3, true", v, ok)
	}
}

// On one CPU a side never polls (the other could not run meanwhile);
// elsewhere a poll that finds nothing gives up after spinFor, not before.
func TestPollBounds(t *testing.T) {
	s := spinner{one: true}
	polls := 0
	if s.poll(time.Now(), func() bool { polls++; return false }) || polls != 0 {
		t.Fatalf("poll on one CPU tried %d times", polls)
	}
	s = spinner{}
	start := time.Now()
	if s.poll(start, func() bool { polls++; return false }) {
		t.Fatal("a poll whose try never succeeds succeeded")
	}
	if el := time.Since(start); el < spinFor {
		t.Fatalf("poll gave up after %v, before spinFor (%v)", el, spinFor)
	}
}
