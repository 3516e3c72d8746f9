package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/internal/cli"
	"github.com/cimsess/cimsess/server"
	"github.com/cimsess/cimsess/sysfile/utmp"
	"github.com/cimsess/cimsess/wsman"
)

func init() { cli.Register(newServeCmd) }

// serveFlags are the flags of `cimsess serve`.
type serveFlags struct {
	listen, listenTLS, metricsListen string
	winrm, winrmTLS                  string // WinRM's default listeners (WS-Management)
	winrmSet                         bool   // either was given on the command line
	cert, key                        string
	selfSigned                       bool
	users                            string
	noAuth, allowPlainHTTP           bool
	maxRequest                       int64
	maxConcurrent                    int
	maxConns, maxConnsPerSource      int
	maxLoginFailures                 int
	readHeaderTimeout, readTimeout   time.Duration
	writeTimeout, idleTimeout        time.Duration
	logFormat                        string
	history                          cli.HistoryFlags
	dbExplicit                       bool
}

func newServeCmd(e *cli.Env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the sessions to WBEM and WinRM clients: CIM-XML (DSP0200) and WS-Management over HTTP and HTTPS",
		Long: `serve answers CIM operations over HTTP (DMTF DSP0200, CIM-XML) at /cimom for namespace
root/cimv2: EnumerateInstances, GetInstance, Associators, ExecQuery (WQL) and the other read
operations, so that clients such as wbemcli and pywbem can read this machine's sessions; and WS-Management
(DSP0226, as Windows' WinRM speaks it) at /wsman on the same listeners and on WinRM's ports
(--listen-winrm 127.0.0.1:5985, and --listen-winrm-tls 127.0.0.1:5986 with TLS), for
PowerShell's Get-CimInstance, winrm, pywinrm and wsl.

Every request is authenticated with HTTP Basic against the users file (bcrypt hashes; manage it
with 'cimsess user'). An administrator sees every session, any other user only their own.
Plain HTTP is served on loopback only unless --allow-plain-http; --no-auth is refused unless every
listener is on loopback.

HTTPS needs a certificate: --cert and --key (PEM), or --tls-self-signed for an in-memory one.
To make a self-signed pair with OpenSSL:

  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -keyout cimsess.key -out cimsess.crt -subj /CN=$(hostname) \
    -addext "subjectAltName=DNS:$(hostname),DNS:localhost,IP:127.0.0.1"`,
		Example: `  cimsess user add --users ./users alice --admin
  cimsess serve --users ./users
  wbemcli ei 'http://alice:secret@127.0.0.1:5988/root/cimv2:Win32_LogonSession'
  cimsess serve --users ./users --tls-self-signed --listen '' --listen-tls 0.0.0.0:5989
  cimsess serve --no-auth --metrics-listen 127.0.0.1:9598`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.dbExplicit = cmd.Flags().Changed("db")
			f.winrmSet = cmd.Flags().Changed("listen-winrm") || cmd.Flags().Changed("listen-winrm-tls")
			return serve(cmd.Context(), e, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:5988", "HTTP address to listen on ('' for none)")
	fl.StringVar(&f.listenTLS, "listen-tls", "127.0.0.1:5989", "HTTPS address, used when --cert/--key or --tls-self-signed is given")
	fl.StringVar(&f.winrm, "listen-winrm", "127.0.0.1:5985", "HTTP address of WinRM's port ('' for none); every listener serves /cimom and /wsman")
	fl.StringVar(&f.winrmTLS, "listen-winrm-tls", "127.0.0.1:5986", "HTTPS address of WinRM's port, used when TLS is configured ('' for none)")
	fl.StringVar(&f.cert, "cert", "", "TLS certificate chain (PEM)")
	fl.StringVar(&f.key, "key", "", "TLS private key (PEM)")
	fl.BoolVar(&f.selfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate made at start (in memory)")
	fl.StringVar(&f.users, "users", access.DefaultUsersFile, "users file (bcrypt hashes), managed with 'cimsess user'")
	fl.BoolVar(&f.noAuth, "no-auth", false, "serve without authentication, everyone an administrator (loopback listeners only)")
	fl.BoolVar(&f.allowPlainHTTP, "allow-plain-http", false, "allow HTTP Basic over plain HTTP on a non-loopback address (passwords in clear)")
	fl.Int64Var(&f.maxRequest, "max-request", server.DefaultMaxRequestBytes, "largest request body in bytes")
	fl.IntVar(&f.maxConcurrent, "max-concurrent", server.DefaultMaxConcurrent, "requests served at once; more get 503")
	fl.IntVar(&f.maxConns, "max-conns", 0, "connections held at once (default 4096, or 3/4 of the open-file limit if lower)")
	fl.IntVar(&f.maxConnsPerSource, "max-conns-per-source", server.DefaultMaxConnsPerSource, "connections held at once from one address (IPv6: one /64)")
	fl.IntVar(&f.maxLoginFailures, "max-login-failures", server.DefaultMaxLoginFailures, "failed logins of one address per minute before it gets 429")
	fl.DurationVar(&f.readHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "time allowed to read a request's headers")
	fl.DurationVar(&f.readTimeout, "read-timeout", server.DefaultReadTimeout, "time allowed to read a whole request")
	fl.DurationVar(&f.writeTimeout, "write-timeout", server.DefaultWriteTimeout, "time allowed from the end of the headers to the end of the response")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", server.DefaultIdleTimeout, "how long an idle keep-alive connection stays open")
	fl.StringVar(&f.metricsListen, "metrics-listen", "", "address for Prometheus metrics at /metrics (off when empty; unauthenticated)")
	fl.StringVar(&f.logFormat, "log-format", "text", "request log format on stderr: text or json")
	cli.AddHistoryFlags(cmd, &f.history)
	fl.Lookup("db").Usage = "history database (SQLite) to record sessions into while serving ('' for none)"
	cli.AddSourceFlags(cmd, e.Sources())
	return cmd
}

// checkServeFlags applies the secure-by-default rules to the listeners.
func checkServeFlags(f *serveFlags) (tlsOn bool, err error) {
	tlsOn = f.selfSigned || f.cert != "" || f.key != ""
	if (f.cert == "") != (f.key == "") {
		return false, cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "--cert and --key go together"))
	}
	if f.selfSigned && f.cert != "" {
		return false, cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "--tls-self-signed and --cert/--key exclude each other"))
	}
	if f.listen == "" && (!tlsOn || f.listenTLS == "") {
		return false, cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "nothing to listen on: give --listen, or --listen-tls with a certificate"))
	}
	if f.noAuth {
		for _, a := range []string{f.listen, f.listenTLSIf(tlsOn), f.winrm, f.winrmTLSIf(tlsOn)} {
			if a != "" && !access.IsLoopback(a) {
				return false, cli.UsageError(cim.Errorf(cim.ErrAccessDenied, "--no-auth is only allowed when every listener is on loopback; %s is not", a))
			}
		}
	} else {
		for _, a := range []string{f.listen, f.winrm} {
			if a != "" && !access.IsLoopback(a) && !f.allowPlainHTTP {
				return false, cli.UsageError(cim.Errorf(cim.ErrAccessDenied,
					"refusing HTTP Basic over plain HTTP on %s: passwords would cross the network in clear; serve HTTPS (--listen '' --listen-winrm '' --tls-self-signed or --cert/--key) or pass --allow-plain-http", a))
			}
		}
	}
	return tlsOn, nil
}

