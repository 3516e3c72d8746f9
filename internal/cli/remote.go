package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimxml"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/wql"
	"github.com/cimsess/cimsess/wsman"
)

// remoteFlags say which host to ask instead of this machine.
type remoteFlags struct {
	url, user, cacert string
	insecure, plain   bool
	timeout           time.Duration
	maxResponse       int64
}

func addRemoteFlags(cmd *cobra.Command, r *remoteFlags) {
	f := cmd.Flags()
	f.StringVar(&r.url, "remote", "", "ask this host instead of this machine: http(s)://HOST:PORT/wsman (WS-Management: cimsess serve, WinRM) or …/cimom (CIM-XML)")
	f.StringVar(&r.user, "user", "", "user name for --remote (HTTP Basic); the password comes from CIMSESS_PASSWORD or a prompt")
	f.StringVar(&r.cacert, "cacert", "", "CA certificates (PEM) that --remote's HTTPS certificate must chain to")
	f.BoolVar(&r.insecure, "insecure", false, "do not verify --remote's HTTPS certificate")
	f.BoolVar(&r.plain, "allow-plain-http", false, "send --user's password over plain HTTP to a host that is not loopback")
	f.DurationVar(&r.timeout, "remote-timeout", 2*time.Minute, "how long one request to --remote may take, its answer included")
	f.Int64Var(&r.maxResponse, "remote-max-response", cimxml.DefaultMaxResponseBytes, "largest CIM-XML answer read from --remote …/cimom, in bytes: it is parsed whole in memory (WS-Management comes page by page)")
}

// remoteAsker is what --remote asks a host: a WS-Man client (wsman.Client)
// for …/wsman, a CIM-XML one (cimxml.Client) for …/cimom.
type remoteAsker interface {
	EnumerateClass(ctx context.Context, class string, page func([]*cim.Instance) error) error
	Query(ctx context.Context, wql string, page func([]*cim.Instance) error) error
	Get(ctx context.Context, path cim.ObjectPath) (*cim.Instance, error)
}

