package server

import (
	"io"
	"net/url"
	"testing"
	"time"
)

// fetchEnumerate runs one EnumerateInstances of Linux_LogonSession on a
// new connection with the given protocol and TE header and returns the
// time to the response's header, to its end, and its size.
func fetchEnumerate(b *testing.B, addr, proto, te string) (first, total time.Duration, size int64) {
	start := time.Now()
	conn, _, resp := rawEnumerate(b, addr, proto, te)
	defer conn.Close()
	first = time.Since(start)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("HTTP %d after %d bytes: %v", resp.StatusCode, n, err)
	}
	return first, time.Since(start), n
}

// BenchmarkCIMXMLStream enumerates 10,000 sessions through CIM-XML three
// ways, alternating in every iteration of the same run: streamed (HTTP/1.1
// with TE: trailers, chunked as the instances are made), held whole
// (HTTP/1.0, Content-Length: how every answer went out before), and a
// bare net/http handler writing the same bytes with a Content-Length (the
// peer that does no work of its own); each on a new connection.
//
//	go test ./server -run '^$' -bench CIMXMLStream -benchtime 5x -count 2
//
// Metrics: stream-s, held-s and bare-s (seconds per enumeration),
// ratio (bare-s over stream-s: the share of the bare handler's speed),
// stream-first-ms and held-first-ms (milliseconds to the response's
// header), MB (the answer's size).
func BenchmarkCIMXMLStream(b *testing.B) {
	const sessions = 10_000
	ts := startServer(b, serverOpts{sessions: sessions, noAuth: true})
	u, _ := url.Parse(ts.url)
	var rec []byte
	{
		conn, _, resp := rawEnumerate(b, u.Host, "HTTP/1.0", "")
		var err error
		rec, err = io.ReadAll(resp.Body)
		conn.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	bare, _ := url.Parse(replayServer(b, `application/xml; charset="utf-8"`, [][]byte{rec}))
	var stream, held, bareT, streamFirst, heldFirst time.Duration
	var size int64
	for b.Loop() {
		f, t, n := fetchEnumerate(b, u.Host, "HTTP/1.1", "trailers")
		stream, streamFirst, size = stream+t, streamFirst+f, n
		f, t, _ = fetchEnumerate(b, u.Host, "HTTP/1.0", "")
		held, heldFirst = held+t, heldFirst+f
		_, t, _ = fetchEnumerate(b, bare.Host, "HTTP/1.1", "")
		bareT += t
	}
	n := float64(b.N)
	b.ReportMetric(stream.Seconds()/n, "stream-s")
	b.ReportMetric(held.Seconds()/n, "held-s")
	b.ReportMetric(bareT.Seconds()/n, "bare-s")
	b.ReportMetric(bareT.Seconds()/stream.Seconds(), "ratio")
	b.ReportMetric(float64(streamFirst.Milliseconds())/n, "stream-first-ms")
	b.ReportMetric(float64(heldFirst.Milliseconds())/n, "held-first-ms")
	b.ReportMetric(float64(size)/1e6, "MB")
}
