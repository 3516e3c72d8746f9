package server

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
)

// TestLockoutUnderAttack is issue 13's lock-out load test: 80 clients
// sending wrong passwords (from 8 loopback addresses) and 64 connections
// of a non-administrator sending a body a byte every 5 seconds (from one
// more), while an administrator (from 127.0.0.1) sends one request a
// second. At least 99 % of the administrator's requests must succeed; the
// test reports their latency. Passwords are hashed at bcrypt's default
// cost, as `cimsess user add` does. It runs for 12 s, or
// CIMSESS_LOCKOUT_DURATION:
//
//	CIMSESS_LOCKOUT_DURATION=2m go test ./server -run TestLockoutUnderAttack -v
//
// Linux routes all of 127.0.0.0/8 to the loopback interface, which lets
// the test give each party its own source address.
func TestLockoutUnderAttack(t *testing.T) {
	dur := 12 * time.Second
	if s := os.Getenv("CIMSESS_LOCKOUT_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	users := filepath.Join(t.TempDir(), "users")
	for _, u := range []struct {
		name, pass string
		admin      bool
	}{{"root", rootPass, true}, {"alice", alicePass, false}} {
		if err := access.AddUser(users, u.name, []byte(u.pass), u.admin, bcrypt.DefaultCost); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, serverOpts{cfg: func(c *Config) {
		u, err := OpenUsers(users)
		if err != nil {
			t.Fatal(err)
		}
		c.Users = u
	}})
	dialFrom := func(ip string) *net.Dialer {
		return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	}
	admin := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialFrom("127.0.0.1").DialContext}}
	adminReq := func() (time.Duration, error) {
		req, _ := http.NewRequest("POST", ts.url+Path, strings.NewReader(eiBody))
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("CIMOperation", "MethodCall")
		req.Header.Set("CIMMethod", "EnumerateInstances")
		req.Header.Set("CIMObject", "root%2Fcimv2")
		req.SetBasicAuth("root", rootPass)
		start := time.Now()
		resp, err := admin.Do(req)
		if err != nil {
			return time.Since(start), err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		if resp.StatusCode != 200 || !bytes.Contains(b, namedInstance) {
			return d, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		}
		return d, nil
	}
	if _, err := adminReq(); err != nil {
		t.Fatalf("before the attack: %v", err)
	}

	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	count := func(k string) {
		mu.Lock()
		statuses[k]++
		mu.Unlock()
	}
	// 80 password guessers on 8 addresses, each as fast as it is answered.
	for i := 0; i < 80; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{DialContext: dialFrom(fmt.Sprintf("127.0.0.%d", 2+i%8)).DialContext}
			defer tr.CloseIdleConnections()
			c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
			for n := 0; !stopped(); n++ {
				req, _ := http.NewRequest("POST", ts.url+Path, strings.NewReader(eiBody))
				req.SetBasicAuth("root", fmt.Sprintf("guess-%d-%d", i, n))
				resp, err := c.Do(req)
				if err != nil {
					count("guess: " + err.Error()[:min(len(err.Error()), 40)])
					time.Sleep(50 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count(fmt.Sprintf("guess: HTTP %d", resp.StatusCode))
				if resp.StatusCode != http.StatusUnauthorized {
					time.Sleep(50 * time.Millisecond) // told to wait; come back soon anyway
				}
			}
		}()
	}
	// 64 slow bodies of alice, from one address, reconnecting when closed.
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped() {
				conn, err := dialFrom("127.0.0.10").Dial("tcp", ts.addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				count("slow: connected")
				fmt.Fprintf(conn, "POST /cimom HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nCIMOperation: MethodCall\r\n"+
					"CIMMethod: EnumerateInstances\r\nCIMObject: root/cimv2\r\nContent-Length: %d\r\n\r\n", basic("alice", alicePass), len(eiBody))
				closed := make(chan struct{})
				go func() {
					io.Copy(io.Discard, conn)
					close(closed)
				}()
				for j := 0; ; j++ {
					select {
					case <-stop:
					case <-closed:
					case <-time.After(5 * time.Second):
						if _, err := conn.Write([]byte{eiBody[j%len(eiBody)]}); err == nil {
							continue
						}
					}
					break
				}
				conn.Close()
				<-closed
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}

	time.Sleep(time.Second) // let the attack build up
	var lat []time.Duration
	var failures []string
	tick := time.NewTicker(time.Second)
	for end := time.Now().Add(dur); time.Now().Before(end); <-tick.C {
		d, err := adminReq()
		lat = append(lat, d)
		if err != nil {
			failures = append(failures, err.Error())
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	ok := len(lat) - len(failures)
	t.Logf("admin: %d of %d requests succeeded (%.1f %%); latency p50 %v, p99 %v, max %v", ok, len(lat),
		100*float64(ok)/float64(len(lat)), pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	mu.Lock()
	t.Logf("attackers: %v", statuses)
	mu.Unlock()
	if float64(ok) < 0.99*float64(len(lat)) {
		t.Errorf("the administrator was locked out: %d failures: %q", len(failures), failures)
	}
}