// remoteClient opens the client for the remote flags, asking namespace
// ns and typing what comes by reg (nil: values as sent).
func (e *Env) remoteClient(r *remoteFlags, ns string, reg *schema.Registry) (remoteAsker, string, error) {
	u, err := url.Parse(r.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", &usageError{cim.Errorf(cim.ErrInvalidParameter, "--remote %q is not an http(s)://HOST:PORT/wsman (or …/cimom) URL", r.url)}
	}
	if u.User != nil {
		return nil, "", &usageError{cim.Errorf(cim.ErrInvalidParameter,
			"--remote %s: give the user with --user and the password in CIMSESS_PASSWORD or at the prompt, not in the URL, where process lists and messages show it", u.Redacted())}
	}
	if r.timeout <= 0 || r.maxResponse <= 0 {
		return nil, "", &usageError{cim.Errorf(cim.ErrInvalidParameter, "--remote-timeout and --remote-max-response must be positive")}
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/wsman"
	}
	password := ""
	if r.user != "" {
		if u.Scheme == "http" && !access.IsLoopback(u.Host) && !r.plain {
			return nil, "", &usageError{cim.Errorf(cim.ErrAccessDenied,
				"refusing to send a password over plain HTTP to %s; use https:// or pass --allow-plain-http", u.Host)}
		}
		if password, err = e.remotePassword(r.user, u.Host); err != nil {
			return nil, "", err
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.insecure}
	if r.cacert != "" {
		pem, err := readCapped(r.cacert, 1<<20)
		if err != nil {
			return nil, "", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", cim.Errorf(cim.ErrInvalidParameter, "--cacert %s holds no PEM certificate", r.cacert)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	if r.insecure && u.Scheme == "https" {
		fmt.Fprintf(e.stderr, "cimsess: warning: --insecure: %s's certificate is not checked; anyone between here and there can read and change what is sent%s\n",
			u.Host, map[bool]string{true: ", the password included", false: ""}[r.user != ""])
	}
	// No redirect is followed: WS-Man and CIM-XML have no use for one, and
	// the client would send the password on to where it points.
	hc := &http.Client{Transport: tr, Timeout: r.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if strings.HasSuffix(u.Path, "/cimom") {
		return &cimxml.Client{URL: u.String(), User: r.user, Password: password, HTTP: hc, Schema: reg, MaxResponseBytes: r.maxResponse, Namespace: ns}, u.String(), nil
	}
	// WS-Man names the namespace in the resource URI, as WinRM reads it
	// (…/wsman/1/wmi/root/interop/CLASS).
	return &wsman.Client{URL: u.String(), User: r.user, Password: password, HTTP: hc, Schema: reg, PageSize: 100, Namespace: ns}, u.String(), nil
}

// checkRemoteClass checks that an instance a remote host sent for class
// asked is of it or of a subclass, as far as this schema can tell, and
// returns its class (nil for one this schema does not know). One of a
// class this schema knows must be of asked or under it; when asked is a
// class this schema does not know, a known class is not under it (this
// schema knows every superclass of a class it knows, and asked is not
// one), so such an instance is refused too. One of a class this schema
// does not know is taken as it came: it may be of asked, or of a subclass
// the host has and this schema lacks.
func checkRemoteClass(reg *schema.Registry, where, asked string, in *cim.Instance) (*cim.Class, error) {
	class, err := reg.Class(in.ClassName)
	if err != nil {
		return nil, nil
	}
	if !reg.IsA(class.Name, asked) {
		return nil, cim.Errorf(cim.ErrFailed, "%s sent an instance of %s for %s, which is not one", where, class.Name, cim.Clip(asked))
	}
	return class, nil
}

// checkRemoteInstance checks an instance a remote host sent for class
// asked (an enumeration's or a get's): its class (checkRemoteClass) and,
// when this schema knows the class, its keys.
func checkRemoteInstance(reg *schema.Registry, where, asked string, in *cim.Instance) error {
	class, err := checkRemoteClass(reg, where, asked, in)
	if class == nil {
		return err
	}
	for _, k := range class.KeyNames() {
		if !hasKey(in.Path, k) {
			return cim.Errorf(cim.ErrFailed, "%s sent an instance of %s without its key %s", where, in.ClassName, k)
		}
	}
	return nil
}

// hasKey reports whether path binds key name.
func hasKey(p cim.ObjectPath, name string) bool {
	for _, k := range p.Keys {
		if strings.EqualFold(k.Name, name) {
			return true
		}
	}
	return false
}

// checkRemotePages checks each instance of the pages a remote host sends
// for class asked (checkRemoteInstance) before page has them; with no
// schema (a namespace this program does not serve) it takes them as they
// come.
func checkRemotePages(where string, reg *schema.Registry, asked string, page func([]*cim.Instance) error) func([]*cim.Instance) error {
	if reg == nil {
		return page
	}
	return func(insts []*cim.Instance) error {
		for _, in := range insts {
			if err := checkRemoteInstance(reg, where, asked, in); err != nil {
				return err
			}
		}
		return page(insts)
	}
}

// checkRemoteQueryPages checks the rows of the pages a remote host sends
// for a WQL query before page has them. A data query's (SELECT … FROM X)
// must be of X or a subclass (checkRemoteClass); a projection's rows
// carry their class too, but not always their keys, so keys are not
// checked. The rows of ASSOCIATORS OF and REFERENCES OF may be of any
// class, and meta_class's are classes: those, and a query this parser
// cannot read (the host's to judge), are taken as they come, and so are
// all rows without a schema (reg nil).
func checkRemoteQueryPages(where string, reg *schema.Registry, query string, page func([]*cim.Instance) error) func([]*cim.Instance) error {
	st, err := wql.Parse(query)
	sel, ok := st.(*wql.Select)
	if err != nil || !ok || strings.EqualFold(sel.Class, wql.MetaClass) || reg == nil {
		return page
	}
	return func(insts []*cim.Instance) error {
		for _, in := range insts {
			if _, err := checkRemoteClass(reg, where, sel.Class, in); err != nil {
				return err
			}
		}
		return page(insts)
	}
}

// checkRemoteGet checks that the instance a remote host sent for path is
// the one path names: by reg's classes, or, without a schema (reg nil),
// by its class's name and keys as written.
func checkRemoteGet(where string, reg *schema.Registry, path cim.ObjectPath, in *cim.Instance) error {
	var keys cim.KeySchema = noClasses{}
	if reg != nil {
		if err := checkRemoteInstance(reg, where, path.ClassName, in); err != nil {
			return err
		}
		keys = reg
	}
	if !cim.SameObject(keys, path.Relative(), in.Path.Relative()) {
		return cim.Errorf(cim.ErrFailed, "%s sent %s when asked for %s", where, cim.Clip(in.Path.Relative().String()), cim.Clip(path.Relative().String()))
	}
	return nil
}

// noClasses is a cim.KeySchema that knows no class: paths are compared
// by their class's name and keys as written.
type noClasses struct{}

func (noClasses) Class(name string) (*cim.Class, error) {
	return nil, cim.Errorf(cim.ErrInvalidClass, "no class %q here", cim.Clip(name))
}

func (noClasses) IsA(class, ancestor string) bool { return strings.EqualFold(class, ancestor) }

// readCapped reads a small file whole, refusing one over max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	if int64(len(b)) > max {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "%s is over %d bytes", path, max)
	}
	return b, nil
}

// remotePassword reads the password from CIMSESS_PASSWORD, else from the
// terminal without echo.
func (e *Env) remotePassword(user, host string) (string, error) {
	if pw, ok := os.LookupEnv("CIMSESS_PASSWORD"); ok {
		return pw, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s at %s: ", user, host)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", cim.Wrap(cim.ErrFailed, err)
		}
		return string(pw), nil
	}
	return "", &usageError{cim.Errorf(cim.ErrInvalidParameter, "--user %s needs a password: set CIMSESS_PASSWORD or run on a terminal", user)}
}

// listRemote is listInstances for --remote: write the pages from the
// remote host's namespace ns as they come, with the usual formats, the
// instances typed by reg (remoteSchema(ns)).
func (e *Env) listRemote(ctx context.Context, r *remoteFlags, ns string, reg *schema.Registry, out string, t *tableFlags, what string, props []string,
	fetch func(context.Context, remoteAsker, func([]*cim.Instance) error) error) error {
	f, err := output.ParseFormat(out, instanceFormats...)
	if err != nil {
		return &usageError{err}
	}
	c, where, err := e.remoteClient(r, ns, reg)
	if err != nil {
		return err
	}
	n, err := e.streamInstances(f, e.renderer(reg, t, selectColumns(props, f), nil), func(emit provider.Emit) error {
		return fetch(ctx, c, emit)
	})
	if err == nil && n == 0 {
		fmt.Fprintf(e.stderr, "cimsess: no %s at %s\n", what, where)
	}
	return err
}

// selectList returns the select list of a WQL query when the local schema
// reg can compile it (nil otherwise, or without one: every property the
// instances carry).
func selectList(query string, reg *schema.Registry) []string {
	if reg == nil {
		return nil
	}
	q, err := wql.Compile(query, reg)
	if err != nil {
		return nil
	}
	return q.Properties()
}
