// Package server is cimsess's WBEM server: CIM operations over HTTP
// (DMTF DSP0200) with CIM-XML bodies (DSP0201), answered by the object
// manager. It serves the read operations of namespace root/cimv2 on
// /cimom over HTTP and HTTPS, with POST and M-POST, keep-alive, and
// answers written as the object manager streams them: chunked, with
// CIMStatusCode trailers for clients that ask for them (see
// responseStream); authenticates users with HTTP Basic against a file of bcrypt
// hashes (remembering a successful check for a minute after its last use, under a keyed
// hash of the name, password and bcrypt hash, so that a client's every
// request does not pay for bcrypt; see [Users]), and shows each
// non-administrator only their own sessions;
// bounds request size, time and concurrency and refuses hostile XML; logs
// every request with log/slog and counts them for Prometheus.
//
// Those steps are net/http wrappers (see Pipeline) that any protocol
// handler can be mounted behind with Handle, as WS-Man is at /wsman.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/cimxml"
)

// Path is where CIM operation requests are posted.
const Path = "/cimom"

// Realm is the HTTP Basic authentication realm.
const Realm = "cimsess"

// DMTF's extension URI for CIM operations in M-POST's Man header.
const manExtension = "http://www.dmtf.org/cim/mapping.http/v1.0"

// manExtensionSlash is the same URI as OpenPegasus and other peers write it.
const manExtensionSlash = "http://www.dmtf.org/cim/mapping/http/v1.0"

// Defaults of the Config limits.
const (
	DefaultMaxRequestBytes   = 4 << 20
	DefaultMaxConcurrent     = 64
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	// DefaultMaxMultiResponseBytes is the response size after which a
	// MULTIREQ's remaining calls are not run.
	DefaultMaxMultiResponseBytes = 8 << 20
	// DefaultMaxConnsPerSource bounds the connections of one client
	// address (an IPv6 /64).
	DefaultMaxConnsPerSource = 32
	// DefaultMaxLoginFailures failed logins of one source within
	// DefaultLoginFailureWindow make it wait out the window (429).
	DefaultMaxLoginFailures   = 10
	DefaultLoginFailureWindow = time.Minute
	// maxDefaultConns is the total connection cap unless the file
	// descriptor limit asks for a lower one.
	maxDefaultConns = 4096
	// fdReserve is the descriptors kept for everything but connections.
	fdReserve = 64
)

// Config configures a Server. Zero limits take the defaults above.
type Config struct {
	// ObjectManager answers the operations. Required.
	ObjectManager *cimom.ObjectManager
	// Users authenticates requests. It is required unless NoAuth is set.
	Users *Users
	// NoAuth serves every request, unauthenticated, as an administrator.
	// The command line allows it on loopback listeners only.
	NoAuth bool
	// Logger receives one record per request; nil discards them.
	Logger *slog.Logger
	// Metrics, when not nil, counts requests and times them.
	Metrics *Metrics
	// MaxRequestBytes bounds a request body.
	MaxRequestBytes int64
	// MaxBufferedResponseBytes bounds the response held whole for a
	// client that cannot take a chunked one (HTTP/1.0); beyond, the call
	// fails with CIM_ERR_FAILED. Others get the response as it is made.
	MaxBufferedResponseBytes int64
	// MaxMultiResponseBytes bounds the response of a MULTIREQ: once it is
	// reached the remaining calls are answered CIM_ERR_FAILED unrun.
	MaxMultiResponseBytes int64
	// MaxConcurrent bounds the requests being served at once; more get 503.
	// A request takes its slot only once authenticated and read whole.
	MaxConcurrent int
	// MaxAuthConcurrent bounds the password checks (bcrypt) running at
	// once; default GOMAXPROCS (at least 2). A check not remembered
	// waits up to a second for its turn, then gets 503.
	MaxAuthConcurrent int
	// MaxLoginFailures failed logins from one source within
	// LoginFailureWindow make it wait the window out: 429 with
	// Retry-After, no bcrypt spent (a remembered successful login still
	// passes).
	MaxLoginFailures   int
	LoginFailureWindow time.Duration
	// MaxConns bounds the connections held at once over all listeners
	// (default 4096, or three quarters of the open-file limit when that is
	// lower; never above that limit less a reserve); MaxConnsPerSource
	// those of one client address. See connLimiter.
	MaxConns, MaxConnsPerSource int
	// Timeouts of the HTTP server (see net/http.Server).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Limits bound the XML of a request.
	Limits cimxml.Limits
}

