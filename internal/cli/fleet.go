package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/client"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
)

// ExitPartial is the exit code of a fleet query that some live host did
// not answer (or answered with an error): the rows printed are those of
// the hosts that did.
const ExitPartial = 6

// partialError is a fleet answer that lacks some hosts.
type partialError struct{ missing, failed []string }

func (p *partialError) Error() string {
	var parts []string
	if len(p.missing) > 0 {
		parts = append(parts, "no answer from "+strings.Join(p.missing, ", "))
	}
	if len(p.failed) > 0 {
		parts = append(parts, "failed on "+strings.Join(p.failed, ", "))
	}
	return "partial answer: " + strings.Join(parts, "; ")
}

// FleetFlags are how a command reaches the fleet's NATS: the flags
// --nats, --creds and --nats-ca (AddFleetFlags).
type FleetFlags struct {
	URLs  string // NATS servers, comma-separated
	Creds string // credentials file that cimsess hub add made
	CA    string // PEM file of the CA of the servers' certificates; "" for the system's
}

// AddFleetFlags adds --nats, --creds and --nats-ca to cmd, their defaults
// from $CIMSESS_NATS, $CIMSESS_CREDS and $CIMSESS_NATS_CA.
func AddFleetFlags(cmd *cobra.Command, f *FleetFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.URLs, "nats", os.Getenv("CIMSESS_NATS"), "NATS servers, comma-separated (nats://a:4222,nats://b:4222; tls://… for TLS); default $CIMSESS_NATS")
	fl.StringVar(&f.Creds, "creds", os.Getenv("CIMSESS_CREDS"), "credentials file that cimsess hub add made; default $CIMSESS_CREDS")
	fl.StringVar(&f.CA, "nats-ca", os.Getenv("CIMSESS_NATS_CA"), "PEM file of the CA of the NATS servers' certificates; default $CIMSESS_NATS_CA, else the system's")
}

// ConnectFleet dials NATS with the flags' credentials, as the program
// called name; retryForever waits for the servers however long they are
// away, saying on stderr why each new attempt failed. A missing --creds
// or --nats is a usage error.
func (e *Env) ConnectFleet(f FleetFlags, name string, retryForever bool) (*nats.Conn, *natsconn.Creds, error) {
	if f.Creds == "" {
		return nil, nil, &usageError{fmt.Errorf("no credentials: give --creds FILE (cimsess hub add makes one)")}
	}
	if f.URLs == "" {
		return nil, nil, &usageError{fmt.Errorf("no NATS server: give --nats nats://host:4222")}
	}
	c, err := natsconn.ReadCreds(f.Creds, func(s string) { fmt.Fprintf(e.stderr, "cimsess: warning: %s\n", s) })
	if err != nil {
		return nil, nil, err
	}
	for _, u := range PlainOffLoopback(f.URLs) {
		fmt.Fprintf(e.stderr, "cimsess: warning: %s is plain NATS to a host that is not loopback: the login is a signed challenge, but the fleet's sessions (users, where from) cross the network in clear; use tls://\n", u)
	}
	o := natsconn.Options{URLs: f.URLs, CA: f.CA, Name: name, RetryForever: retryForever}
	if retryForever {
		// It never gives up, so it must say why it waits: a certificate
		// not trusted is no outage that ends.
		o.OnConnectError = func(err error) {
			fmt.Fprintf(e.stderr, "cimsess: NATS at %s: %s; trying again\n", f.URLs, output.Escape(natsconn.ConnectTrouble(err)))
		}
	}
	nc, err := natsconn.Connect(c, o)
	if err != nil {
		return nil, nil, err
	}
	return nc, c, nil
}

// PlainOffLoopback returns the NATS URLs of a comma-separated list that
// are not TLS and name a host that is not loopback.
func PlainOffLoopback(urls string) []string {
	var out []string
	for _, raw := range strings.Split(urls, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		if !strings.EqualFold(u.Scheme, "tls") && !strings.EqualFold(u.Scheme, "wss") && !access.IsLoopback(u.Host) {
			out = append(out, u.Redacted())
		}
	}
	return out
}

func (e *Env) fleetClient(f FleetFlags) (*client.Client, func(), error) {
	nc, creds, err := e.ConnectFleet(f, "cimsess client", false)
	if err != nil {
		return nil, nil, err
	}
	if creds.Role != natsconn.RoleClient && creds.Role != natsconn.RoleAdmin {
		// Another role's permissions would make every question time out
		// and every host look silent.
		nc.Close()
		return nil, nil, &usageError{fmt.Errorf("%s holds the credentials of a %s, not of a client (cimsess hub add client NAME makes one)", f.Creds, creds.Role)}
	}
	reg, err := schema.Default()
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	c, err := client.New(nc, reg)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return c, nc.Close, nil
}

