package natsconn

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/server"
)

// told connects with RetryForever to url and returns the reasons told
// within d.
func told(t *testing.T, url string, d time.Duration) []string {
	t.Helper()
	c, err := NewCreds(RoleAgent, "h1")
	if err != nil {
		t.Fatal(err)
	}
	reasons := make(chan string, 64)
	nc, err := Connect(c, Options{URLs: url, RetryForever: true, OnConnectError: func(err error) { reasons <- ConnectTrouble(err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	time.Sleep(d)
	var out []string
	for len(reasons) > 0 {
		out = append(out, <-reasons)
	}
	return out
}

// TestConnectErrorsAreTold: an agent or collector, which waits for NATS
// however long, says why it waits, once for each reason: nothing
// listening, or a certificate it does not trust, which no wait mends.
func TestConnectErrorsAreTold(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	got := told(t, "nats://"+refused, 2*time.Second) // four tries
	if len(got) != 1 || !strings.Contains(got[0], "connection refused") || !strings.Contains(got[0], "nothing listens") {
		t.Errorf("nothing listening: told %q, want the refusal once", got)
	}

	// A server whose certificate is self-signed: the INFO of a NATS
	// server that requires TLS, then the handshake.
	cert, _, err := server.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.Write([]byte(`INFO {"server_id":"fake","version":"2.9.10","tls_required":true,"max_payload":1048576,"nonce":"cimsess-test-nonce"}` + "\r\n"))
				tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
			}()
		}
	}()
	got = told(t, "tls://"+l.Addr().String(), 2*time.Second)
	if len(got) != 1 || !strings.Contains(got[0], "--nats-ca") {
		t.Errorf("an untrusted certificate: told %q, want it once, with --nats-ca", got)
	}
}
