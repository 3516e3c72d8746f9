package server

import (
	"net/http"
	"strings"
	"testing"
)

// discardWriter is a ResponseWriter that keeps the headers and counts
// the bytes of the body.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkServeHTTPEnumerate measures the server's own work for an
// EnumerateInstances of 100 sessions with Basic authentication, in
// process, without sockets or a client: what BenchmarkEnumerateInstances
// measures less the network and the client's share of the CPU.
//
//	go test ./server -run '^$' -bench ServeHTTPEnumerate -benchmem
func BenchmarkServeHTTPEnumerate(b *testing.B) {
	for _, bc := range []struct {
		name     string
		validate bool
	}{{"validate", true}, {"novalidate", false}} {
		b.Run(bc.name, func(b *testing.B) {
			ts := startServer(b, serverOpts{sessions: 100, skipValidation: !bc.validate})
			body := newEIClient(ts.url, "root", rootPass, 1, 100).body
			b.ReportAllocs()
			for b.Loop() {
				r, err := http.NewRequest("POST", ts.url+Path, strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				r.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
				r.Header.Set("CIMOperation", "MethodCall")
				r.Header.Set("CIMMethod", "EnumerateInstances")
				r.Header.Set("CIMObject", "root%2Fcimv2")
				r.SetBasicAuth("root", rootPass)
				w := &discardWriter{h: http.Header{}}
				ts.srv.ServeHTTP(w, r)
				if w.code != http.StatusOK || w.n < 100<<10 {
					b.Fatalf("HTTP %d, %d bytes", w.code, w.n)
				}
			}
		})
	}
}
