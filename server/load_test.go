package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eiClient sends EnumerateInstances of Win32_LogonSession over keep-alive
// connections and checks each answer.
type eiClient struct {
	c    *http.Client
	url  string
	user string
	pass string
	body string
	want int // VALUE.NAMEDINSTANCE elements per answer
}

func newEIClient(url, user, pass string, conns, want int) *eiClient {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &eiClient{c: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: url, user: user, pass: pass,
		body: request("EnumerateInstances", pClass("ClassName", "Win32_LogonSession"), pBool("DeepInheritance", true),
			pBool("LocalOnly", false), pBool("IncludeQualifiers", false), pBool("IncludeClassOrigin", true)), want: want}
}

var namedInstance = []byte("<VALUE.NAMEDINSTANCE>")

func (e *eiClient) do(buf *bytes.Buffer) error {
	req, err := http.NewRequest("POST", e.url+Path, strings.NewReader(e.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.Header.Set("CIMOperation", "MethodCall")
	req.Header.Set("CIMMethod", "EnumerateInstances")
	req.Header.Set("CIMObject", "root%2Fcimv2")
	if e.user != "" {
		req.SetBasicAuth(e.user, e.pass)
	}
	resp, err := e.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return &httpError{resp.StatusCode}
	}
	if e.want >= 0 {
		if n := bytes.Count(buf.Bytes(), namedInstance); n != e.want {
			return &countError{n, e.want}
		}
	}
	return nil
}

type httpError struct{ code int }

func (e *httpError) Error() string { return "HTTP " + strconv.Itoa(e.code) }

type countError struct{ got, want int }

func (e *countError) Error() string {
	return "got " + strconv.Itoa(e.got) + " instances, want " + strconv.Itoa(e.want)
}

// TestLoad runs 64 clients doing EnumerateInstances of 100 sessions as
// fast as they can, with authentication, for CIMSESS_LOAD_DURATION
// (default 30s). It runs only with CIMSESS_LOAD=1:
//
//	CIMSESS_LOAD=1 CIMSESS_LOAD_DURATION=5s go test ./server -run TestLoad -v
//
// No request may fail, and the heap after GC at the end may not have
// grown much beyond what it was after the warm-up.
func TestLoad(t *testing.T) {
	if os.Getenv("CIMSESS_LOAD") != "1" {
		t.Skip("set CIMSESS_LOAD=1 to run the load test")
	}
	dur := 30 * time.Second
	if s := os.Getenv("CIMSESS_LOAD_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	const clients = 64
	ts := startServer(t, serverOpts{sessions: 100, cfg: func(c *Config) { c.MaxConcurrent, c.MaxConnsPerSource = clients, clients }})
	cl := newEIClient(ts.url, "root", rootPass, clients, 100)
	var done atomic.Int64
	var failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := cl.do(&buf); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		}()
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	warm := dur / 5
	time.Sleep(warm)
	startHeap, startN, startT := heap(), done.Load(), time.Now()
	var peak uint64
	for time.Since(startT) < dur-warm {
		time.Sleep(dur / 10)
		if h := heap(); h > peak {
			peak = h
		}
	}
	endN, elapsed := done.Load(), time.Since(startT)
	close(stop)
	wg.Wait()
	endHeap := heap()
	rate := float64(endN-startN) / elapsed.Seconds()
	t.Logf("%d clients, %v: %d requests, %.0f requests/s after warm-up; heap in use %.1f MiB after warm-up, %.1f MiB peak, %.1f MiB at the end",
		clients, dur, done.Load(), rate, float64(startHeap)/(1<<20), float64(peak)/(1<<20), float64(endHeap)/(1<<20))
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed; first: %v", n, firstErr.Load())
	}
	if peak > startHeap*2+16<<20 {
		t.Errorf("heap grew from %d to %d bytes", startHeap, peak)
	}
}

// BenchmarkEnumerateInstances measures EnumerateInstances of
// Win32_LogonSession with 100 sessions over loopback HTTP keep-alive,
// against a plain net/http handler that writes the same response
// pre-rendered, in the same run:
//
//	go test ./server -run '^$' -bench EnumerateInstances -benchtime 5s
//
// The ratio of cimsess's requests/s to the baseline's is the measure.
func BenchmarkEnumerateInstances(b *testing.B) {
	ts := startServer(b, serverOpts{sessions: 100, cfg: func(c *Config) { c.MaxConcurrent, c.MaxConnsPerSource = 1024, 1024 }})
	// The response, rendered once by the server itself.
	var rendered bytes.Buffer
	if err := newEIClient(ts.url, "root", rootPass, 1, 100).do(&rendered); err != nil {
		b.Fatal(err)
	}
	body := append([]byte(nil), rendered.Bytes()...)
	base := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
		w.Header().Set("CIMOperation", "MethodResponse")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = base.Serve(ln) }()
	b.Cleanup(func() { base.Close() })

	plain := startServer(b, serverOpts{sessions: 100, skipValidation: true, cfg: func(c *Config) { c.MaxConcurrent, c.MaxConnsPerSource = 1024, 1024 }})
	targets := []struct {
		name, url, user, pass string
	}{
		{"baseline", "http://" + ln.Addr().String(), "", ""},
		{"cimsess", ts.url, "root", rootPass},
		{"cimsess-novalidate", plain.url, "root", rootPass},
	}
	for _, bc := range targets {
		b.Run(bc.name, func(b *testing.B) {
			cl := newEIClient(bc.url, bc.user, bc.pass, 256, 100)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.SetParallelism(4)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var buf bytes.Buffer
				for pb.Next() {
					if err := cl.do(&buf); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
	// The machine's load changes from one sub-benchmark to the next, so
	// the ratio is measured with the two alternating in short bursts: each
	// iteration sends a burst of requests to the baseline and the same
	// burst to cimsess, each burst from 8 concurrent clients, and the
	// ratio is of the requests per second summed over every burst.
	const burst, workers = 64, 8
	for _, bc := range targets[1:] {
		b.Run("ratio-"+bc.name, func(b *testing.B) {
			base := newEIClient(targets[0].url, "", "", workers, 100)
			cl := newEIClient(bc.url, bc.user, bc.pass, workers, 100)
			run := func(c *eiClient) time.Duration {
				start := time.Now()
				var wg sync.WaitGroup
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var buf bytes.Buffer
						for i := 0; i < burst/workers; i++ {
							if err := c.do(&buf); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				return time.Since(start)
			}
			var baseT, cimT time.Duration
			for i := 0; i < b.N; i++ {
				baseT += run(base)
				cimT += run(cl)
			}
			n := float64(b.N * burst)
			b.ReportMetric(baseT.Seconds()/cimT.Seconds(), "ratio")
			b.ReportMetric(n/cimT.Seconds(), "cimsess-req/s")
			b.ReportMetric(n/baseT.Seconds(), "baseline-req/s")
		})
	}
}