// Server answers CIM operations over HTTP. Its ServeHTTP is the handler of
// Path; NewHTTPServer wraps it in an http.Server with the limits applied.
type Server struct {
	cfg   Config
	om    *cimom.ObjectManager
	query Querier
	log   *slog.Logger
	sem   chan struct{}
	// login checks passwords (bounded, with failed logins throttled
	// per source), conns bounds the connections per source and in total.
	login *Login
	conns *connLimiter
	// bufs keeps response encoders for reuse. Unlike a sync.Pool, which
	// the garbage collector empties, it keeps them across collections:
	// an encoder holds a whole response (hundreds of KiB for a large
	// enumeration), and growing a new one each time was most of the
	// garbage a request made besides the instances themselves.
	bufs chan *respBuf
	// cimxml is the CIM-XML handler behind the pipeline; mounts are
	// every handler NewHTTPServer serves, CIM-XML's first.
	cimxml http.Handler
	mounts []mount
}

// New returns a server for the configuration.
func New(cfg Config) (*Server, error) {
	if cfg.ObjectManager == nil {
		return nil, cim.Errorf(cim.ErrFailed, "server: no object manager")
	}
	if cfg.Users == nil && !cfg.NoAuth {
		return nil, cim.Errorf(cim.ErrAccessDenied, "server: no users file and authentication not turned off")
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxMultiResponseBytes <= 0 {
		cfg.MaxMultiResponseBytes = DefaultMaxMultiResponseBytes
	}
	if cfg.MaxBufferedResponseBytes <= 0 {
		cfg.MaxBufferedResponseBytes = DefaultMaxBufferedResponseBytes
	}
	if cfg.MaxAuthConcurrent <= 0 {
		cfg.MaxAuthConcurrent = max(2, runtime.GOMAXPROCS(0))
	}
	if cfg.MaxLoginFailures <= 0 {
		cfg.MaxLoginFailures = DefaultMaxLoginFailures
	}
	if cfg.LoginFailureWindow <= 0 {
		cfg.LoginFailureWindow = DefaultLoginFailureWindow
	}
	if cfg.MaxConnsPerSource <= 0 {
		cfg.MaxConnsPerSource = DefaultMaxConnsPerSource
	}
	cfg.MaxConns = maxConns(cfg.MaxConns)
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, om: cfg.ObjectManager, log: logger, sem: make(chan struct{}, cfg.MaxConcurrent),
		login: NewLogin(cfg.Users, Realm, cfg.MaxAuthConcurrent, cfg.MaxLoginFailures, cfg.LoginFailureWindow),
		conns: newConnLimiter(cfg.MaxConns, cfg.MaxConnsPerSource, logger)}
	s.query = queryOf(cfg.ObjectManager)
	s.bufs = make(chan *respBuf, min(cfg.MaxConcurrent, maxIdleBufs))
	s.cimxml = s.Pipeline("cimxml", http.HandlerFunc(s.serveCIMXML))
	s.mounts = []mount{{pattern: Path, h: s.cimxml}}
	return s, nil
}

// maxConns is the total connection cap for a configured one (0: the
// default): at most what the process's file limit leaves room for.
func maxConns(configured int) int {
	fdMax := maxDefaultConns
	if lim := fdLimit(); lim > 0 {
		fdMax = max(lim-fdReserve, 1)
		if configured <= 0 {
			configured = min(maxDefaultConns, max(lim*3/4, 1))
		}
	}
	if configured <= 0 {
		configured = maxDefaultConns
	}
	return min(configured, fdMax)
}

