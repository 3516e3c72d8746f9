package hub

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
)

// Options configure an embedded hub and the stream and bucket it sets up.
type Options struct {
	// Listen is host:port for clients; default 127.0.0.1:4222.
	Listen string
	// Name is the server's name; default cimsess-hub.
	Name string
	// TLSCert and TLSKey, when set, make the server speak TLS only.
	TLSCert, TLSKey string
	// Stream and bucket settings.
	Setup SetupOptions
	// Log, when set, gets the server's notices and errors.
	Log func(string)
}

func (o Options) listen() string {
	if o.Listen == "" {
		return "127.0.0.1:4222"
	}
	return o.Listen
}

func (o Options) name() string {
	if o.Name == "" {
		return "cimsess-hub"
	}
	return o.Name
}

// Hub is a running embedded NATS server with the fleet's stream and
// bucket.
type Hub struct {
	dir  string
	o    Options
	srv  *server.Server
	stop chan struct{}
	wg   sync.WaitGroup
}

// Start initialises dir (Init), writes nats.conf, starts the embedded
// server, waits until it takes connections, and creates or updates the
// stream and the bucket as the hub's admin. The server reloads auth.conf
// when it changes (AddUser while the hub runs).
func Start(ctx context.Context, dir string, o Options) (*Hub, error) {
	if err := Init(dir); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, confFile), ServerConf(dir, o)); err != nil {
		return nil, err
	}
	opts, err := loadOptions(dir)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "the embedded NATS server: %v", err)
	}
	if o.Log != nil {
		srv.SetLoggerV2(logger{o.Log}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, cim.Errorf(cim.ErrFailed, "the embedded NATS server did not start listening on %s", o.listen())
	}
	h := &Hub{dir: dir, o: o, srv: srv, stop: make(chan struct{})}
	if err := h.setup(ctx); err != nil {
		h.Shutdown()
		return nil, err
	}
	h.wg.Add(1)
	go h.watchAuth()
	return h, nil
}

func loadOptions(dir string) (*server.Options, error) {
	opts, err := server.ProcessConfigFile(filepath.Join(dir, confFile))
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "%s: %v", filepath.Join(dir, confFile), err)
	}
	opts.NoSigs = true
	return opts, nil
}

func (h *Hub) setup(ctx context.Context) error {
	c, err := natsconn.ReadCreds(AdminCreds(h.dir), nil)
	if err != nil {
		return err
	}
	// The hub dials itself on loopback (a listener on every interface
	// has no address to dial) and, over TLS, trusts its own certificate
	// under a name it holds.
	o := natsconn.Options{URLs: h.loopbackURL(), Name: "cimsess hub setup"}
	if h.o.TLSCert != "" {
		name, err := certName(h.o.TLSCert)
		if err != nil {
			return err
		}
		o.CA, o.ServerName = h.o.TLSCert, name
	}
	nc, err := natsconn.Connect(c, o)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return Setup(ctx, js, h.o.Setup)
}

// watchAuth reloads the server when auth.conf changes.
func (h *Hub) watchAuth() {
	defer h.wg.Done()
	path := filepath.Join(h.dir, authFile)
	last, _ := os.ReadFile(path)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		cur, err := os.ReadFile(path)
		if err != nil || bytes.Equal(cur, last) {
			continue
		}
		last = cur
		if err := h.Reload(); err != nil && h.o.Log != nil {
			h.o.Log(fmt.Sprintf("reloading %s: %v", path, err))
		}
	}
}

// Reload makes the server read its configuration (users) again.
func (h *Hub) Reload() error {
	opts, err := loadOptions(h.dir)
	if err != nil {
		return err
	}
	if err := h.srv.ReloadOptions(opts); err != nil {
		return cim.Errorf(cim.ErrFailed, "reloading the NATS configuration: %v", err)
	}
	if h.o.Log != nil {
		h.o.Log("users reloaded")
	}
	return nil
}

// ClientURL returns the URL clients connect to: tls:// when the server
// speaks TLS (the server says so itself since nats-server 2.10).
func (h *Hub) ClientURL() string {
	u := h.srv.ClientURL()
	if h.o.TLSCert != "" && strings.HasPrefix(u, "nats://") {
		u = "tls://" + strings.TrimPrefix(u, "nats://")
	}
	return u
}

