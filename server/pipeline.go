package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
)

// The server's HTTP pipeline is a chain of net/http wrappers in front of
// each protocol handler, outermost first:
//
//	Logged        one log record and the metrics of each request (RequestInfo)
//	Authenticated HTTP Basic against Users, under its own concurrency limit
//	              and a per-source failed-login throttle; the viewer goes
//	              into the context
//	BufferBody    reads the whole body, bounded by MaxRequestBytes
//	Limited       one of MaxConcurrent slots while the handler runs, else 503
//	the protocol  CIM-XML at Path; another (WS-Man) mounted with Handle
//
// Authentication and the body come before the slot, so that a client that
// cannot log in, or sends its body slowly, never holds one. Below the
// wrappers, the listeners cap connections per source and in total
// (connLimiter).

// RequestInfo is what the log record and the metrics of one request say.
// Logged puts one in the request's context; each wrapper and the protocol
// handler fill in what they learn (see Info).
type RequestInfo struct {
	// Protocol is the name the handler was mounted with ("cimxml").
	Protocol string
	// User is the user name the client sent, authenticated or not.
	User string
	// Operation is the operation as the client named it (for the log).
	Operation string
	// OperationLabel is the operation's metrics label, one of a fixed set
	// the protocol handler knows; empty is "other" ("none" when Operation
	// is empty too), so that clients cannot grow the label set.
	OperationLabel string
	// Class is the class the operation was about.
	Class string
	// Status is the outcome: a CIM status name, or http_NNN for a request
	// refused before it ran.
	Status string
	// HTTPStatus is the response's HTTP status.
	HTTPStatus int
	// Detail says why a request failed.
	Detail string
	// Panic is a panic a handler recovered from (or Logged did), with its
	// stack: a bug, logged as an error.
	Panic string
}

type infoKey struct{}

// Info returns the request's RequestInfo. Outside Logged it returns a new
// one that nobody reads, so handlers may always fill it in.
func Info(ctx context.Context) *RequestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return ri
	}
	return &RequestInfo{HTTPStatus: http.StatusOK}
}

// Fault answers a request that is refused before it runs: HTTP status
// code with a one-line plain-text body saying detail, the headers of hdr,
// and the outcome recorded in the request's RequestInfo.
func Fault(w http.ResponseWriter, r *http.Request, code int, detail string, hdr http.Header) {
	ri := Info(r.Context())
	ri.HTTPStatus, ri.Status, ri.Detail = code, "http_"+strconv.Itoa(code), detail
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, http.StatusText(code)+": "+detail+"\n")
}

// Handle mounts a protocol handler at pattern (a net/http.ServeMux
// pattern such as "/wsman") behind the server's whole pipeline
// (Pipeline), on every listener Serve serves. protocol names it in the
// log and the metrics' protocol label. Call it before Serve or
// NewHTTPServer.
func (s *Server) Handle(pattern, protocol string, h http.Handler) {
	s.mounts = append(s.mounts, mount{pattern: pattern, h: s.Pipeline(protocol, h)})
}

type mount struct {
	pattern string
	h       http.Handler
}

// Pipeline returns h behind the server's wrappers: Logged, Authenticated,
// BufferBody and Limited. h finds the viewer with cimom.ViewerFrom, the
// body with Body, and reports what it did through Info.
func (s *Server) Pipeline(protocol string, h http.Handler) http.Handler {
	return s.Logged(protocol, s.Authenticated(s.BufferBody(s.Limited(h))))
}

// Logged logs one record per request and counts it in the metrics, with
// what the inner handlers put in the request's RequestInfo.
func (s *Server) Logged(protocol string, next http.Handler) http.Handler {
	return LogRequests(s.log, s.cfg.Metrics, protocol, next)
}

