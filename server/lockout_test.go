package server

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAuthBeforeSlot: with every --max-concurrent slot taken, a wrong
// password still gets its 401 (it never needed a slot), and a request
// whose body is still coming holds no slot.
func TestAuthBeforeSlot(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxConcurrent = 1 }})
	ts.srv.sem <- struct{}{}
	resp, body := post(t, nil, ts.url, "root", "wrong", "EnumerateInstances", eiBody, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password with the slots full: HTTP %d: %s", resp.StatusCode, body)
	}
	<-ts.srv.sem

	// A slow body of a logged-in user: headers and one byte, then nothing.
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /cimom HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nCIMOperation: MethodCall\r\n"+
		"CIMMethod: EnumerateInstances\r\nCIMObject: root/cimv2\r\nContent-Length: %d\r\n\r\n<", basic("alice", alicePass), len(eiBody))
	time.Sleep(200 * time.Millisecond)
	if resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil); resp.StatusCode != 200 {
		t.Errorf("admin while a slow body is read: HTTP %d: %s", resp.StatusCode, body)
	}
}

// TestLoginThrottle: a source that fails too often gets 429 with
// Retry-After and spends no bcrypt; a login remembered from before still
// passes from that source.
func TestLoginThrottle(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxLoginFailures = 3 }})
	if resp, _ := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil); resp.StatusCode != 200 {
		t.Fatalf("first login: HTTP %d", resp.StatusCode)
	}
	for i := 0; i < 3; i++ {
		if resp, _ := post(t, nil, ts.url, "bob", "guess"+strconv.Itoa(i), "EnumerateInstances", eiBody, nil); resp.StatusCode != 401 {
			t.Fatalf("failure %d: HTTP %d", i+1, resp.StatusCode)
		}
	}
	resp, body := post(t, nil, ts.url, "bob", bobPass, "EnumerateInstances", eiBody, nil)
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || ra < 1 || ra > 60 {
		t.Errorf("after 3 failures: HTTP %d Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, nil); resp.StatusCode != 200 {
		t.Errorf("remembered login from a throttled source: HTTP %d", resp.StatusCode)
	}
	if !strings.Contains(ts.logs.String(), "http_status=429") {
		t.Errorf("the log lacks the 429")
	}
}

// TestConnectionCaps: a source at its cap has its next connection closed;
// at the total cap an idle connection makes room for a new client.
func TestConnectionCaps(t *testing.T) {
	t.Run("per source", func(t *testing.T) {
		ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxConnsPerSource = 2 }})
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for i := 0; i < 2; i++ {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		time.Sleep(100 * time.Millisecond)
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /cimom HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 64)); err == nil {
			t.Errorf("third connection of one source answered (%d bytes)", n)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("third connection of one source neither served nor closed")
		}
		held[0].Close()
		time.Sleep(100 * time.Millisecond)
		if resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, map[string]string{"Connection": "close"}); resp.StatusCode != 200 {
			t.Errorf("after one closed: HTTP %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("total", func(t *testing.T) {
		ts := startServer(t, serverOpts{cfg: func(c *Config) { c.MaxConns, c.MaxConnsPerSource = 3, 10 }})
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for i := 0; i < 3; i++ {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		time.Sleep(1100 * time.Millisecond)
		start := time.Now()
		if resp, body := post(t, nil, ts.url, "root", rootPass, "EnumerateInstances", eiBody, map[string]string{"Connection": "close"}); resp.StatusCode != 200 {
			t.Errorf("with idle connections at the cap: HTTP %d: %s", resp.StatusCode, body)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
}

// TestConnCapBelowFDLimit: the default total cap stays under the
// open-file limit.
func TestConnCapBelowFDLimit(t *testing.T) {
	s, err := New(Config{ObjectManager: newObjectManager(t, 1, false), NoAuth: true, MaxConns: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if lim := fdLimit(); lim > 0 && s.cfg.MaxConns > lim-fdReserve {
		t.Errorf("MaxConns %d with an open-file limit of %d", s.cfg.MaxConns, lim)
	}
	if s.cfg.MaxConns < 1 {
		t.Errorf("MaxConns %d", s.cfg.MaxConns)
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
