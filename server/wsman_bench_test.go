package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cimsess/cimsess/wsman"
)

// wsmanPuller runs Enumerate + Pulls of Win32_LogonSession in pages of
// `page` over HTTP with Basic authentication, as a WinRM client does, and
// keeps the bodies it got.
type wsmanPuller struct {
	c          *http.Client
	url        string
	user, pass string
	page       int
	buf        bytes.Buffer
}

func (p *wsmanPuller) post(env []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(env))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", wsman.ContentType)
	if p.user != "" {
		req.SetBasicAuth(p.user, p.pass)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p.buf.Reset()
	if _, err := io.Copy(&p.buf, resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, p.buf.Bytes())
	}
	return p.buf.Bytes(), nil
}

var (
	ctxOpen  = []byte("<n:EnumerationContext>")
	ctxClose = []byte("</n:EnumerationContext>")
	eos      = []byte("EndOfSequence")
)

// run enumerates to the end, calling each with every response body, and
// returns the number of requests.
func (p *wsmanPuller) run(each func(i int, body []byte)) (int, error) {
	uri := wsman.PrefixWMI + "root/cimv2/Win32_LogonSession"
	body, err := p.post(wsman.Message{Action: wsman.ActionEnumerate, ResourceURI: uri, MaxEnvelopeSize: 4 << 20,
		Body: wsman.EnumerateBody(p.page, "", "", "")}.Envelope())
	for n := 1; ; n++ {
		if err != nil {
			return n, err
		}
		if each != nil {
			each(n-1, body)
		}
		if bytes.Contains(body, eos) {
			return n, nil
		}
		i, j := bytes.Index(body, ctxOpen), bytes.Index(body, ctxClose)
		if i < 0 || j < i {
			return n, fmt.Errorf("no context in %.300s", body)
		}
		id := string(body[i+len(ctxOpen) : j])
		body, err = p.post(wsman.Message{Action: wsman.ActionPull, ResourceURI: uri, MaxEnvelopeSize: 4 << 20,
			Body: wsman.PullBody(id, p.page)}.Envelope())
	}
}

// replayServer is a bare net/http handler that answers each request with
// the next of the bodies it holds, round: the peer that writes the same
// bytes with no work of its own.
func replayServer(b *testing.B, contentType string, bodies [][]byte) string {
	var next atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body := bodies[int(next.Add(1)-1)%len(bodies)]
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkWSManPull enumerates 10,000 sessions (a big utmp's worth)
// through WS-Management in pages of 100 (Enumerate with
// OptimizeEnumeration, then Pulls), against CIM-XML's EnumerateInstances
// of the same 10,000 in one response, and each against a bare net/http
// handler that writes the same bytes, alternating in the same run:
//
//	go test ./server -run '^$' -bench WSManPull -benchtime 5x -count 3
//
// Metrics: wsman-req/s and bare-req/s (requests per second of the WS-Man
// pages and of the bare handler writing them), ratio (the first over the
// second), wsman-s and cimxml-s (seconds for all 10,000 instances each
// way), cimxml-ratio (CIM-XML's bare peer's time over CIM-XML's).
// BenchmarkWSManPull/memory reports the server's heap while pulling.
func BenchmarkWSManPull(b *testing.B) {
	const sessions, page = 10_000, 100
	var ws *wsman.Handler
	ts := startServer(b, serverOpts{sessions: sessions, mount: func(s *Server) {
		var err error
		if ws, err = wsman.New(wsman.Config{ObjectManager: s.om, MaxEnvelopeSize: 4 << 20}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(ws.Close)
		s.MountWSMan(ws)
	}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: time.Minute}
	puller := &wsmanPuller{c: client, url: ts.url + WSManPath, user: "root", pass: rootPass, page: page}
	var pages [][]byte
	if _, err := puller.run(func(_ int, body []byte) { pages = append(pages, append([]byte(nil), body...)) }); err != nil {
		b.Fatal(err)
	}
	if len(pages) != sessions/page {
		b.Fatalf("%d pages", len(pages))
	}
	bareWS := &wsmanPuller{c: client, url: replayServer(b, wsman.ContentType, pages), page: page}
	ei := newEIClient(ts.url, "root", rootPass, 1, sessions)
	var eiBody bytes.Buffer
	if err := ei.do(&eiBody); err != nil {
		b.Fatal(err)
	}
	bareEI := newEIClient(replayServer(b, `application/xml; charset="utf-8"`, [][]byte{append([]byte(nil), eiBody.Bytes()...)}), "", "", 1, sessions)

	b.Run("ratio", func(b *testing.B) {
		var tWS, tBare, tEI, tBareEI time.Duration
		reqs := 0
		var buf bytes.Buffer
		for b.Loop() {
			start := time.Now()
			n, err := puller.run(nil)
			if err != nil {
				b.Fatal(err)
			}
			tWS += time.Since(start)
			reqs += n
			start = time.Now()
			if _, err := bareWS.run(nil); err != nil {
				b.Fatal(err)
			}
			tBare += time.Since(start)
			start = time.Now()
			if err := ei.do(&buf); err != nil {
				b.Fatal(err)
			}
			tEI += time.Since(start)
			start = time.Now()
			if err := bareEI.do(&buf); err != nil {
				b.Fatal(err)
			}
			tBareEI += time.Since(start)
		}
		b.ReportMetric(float64(reqs)/tWS.Seconds(), "wsman-req/s")
		b.ReportMetric(float64(reqs)/tBare.Seconds(), "bare-req/s")
		b.ReportMetric(tBare.Seconds()/tWS.Seconds(), "ratio")
		b.ReportMetric(tWS.Seconds()/float64(b.N), "wsman-s")
		b.ReportMetric(tEI.Seconds()/float64(b.N), "cimxml-s")
		b.ReportMetric(tBareEI.Seconds()/tEI.Seconds(), "cimxml-ratio")
	})

	// The heap while one enumeration is pulled: after the first page, in
	// the middle and after the last, with what the context holds.
	b.Run("memory", func(b *testing.B) {
		var first, mid, last uint64
		held := 0
		for b.Loop() {
			_, err := puller.run(func(i int, _ []byte) {
				if i != 0 && i != sessions/page/2 && i != sessions/page-1 {
					return
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				switch i {
				case 0:
					first, held = ms.HeapAlloc, ws.Stats().Held
				case sessions / page / 2:
					mid = ms.HeapAlloc
				default:
					last = ms.HeapAlloc
				}
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(first)/(1<<20), "heapMB-page1")
		b.ReportMetric(float64(mid)/(1<<20), "heapMB-page50")
		b.ReportMetric(float64(last)/(1<<20), "heapMB-page100")
		b.ReportMetric(float64(held), "held-after-page1")
	})
}
