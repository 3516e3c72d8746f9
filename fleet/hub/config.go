// Package hub sets up the NATS side of a fleet: the users and their
// subject permissions (one NKey user per agent, client and collector),
// the NATS configuration that declares them, the JetStream stream of
// events and the KV bucket of heartbeats, and an embedded NATS server with
// JetStream that runs all of it for a small fleet. A larger fleet runs its
// own NATS cluster with the same authorization file included and the same
// stream and bucket ([Setup]); nothing else changes.
//
// A hub's data directory holds:
//
//	users.json      the users: role, name, public NKey
//	auth.conf       their NATS authorization block, included by nats.conf
//	                (and by a cluster's own configuration)
//	nats.conf       the embedded server's configuration
//	creds/          the credentials files made here, 0600
//	jetstream/      the embedded server's store
package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/wire"
)

// User is one fleet user as the hub knows it: no secret, only the public
// key its credentials sign with.
type User struct {
	Role string `json:"role"`
	Name string `json:"name"`
	NKey string `json:"nkey"`
}

// Permissions are a user's subject permissions.
type Permissions struct {
	Publish, Subscribe []string
	// DenyPublish are subjects taken out of Publish's wildcards.
	DenyPublish []string
	// Responses lets the user answer requests sent to subjects it may
	// subscribe to, up to this many messages per request (0: none).
	Responses int
}

// maxResponses bounds the chunks of one query's answer.
const maxResponses = 100000

// jsAPI is the JetStream API prefix.
const jsAPI = "$JS.API."

// kvStream is the stream behind the hosts bucket.
const kvStream = "KV_" + wire.Bucket

// readStream is what reading a stream takes: its info, ordered and
// ephemeral consumers, their messages and acknowledgements. Not deleting
// a consumer, which would be anyone's (consumer names are not the
// user's): an ephemeral consumer goes by itself once idle.
func readStream(stream string) []string {
	return []string{
		jsAPI + "STREAM.INFO." + stream,
		jsAPI + "CONSUMER.CREATE." + stream, jsAPI + "CONSUMER.CREATE." + stream + ".>",
		jsAPI + "CONSUMER.INFO." + stream + ".>",
		jsAPI + "CONSUMER.MSG.NEXT." + stream + ".>",
		jsAPI + "DIRECT.GET." + stream, jsAPI + "DIRECT.GET." + stream + ".>",
		jsAPI + "STREAM.MSG.GET." + stream,
		"$JS.ACK." + stream + ".>", "$JS.FC." + stream + ".>",
	}
}

// collectorOnly are the subjects of the collectors' shared durable
// consumer, which a client, reading the stream through consumers of its
// own, must not take messages from, acknowledge, remake or delete: what
// it took would never reach the fleet history.
func collectorOnly() []string {
	c := wire.Stream + "." + wire.CollectConsumer
	return []string{
		jsAPI + "CONSUMER.CREATE." + c, jsAPI + "CONSUMER.CREATE." + c + ".>",
		jsAPI + "CONSUMER.DURABLE.CREATE." + c,
		jsAPI + "CONSUMER.DELETE." + c, jsAPI + "CONSUMER.MSG.NEXT." + c,
		jsAPI + "CONSUMER.PAUSE." + c, jsAPI + "CONSUMER.UNPIN." + c,
		"$JS.ACK." + c + ".>", "$JS.FC." + c + ".>",
	}
}

// collectorConsumer is what a collector does through the shared durable
// consumer, and all it may do: make or update it, read its info, take
// its messages and acknowledge them, and the stream's info.
func collectorConsumer() []string {
	c := wire.Stream + "." + wire.CollectConsumer
	return []string{
		jsAPI + "INFO", jsAPI + "STREAM.INFO." + wire.Stream,
		jsAPI + "CONSUMER.CREATE." + c, jsAPI + "CONSUMER.CREATE." + c + ".>",
		jsAPI + "CONSUMER.DURABLE.CREATE." + c,
		jsAPI + "CONSUMER.INFO." + c, jsAPI + "CONSUMER.MSG.NEXT." + c,
		"$JS.ACK." + c + ".>", "$JS.FC." + c + ".>",
	}
}

