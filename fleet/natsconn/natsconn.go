// Package natsconn connects the fleet's programs to NATS: it reads a
// credentials file (an NKey seed with the role and name it was made for),
// writes new ones, and dials with the options every fleet connection
// shares — the NKey signature, TLS, an inbox of the user's own that its
// subject permissions allow, and no client-side reconnect buffer, so that a
// publish while NATS is away fails at once and the caller keeps the message.
package natsconn

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
)

// The roles a fleet user can have; each has its own subject permissions
// (see the hub package).
const (
	// RoleAgent publishes one host's events and heartbeat and answers its
	// queries.
	RoleAgent = "agent"
	// RoleClient asks queries and reads the event stream and the hosts.
	RoleClient = "client"
	// RoleCollector reads the event stream through the shared durable
	// consumer.
	RoleCollector = "collector"
	// RoleAdmin may do anything: the hub's own user, which creates the
	// stream and the bucket.
	RoleAdmin = "admin"
)

// Roles lists the roles in the order the hub shows them.
var Roles = []string{RoleAgent, RoleClient, RoleCollector, RoleAdmin}

// maxCredsBytes bounds the credentials file read.
const maxCredsBytes = 16 << 10

// Creds is a fleet user's credentials: the role and name it was made for
// and its NKey seed. For an agent, Name is the host's name.
type Creds struct {
	Role string
	Name string
	seed []byte
}

// NewCreds makes a new key pair for a user.
func NewCreds(role, name string) (*Creds, error) {
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "a %s needs a name", role)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	return &Creds{Role: role, Name: name, seed: seed}, nil
}

func checkRole(role string) error {
	for _, r := range Roles {
		if r == role {
			return nil
		}
	}
	return cim.Errorf(cim.ErrInvalidParameter, "unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
}

// PublicKey returns the user's public NKey, which the server's
// configuration names it by.
func (c *Creds) PublicKey() (string, error) {
	kp, err := nkeys.FromSeed(c.seed)
	if err != nil {
		return "", cim.Wrap(cim.ErrFailed, err)
	}
	defer kp.Wipe()
	return kp.PublicKey()
}

// Token returns the name as one subject token: for an agent the host's
// token (wire.HostToken), for the others the same mapping of their name.
func (c *Creds) Token() string { return wire.HostToken(c.Name) }

// InboxPrefix returns the prefix of the user's reply subjects,
// _INBOX.<role>.<token>: its permissions let it subscribe there and
// nowhere else that replies go, so that no user reads another's answers.
func InboxPrefix(role, name string) string { return "_INBOX." + role + "." + wire.HostToken(name) }

// Write writes the credentials to path, readable by its owner only; it
// refuses to overwrite a file.
func (c *Creds) Write(path string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# cimsess fleet credentials: keep this file secret.\n# role: %s\n# name: %s\n%s\n", c.Role, c.Name, c.seed)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := f.Close(); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}

// ReadCreds reads a credentials file that Write wrote. warn, when not nil,
// is told when others than the owner may read the file.
func ReadCreds(path string, warn func(string)) (*Creds, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "credentials: %v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && warn != nil && st.Mode().Perm()&0o077 != 0 && !isWindows {
		warn(fmt.Sprintf("credentials file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredsBytes+1))
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "credentials: %v", err)
	}
	if len(data) > maxCredsBytes {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials file %s is larger than %d bytes", path, maxCredsBytes)
	}
	return ParseCreds(data)
}

// ParseCreds reads the text of a credentials file.
func ParseCreds(data []byte) (*Creds, error) {
	c := &Creds{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# role:"):
			c.Role = strings.TrimSpace(strings.TrimPrefix(line, "# role:"))
		case strings.HasPrefix(line, "# name:"):
			c.Name = strings.TrimSpace(strings.TrimPrefix(line, "# name:"))
		case strings.HasPrefix(line, "SU"):
			c.seed = []byte(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials: %v", err)
	}
	if c.seed == nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials: no user NKey seed in the file")
	}
	if _, err := nkeys.FromSeed(c.seed); err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials: %v", err)
	}
	if err := checkRole(c.Role); err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials: %v", err)
	}
	if c.Name == "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "credentials: no name")
	}
	return c, nil
}

// Options are what Connect needs besides the credentials.
type Options struct {
	// URLs are the servers, comma-separated (nats://a:4222,nats://b:4222);
	// tls:// or a CA makes the connection TLS.
	URLs string
	// CA is a PEM file of the certificate authorities that sign the
	// servers' certificates; empty means the system's.
	CA string
	// Name is the connection's name as the server shows it.
	Name string
	// RetryForever keeps reconnecting, however long the servers are away
	// (agents); otherwise the nats.go default of a few attempts.
	RetryForever bool
	// ServerName, when set with CA, is the name the server's certificate
	// must hold, whatever host the URL dials (the hub dialling itself on
	// loopback).
	ServerName string
	// OnConnectError, when set, is told why the connection cannot be
	// made, or made again: refused, a certificate not trusted, the
	// credentials refused. It is told each reason once, and again only
	// after the connection was up in between or the reason changed, so
	// that a hub that is away for hours is one line, and a setting that
	// can never work (an untrusted certificate) is said at all.
	OnConnectError func(error)
	// Extra options, after the ones Connect sets.
	Extra []nats.Option
}

