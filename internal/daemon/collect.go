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
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/fleethistory/collector"
	"github.com/cimsess/cimsess/fleethistory/timeline"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/internal/cli"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/server"
)

func init() { cli.Register(newCollectCmd) }

// collectFlags are the flags of `cimsess collect`.
type collectFlags struct {
	natsURL, natsCreds string
	natsCA             string
	db, dbPasswordFile string
	batch              int
	ackWait            time.Duration
	keep               string
	httpAddr, users    string
	httpDB             string
	cert, key          string
	noAuth, plainHTTP  bool
}

func newCollectCmd(e *cli.Env) *cobra.Command {
	var f collectFlags
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Collect the fleet's session events from NATS into a history database (PostgreSQL or SQLite)",
		Long: `collect reads the fleet's event stream (JetStream stream CIMSESS_EVENTS, which 'cimsess hub'
makes and the agents publish to) through the durable consumer cimsess-collect, and writes
each session's start, Status changes and end as history rows, until interrupted.

With --db postgres://… it writes to PostgreSQL: one transaction per batch of events,
acknowledged only after the commit and idempotent on each event's id, so that a crash
or a redelivery neither loses nor duplicates a row. Several collectors may run at once
against the same stream and database; they share the work. The schema is made and
upgraded at start; tables are partitioned by month, and --keep drops the months older
than that. Every minute it says (once, and again when they grow) the events an agent
numbered that never came to the history: lost by a full outbox on the host, or by the
stream's limits, told once missing for 5 minutes (or twice --ack-wait). Any other --db
is a SQLite history file, as 'cimsess record' writes, with
each row's path naming its host (//web-1/root/cimv2:Linux_LogonSession.LogonId="7").

Keep the database password out of the command line: --db-password-file FILE, libpq's
PGPASSFILE or a passfile=FILE parameter in the URL.

--http ADDR serves the timeline: the sessions of the fleet as bars on a time axis, per
host or per user, updated live. Its users are those of a users file ('cimsess user'), as
for 'cimsess serve': an administrator sees every session, any other user their own.
It is HTTPS with --cert and --key; plain HTTP is served on loopback only unless
--allow-plain-http; --no-auth only on loopback, and then only to requests that name
it localhost, 127.0.0.1 or [::1]. It reads the database through a pool of its own whose
transactions are read-only, as --http-db's role when given (a member of cimsess_read:
least privilege), else as --db's. Each request is logged on stderr.`,
		Example: `  cimsess collect --nats nats://127.0.0.1:4222 --db 'postgres://cimsess@db.example.com/fleet' --db-password-file /etc/cimsess/pgpass
  cimsess collect --nats nats://127.0.0.1:4222 --db ./fleet-history.db
  cimsess collect --db 'postgres://cimsess@127.0.0.1/fleet' --keep 400d --http 127.0.0.1:8080 --users ./users
  cimsess collect --db 'postgres://cimsess_collect@db/fleet' --http 0.0.0.0:8443 --cert tl.pem --key tl.key \
      --http-db 'postgres://timeline@db/fleet?passfile=/etc/cimsess/pgpass-timeline' --users ./users`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return collect(cmd.Context(), e, &f)
		},
	}
	fl := cmd.Flags()
	natsURL := os.Getenv("CIMSESS_NATS")
	if natsURL == "" {
		natsURL = nats.DefaultURL
	}
	fl.StringVar(&f.natsURL, "nats", natsURL, "NATS servers, comma-separated (tls://… for TLS); default $CIMSESS_NATS, else "+nats.DefaultURL)
	// --nats-creds was its name before it took the other fleet commands'
	// --creds; it is kept, hidden, for the scripts that use it.
	fl.StringVar(&f.natsCreds, "nats-creds", "", "the same as --creds")
	_ = fl.MarkHidden("nats-creds")
	fl.StringVar(&f.natsCreds, "creds", os.Getenv("CIMSESS_CREDS"), "credentials file: a collector's from 'cimsess hub add collector NAME', or a NATS user's (JWT and NKey seed); default $CIMSESS_CREDS")
	fl.StringVar(&f.natsCA, "nats-ca", os.Getenv("CIMSESS_NATS_CA"), "PEM file of the CA of the NATS servers' certificates; default $CIMSESS_NATS_CA, else the system's")
	fl.StringVar(&f.db, "db", fleetDefaultDB, "fleet history database: postgres://… for PostgreSQL, else a SQLite file (not this host's own history: record and serve write that)")
	fl.StringVar(&f.dbPasswordFile, "db-password-file", "", "file whose first line is the PostgreSQL password")
	fl.IntVar(&f.batch, "batch", collector.DefaultBatch, "most events written in one transaction")
	fl.DurationVar(&f.ackWait, "ack-wait", collector.DefaultAckWait, "how long a batch may stay unacknowledged before NATS delivers it again (to any collector)")
	fl.StringVar(&f.keep, "keep", "", "PostgreSQL: drop the months of sessions that started longer ago than this, such as 400d (default: keep all)")
	fl.StringVar(&f.httpAddr, "http", "", "serve the timeline on this address, such as 127.0.0.1:8080 (off when empty)")
	fl.StringVar(&f.users, "users", access.DefaultUsersFile, "users file of the timeline (bcrypt hashes), managed with 'cimsess user'")
	fl.BoolVar(&f.noAuth, "no-auth", false, "serve the timeline without authentication (loopback only)")
	fl.BoolVar(&f.plainHTTP, "allow-plain-http", false, "allow the timeline's HTTP Basic over plain HTTP off loopback (passwords in clear)")
	fl.StringVar(&f.cert, "cert", "", "the timeline's TLS certificate chain (PEM): serve it over HTTPS")
	fl.StringVar(&f.key, "key", "", "the timeline's TLS private key (PEM)")
	fl.StringVar(&f.httpDB, "http-db", "", "PostgreSQL URL the timeline reads as, a reader's role (default: --db's)")
	return cmd
}

