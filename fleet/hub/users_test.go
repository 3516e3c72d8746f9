package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"

	"github.com/cimsess/cimsess/fleet/natsconn"
)

// TestUsersFileRole: a users file whose entry has a role cimsess does not
// know (a hand edit: "Agent") is refused with the entry named, where it
// used to give that user an admin's permissions (every subject); and
// AuthConf leaves such a user out.
func TestUsersFileRole(t *testing.T) {
	dir := t.TempDir()
	if _, err := AddUser(dir, natsconn.RoleAgent, "h1", ""); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, usersFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), `"agent"`, `"Agent"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUsers(dir); err == nil || !strings.Contains(err.Error(), `unknown role "Agent"`) || !strings.Contains(err.Error(), "user 1") {
		t.Fatalf("LoadUsers: %v, want the unknown role of user 1", err)
	}
	if _, err := AddUser(dir, natsconn.RoleClient, "c1", ""); err == nil {
		t.Fatal("a user was added to a users file with an unknown role")
	}
	var users []User
	if err := json.Unmarshal(b, &users); err != nil {
		t.Fatal(err)
	}
	users[0].Role = "Agent"
	if c := string(AuthConf(users)); strings.Contains(c, `">"`) || strings.Contains(c, users[0].NKey) {
		t.Fatalf("AuthConf wrote a user of an unknown role:\n%s", c)
	}
	if p := PermissionsOf("Agent", "h1"); len(p.Publish)+len(p.Subscribe) > 0 {
		t.Fatalf("an unknown role's permissions: %+v", p)
	}
}

// FuzzUsersFile: whatever the users file holds, LoadUsers refuses it or
// returns users whose auth.conf the NATS server reads as exactly those
// users, each by its own key: no entry can add a user, drop one, or
// break the file.
func FuzzUsersFile(f *testing.F) {
	dir := f.TempDir()
	for _, r := range natsconn.Roles {
		if _, err := AddUser(dir, r, "host-"+r, filepath.Join(dir, r+".creds")); err != nil {
			f.Fatal(err)
		}
	}
	good, err := os.ReadFile(filepath.Join(dir, usersFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`[{"role":"agent","name":"a\"b\n}","nkey":"UDGIA3UWHE44BFRNL3RVNLDWJ7F4WIWN7ZMGT6ANC6U55FHB6NV6BBCB"}]`))
	f.Add([]byte(`[{"role":"admin","name":"x","nkey":"U1, permissions: {} }, { nkey: U2"}]`))
	f.Add([]byte(`[{"role":"Agent","name":"h1","nkey":"UDGIA3UWHE44BFRNL3RVNLDWJ7F4WIWN7ZMGT6ANC6U55FHB6NV6BBCB"}]`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	d := f.TempDir() // each fuzzing process's own: its inputs run one at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(d, usersFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		users, err := LoadUsers(d)
		if err != nil {
			return
		}
		m, err := conf.Parse(string(AuthConf(users)))
		if err != nil {
			t.Fatalf("auth.conf of %d users does not parse: %v", len(users), err)
		}
		auth, _ := m["authorization"].(map[string]any)
		list, _ := auth["users"].([]any)
		if len(list) != len(users) {
			t.Fatalf("auth.conf has %d users, the file %d", len(list), len(users))
		}
		for i, e := range list {
			u, _ := e.(map[string]any)
			if got := fmt.Sprint(u["nkey"]); got != users[i].NKey {
				t.Fatalf("user %d: auth.conf's key %q, the file's %q", i, got, users[i].NKey)
			}
		}
	})
}