func (f *serveFlags) winrmTLSIf(on bool) string {
	if on {
		return f.winrmTLS
	}
	return ""
}

func (f *serveFlags) listenTLSIf(on bool) string {
	if on {
		return f.listenTLS
	}
	return ""
}

func serve(ctx context.Context, e *cli.Env, f *serveFlags) error {
	tlsOn, err := checkServeFlags(f)
	if err != nil {
		return err
	}
	var handler slog.Handler
	switch f.logFormat {
	case "text":
		handler = slog.NewTextHandler(e.Stderr(), nil)
	case "json":
		handler = slog.NewJSONHandler(e.Stderr(), nil)
	default:
		return cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "--log-format is text or json, not %q", f.logFormat))
	}
	logger := slog.New(handler)

	e.Sources().Layout = f.history.Layout
	om, err := e.ObjectManager()
	if err != nil {
		return err
	}
	cfg := server.Config{
		ObjectManager: om, NoAuth: f.noAuth, Logger: logger,
		MaxRequestBytes: f.maxRequest, MaxConcurrent: f.maxConcurrent,
		MaxConns: f.maxConns, MaxConnsPerSource: f.maxConnsPerSource, MaxLoginFailures: f.maxLoginFailures,
		ReadHeaderTimeout: f.readHeaderTimeout, ReadTimeout: f.readTimeout,
		WriteTimeout: f.writeTimeout, IdleTimeout: f.idleTimeout,
	}
	if !f.noAuth {
		if cfg.Users, err = server.OpenUsers(f.users); err != nil {
			return err
		}
		if w := cfg.Users.Warning(); w != "" {
			logger.Warn(w)
		}
		if cfg.Users.Count() == 0 {
			return cim.Errorf(cim.ErrAccessDenied, "users file %s has no users; add one with 'cimsess user add --users %s NAME --admin'", f.users, f.users)
		}
	}
	if uid := os.Geteuid(); uid > 0 {
		// A client's deep enumeration leaves out what this user may not
		// read, and says nothing of it: the log does, once.
		logger.Warn("not running as root: SMB sessions and connections (smbstatus) and whether accounts are locked (/etc/shadow) are root's to read, so their classes answer without them", "uid", uid)
	}
	if err := recordWhileServing(ctx, e, f, om, logger); err != nil {
		return err
	}
	var metricsLn net.Listener
	if f.metricsListen != "" {
		cfg.Metrics = server.NewMetrics(om)
		if metricsLn, err = net.Listen("tcp", f.metricsListen); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
		defer metricsLn.Close()
		if !access.IsLoopback(f.metricsListen) {
			logger.Warn("metrics are served without authentication off loopback", "address", f.metricsListen)
		}
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ws, err := wsman.New(wsman.Config{ObjectManager: om, ProductVersion: cli.BuildVersion()})
	if err != nil {
		return err
	}
	defer ws.Close()
	srv.MountWSMan(ws)

	var plain, secure net.Listener
	if f.listen != "" {
		if plain, err = net.Listen("tcp", f.listen); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
		defer plain.Close()
		logger.Info("serving CIM-XML and WS-Management over HTTP", "address", plain.Addr().String(), "paths", server.Path+" "+server.WSManPath)
	}
	var tlsConf *tls.Config
	if tlsOn && f.listenTLS != "" {
		var cert tls.Certificate
		if f.selfSigned {
			if cert, _, err = server.SelfSigned(); err != nil {
				return err
			}
		} else if cert, err = server.LoadCertificate(f.cert, f.key, func(w string) { logger.Warn(w) }); err != nil {
			return err
		}
		tlsConf = server.TLSConfig(cert)
		if secure, err = net.Listen("tcp", f.listenTLS); err != nil {
			return cim.Wrap(cim.ErrFailed, err)
		}
		defer secure.Close()
		logger.Info("serving CIM-XML and WS-Management over HTTPS", "address", secure.Addr().String(), "paths", server.Path+" "+server.WSManPath, "self_signed", f.selfSigned)
	}
	plains, secures := listeners(plain), listeners(secure)
	winrm, winrmTLS, err := f.winrmListeners(tlsConf != nil, logger)
	if err != nil {
		return err
	}
	for _, ln := range []net.Listener{winrm, winrmTLS} {
		if ln != nil {
			defer ln.Close()
		}
	}
	plains, secures = append(plains, listeners(winrm)...), append(secures, listeners(winrmTLS)...)
	if metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", cfg.Metrics.Handler())
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() { _ = ms.Serve(metricsLn) }()
		defer ms.Close()
		logger.Info("serving metrics", "address", metricsLn.Addr().String(), "path", "/metrics")
	}
	err = srv.ServeListeners(ctx, plains, secures, tlsConf)
	if err != nil && !errors.Is(err, context.Canceled) {
		return cim.Wrap(cim.ErrFailed, fmt.Errorf("serve: %w", err))
	}
	return nil
}