// fleetDefaultDB is collect's SQLite file when --db is not given: beside
// this host's own history (history.DefaultPath), not in it, so that the
// fleet's rows do not mix with what record and serve write of this host.
var fleetDefaultDB = filepath.Join(filepath.Dir(history.DefaultPath), "fleet.db")

// checkTimelineFlags applies serve's rules to the timeline's listener.
func checkTimelineFlags(f *collectFlags) error {
	if (f.cert == "") != (f.key == "") {
		return cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "--cert and --key go together"))
	}
	if f.httpAddr == "" {
		if f.cert != "" || f.httpDB != "" {
			return cli.UsageError(cim.Errorf(cim.ErrInvalidParameter, "--cert, --key and --http-db are the timeline's: they need --http"))
		}
		return nil
	}
	if f.noAuth && !access.IsLoopback(f.httpAddr) {
		return cli.UsageError(cim.Errorf(cim.ErrAccessDenied, "--no-auth is only allowed on a loopback address; %s is not", f.httpAddr))
	}
	if !f.noAuth && f.cert == "" && !access.IsLoopback(f.httpAddr) && !f.plainHTTP {
		return cli.UsageError(cim.Errorf(cim.ErrAccessDenied,
			"refusing HTTP Basic over plain HTTP on %s: passwords would cross the network in clear; serve HTTPS (--cert, --key) or pass --allow-plain-http", f.httpAddr))
	}
	return nil
}

func collect(ctx context.Context, e *cli.Env, f *collectFlags) error {
	var keep time.Duration
	if f.keep != "" && f.keep != "0" {
		var err error
		if keep, err = cli.ParseDuration(f.keep); err != nil {
			return cli.UsageError(fmt.Errorf("--keep: %w", err))
		}
	}
	if f.batch <= 0 || f.batch > 100000 {
		return cli.UsageError(fmt.Errorf("--batch must be between 1 and 100000"))
	}
	if f.ackWait < time.Second || f.ackWait > time.Hour {
		return cli.UsageError(fmt.Errorf("--ack-wait must be between 1s and 1h"))
	}
	if err := checkTimelineFlags(f); err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(e.Stderr(), "cimsess: collect: "+format+"\n", args...) }

	var sink collector.Sink
	var pgStore *fleethistory.Store
	if fleethistory.IsURL(f.db) {
		s, err := fleethistory.Open(ctx, f.db, fleethistory.Options{PasswordFile: f.dbPasswordFile, GapWait: collectGapWait(f.ackWait)})
		if err != nil {
			return err
		}
		defer s.Close()
		pgStore = s
		sink = collector.PostgresSink{Store: s, Keep: keep}
	} else {
		if f.keep != "" || f.httpAddr != "" {
			return cli.UsageError(cim.Errorf(cim.ErrNotSupported, "--keep and --http need a PostgreSQL --db (postgres://…)"))
		}
		s, err := history.Open(ctx, f.db, history.Options{})
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.MarkFleet(ctx); err != nil {
			return err
		}
		sink = collector.SQLiteSink{Store: s}
	}

	var tl *timeline.Handler
	if f.httpAddr != "" {
		var users *server.Users
		if !f.noAuth {
			var err error
			if users, err = server.OpenUsers(f.users); err != nil {
				return err
			}
			if w := users.Warning(); w != "" {
				logf("warning: %s", w)
			}
			if users.Count() == 0 {
				return cim.Errorf(cim.ErrAccessDenied, "users file %s has no users; add one with 'cimsess user add --users %s NAME --admin'", f.users, f.users)
			}
		}
		var login *server.Login
		if users != nil {
			login = server.NewLogin(users, "cimsess timeline", 0, 0, 0)
		}
		readDB, readPass := f.httpDB, ""
		if readDB == "" {
			readDB, readPass = f.db, f.dbPasswordFile
		}
		reader, err := fleethistory.Open(ctx, readDB, fleethistory.Options{PasswordFile: readPass, ReadOnly: true,
			MaxConns: 8, StatementTimeout: timelineStatementTimeout})
		if err != nil {
			if f.httpDB == "" {
				return fmt.Errorf("the timeline's reading pool of --db: %w", err)
			}
			return fmt.Errorf("--http-db: %w", err)
		}
		defer reader.Close()
		tl = timeline.New(reader, login)
	}
	var tlsConf *tls.Config
	if f.cert != "" {
		cert, err := server.LoadCertificate(f.cert, f.key, func(w string) { logf("%s", w) })
		if err != nil {
			return err
		}
		tlsConf = server.TLSConfig(cert)
	}

	for _, u := range cli.PlainOffLoopback(f.natsURL) {
		logf("warning: %s is plain NATS to a host that is not loopback: the fleet's sessions cross the network in clear; use tls://", u)
	}
	nc, err := connectCollector(f, logf)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "collect: %v", err)
	}
	c := &collector.Collector{JS: js, Sink: sink, Batch: f.batch, AckWait: f.ackWait, Logf: logf}
	if tl != nil {
		c.OnBatch = tl.Publish
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	if pgStore != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			maintain(ctx, pgStore, keep, logf)
		}()
	}
	if tl != nil {
		ln, err := net.Listen("tcp", f.httpAddr)
		if err != nil {
			return cim.Errorf(cim.ErrFailed, "collect: --http %s: %v", f.httpAddr, err)
		}
		scheme := "http"
		if tlsConf != nil {
			scheme = "https"
		}
		logf("timeline on %s://%s/", scheme, ln.Addr())
		logged := server.LogRequests(slog.New(slog.NewTextHandler(e.Stderr(), nil)), nil, "timeline", tl)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := server.ServeHandler(ctx, ln, logged, tlsConf, slog.New(slog.NewTextHandler(e.Stderr(), nil))); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		go func() {
			<-ctx.Done()
			tl.Close()
		}()
	}
	logf("collecting from %s into %s; interrupt to stop", f.natsURL, dbName(f.db))
	wg.Add(1)
	go func() {
		defer wg.Done()
		errc <- c.Run(ctx)
	}()
	err = <-errc
	cancel()
	wg.Wait()
	_ = nc.Flush() // the last acknowledgements
	st := c.Stats()
	logf("stopped: %d events written, %d already written, %d skipped, %d refused",
		st.Applied.Load(), st.Duplicate.Load(), st.Skipped.Load(), st.Bad.Load())
	return err
}

