package fleethistory

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// freezer is a TCP proxy to a database that can stop passing bytes, as a
// server that hangs (stuck I/O, a partition) stops answering: the
// connection stays up, nothing comes.
type freezer struct {
	l      net.Listener
	mu     sync.Mutex
	frozen bool
}

func newFreezer(t *testing.T, target string) *freezer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &freezer{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); d.Close() })
			go f.pass(d, c)
			go f.pass(c, d)
		}
	}()
	return f
}

// pass copies from src to dst while not frozen; frozen, it holds what it
// read.
func (f *freezer) pass(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for {
			f.mu.Lock()
			frozen := f.frozen
			f.mu.Unlock()
			if !frozen {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *freezer) freeze() { f.mu.Lock(); f.frozen = true; f.mu.Unlock() }

// TestReadOfAHungDatabaseIsBounded: with a statement timeout (the
// timeline's reader), a read of a server that stops answering fails after
// the timeout and a little more, where it used to wait for ever (the
// server cannot enforce a statement_timeout it does not run).
func TestReadOfAHungDatabaseIsBounded(t *testing.T) {
	dbURL := newDB(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFreezer(t, u.Host)
	u.Host = f.l.Addr().String()
	s, err := Open(context.Background(), u.String(), Options{StatementTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.StatusChanges(context.Background(), Key{Host: "h", Class: "C", LogonID: "1", Start: time.Now()}); err != nil {
		t.Fatalf("before the freeze: %v", err)
	}
	f.freeze()
	start := time.Now()
	_, err = s.StatusChanges(context.Background(), Key{Host: "h", Class: "C", LogonID: "1", Start: time.Now()})
	if took := time.Since(start); err == nil || took > 100*time.Millisecond+readSlack+2*time.Second {
		t.Fatalf("a read of a hung database: %v after %v", err, took)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(closeWait + 2*time.Second):
		t.Fatal("Close waited for the hung database")
	}
}