// loopbackURL is ClientURL with an address to dial on this machine: the
// loopback address in place of an unspecified one (0.0.0.0, ::).
func (h *Hub) loopbackURL() string {
	u, err := url.Parse(h.ClientURL())
	if err != nil {
		return h.ClientURL()
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "" || ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// certName returns a name the first certificate of a PEM file holds: its
// first DNS name, else its first IP address, else its subject's common
// name.
func certName(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", cim.Wrap(cim.ErrFailed, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", cim.Errorf(cim.ErrInvalidParameter, "%s holds no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", cim.Errorf(cim.ErrInvalidParameter, "%s: %v", path, err)
	}
	switch {
	case len(c.DNSNames) > 0:
		return c.DNSNames[0], nil
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String(), nil
	}
	return c.Subject.CommonName, nil
}

// Dir returns the hub's data directory.
func (h *Hub) Dir() string { return h.dir }

// Server returns the embedded server, for measurements.
func (h *Hub) Server() *server.Server { return h.srv }

// Shutdown stops the server and waits until it has.
func (h *Hub) Shutdown() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.srv.Shutdown()
	h.srv.WaitForShutdown()
	h.wg.Wait()
}

// Wait blocks until the server stops or ctx ends.
func (h *Hub) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { h.srv.WaitForShutdown(); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
}

// SetupOptions are the stream's and the bucket's settings.
type SetupOptions struct {
	// Replicas of the stream and the bucket: 1 for one server, 3 for a
	// cluster. Default 1.
	Replicas int
	// MaxAge is how long the stream keeps an event; default 30 days.
	MaxAge time.Duration
	// MaxBytes bounds the stream's size; default 10 GiB (old events go).
	MaxBytes int64
	// Duplicates is the window in which the stream drops an event whose
	// ID it has seen; default 1 hour, so that an agent's outbox drained
	// after an hour's outage still makes no duplicate.
	Duplicates time.Duration
	// HeartbeatTTL is how long a host's heartbeat lives; default
	// [DefaultHeartbeatTTL].
	HeartbeatTTL time.Duration
}

// DefaultHeartbeatTTL is the hosts bucket's default TTL: three missed
// heartbeats at the agents' default interval of 5 s, and a little.
const DefaultHeartbeatTTL = 20 * time.Second

// Setup creates or updates the stream of events and the hosts bucket.
// It is all that a NATS cluster run by others needs besides the users in
// auth.conf; it takes the JetStream API rights of an admin.
func Setup(ctx context.Context, js jetstream.JetStream, o SetupOptions) error {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 10 << 30
	}
	if o.Duplicates <= 0 {
		o.Duplicates = time.Hour
	}
	if o.HeartbeatTTL <= 0 {
		o.HeartbeatTTL = DefaultHeartbeatTTL
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        wire.Stream,
		Description: "cimsess: every host's instance events",
		Subjects:    []string{wire.EventSubjects},
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.MaxAge,
		MaxBytes:    o.MaxBytes,
		MaxMsgSize:  wire.MaxEventBytes,
		Discard:     jetstream.DiscardOld,
		Duplicates:  o.Duplicates,
	})
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "creating the stream %s: %v", wire.Stream, err)
	}
	_, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       wire.Bucket,
		Description:  "cimsess: the hosts' heartbeats",
		History:      1,
		TTL:          o.HeartbeatTTL,
		Storage:      jetstream.FileStorage,
		Replicas:     o.Replicas,
		MaxValueSize: 64 << 10,
	})
	if err != nil {
		return cim.Errorf(cim.ErrFailed, "creating the bucket %s: %v", wire.Bucket, err)
	}
	return nil
}

// logger hands the server's notices to a function.
type logger struct{ f func(string) }

func (l logger) Noticef(format string, v ...any) { l.f(fmt.Sprintf(format, v...)) }
func (l logger) Warnf(format string, v ...any)   { l.f("warning: " + fmt.Sprintf(format, v...)) }
func (l logger) Fatalf(format string, v ...any)  { l.f("fatal: " + fmt.Sprintf(format, v...)) }
func (l logger) Errorf(format string, v ...any)  { l.f("error: " + fmt.Sprintf(format, v...)) }
func (l logger) Debugf(format string, v ...any)  {}
func (l logger) Tracef(format string, v ...any)  {}
