package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/agent"
	"github.com/cimsess/cimsess/fleet/hub"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/internal/cli"
)

func init() { cli.Register(newHubCmd) }

// defaultHubDir is where the hub keeps its data when --data is not given.
func defaultHubDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cimsess/hub"
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "cimsess", "hub")
	}
	return "cimsess-hub"
}

func newHubCmd(e *cli.Env) *cobra.Command {
	var dir, listen, cert, key string
	var f cli.FleetFlags
	var setup hub.SetupOptions
	var verbose bool
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run the fleet's embedded NATS server with JetStream (or set up an existing NATS cluster)",
		Long: `hub runs an embedded NATS server with JetStream: the one place a small fleet's
agents publish their events to and clients ask. Its data directory holds the NATS
configuration it writes (nats.conf, auth.conf: one NKey user per agent and client,
each with its subject permissions), the JetStream store, and the credentials files
that "cimsess hub add" makes. It creates the stream CIMSESS_EVENTS and the KV
bucket cimsess_hosts.

A larger fleet runs its own NATS cluster instead: include the auth.conf that
"cimsess hub add" keeps up to date in each server's configuration, and run
"cimsess hub --nats URLS --creds ADMIN.creds --replicas 3" once to create the
stream and the bucket there. Agents and clients speak the same protocol to both.`,
		Example: `  cimsess hub --data /var/lib/cimsess/hub --listen 0.0.0.0:4222 --tls-cert hub.crt --tls-key hub.key
  cimsess hub add agent web-1.example.com      # prints the credentials file to copy to web-1
  cimsess hub --nats nats://a:4222,nats://b:4222,nats://c:4222 --creds /var/lib/cimsess/hub/creds/admin-hub.creds --replicas 3`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if f.URLs != "" {
				for _, name := range []string{"listen", "tls-cert", "tls-key", "data"} {
					if cmd.Flags().Changed(name) {
						return cli.UsageError(fmt.Errorf("--%s is the embedded server's; with --nats the hub only sets up the cluster there", name))
					}
				}
				// An existing cluster: create the stream and the bucket.
				nc, creds, err := e.ConnectFleet(f, "cimsess hub setup", false)
				if err != nil {
					return err
				}
				defer nc.Close()
				if creds.Role != natsconn.RoleAdmin {
					return cli.UsageError(fmt.Errorf("%s holds the credentials of a %s; setting up a cluster takes the hub's admin credentials (creds/admin-hub.creds in its data directory)", f.Creds, creds.Role))
				}
				js, err := jetstream.New(nc)
				if err != nil {
					return cim.Wrap(cim.ErrFailed, err)
				}
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if err := hub.Setup(sctx, js, setup); err != nil {
					return err
				}
				fmt.Fprintf(e.Stdout(), "stream CIMSESS_EVENTS and bucket cimsess_hosts are ready on %s (%d replicas)\n", f.URLs, max(setup.Replicas, 1))
				return nil
			}
			if (cert == "") != (key == "") {
				return cli.UsageError(fmt.Errorf("--tls-cert and --tls-key go together"))
			}
			if cert == "" && !access.IsLoopback(listen) {
				fmt.Fprintf(e.Stderr(), "cimsess: warning: the hub listens on %s without TLS: logins are signed challenges, but every host's sessions (users, where from) cross the network in clear; give --tls-cert and --tls-key\n", listen)
			}
			o := hub.Options{Listen: listen, TLSCert: cert, TLSKey: key, Setup: setup}
			if verbose {
				o.Log = func(s string) { fmt.Fprintf(e.Stderr(), "nats: %s\n", s) }
			}
			h, err := hub.Start(ctx, dir, o)
			if err != nil {
				return err
			}
			defer h.Shutdown()
			fmt.Fprintf(e.Stdout(), "hub: NATS with JetStream on %s, data in %s\n", h.ClientURL(), dir)
			fmt.Fprintf(e.Stdout(), "hub: add a host with: cimsess hub add agent HOSTNAME --data %s\n", dir)
			h.Wait(ctx)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dir, "data", defaultHubDir(), "data directory (configuration, store, credentials)")
	fl.StringVar(&listen, "listen", "127.0.0.1:4222", "address the embedded server listens on")
	fl.StringVar(&cert, "tls-cert", "", "TLS certificate (PEM) of the embedded server; with --tls-key it speaks TLS only")
	fl.StringVar(&key, "tls-key", "", "TLS private key (PEM) of the embedded server")
	fl.IntVar(&setup.Replicas, "replicas", 1, "replicas of the stream and the bucket (3 for a 3-node cluster)")
	fl.DurationVar(&setup.MaxAge, "max-age", 30*24*time.Hour, "how long the stream keeps an event")
	fl.Int64Var(&setup.MaxBytes, "max-bytes", 10<<30, "the stream's largest size in bytes (the oldest events go)")
	fl.DurationVar(&setup.HeartbeatTTL, "heartbeat-ttl", hub.DefaultHeartbeatTTL, "how long a host stays listed after its last heartbeat")
	fl.BoolVarP(&verbose, "verbose", "v", false, "print the NATS server's log")
	cli.AddFleetFlags(cmd, &f)
	// The hub sets up a cluster only when told so with --nats: an
	// operator's $CIMSESS_NATS, set for the client commands, must not turn
	// the hub into a setup run that ignores --listen and --data.
	f.URLs = ""
	if nf := cmd.Flags().Lookup("nats"); nf != nil {
		nf.DefValue = ""
		nf.Usage = "set up an existing NATS cluster at these servers (comma-separated) instead of running one"
	}
	cmd.AddCommand(newHubAddCmd(e), newHubRemoveCmd(e), newHubUsersCmd(e))
	return cmd
}

