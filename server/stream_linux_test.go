//go:build linux

package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/internal/testenv"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
)

// countingProvider is a real provider with its batches counted: how many
// it emitted, whether it has returned, and when.
type countingProvider struct {
	provider.Provider
	batches  atomic.Int64
	done     atomic.Bool
	finished chan struct{}
	doneAt   time.Time
	err      error
}

func (p *countingProvider) Enumerate(ctx context.Context, class string, hint provider.Hint, emit provider.Emit) error {
	err := p.Provider.Enumerate(ctx, class, hint, func(b []*cim.Instance) error {
		p.batches.Add(1)
		return emit(b)
	})
	p.doneAt, p.err = time.Now(), err
	p.done.Store(true)
	close(p.finished)
	return err
}

// startLinuxServer serves the Linux provider on a utmp of n records.
func startLinuxServer(t testing.TB, n int) (*testServer, *countingProvider) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"proc", "logind", "dev"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lp := linux.New(linux.Options{UtmpPath: testenv.GhostUtmp(t, n), ProcRoot: filepath.Join(dir, "proc"),
		LogindRoot: filepath.Join(dir, "logind"), DevRoot: filepath.Join(dir, "dev"), StatePath: "-",
		UserName: func(uid uint32) (string, bool) { return "", false }})
	cp := &countingProvider{Provider: lp, finished: make(chan struct{})}
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: testHost}, cp)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{ObjectManager: om, NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil, nil) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &testServer{srv: srv, addr: ln.Addr().String(), url: "http://" + ln.Addr().String()}, cp
}

// heapSampler samples the heap until stopped and keeps the peaks: of
// HeapInuse (what the heap holds, garbage not yet collected included) and
// of the live heap (what the last collection found reachable).
type heapSampler struct {
	mu         sync.Mutex
	inuse      uint64
	live       uint64
	stop       chan struct{}
	wg         sync.WaitGroup
	liveSample []metrics.Sample
}

func sampleHeap(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), liveSample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			metrics.Read(h.liveSample)
			h.mu.Lock()
			h.inuse = max(h.inuse, ms.HeapInuse)
			h.live = max(h.live, h.liveSample[0].Value.Uint64())
			h.mu.Unlock()
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// heapPeak is the peaks of a stretch of time.
type heapPeak struct{ inuse, live uint64 }

// take returns the peaks so far and starts new ones.
func (h *heapSampler) take() heapPeak {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := heapPeak{h.inuse, h.live}
	h.inuse, h.live = 0, 0
	return p
}

