package server

import (
	"net/http"

	"github.com/cimsess/cimsess/wsman"
)

// WSManPath is where WS-Management requests are posted, as WinRM serves them.
const WSManPath = "/wsman"

// MountWSMan serves WS-Management with h at WSManPath on every listener,
// behind the same pipeline as CIM-XML (log and metrics under protocol
// "wsman", authentication, body bound, slots). A request without
// credentials that carries WinRM's "WSMANIDENTIFY: unauthenticated" header
// skips authentication, and is then answered only if it is an Identify.
func (s *Server) MountWSMan(h *wsman.Handler) {
	full := s.Pipeline("wsman", wsmanInfo(h))
	anon := s.Logged("wsman", s.BufferBody(s.Limited(wsmanInfo(h.AnonymousIdentify()))))
	s.mounts = append(s.mounts, mount{pattern: WSManPath, h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && wsman.IsAnonymousIdentify(r) {
			anon.ServeHTTP(w, r)
			return
		}
		full.ServeHTTP(w, r)
	})})
}

// wsmanInfo runs h and copies what it learnt of the request into the
// request's RequestInfo.
func wsmanInfo(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wi wsman.Info
		h.ServeHTTP(w, r.WithContext(wsman.WithInfo(r.Context(), &wi)))
		ri := Info(r.Context())
		ri.Operation, ri.OperationLabel, ri.Class, ri.Detail, ri.Panic = wi.Action, wi.Operation, wi.Class, wi.Detail, wi.Panic
		if ri.Operation == "" {
			ri.Operation = wi.Operation
		}
		if wi.HTTPStatus != 0 {
			ri.HTTPStatus = wi.HTTPStatus
		}
		ri.Status = "OK"
		if wi.Fault != "" {
			ri.Status = wi.Fault
		}
	})
}