// fleetQuery runs query --fleet.
func (e *Env) fleetQuery(ctx context.Context, f FleetFlags, out, query, hosts string, timeout time.Duration) error {
	fm, err := output.ParseFormat(out, instanceFormats...)
	if err != nil {
		return &usageError{err}
	}
	c, closeFn, err := e.fleetClient(f)
	if err != nil {
		return err
	}
	defer closeFn()
	res, err := c.Query(ctx, query, client.QueryOptions{Hosts: hosts, Timeout: timeout})
	if err != nil {
		return err
	}
	if err := writeFleetRows(e, fm, c.Reg, res.Instances, res.Properties); err != nil {
		return err
	}
	n := len(res.Answered) + len(res.Missing) + len(res.Failed)
	switch {
	case n == 0 && hosts != "":
		fmt.Fprintf(e.stderr, "cimsess: warning: no live host matches --hosts %s (cimsess hosts lists them)\n", output.Escape(hosts))
	case n == 0:
		fmt.Fprintf(e.stderr, "cimsess: warning: no host of the fleet is live (cimsess hosts lists them)\n")
	case len(res.Instances) == 0 && !res.Partial():
		fmt.Fprintf(e.stderr, "no instances match on %d hosts\n", len(res.Answered))
	}
	if !res.Partial() {
		return nil
	}
	var failed []string
	for h, err := range res.Failed {
		fmt.Fprintf(e.stderr, "cimsess: %s: %s\n", output.Escape(h), escapeLines(err.Error()))
		failed = append(failed, h)
	}
	sort.Strings(failed)
	for _, h := range res.Missing {
		fmt.Fprintf(e.stderr, "cimsess: %s did not answer within %s\n", h, timeout)
	}
	fmt.Fprintf(e.stderr, "cimsess: %d of %d live hosts answered\n", len(res.Answered)-len(failed), n)
	return &partialError{missing: res.Missing, failed: failed}
}

// writeFleetRows renders instances with their host as the first column,
// __SERVER, in every format (CIM-XML carries it in each instance's path).
func writeFleetRows(e *Env, f output.Format, reg *schema.Registry, insts []*cim.Instance, props []string) error {
	if f == output.XML {
		return output.Renderer{Schema: reg, Properties: props}.Write(e.stdout, f, insts)
	}
	cols := props
	if cols == nil {
		seen := map[string]bool{}
		for _, in := range insts {
			c, err := reg.Class(in.ClassName)
			if err != nil {
				continue
			}
			for _, p := range c.Properties {
				k := strings.ToLower(p.Name)
				if seen[k] {
					continue
				}
				// A table leaves out the columns no row has a value in.
				if f == output.Table && !anyValue(insts, p.Name) {
					continue
				}
				seen[k] = true
				cols = append(cols, p.Name)
			}
		}
	}
	rows := make([]*cim.Instance, len(insts))
	for i, in := range insts {
		r := in.Clone()
		r.Set("__SERVER", in.Path.Host)
		rows[i] = r
	}
	return output.Renderer{Schema: reg, Properties: append([]string{"__SERVER"}, cols...)}.Write(e.stdout, f, rows)
}

func anyValue(insts []*cim.Instance, name string) bool {
	for _, in := range insts {
		if in.Value(name) != nil {
			return true
		}
	}
	return false
}

