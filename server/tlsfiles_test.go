package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/access"
)

// TestTLSOnlyAEAD: a TLS 1.2 client that offers only CBC-SHA1 suites gets
// no connection; one with an AEAD suite does.
func TestTLSOnlyAEAD(t *testing.T) {
	ts := startServer(t, serverOpts{tls: true})
	dial := func(suite uint16) error {
		c, err := tls.Dial("tcp", ts.tlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA); err == nil {
		t.Errorf("a CBC-SHA1 suite was accepted")
	}
	if err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("AES-GCM: %v", err)
	}
}

// TestCertificateFiles: a key anyone may write is refused, one its group
// may read is served with a warning, and /dev/zero as --key, --cert or
// --users fails at once with a clear error instead of filling memory.
func TestCertificateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits")
	}
	dir := t.TempDir()
	cert, certPEM, err := SelfSigned("localhost")
	if err != nil {
		t.Fatal(err)
	}
	_ = cert
	keyPEM := pemKey(t, cert)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, keyPEM, 0o600)
	var warnings []string
	warn := func(w string) { warnings = append(warnings, w) }
	if _, err := LoadCertificate(certFile, keyFile, warn); err != nil || len(warnings) != 0 {
		t.Fatalf("0600 key: %v %q", err, warnings)
	}
	os.Chmod(keyFile, 0o640)
	if _, err := LoadCertificate(certFile, keyFile, warn); err != nil || len(warnings) != 1 {
		t.Errorf("0640 key: %v %q", err, warnings)
	}
	os.Chmod(keyFile, 0o666)
	if _, err := LoadCertificate(certFile, keyFile, warn); err == nil || !strings.Contains(err.Error(), "writable by anyone") {
		t.Errorf("0666 key: %v", err)
	}
	os.Chmod(keyFile, 0o600)
	if _, err := os.Stat("/dev/zero"); err != nil {
		return
	}
	start := time.Now()
	if _, err := LoadCertificate("/dev/zero", keyFile, nil); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("--cert /dev/zero: %v", err)
	}
	// /dev/zero is mode 0666: refused before it is read.
	if _, err := LoadCertificate(certFile, "/dev/zero", nil); err == nil || !strings.Contains(err.Error(), "writable by anyone") {
		t.Errorf("--key /dev/zero: %v", err)
	}
	if _, err := access.ReadUsersFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("--users /dev/zero: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func pemKey(t *testing.T, cert tls.Certificate) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