// collectGapWait is how long a collector lets numbers of an agent's
// events be missing before it says they never came: the default, or
// twice the acknowledgement wait when that is longer (a batch of a killed
// collector is delivered again only after it).
func collectGapWait(ackWait time.Duration) time.Duration {
	return max(fleethistory.DefaultGapWait, 2*ackWait)
}

// timelineStatementTimeout bounds each query of the timeline: one behind
// a table lock gives up rather than hold its request.
const timelineStatementTimeout = 30 * time.Second

// connectCollector dials NATS for collect: with the credentials of a
// fleet collector ('cimsess hub add collector NAME': an NKey seed, and
// the inbox its permissions allow) when --nats-creds holds them, with a
// NATS user's JWT credentials file otherwise, or without credentials.
func connectCollector(f *collectFlags, logf func(string, ...any)) (*nats.Conn, error) {
	// It waits for the servers however long they are away, so it says
	// why it waits: a certificate not trusted is no outage that ends.
	tell := func(err error) {
		logf("NATS at %s: %s; trying again", f.natsURL, output.Escape(natsconn.ConnectTrouble(err)))
	}
	if f.natsCreds != "" {
		if c, err := natsconn.ReadCreds(f.natsCreds, nil); err == nil {
			if c.Role != natsconn.RoleCollector && c.Role != natsconn.RoleAdmin {
				return nil, cli.UsageError(fmt.Errorf("%s holds the credentials of a %s, not of a collector", f.natsCreds, c.Role))
			}
			return natsconn.Connect(c, natsconn.Options{URLs: f.natsURL, CA: f.natsCA, Name: "cimsess collect", RetryForever: true, OnConnectError: tell})
		}
	}
	opts := []nats.Option{nats.Name("cimsess collect"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second), nats.RetryOnFailedConnect(true)}
	opts = append(opts, natsconn.TellConnectErrors(tell)...)
	if f.natsCreds != "" {
		opts = append(opts, nats.UserCredentials(f.natsCreds))
	}
	if f.natsCA != "" {
		opts = append(opts, nats.RootCAs(f.natsCA))
	}
	nc, err := nats.Connect(f.natsURL, opts...)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "collect: connecting to NATS at %s: %v", f.natsURL, err)
	}
	return nc, nil
}

func dbName(db string) string {
	if fleethistory.IsURL(db) {
		return fleethistory.Redact(db)
	}
	return db
}

// maintain makes the partitions of the coming months and applies the
// retention, at start and every hour.
func maintain(ctx context.Context, s *fleethistory.Store, keep time.Duration, logf func(string, ...any)) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		now := time.Now()
		if err := s.EnsurePartitions(ctx, now, 2); err != nil && ctx.Err() == nil {
			logf("%v", err)
		}
		if dropped, err := s.Retain(ctx, now, keep); err != nil && ctx.Err() == nil {
			logf("retention: %v", err)
		} else if len(dropped) > 0 {
			logf("retention: dropped the sessions of %d month(s) up to %s", len(dropped), dropped[len(dropped)-1].Format("2006-01"))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