// ServeHandler serves h on ln until ctx ends, with the limits of a
// Server's listeners at their defaults: the read timeouts of the header
// and of the whole request, the write and idle timeouts, the header size,
// and the connection caps in total and per client address; HTTPS with
// tlsConf when it is not nil. It logs the http.Server's own errors to
// logger. It is how a handler outside a Server (the fleet timeline) is
// served as safely. A handler that streams clears its connection's
// deadlines itself (http.ResponseController).
func ServeHandler(ctx context.Context, ln net.Listener, h http.Handler, tlsConf *tls.Config, logger *slog.Logger) error {
	conns := newConnLimiter(maxConns(0), DefaultMaxConnsPerSource, logger)
	hs := limitedServer(h, &Config{ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
		WriteTimeout: DefaultWriteTimeout, IdleTimeout: DefaultIdleTimeout}, conns, logger)
	hs.TLSConfig = tlsConf
	l := conns.listener(ln)
	if tlsConf != nil {
		l = tls.NewListener(l, tlsConf)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(headerListener{l}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return nil
}

// queryOf returns the object manager's WQL query method when it has one.
func queryOf(om *cimom.ObjectManager) Querier {
	var x any = om
	if q, ok := x.(Querier); ok {
		return q
	}
	return nil
}

// SetQuerier replaces what answers ExecQuery (nil: CIM_ERR_NOT_SUPPORTED).
func (s *Server) SetQuerier(q Querier) { s.query = q }

// NewHTTPServer returns an http.Server that serves Path and what Handle
// mounted with the configured timeouts and header limit, logging its own
// errors to the server's logger. The caller sets TLSConfig for HTTPS.
func (s *Server) NewHTTPServer() *http.Server {
	mux := http.NewServeMux()
	for _, m := range s.mounts {
		mux.Handle(m.pattern, m.h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "CIM operations are served at "+Path, http.StatusNotFound)
	})
	return limitedServer(mux, &s.cfg, s.conns, s.log)
}

// limitedServer is an http.Server for h with cfg's timeouts, the header
// limit and conns' tracking of connections, logging its own errors to
// logger: what every listener of a Server and ServeHandler's has.
func limitedServer(h http.Handler, cfg *Config, conns *connLimiter, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ConnState:         conns.state,
		ConnContext:       withConn,
		ErrorLog:          log.New(slogWriter{logger}, "", 0),
	}
}

type slogWriter struct{ l *slog.Logger }

// Write logs one line of the http.Server's own error log.
func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("http server", "error", cim.Clip(strings.TrimSpace(string(p))))
	return len(p), nil
}

// Serve serves HTTP on plain and HTTPS on secure (either may be nil, not
// both) until ctx ends, then shuts down gracefully, giving requests in
// flight up to five seconds.
func (s *Server) Serve(ctx context.Context, plain net.Listener, secure net.Listener, tlsConf *tls.Config) error {
	var p, q []net.Listener
	if plain != nil {
		p = append(p, plain)
	}
	if secure != nil {
		q = append(q, secure)
	}
	return s.ServeListeners(ctx, p, q, tlsConf)
}