func (h *heapSampler) end() { close(h.stop); h.wg.Wait() }

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestSlowClientHundredThousand enumerates 100,000 sessions of the Linux
// provider (a generated utmp) to a client that reads 4 KiB at a time with
// pauses: the first byte arrives long before the provider has finished,
// the provider is held back by the client (it cannot run ahead), and the
// server's heap stays flat and under a bound all through the transfer,
// where the whole answer held at once would be hundreds of MB.
func TestSlowClientHundredThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 instances")
	}
	const n = 100_000
	ts, cp := startLinuxServer(t, n)
	base := heapInuse()
	samp := sampleHeap(20 * time.Millisecond)
	defer samp.end()

	start := time.Now()
	conn, _, resp := rawEnumerate(t, ts.addr, "HTTP/1.1", "trailers")
	defer conn.Close()
	firstByte := time.Since(start)
	if resp.StatusCode != 200 || len(resp.TransferEncoding) == 0 {
		t.Fatalf("HTTP %d, Transfer-Encoding %v", resp.StatusCode, resp.TransferEncoding)
	}
	if cp.done.Load() {
		t.Fatalf("the provider finished before the first byte (%v)", firstByte)
	}

	// The slow part: 4 KiB reads with a pause after every 64 KiB, for 4 MiB.
	buf := make([]byte, 4<<10)
	var read int64
	instances := 0
	var tail []byte // the end of the last read, for tags cut in two
	count := func(p []byte) {
		joined := append(tail, p...)
		instances += bytes.Count(joined, []byte("<VALUE.NAMEDINSTANCE>")) - bytes.Count(tail, []byte("<VALUE.NAMEDINSTANCE>"))
		tail = append(tail[:0], joined[max(0, len(joined)-32):]...)
	}
	for read < 4<<20 {
		k, err := resp.Body.Read(buf)
		read += int64(k)
		count(buf[:k])
		if err != nil {
			t.Fatalf("after %d bytes: %v", read, err)
		}
		if read%(64<<10) < int64(k) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	slowPeak := samp.take()
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	if cp.done.Load() {
		t.Errorf("the provider finished while the client had read only %d bytes: it is not held back by the client", read)
	}
	batchesSlow := cp.batches.Load()

	// The rest, at full speed, with the heap sampled all along.
	big := make([]byte, 64<<10)
	var peaks []heapPeak
	for i := 0; ; i++ {
		k, err := resp.Body.Read(big)
		read += int64(k)
		count(big[:k])
		if i%256 == 255 {
			peaks = append(peaks, samp.take())
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", read, err)
		}
	}
	peaks = append(peaks, samp.take())
	<-cp.finished
	if cp.err != nil {
		t.Fatal(cp.err)
	}
	if got := resp.Trailer.Get("CIMStatusCode"); got != "0" {
		t.Errorf("trailer CIMStatusCode %q", got)
	}
	if instances != n {
		t.Errorf("%d instances in %d bytes, want %d", instances, read, n)
	}
	if !cp.doneAt.After(start.Add(firstByte)) {
		t.Errorf("first byte at %v, provider done at %v", firstByte, cp.doneAt.Sub(start))
	}
	peak := slowPeak
	var lives []string
	for _, p := range peaks {
		peak.inuse, peak.live = max(peak.inuse, p.inuse), max(peak.live, p.live)
		if p.live == 0 {
			lives = append(lives, "-") // no sample in that stretch
			continue
		}
		lives = append(lives, fmt.Sprintf("%.0f", mb(p.live)))
	}
	t.Logf("%d instances, %.1f MB in %v; first byte after %v, provider done after %v; %d batches emitted while 4 MiB were read slowly",
		instances, float64(read)/1e6, time.Since(start).Round(time.Millisecond), firstByte.Round(time.Microsecond),
		cp.doneAt.Sub(start).Round(time.Millisecond), batchesSlow)
	t.Logf("heap: %.1f MB in use before; live peak %.1f MB while slow, %.1f MB overall (by 16 MiB read: %s MB); in use peak %.1f MB",
		mb(base), mb(slowPeak.live), mb(peak.live), strings.Join(lives, " "), mb(peak.inuse))
	// The bounds: the provider's own holding for its run (the utmp's
	// records, one session each) and a few batches, never the answer,
	// which is 180 MB; and flat: the live heap at the end of the transfer
	// is not far above what it was while the first MiBs went out.
	const liveBound, inuseBound = 48 << 20, 96 << 20
	if peak.live > base+liveBound || peak.inuse > base+inuseBound {
		t.Errorf("heap peaked at %.1f MB live, %.1f MB in use: over %.1f MB before + %d MB live, %d MB in use",
			mb(peak.live), mb(peak.inuse), mb(base), liveBound>>20, inuseBound>>20)
	}
	early, late := slowPeak.live, uint64(0)
	for i, p := range peaks {
		if i < len(peaks)/4 {
			early = max(early, p.live)
		}
		if i >= len(peaks)/2 {
			late = max(late, p.live)
		}
	}
	// Half again, plus 4 MB: the streaming provider holds so little that
	// the garbage collector's timing alone moves a few MB; an answer held
	// would be a hundred.
	if late > early*3/2+4<<20 {
		t.Errorf("the live heap grew during the transfer: %.1f MB in its first quarter, %.1f MB in its second half", mb(early), mb(late))
	}
	if read < 100<<20 {
		t.Errorf("the answer is %d bytes: too small for the bound to mean anything", read)
	}
}

// TestClosedConnectionStopsProvider: a client that goes away in the
// middle of a 100,000-instance enumeration stops the provider within one
// batch: it emits at most one more batch after the connection is closed
// (the one under way when the server noticed), and returns early.
func TestClosedConnectionStopsProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 instances")
	}
	const n = 100_000
	ts, cp := startLinuxServer(t, n)
	conn, _, resp := rawEnumerate(t, ts.addr, "HTTP/1.1", "trailers")
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// Let the server fill the socket's buffers and block in a write.
	for i := 0; ; i++ {
		b := cp.batches.Load()
		time.Sleep(50 * time.Millisecond)
		if cp.batches.Load() == b {
			break
		}
		if i > 100 {
			t.Fatal("the provider is not held back by the client")
		}
	}
	atClose := cp.batches.Load()
	conn.Close()
	select {
	case <-cp.finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider did not stop within 10 s of the client going away")
	}
	after := cp.batches.Load() - atClose
	t.Logf("%d batches emitted before the close, %d after; the provider returned %v", atClose, after, cp.err)
	if after > 1 {
		t.Errorf("%d batches emitted after the connection was closed, want at most 1", after)
	}
	if cp.err == nil || atClose+after >= n/provider.MaxBatch {
		t.Errorf("the provider ran to the end (%d batches, error %v)", atClose+after, cp.err)
	}
}