func listeners(ln net.Listener) []net.Listener {
	if ln == nil {
		return nil
	}
	return []net.Listener{ln}
}

// winrmListeners opens WinRM's ports: HTTP, and HTTPS when TLS is on.
// A port given on the command line must open; a default one that cannot
// (another server, a second cimsess) is left out with a warning.
func (f *serveFlags) winrmListeners(tlsOn bool, logger *slog.Logger) (plain, secure net.Listener, err error) {
	open := func(addr, scheme string) (net.Listener, error) {
		if addr == "" {
			return nil, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if f.winrmSet {
				return nil, cim.Wrap(cim.ErrFailed, err)
			}
			logger.Warn("WinRM's default "+scheme+" port is not served", "address", addr, "error", err.Error())
			return nil, nil
		}
		logger.Info("serving WS-Management and CIM-XML on WinRM's "+scheme+" port", "address", ln.Addr().String(), "paths", server.WSManPath+" "+server.Path)
		return ln, nil
	}
	if plain, err = open(f.winrm, "HTTP"); err != nil {
		return nil, nil, err
	}
	if secure, err = open(f.winrmTLSIf(tlsOn), "HTTPS"); err != nil {
		if plain != nil {
			plain.Close()
		}
		return nil, nil, err
	}
	return plain, secure, nil
}

// recordWhileServing keeps the history database up to date in the
// background, as 'cimsess record' does. A database the user named must
// open; the default one is skipped with a warning when it cannot be (a
// server run by a user who may not write /var/lib), and when the sources
// are not this machine's own (--utmp and the like): another machine's
// sessions would be recorded as this one's, and this one's closed.
func recordWhileServing(ctx context.Context, e *cli.Env, f *serveFlags, om *cimom.ObjectManager, logger *slog.Logger) error {
	if f.history.DB == "" {
		return nil
	}
	if other := e.Sources().Foreign(); len(other) > 0 && !f.dbExplicit {
		logger.Info("not recording the session history: the sources are not this machine's own (--db names a database for them)",
			"flags", strings.Join(other, " "), "db", f.history.DB)
		return nil
	}
	store, err := history.Open(ctx, f.history.DB, history.Options{})
	if err == nil {
		if err = cli.NotFleet(ctx, store); err != nil {
			store.Close()
		}
	}
	if err != nil {
		if f.dbExplicit {
			return err
		}
		logger.Warn("not recording the session history", "db", f.history.DB, "error", err.Error())
		return nil
	}
	layout, _ := utmp.ParseLayout(f.history.Layout) // checked with the sources
	rec := &history.Recorder{Store: store, OM: om, Wtmp: f.history.Wtmp, Layout: layout,
		Logf:  func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
		Ready: func() { logger.Info("recording the session history", "db", store.Path()) },
	}
	go func() {
		defer store.Close()
		if err := rec.Run(ctx); err != nil && ctx.Err() == nil {
			logger.Error("the history recorder stopped", "error", err.Error())
		}
	}()
	return nil
}
