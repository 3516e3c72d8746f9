package ahead

import (
	"runtime"
	"time"
)

// spinFor is how long a side of the hand-over that finds the other not
// ready polls before it parks. A chunk takes hundreds of microseconds to
// fill or to use, and the two sides are often about as fast, so each
// waits for the other about once a chunk, briefly. A parked goroutine
// hands its CPU back to the kernel, and waking it again costs tens to
// hundreds of microseconds where that CPU has gone idle (a virtual
// machine's vCPU most of all); both sides pay it in turn, each chunk.
// Polling instead made a 10,000-record listing about 4 % faster on two
// vCPUs (scripts/bench-builds.sh d48570a~1 d48570a 300: 0.962 by the
// median of the pairs); polls of 100 µs to 1 ms were alike.
const spinFor = 200 * time.Microsecond

// slowWait is the wait after which a side parks at once the next time:
// the other side is slow (a client reading over the network, a database
// writing), and polling for it would only burn a CPU.
const slowWait = time.Millisecond

// pollsPerClock is how many polls of a channel pass between two readings
// of the clock while spinning.
const pollsPerClock = 64

// spinner is one side's memory of its last wait, which decides whether
// it polls before it parks.
type spinner struct {
	// one: the program runs on one CPU (GOMAXPROCS 1), where polling
	// would only hold the other side off it until preempted.
	one bool
	off bool // the last wait was longer than slowWait
}

// newSpinner returns the spinner of one side.
func newSpinner() spinner { return spinner{one: runtime.GOMAXPROCS(0) < 2} }

// waited records how long a wait that had to wait took, from its start.
func (s *spinner) waited(start time.Time) { s.off = time.Since(start) > slowWait }

// poll calls try, which does not block, until it succeeds or, unless s
// is off, spinFor has passed since start; it reports whether try did.
func (s *spinner) poll(start time.Time, try func() bool) bool {
	if s.off || s.one {
		return false
	}
	for i := 1; ; i++ {
		if try() {
			s.waited(start)
			return true
		}
		if i%pollsPerClock == 0 && time.Since(start) > spinFor {
			return false
		}
	}
}

// recv receives from ch, polling it first unless s is off; false when
// stop closed first. stop is looked at only when the wait parks: a spin
// is short.
func recv[C any](s *spinner, ch <-chan C, stop <-chan struct{}) (v C, ok bool) {
	try := func() bool {
		select {
		case v = <-ch:
			return true
		default:
			return false
		}
	}
	if try() {
		return v, true
	}
	start := time.Now()
	if s.poll(start, try) {
		return v, true
	}
	defer s.waited(start)
	select {
	case v = <-ch:
		return v, true
	case <-stop:
		return v, false
	}
}

// send sends v on ch as recv receives: polling first unless s is off;
// false when stop closed first.
func send[C any](s *spinner, ch chan<- C, v C, stop <-chan struct{}) bool {
	try := func() bool {
		select {
		case ch <- v:
			return true
		default:
			return false
		}
	}
	if try() {
		return true
	}
	start := time.Now()
	if s.poll(start, try) {
		return true
	}
	defer s.waited(start)
	select {
	case ch <- v:
		return true
	case <-stop:
		return false
	}
}