// LogRequests is [Server.Logged] for a handler outside a Server (the fleet
// timeline): one record per request to log, with what the inner handlers
// put in the request's RequestInfo, counted in metrics when it is not nil.
func LogRequests(log *slog.Logger, metrics *Metrics, protocol string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &RequestInfo{Protocol: protocol, HTTPStatus: http.StatusOK}
		ww := &wroteWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		if ambiguousRequest(r) {
			// Content-Length and Transfer-Encoding both: answer, then
			// close (RFC 9112 §6.3), so nothing smuggled is read next.
			w.Header().Set("Connection", "close")
		}
		defer func() {
			d := time.Since(start)
			// Every value a client chose is clipped (cim.Clip): a 45,000
			// character user name is not a 45 KB log line.
			attrs := []any{"protocol", ri.Protocol, "remote", r.RemoteAddr, "user", cim.Clip(ri.User), "operation", cim.Clip(ri.Operation),
				"class", cim.Clip(ri.Class), "cim_status", cim.Clip(ri.Status), "http_status", ri.HTTPStatus, "duration", d}
			if ri.Detail != "" {
				attrs = append(attrs, "detail", cim.Clip(ri.Detail))
			}
			if ri.Panic != "" {
				log.Error(protocol+" request failed on a bug", append(attrs, "panic", ri.Panic)...)
			} else {
				log.Info(protocol+" request", attrs...)
			}
			if metrics != nil {
				op := ri.OperationLabel
				if op == "" && ri.Operation != "" {
					op = "other"
				}
				metrics.observe(protocol, op, ri.Status, d)
			}
		}()
		defer func() {
			// A panic is a bug: logged with its stack (above), answered
			// with 500 when nothing was written yet, and the server goes
			// on. net/http's own abort goes on up.
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				ri.Panic = fmt.Sprintf("%v\n%s", p, debug.Stack())
				if !ww.wrote {
					Fault(w, r, http.StatusInternalServerError, "the server failed on this request (a bug, logged)", nil)
				}
				ri.HTTPStatus, ri.Status = http.StatusInternalServerError, "panic"
			}
		}()
		next.ServeHTTP(ww, r)
	})
}

// wroteWriter notes whether the response's header went out.
type wroteWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *wroteWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *wroteWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer beneath (flushing,
// deadlines).
func (w *wroteWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Authenticated checks the request's HTTP Basic credentials against the
// users file and puts the viewer they give into the request's context
// (cimom.WithViewer): an administrator, or a restricted user who sees only
// their own instances. With NoAuth every request is an administrator, but
// only one whose Host names the loopback interface (LoopbackHost).
//
// A remembered successful login costs an HMAC and passes at once. Any
// other check waits for one of MaxAuthConcurrent bcrypt turns (503 after
// a second), and a source with MaxLoginFailures failures within
// LoginFailureWindow gets 429 with Retry-After instead, so that clients
// guessing passwords can neither take the server's CPU nor keep a
// logged-in administrator out.
func (s *Server) Authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		viewer := cimom.Viewer{}
		if !s.cfg.NoAuth {
			var ok bool
			if viewer, ok = s.login.Check(w, r); !ok {
				return
			}
		} else if !LoopbackHost(r.Host) {
			Fault(w, r, http.StatusForbidden, NoAuthHostRefused, nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(cimom.WithViewer(r.Context(), viewer)))
	})
}

// NoAuthHostRefused is what a server without authentication answers a
// request that names it by other than a loopback name (see LoopbackHost).
const NoAuthHostRefused = "without authentication only requests to localhost, 127.0.0.1 or [::1] are served (the Host header names another)"

// authWait is how long a password check waits for a bcrypt turn.
const authWait = time.Second

type bodyKey struct{}

// BufferBody reads the whole request body, up to MaxRequestBytes (413
// and the connection closed beyond), so that the handler after it gets
// it at once (Body) and a slow client holds no slot while it sends.
func (s *Server) BufferBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := s.cfg.MaxRequestBytes
		tooLarge := fmt.Sprintf("the request is over %d bytes", max)
		if r.ContentLength > max {
			Fault(w, r, http.StatusRequestEntityTooLarge, tooLarge, http.Header{"Connection": {"close"}})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				Fault(w, r, http.StatusRequestEntityTooLarge, tooLarge, http.Header{"Connection": {"close"}})
				return
			}
			Fault(w, r, http.StatusBadRequest, "reading the request: "+cim.Clip(err.Error()), http.Header{"Connection": {"close"}})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// Body returns the request body that BufferBody read; without BufferBody
// it reads r.Body (unbounded: the caller bounds it).
func Body(r *http.Request) ([]byte, error) {
	if b, ok := r.Context().Value(bodyKey{}).([]byte); ok {
		return b, nil
	}
	return io.ReadAll(r.Body)
}

// Limited runs the handler in one of MaxConcurrent slots, and answers
// 503 with Retry-After at once when none is free.
func (s *Server) Limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		default:
			Fault(w, r, http.StatusServiceUnavailable, "too many requests at once; retry", http.Header{"Retry-After": {"1"}})
			return
		}
		next.ServeHTTP(w, r)
	})
}