// fleetWatch runs watch --fleet.
func (e *Env) fleetWatch(ctx context.Context, f FleetFlags, out, query, hosts, since string, count int) error {
	fm, err := output.ParseFormat(out, output.Table, output.JSON)
	if err != nil {
		return &usageError{err}
	}
	var from time.Time
	if since != "" {
		if d, err := time.ParseDuration(since); err == nil {
			from = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, since); err == nil {
			from = t
		} else {
			return &usageError{fmt.Errorf("--since %q is neither a duration (2h) nor a time (2026-12-05T08:00:00Z)", since)}
		}
	}
	c, closeFn, err := e.fleetClient(f)
	if err != nil {
		return err
	}
	defer closeFn()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := output.Renderer{Schema: c.Reg}
	n := 0
	fmt.Fprintf(e.stderr, "cimsess: following the fleet's events; interrupt to stop\n")
	gap := func(g client.Gap) {
		which := fmt.Sprintf("event %d", g.From)
		if g.To > g.From {
			which = fmt.Sprintf("events %d to %d", g.From, g.To)
		}
		fmt.Fprintf(e.stderr, "cimsess: warning: %s: %s of its agent never came (lost by a full outbox or by the stream); going on without\n", g.Host, which)
	}
	return c.Watch(ctx, query, client.WatchOptions{Since: from, Hosts: hosts, Gap: gap}, func(ev client.Event) error {
		var err error
		if fm == output.JSON {
			obj := struct {
				Class            string         `json:"__CLASS"`
				Server           string         `json:"__SERVER"`
				TimeCreated      uint64         `json:"TIME_CREATED"`
				ID               string         `json:"ID"`
				Seq              uint64         `json:"Seq"`
				Late             bool           `json:"Late,omitempty"`
				TargetInstance   json.Marshaler `json:"TargetInstance"`
				PreviousInstance json.Marshaler `json:"PreviousInstance"`
			}{Class: ev.Class, Server: ev.Host, ID: ev.ID, Seq: ev.Seq, Late: ev.Late, TargetInstance: r.Object(ev.Target), PreviousInstance: jsonNull{}}
			obj.TimeCreated = cimom.Event{Time: ev.Time}.TimeCreated()
			if ev.Previous != nil {
				obj.PreviousInstance = r.Object(ev.Previous)
			}
			var b []byte
			if b, err = json.Marshal(obj); err == nil {
				_, err = e.stdout.Write(append(b, '\n'))
			}
		} else {
			line := eventLine(cimom.Event{Class: ev.Class, Target: ev.Target, Previous: ev.Previous, Time: ev.Time})
			if ev.Late {
				line += "  (late: after a later event of its host)"
			}
			_, err = fmt.Fprintf(e.stdout, "%s  %s\n", output.Escape(ev.Host), line)
		}
		if err != nil {
			return cim.Errorf(cim.ErrFailed, "writing an event: %v", err)
		}
		n++
		if count > 0 && n >= count {
			cancel()
		}
		return nil
	})
}

func init() { Register(newHostsCmd) }

func newHostsCmd(e *Env) *cobra.Command {
	var f FleetFlags
	var out, glob string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "hosts",
		Short: "List the fleet's live hosts: last heartbeat, version, sessions",
		Long: `hosts lists the hosts whose agents' heartbeats are in the fleet's hosts bucket:
an agent writes its heartbeat every few seconds, and the bucket forgets a host
whose heartbeat is older than its TTL (20 s by default).`,
		Example: `  cimsess hosts --nats nats://hub:4222 --creds alice.creds
  cimsess hosts --hosts 'web-*' -o json`,
		Args: ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := output.ParseFormat(out, output.Table, output.JSON)
			if err != nil {
				return &usageError{err}
			}
			c, closeFn, err := e.fleetClient(f)
			if err != nil {
				return err
			}
			defer closeFn()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			hbs, err := c.Hosts(ctx, glob)
			if err != nil {
				return err
			}
			if fm == output.JSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if hbs == nil {
					return enc.Encode([]any{})
				}
				return enc.Encode(hbs)
			}
			if len(hbs) == 0 {
				fmt.Fprintln(e.stderr, "no live hosts")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tLAST SEEN\tUP SINCE\tVERSION\tSESSIONS\tOUTBOX")
			for _, hb := range hbs {
				var counts []string
				for class, n := range hb.Sessions {
					counts = append(counts, fmt.Sprintf("%s=%d", class, n))
				}
				sort.Strings(counts)
				if counts == nil {
					counts = []string{"none"}
				}
				fmt.Fprintf(tw, "%s\t%s ago\t%s\t%s\t%s\t%d\n", Printable(hb.Host), time.Since(hb.LastSeen).Round(time.Second),
					hb.Start.Local().Format("2006-01-02 15:04:05"), Printable(hb.Version), strings.Join(counts, " "), hb.Outbox)
			}
			return tw.Flush()
		},
	}
	AddFleetFlags(cmd, &f)
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&glob, "hosts", "", "only the hosts whose names match this glob (web-*)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for NATS")
	return cmd
}

// Printable quotes text from the wire that holds control characters or is
// not UTF-8, so that a host name cannot write to the terminal.
func Printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			return strconv.Quote(s)
		}
	}
	return s
}