// PermissionsOf returns the subject permissions of a role; name is the
// host's name for an agent. An agent publishes only its own events and
// heartbeat and answers only the queries it may receive (its own and the
// fleet-wide one); a client asks queries and reads the stream and the
// bucket but publishes no event; a collector reads the stream through the
// shared durable consumer, and nothing else; an admin may do anything. Each but the admin
// receives replies only on its own inbox prefix. A role that is none of
// these may do nothing.
func PermissionsOf(role, name string) Permissions {
	tok := wire.HostToken(name)
	inbox := natsconn.InboxPrefix(role, name) + ".>"
	switch role {
	case natsconn.RoleAgent:
		return Permissions{
			Publish:   []string{wire.HostEvents(tok), "$KV." + wire.Bucket + "." + tok},
			Subscribe: []string{wire.QuerySubject(tok), wire.QueryAll, inbox},
			Responses: maxResponses,
		}
	case natsconn.RoleClient:
		pub := []string{wire.QuerySubjectPrefix + ">", jsAPI + "INFO"}
		pub = append(pub, readStream(wire.Stream)...)
		pub = append(pub, readStream(kvStream)...)
		// The hosts bucket's watcher (cimsess hosts) deletes its consumer
		// when it stops; that stream has no durable consumer to keep.
		pub = append(pub, jsAPI+"CONSUMER.DELETE."+kvStream+".>")
		return Permissions{Publish: pub, Subscribe: []string{inbox}, DenyPublish: collectorOnly()}
	case natsconn.RoleCollector:
		return Permissions{Publish: collectorConsumer(), Subscribe: []string{inbox}}
	case natsconn.RoleAdmin:
		return Permissions{Publish: []string{">"}, Subscribe: []string{">"}}
	}
	return Permissions{} // no role: nothing (AuthConf leaves such a user out)
}

