package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
)

// TLSConfig returns the server's TLS settings for a certificate: TLS 1.2
// or later, HTTP/1.1 only (CIM-XML clients do not speak HTTP/2), and in
// TLS 1.2 only ECDHE with AEAD ciphers (AES-GCM, ChaCha20-Poly1305): none
// of the CBC-SHA1 suites Go would otherwise still offer. (TLS 1.3's
// suites are all AEAD.)
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		CipherSuites: AEADSuites,
	}
}

// AEADSuites are the TLS 1.2 cipher suites the server offers.
var AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// LoadCertificate reads a PEM certificate chain and its key, each at most
// 4 MiB (/dev/zero fails at once). A key file anyone may write is refused;
// warn, when not nil, is told of a key file group or others may read.
func LoadCertificate(certFile, keyFile string, warn func(string)) (tls.Certificate, error) {
	if err := checkKeyFile(keyFile, warn); err != nil {
		return tls.Certificate{}, err
	}
	certPEM, err := access.ReadCapped(certFile, "TLS certificate")
	if err != nil {
		return tls.Certificate{}, cim.Errorf(cim.ErrInvalidParameter, "TLS certificate %s: %v", certFile, err)
	}
	keyPEM, err := access.ReadCapped(keyFile, "TLS key")
	if err != nil {
		return tls.Certificate{}, cim.Errorf(cim.ErrInvalidParameter, "TLS key %s: %v", keyFile, err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, cim.Errorf(cim.ErrInvalidParameter, "TLS certificate %s / key %s: %v", certFile, keyFile, err)
	}
	return c, nil
}

// checkKeyFile refuses a private key file that others may write (anyone
// could put their own key in its place) and warns of one that group or
// others may read. Windows' permissions are not mode bits: not checked.
func checkKeyFile(path string, warn func(string)) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return cim.Errorf(cim.ErrInvalidParameter, "TLS key %s: %v", path, err)
	}
	mode := st.Mode().Perm()
	if mode&0o002 != 0 {
		return cim.Errorf(cim.ErrAccessDenied, "TLS key %s is writable by anyone (mode %04o): refusing it; chmod 0600 it", path, mode)
	}
	if mode&0o077 != 0 && warn != nil {
		warn(fmt.Sprintf("TLS key %s may be read by its group or others (mode %04o); chmod 0600 it", path, mode))
	}
	return nil
}

// SelfSigned makes an in-memory self-signed ECDSA P-256 certificate valid
// for a year for the given host names and addresses (default: localhost,
// 127.0.0.1, ::1 and this machine's name). It also returns the
// certificate in PEM, for a client's CA file.
func SelfSigned(hosts ...string) (tls.Certificate, []byte, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
		if h, err := os.Hostname(); err == nil && h != "" {
			hosts = append(hosts, h)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, cim.Wrap(cim.ErrFailed, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, cim.Wrap(cim.ErrFailed, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"cimsess self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, cim.Wrap(cim.ErrFailed, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, cim.Wrap(cim.ErrFailed, err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, cim.Wrap(cim.ErrFailed, err)
	}
	return cert, certPEM, nil
}

// LoopbackHost reports whether a request's Host (r.Host: "name:port")
// names the loopback interface, localhost or a loopback IP, or is empty
// (an HTTP/1.0 request without one). A server without authentication
// serves only such requests: a web page whose own name an attacker has
// re-bound to 127.0.0.1 (DNS rebinding) sends its name, as a browser
// always sends one, and would otherwise read the answers as its own.
func LoopbackHost(host string) bool {
	return host == "" || access.IsLoopback(host)
}
