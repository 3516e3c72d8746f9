package hub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/fleet/natsconn"
)

// writeCert writes a self-signed certificate for name (and no address)
// and its key, and returns their paths.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "hub.crt"), filepath.Join(dir, "hub.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	return certFile, keyFile
}

// TestTLSHub: a hub with a certificate (for its public name, not for the
// address it is dialled on here) starts, says tls://, and takes clients
// that trust its certificate. It used to fail at start, dialling
// "tls//…".
func TestTLSHub(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "hub.example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Start(ctx, filepath.Join(dir, "data"), Options{Listen: "127.0.0.1:-1", TLSCert: cert, TLSKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown()
	if u := h.ClientURL(); !strings.HasPrefix(u, "tls://127.0.0.1:") {
		t.Fatalf("ClientURL %q", u)
	}
	path, err := AddUser(h.Dir(), "client", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	c, err := natsconn.ReadCreds(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsconn.Connect(c, natsconn.Options{URLs: h.ClientURL(), CA: cert, ServerName: "hub.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if _, err := natsconn.Connect(c, natsconn.Options{URLs: h.ClientURL(), CA: cert}); err == nil {
		t.Error("a client that checks the certificate against 127.0.0.1 was let in")
	}
}

// TestRemoveUser: a user removed is cut off by a running hub, its old
// credentials no longer work, and its name may be added again.
func TestRemoveUser(t *testing.T) {
	h := startHub(t)
	nc, _ := connectAs(t, h, "client", "alice")
	path := CredsPath(h.Dir(), "client", "alice")
	old, err := natsconn.ReadCreds(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := RemoveUser(h.Dir(), "client", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the credentials file is still there: %v", err)
	}
	if err := h.Reload(); err != nil { // what the running hub does within a second
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); nc.IsConnected(); {
		if time.Now().After(deadline) {
			t.Fatal("the removed user's connection goes on")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c, err := natsconn.Connect(old, natsconn.Options{URLs: h.ClientURL()}); err == nil {
		c.Close()
		t.Error("the removed user's old credentials still connect")
	}
	if _, err := AddUser(h.Dir(), "client", "alice", ""); err != nil {
		t.Errorf("adding the name again: %v", err)
	}
	if err := RemoveUser(h.Dir(), "client", "bob"); err == nil {
		t.Error("removing a user who is not there: no error")
	}
}