// AuthConf returns the NATS authorization block of users: each an NKey
// user with its permissions. A user LoadUsers would refuse (an unknown
// role, a key that is not a user's public NKey) is left out.
func AuthConf(users []User) []byte {
	var b strings.Builder
	b.WriteString("# Written by cimsess hub: the fleet's users and their subject permissions.\n")
	b.WriteString("# Include it in every NATS server's configuration; edit users with cimsess hub add.\n")
	b.WriteString("authorization {\n  users = [\n")
	for _, u := range users {
		if checkUser(u) != nil {
			// Never a user whose line could grant what its role does
			// not, or break the file: LoadUsers refuses such a file.
			fmt.Fprintf(&b, "    # left out: %s\n", strconv.Quote(u.Role+" "+u.Name))
			continue
		}
		p := PermissionsOf(u.Role, u.Name)
		fmt.Fprintf(&b, "    # %s %s\n", u.Role, strconv.Quote(u.Name))
		fmt.Fprintf(&b, "    { nkey: %s, permissions: {\n", u.NKey)
		if len(p.DenyPublish) > 0 {
			fmt.Fprintf(&b, "        publish: { allow: %s, deny: %s }\n", quoteList(p.Publish), quoteList(p.DenyPublish))
		} else {
			fmt.Fprintf(&b, "        publish: { allow: %s }\n", quoteList(p.Publish))
		}
		fmt.Fprintf(&b, "        subscribe: { allow: %s }\n", quoteList(p.Subscribe))
		if p.Responses > 0 {
			fmt.Fprintf(&b, "        allow_responses: { max: %d, expires: \"1m\" }\n", p.Responses)
		}
		b.WriteString("    } }\n")
	}
	b.WriteString("  ]\n}\n")
	return []byte(b.String())
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Files of a data directory.
const (
	usersFile = "users.json"
	authFile  = "auth.conf"
	confFile  = "nats.conf"
	credsDir  = "creds"
	storeDir  = "jetstream"
)

// AdminCreds is the path of the hub's own credentials in a data directory.
func AdminCreds(dir string) string { return filepath.Join(dir, credsDir, "admin-hub.creds") }

// CredsPath is where AddUser writes a user's credentials.
func CredsPath(dir, role, name string) string {
	return filepath.Join(dir, credsDir, role+"-"+wire.HostToken(name)+".creds")
}

// LoadUsers reads the users of a data directory (none when it has no
// users file yet).
func LoadUsers(dir string) ([]User, error) {
	b, err := os.ReadFile(filepath.Join(dir, usersFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	var users []User
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, cim.Errorf(cim.ErrFailed, "%s: %v", filepath.Join(dir, usersFile), err)
	}
	for i, u := range users {
		if err := checkUser(u); err != nil {
			return nil, cim.Errorf(cim.ErrFailed, "%s: user %d: %v (the file is written by cimsess hub add and remove; fix or remove the entry)", filepath.Join(dir, usersFile), i+1, err)
		}
	}
	return users, nil
}

// checkUser refuses a user entry that AuthConf cannot write as it is
// meant: a role that is none of natsconn.Roles (whose permissions would
// be a guess), an empty name, or a key that is not a user's public NKey
// (written into auth.conf as it is).
func checkUser(u User) error {
	if !slices.Contains(natsconn.Roles, u.Role) {
		return fmt.Errorf("unknown role %q (one of %s)", u.Role, strings.Join(natsconn.Roles, ", "))
	}
	if u.Name == "" {
		return errors.New("no name")
	}
	if !nkeys.IsValidPublicUserKey(u.NKey) {
		return fmt.Errorf("%q is not a user's public NKey", u.NKey)
	}
	return nil
}

// AddUser makes credentials for a new user, writes them to CredsPath (or
// to out when it is not empty), adds the user to the data directory and
// rewrites auth.conf; a running hub picks the change up within seconds.
// It returns the credentials file's path. A user of the same role and name
// is CIM_ERR_ALREADY_EXISTS.
func AddUser(dir, role, name, out string) (string, error) {
	paths, err := addUsers(dir, role, []string{name}, out)
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

// AddUsers is AddUser for many users of one role at once, each with its
// credentials at CredsPath: the users file and auth.conf are read and
// written once (so that a running server reloads once), not once a user.
// When one name is taken already, or given twice, no user is added.
func AddUsers(dir, role string, names []string) ([]string, error) {
	return addUsers(dir, role, names, "")
}

func addUsers(dir, role string, names []string, out string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, dataDirError(dir, err)
	}
	users, err := LoadUsers(dir)
	if err != nil {
		return nil, err
	}
	taken := map[string]string{}
	for _, u := range users {
		if u.Role == role {
			taken[wire.HostToken(u.Name)] = u.Name
		}
	}
	for _, name := range names {
		tok := wire.HostToken(name)
		if old, ok := taken[tok]; ok {
			return nil, cim.Errorf(cim.ErrAlreadyExists, "there is a %s named %q already", role, old)
		}
		taken[tok] = name
	}
	paths := make([]string, 0, len(names))
	for _, name := range names {
		c, err := natsconn.NewCreds(role, name)
		if err != nil {
			return nil, err
		}
		pub, err := c.PublicKey()
		if err != nil {
			return nil, err
		}
		p := out
		if p == "" {
			p = CredsPath(dir, role, name)
		}
		if err := c.Write(p); err != nil {
			return nil, err
		}
		users = append(users, User{Role: role, Name: name, NKey: pub})
		paths = append(paths, p)
	}
	if err := writeUsers(dir, users); err != nil {
		return nil, err
	}
	return paths, nil
}

// RemoveUser takes a user out of the data directory and auth.conf (a
// running hub cuts its connections off at the reload, within a second or
// two) and deletes its credentials file in the data directory, so that
// the name may be added again with new credentials.
func RemoveUser(dir, role, name string) error {
	users, err := LoadUsers(dir)
	if err != nil {
		return err
	}
	kept := users[:0]
	for _, u := range users {
		if !(u.Role == role && wire.HostToken(u.Name) == wire.HostToken(name)) {
			kept = append(kept, u)
		}
	}
	if len(kept) == len(users) {
		return cim.Errorf(cim.ErrNotFound, "no %s named %q", role, name)
	}
	if err := writeUsers(dir, kept); err != nil {
		return err
	}
	if err := os.Remove(CredsPath(dir, role, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}

func writeUsers(dir string, users []User) error {
	sort.SliceStable(users, func(i, j int) bool {
		if users[i].Role != users[j].Role {
			return users[i].Role < users[j].Role
		}
		return users[i].Name < users[j].Name
	})
	b, err := json.MarshalIndent(users, "", "  ")
	if err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := writeAtomic(filepath.Join(dir, usersFile), append(b, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, authFile), AuthConf(users))
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return cim.Wrap(cim.ErrFailed, err)
	}
	return nil
}

// dataDirError says that the data directory could not be made, with the
// code its cause gives (CIM_ERR_ACCESS_DENIED for a folder this user may
// not write) and what to do.
func dataDirError(dir string, err error) error {
	return cim.Wrapf(cim.CodeOf(err), err, "the hub's data directory %s cannot be made (give --data DIR that this user may write)", dir)
}

// Init makes a data directory ready: the hub's own admin credentials and
// the users and authorization files. It keeps what is there.
func Init(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return dataDirError(dir, err)
	}
	if _, err := os.Stat(AdminCreds(dir)); os.IsNotExist(err) {
		if _, err := AddUser(dir, natsconn.RoleAdmin, "hub", AdminCreds(dir)); err != nil {
			return err
		}
	}
	users, err := LoadUsers(dir)
	if err != nil {
		return err
	}
	return writeUsers(dir, users)
}

// ServerConf returns the embedded server's nats.conf: where it listens,
// its JetStream store, TLS when a certificate is given, and the include of
// auth.conf.
func ServerConf(dir string, o Options) []byte {
	var b strings.Builder
	b.WriteString("# Written by cimsess hub at each start; edit the flags, not this file.\n")
	fmt.Fprintf(&b, "server_name: %s\n", strconv.Quote(o.name()))
	fmt.Fprintf(&b, "listen: %s\n", strconv.Quote(o.listen()))
	fmt.Fprintf(&b, "max_payload: %d\n", wire.MaxEventBytes)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %s\n}\n", strconv.Quote(filepath.Join(dir, storeDir)))
	if o.TLSCert != "" {
		fmt.Fprintf(&b, "tls {\n  cert_file: %s\n  key_file: %s\n  timeout: 5\n}\n", strconv.Quote(o.TLSCert), strconv.Quote(o.TLSKey))
	}
	fmt.Fprintf(&b, "include %s\n", authFile)
	return []byte(b.String())
}