// Unreachable reports whether err says only that the NATS server is not
// reachable now: a publish or request while the connection is away (which
// nats.go words as its reconnect buffer, which Connect sets to none, being
// full) or before it was ever made.
func Unreachable(err error) bool {
	return errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrConnectionClosed) ||
		// A connection not made yet (RetryOnFailedConnect) knows no
		// server, whose headers it then takes for missing.
		errors.Is(err, nats.ErrHeadersNotSupported)
}

// ReasonOn is Reason for an error of a publish or request on nc: the
// connection's own last error tells a hub that refuses its credentials
// (revoked, or not yet known to it) from one that is away.
func ReasonOn(nc *nats.Conn, err error) string {
	if nc != nil {
		if last := nc.LastError(); last != nil && (errors.Is(last, nats.ErrAuthorization) ||
			strings.Contains(strings.ToLower(last.Error()), "authorization violation")) {
			return "the NATS server refuses these credentials (revoked, or not known to it yet): " + last.Error()
		}
	}
	return Reason(err)
}

// Reason is err as a message says it: "the NATS server is unreachable"
// for what Unreachable reports; for a publish that no stream took, its
// two causes, the passing one first (a stream leader being elected after
// a server was lost) and what to do for the lasting one (the events'
// stream deleted, or never made); else err's own text.
func Reason(err error) string {
	switch {
	case Unreachable(err):
		return "the NATS server is unreachable"
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoStreamResponse):
		return "no stream answered: a server of the cluster was lost and the stream is electing its leader (seconds), or the stream CIMSESS_EVENTS is missing ('cimsess hub' makes it; on a NATS cluster, 'cimsess hub --nats URLS --creds ADMIN.creds')"
	}
	return err.Error()
}

// Connect dials NATS as the user of c.
func Connect(c *Creds, o Options) (*nats.Conn, error) {
	if o.URLs == "" {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "no NATS server given (--nats nats://host:4222)")
	}
	pub, err := c.PublicKey()
	if err != nil {
		return nil, err
	}
	seed := append([]byte(nil), c.seed...)
	opts := []nats.Option{
		nats.Nkey(pub, func(nonce []byte) ([]byte, error) {
			kp, err := nkeys.FromSeed(seed)
			if err != nil {
				return nil, err
			}
			defer kp.Wipe()
			return kp.Sign(nonce)
		}),
		nats.CustomInboxPrefix(InboxPrefix(c.Role, c.Name)),
		nats.Name(o.Name),
		// A publish while disconnected fails at once: the caller (the
		// agent's outbox) keeps it, not a buffer that a crash loses.
		nats.ReconnectBufSize(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.Timeout(5 * time.Second),
	}
	if o.RetryForever {
		opts = append(opts, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	}
	if o.CA != "" {
		pem, err := readCapped(o.CA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, cim.Errorf(cim.ErrInvalidParameter, "no PEM certificate in %s", o.CA)
		}
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: o.ServerName}))
	}
	if o.OnConnectError != nil {
		opts = append(opts, TellConnectErrors(o.OnConnectError)...)
	}
	opts = append(opts, o.Extra...)
	nc, err := nats.Connect(o.URLs, opts...)
	if err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "connecting to NATS at %s: %v", o.URLs, err)
	}
	return nc, nil
}

// ConnectTrouble is the reason a connection cannot be made as a person
// acts on it: err, with what to do for a certificate not trusted or not
// for the host, credentials refused, or nothing listening.
func ConnectTrouble(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
	msg := err.Error()
	switch low := strings.ToLower(msg); {
	case errors.As(err, &unknownCA) || strings.Contains(low, "certificate signed by unknown authority"):
		return msg + " (give --nats-ca FILE with the CA that signed the servers' certificate: a hub's own is its --tls-cert)"
	case errors.As(err, &wrongHost) || strings.Contains(low, "certificate is valid for"):
		return msg + " (the server's certificate is not for the host the URL names)"
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(low, "authorization violation"):
		return "the NATS server refuses these credentials (revoked, or not known to it yet): " + msg
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(low, "connection refused"):
		return msg + " (nothing listens there: is the hub running?)"
	}
	return msg
}

// TellConnectErrors are the nats.go options that tell each new reason a
// connection cannot be made, as Options.OnConnectError says, for a
// connection Connect does not make (a NATS user's JWT credentials).
func TellConnectErrors(tell func(error)) []nats.Option {
	var (
		mu   sync.Mutex
		last string
	)
	told := func(_ *nats.Conn, err error) {
		if err == nil || errors.Is(err, nats.ErrNoServers) {
			return // says no more than that it failed: the next error says why
		}
		mu.Lock()
		same := err.Error() == last
		last = err.Error()
		mu.Unlock()
		if !same {
			tell(err)
		}
	}
	up := func(*nats.Conn) {
		mu.Lock()
		last = ""
		mu.Unlock()
	}
	return []nats.Option{nats.ReconnectErrHandler(told), nats.ConnectHandler(up), nats.ReconnectHandler(up)}
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	if len(b) > 1<<20 {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%s is larger than 1 MiB", path)
	}
	return b, nil
}