// ServeListeners is Serve for any number of listeners: HTTP on each of
// plain, HTTPS with tlsConf on each of secure, every one serving every
// mounted handler (CIM-XML at Path and those added with Handle).
func (s *Server) ServeListeners(ctx context.Context, plain, secure []net.Listener, tlsConf *tls.Config) error {
	if len(plain) == 0 && len(secure) == 0 {
		return cim.Errorf(cim.ErrInvalidParameter, "server: no listener")
	}
	var servers []*http.Server
	errc := make(chan error, len(plain)+len(secure))
	for _, ln := range plain {
		hs := s.NewHTTPServer()
		servers = append(servers, hs)
		go func() { errc <- hs.Serve(headerListener{s.conns.listener(ln)}) }()
	}
	for _, ln := range secure {
		hs := s.NewHTTPServer()
		hs.TLSConfig = tlsConf
		servers = append(servers, hs)
		go func() { errc <- hs.Serve(headerListener{tls.NewListener(s.conns.listener(ln), tlsConf)}) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ServeHTTP answers one CIM operation request through the whole pipeline
// (see Pipeline): it is the handler NewHTTPServer mounts at Path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.cimxml.ServeHTTP(w, r)
}

// serveCIMXML is the CIM-XML protocol handler, behind the pipeline: the
// viewer is in the request's context and the body is read.
func (s *Server) serveCIMXML(w http.ResponseWriter, r *http.Request) {
	rl := Info(r.Context())
	fault := func(code int, cimError, detail string, hdr http.Header) {
		if cimError != "" {
			if hdr == nil {
				hdr = http.Header{}
			}
			hdr.Set("CIMError", cimError)
		}
		Fault(w, r, code, detail, hdr)
	}
	if r.Method != http.MethodPost && r.Method != "M-POST" {
		fault(http.StatusMethodNotAllowed, "", "use POST or M-POST", http.Header{"Allow": {"POST, M-POST"}})
		return
	}

	// Headers (DSP0200 §7): M-POST puts them under a numbered prefix.
	prefix := ""
	if r.Method == "M-POST" {
		ns, ok := manPrefix(r.Header.Values("Man"))
		if !ok {
			fault(http.StatusNotExtended, "", "M-POST needs a Man header with "+manExtension+"; ns=NN", nil)
			return
		}
		prefix = ns + "-"
	}
	get := func(name string) string { return r.Header.Get(prefix + name) }
	setOp(rl, get("CIMMethod"))
	// Each CIM header names one thing: given twice, the request is
	// ambiguous (OpenPegasus's wetest Headers/DuplicateCIMOperationTag01).
	for _, name := range []string{"CIMOperation", "CIMMethod", "CIMObject", "CIMProtocolVersion", "CIMBatch"} {
		if len(r.Header.Values(prefix+name)) > 1 {
			code := cimxml.CIMErrorHeaderMismatch
			if name == "CIMOperation" {
				code = cimxml.CIMErrorUnsupportedOperation
			}
			fault(http.StatusBadRequest, code, "the "+name+" header is given more than once", nil)
			return
		}
	}
	if op := get("CIMOperation"); !strings.EqualFold(strings.TrimSpace(op), "MethodCall") {
		fault(http.StatusBadRequest, cimxml.CIMErrorUnsupportedOperation, cim.Clipf("CIMOperation %q is not MethodCall", op), nil)
		return
	}
	if v := strings.TrimSpace(get("CIMProtocolVersion")); v != "" && !strings.HasPrefix(v, "1.") {
		fault(http.StatusNotImplemented, cimxml.CIMErrorUnsupportedProtocolVersion, cim.Clipf("CIMProtocolVersion %q", v), nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/xml" && mt != "text/xml") {
			fault(http.StatusUnsupportedMediaType, "", cim.Clipf("Content-Type %q is not application/xml", ct), nil)
			return
		}
	}

	body, err := Body(r)
	if err != nil {
		fault(http.StatusBadRequest, "", "reading the request: "+err.Error(), http.Header{"Connection": {"close"}})
		return
	}
	req, err := cimxml.DecodeRequest(body, s.cfg.Limits)
	if err != nil {
		if pe, ok := cimxml.IsProtocolError(err); ok {
			fault(pe.HTTPStatus, pe.CIMError, pe.Detail, nil)
			return
		}
		fault(http.StatusBadRequest, cimxml.CIMErrorRequestNotValid, err.Error(), nil)
		return
	}
	if !req.Multi {
		c := req.Calls[0]
		if hasHeader(r, prefix+"CIMBatch") {
			fault(http.StatusBadRequest, cimxml.CIMErrorHeaderMismatch, "a CIMBatch header with a SIMPLEREQ", nil)
			return
		}
		setOp(rl, c.Method)
		if m := get("CIMMethod"); m != c.Method {
			fault(http.StatusBadRequest, cimxml.CIMErrorHeaderMismatch, cim.Clipf("CIMMethod header %q, body calls %q", m, c.Method), nil)
			return
		}
		obj, err := url.PathUnescape(get("CIMObject"))
		if err != nil || obj == "" || (c.Intrinsic && normNS(obj) != normNS(c.Namespace)) || (!c.Intrinsic && !sameObject(obj, c)) {
			fault(http.StatusBadRequest, cimxml.CIMErrorHeaderMismatch, cim.Clipf("CIMObject header %q does not name the call's target %q", get("CIMObject"), c.Namespace), nil)
			return
		}
	} else {
		rl.Operation, rl.OperationLabel = "MultiRequest", "MultiRequest"
		if get("CIMBatch") == "" && !hasHeader(r, prefix+"CIMBatch") {
			fault(http.StatusBadRequest, cimxml.CIMErrorHeaderMismatch, "a MULTIREQ needs the CIMBatch header", nil)
			return
		}
	}

	s.respond(r.Context(), w, r, req, prefix, rl)
}

// setOp records the operation a request names; the metrics label is its
// DSP0200 spelling, or "other" for a name DSP0200 does not have.
func setOp(rl *RequestInfo, op string) {
	rl.Operation, rl.OperationLabel = op, ""
	if cn, known := canonicalNames[strings.ToLower(op)]; known {
		rl.OperationLabel = cn
	}
}

// sameObject reports whether the CIMObject header of an extrinsic call
// names the call's target (DSP0200 §7.2.4: its path, with the namespace).
func sameObject(header string, c *cimxml.Call) bool {
	p, err := cim.ParseObjectPath(header)
	if err != nil {
		return false
	}
	if p.Namespace != "" && normNS(p.Namespace) != normNS(c.Namespace) {
		return false
	}
	p.Host, p.Namespace = "", ""
	target := c.Object
	target.Host, target.Namespace = "", ""
	return p.Equal(target)
}

func hasHeader(r *http.Request, name string) bool {
	_, ok := r.Header[http.CanonicalHeaderKey(name)]
	return ok
}

func normNS(ns string) string {
	return strings.ToLower(strings.Trim(strings.ReplaceAll(ns, `\`, "/"), "/"))
}

// manPrefix finds the ns number DSP0200's extension is declared with in
// M-POST's Man header: `http://www.dmtf.org/cim/mapping.http/v1.0 ; ns=73`.
func manPrefix(values []string) (string, bool) {
	for _, v := range values {
		for _, decl := range strings.Split(v, ",") {
			parts := strings.Split(decl, ";")
			uri := strings.Trim(strings.TrimSpace(parts[0]), `"`)
			if !strings.EqualFold(uri, manExtension) && !strings.EqualFold(uri, manExtensionSlash) {
				continue
			}
			for _, p := range parts[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "ns") {
					// The prefix is the ns value as written (RFC 2774):
					// "ns=73" prefixes headers with "73-".
					val = strings.Trim(strings.TrimSpace(val), `"`)
					if n, err := strconv.Atoi(val); err == nil && n >= 0 && n < 100 && len(val) <= 2 {
						return val, true
					}
				}
			}
		}
	}
	return "", false
}

// respBuf is a pooled in-memory encoder and the bytes a response holds
// back (see responseStream).
type respBuf struct {
	enc  *cimxml.Encoder
	held []byte
}

func newRespBuf() *respBuf { return &respBuf{enc: cimxml.NewEncoder(nil)} }

// maxPooled is the largest response buffer kept for reuse.
const maxPooled = 8 << 20

// maxIdleBufs bounds the response encoders kept for reuse.
const maxIdleBufs = 16

// getBuf returns an idle response encoder, or a new one.
func (s *Server) getBuf() *respBuf {
	select {
	case rb := <-s.bufs:
		return rb
	default:
		return newRespBuf()
	}
}

// putBuf keeps rb for reuse unless it grew too large or enough are kept.
func (s *Server) putBuf(rb *respBuf) {
	if cap(rb.enc.Bytes()) > maxPooled || cap(rb.held) > maxPooled {
		return
	}
	select {
	case s.bufs <- rb:
	default:
	}
}

// callError is the CIM error a call's failure is answered with.
func callError(ctx context.Context, err error) *cim.Error {
	if ctx.Err() != nil {
		return cim.Errorf(cim.ErrFailed, "the request was cancelled: %v", ctx.Err())
	}
	return cim.Wrap(cim.ErrFailed, err)
}

// respond runs the calls of a request and writes their answers as they
// are made (see responseStream for the framing).
func (s *Server) respond(ctx context.Context, w http.ResponseWriter, r *http.Request, req *cimxml.Request, prefix string, rl *RequestInfo) {
	h := w.Header()
	h.Set("Content-Type", `application/xml; charset="utf-8"`)
	h.Set("X-Content-Type-Options", "nosniff")
	if prefix != "" {
		h.Set("Ext", "")
	}
	h.Set(prefix+"CIMOperation", "MethodResponse")
	chunked := r.ProtoAtLeast(1, 1)
	trailers := chunked && acceptsTrailers(r)
	if trailers {
		h.Set("Trailer", prefix+"CIMStatusCode, "+prefix+"CIMStatusCodeDescription")
	}
	rb := s.getBuf()
	defer s.putBuf(rb)
	enc := rb.enc
	enc.Reset(nil)
	out := &responseStream{w: w, rc: http.NewResponseController(w), held: rb.held[:0], chunked: chunked,
		trailers: trailers, max: s.cfg.MaxBufferedResponseBytes, writeTimeout: s.cfg.WriteTimeout}
	defer func() { rb.held = out.held[:0] }()
	flush := func() error { return out.drain(enc, false) }

	var first *cim.Error
	late := false
	enc.BeginMessage(req.ID)
	if req.Multi {
		enc.Raw("<MULTIRSP>")
	}
	// Each call runs when its turn comes and its answer is written as it
	// is made, so that only a batch of one call's instances is held at a
	// time; a MULTIREQ's calls stop running once its response holds
	// MaxMultiResponseBytes (each later one answers CIM_ERR_FAILED), so
	// that a small request cannot make the server run many enumerations.
	for i, c := range req.Calls {
		name := c.Method
		if cn, ok := canonicalNames[strings.ToLower(name)]; ok && c.Intrinsic {
			name = cn
		}
		enc.BeginMethodResponse(name, c.Intrinsic)
		mark := out.offset(enc)
		var cerr *cim.Error
		if req.Multi && mark > s.cfg.MaxMultiResponseBytes {
			cerr = cim.Errorf(cim.ErrFailed, "not run: the MULTIREQ's response reached %d bytes before this call; send it on its own", s.cfg.MaxMultiResponseBytes)
		} else {
			dispatch := s.dispatch
			if !c.Intrinsic {
				dispatch = s.invoke
			}
			res, class, err := dispatch(ctx, c)
			if i == 0 {
				rl.Class = class
			}
			if err == nil && res != nil {
				if c.Intrinsic {
					enc.BeginReturnValue()
				}
				err = res(enc, flush) // extrinsic: RETURNVALUE and PARAMVALUEs
				if err == nil && c.Intrinsic {
					enc.EndReturnValue()
				}
			}
			if err != nil {
				cerr = callError(ctx, err)
			}
		}
		if cerr != nil {
			if first == nil {
				first = cerr
			}
			if !out.rewind(enc, mark) {
				late = true
				break
			}
			enc.Error(cerr)
		}
		enc.EndMethodResponse(c.Intrinsic)
		if err := flush(); err != nil {
			if first == nil {
				first = callError(ctx, err)
			}
			late = true
			break
		}
	}
	rl.Status = cim.StatusOK.String()
	if first != nil {
		rl.Status, rl.Detail = first.Code.String(), first.Description
	}
	if late && out.err != nil {
		rl.Detail = out.err.Error()
	}
	if !late {
		if req.Multi {
			enc.Raw("</MULTIRSP>")
		}
		enc.EndMessage()
	}
	out.finish(h, prefix, enc, first, late)
}

// acceptsTrailers reports whether the client sent TE: trailers.
func acceptsTrailers(r *http.Request) bool {
	for _, v := range r.Header.Values("TE") {
		for _, t := range strings.Split(v, ",") {
			t, _, _ = strings.Cut(t, ";")
			if strings.EqualFold(strings.TrimSpace(t), "trailers") {
				return true
			}
		}
	}
	return false
}
