package natsconn

import (
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func testSeed(t testing.TB) string {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	return string(seed)
}

// TestParseCreds: a file with a role, a name and a user seed is read; one
// without any of them is refused with a message saying which.
func TestParseCreds(t *testing.T) {
	seed := testSeed(t)
	c, err := ParseCreds([]byte("# role: agent\n# name: web-1\n" + seed + "\n"))
	if err != nil || c.Role != "agent" || c.Name != "web-1" {
		t.Fatalf("%+v %v", c, err)
	}
	for text, want := range map[string]string{
		"# role: agent\n# name: web-1\n":                 "no user NKey seed",
		"# role: agent\n# name: web-1\nSUnot-a-seed\n":   "credentials:",
		"# role: king\n# name: web-1\n" + seed + "\n":    "credentials:",
		"# role: agent\n" + seed + "\n":                  "no name",
		strings.Repeat("x", 100000) + "\n" + seed + "\n": "too long",
	} {
		if _, err := ParseCreds([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v; want an error with %q", text, err, want)
		}
	}
}

// FuzzParseCreds: any file gives credentials or an error, never a panic,
// and an error never repeats the seed.
func FuzzParseCreds(f *testing.F) {
	seed := testSeed(f)
	f.Add([]byte("# role: agent\n# name: web-1\n" + seed + "\n"))
	f.Add([]byte("# role: client\n# name: ops\n" + seed[:20] + "\n"))
	f.Add([]byte("SU\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCreds(data)
		if err != nil {
			if strings.Contains(err.Error(), seed) {
				t.Fatalf("the error repeats the seed: %v", err)
			}
			return
		}
		if c.Name == "" || c.Role == "" {
			t.Fatalf("credentials without a name or role: %+v", c)
		}
	})
}