func newHubAddCmd(e *cli.Env) *cobra.Command {
	var dir, out string
	cmd := &cobra.Command{
		Use:   "add agent|client|collector|admin NAME",
		Short: "Make the credentials of a new agent (NAME is its host name), client or collector",
		Long: `add makes an NKey user with the role's subject permissions, writes its
credentials file (readable by its owner only) and adds the user to the hub's
auth.conf; a running hub takes it within a second. Copy the file to the host
(an agent's is /etc/cimsess/agent.creds by default in deploy/cimsess-agent.service).

An agent may publish only its own host's events and heartbeat and answer only
queries; a client may ask queries and read the events and hosts, never publish
events; a collector reads the stream through the shared durable consumer.`,
		Example: `  cimsess hub add agent web-1.example.com
  cimsess hub add client alice --out alice.creds`,
		Args: cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := hub.AddUser(dir, args[0], args[1], out)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout(), "%s\n", path)
			fmt.Fprintf(e.Stderr(), "cimsess: %s %q added; its credentials are in the file above: keep it secret\n", args[0], args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "data", defaultHubDir(), "the hub's data directory")
	cmd.Flags().StringVar(&out, "out", "", "write the credentials here (default DATA/creds/ROLE-NAME.creds)")
	return cmd
}

func newHubRemoveCmd(e *cli.Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "remove agent|client|collector|admin NAME",
		Short: "Revoke a user: its credentials stop working, and a running hub cuts it off",
		Long: `remove takes the user out of the hub's auth.conf and deletes its credentials file in
the data directory. A running hub reloads its users within a second or two and cuts the
user's connections off; the old credentials file, wherever it was copied, no longer
works. The name may be added again, with new credentials.`,
		Example: `  cimsess hub remove agent web-2.example.com
  cimsess hub remove client alice`,
		Args: cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := hub.RemoveUser(dir, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.Stderr(), "cimsess: %s %q removed; a running hub cuts it off within seconds\n", args[0], cli.Printable(args[1]))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "data", defaultHubDir(), "the hub's data directory")
	return cmd
}

func newHubUsersCmd(e *cli.Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "users",
		Short: "List the fleet's users: role, name, public key",
		Args:  cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			users, err := hub.LoadUsers(dir)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.Stdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ROLE\tNAME\tNKEY")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Role, cli.Printable(u.Name), u.NKey)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "data", defaultHubDir(), "the hub's data directory")
	return cmd
}

func init() { cli.Register(newAgentCmd) }

func newAgentCmd(e *cli.Env) *cobra.Command {
	var f cli.FleetFlags
	var state string
	var heartbeat, within time.Duration
	var box outbox.Options
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Publish this host's session events to the fleet and answer its queries",
		Long: `agent runs on each host of a fleet. It publishes every creation, deletion and
modification of the session classes (Win32_Session and its subclasses,
Win32_ServerConnection) on cimsess.ev.<host>.<class> to the JetStream stream, each
with a Nats-Msg-Id, so that a publish repeated after a restart is dropped; keeps them
in a local outbox (under --state) while NATS is unreachable and sends them in order
when it is back; writes a heartbeat (version, start, last seen, session counts) to
the hosts bucket; and answers the fleet's queries by running them here.

The host's name is the one its credentials were made for (cimsess hub add agent NAME):
the NATS permissions let the agent publish as that host only.`,
		Example: `  cimsess agent --nats tls://hub.example.com:4222 --creds /etc/cimsess/agent.creds --nats-ca /etc/cimsess/ca.pem`,
		Args:    cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			warn := func(s string) { fmt.Fprintf(e.Stderr(), "cimsess: agent: %s\n", s) }
			nc, creds, err := e.ConnectFleet(f, "cimsess agent", true)
			if err != nil {
				return err
			}
			defer nc.Close()
			if creds.Role != natsconn.RoleAgent {
				return cli.UsageError(fmt.Errorf("%s holds the credentials of a %s, not of an agent", f.Creds, creds.Role))
			}
			if cmd.Flags().Changed("host") && !strings.EqualFold(e.Sources().Host, creds.Name) {
				return cli.UsageError(fmt.Errorf("an agent's host is the name its credentials were made for (%s): the hub lets it publish as that host only, so --host cannot name another", creds.Name))
			}
			e.Sources().Host = creds.Name
			om, err := e.ObjectManager()
			if err != nil {
				return err
			}
			a, err := agent.New(agent.Config{OM: om, NC: nc, Host: creds.Name, StateDir: state, Within: within,
				Heartbeat: heartbeat, Outbox: box, Version: cli.Version, Log: warn})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.Stderr(), "cimsess: agent %s (%s) publishing to %s; %d events wait in the outbox\n", creds.Name, a.ID(), f.URLs, a.Outbox().Len())
			return a.Run(cmd.Context())
		},
	}
	cli.AddFleetFlags(cmd, &f)
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "/var/lib/cimsess/agent", "the agent's state: its id, outbox and last snapshot")
	fl.DurationVar(&heartbeat, "heartbeat", agent.DefaultHeartbeat, "how often to write the heartbeat")
	fl.DurationVar(&within, "within", 0, "rescan interval (changes that the sources notify are seen at once); default 1s")
	fl.Int64Var(&box.MaxBytes, "outbox-max", outbox.DefaultMaxBytes, "the outbox's largest size in bytes; past it new events are lost, with a warning")
	fl.BoolVar(&box.Sync, "outbox-sync", true, "sync each event to disk before it counts as queued")
	cli.AddSourceFlags(cmd, e.Sources())
	_ = cmd.Flags().MarkHidden("host") // the credentials' name (see RunE)
	return cmd
}
