package collector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/testenv"
)

// hungSink is a database that takes the connection and never answers.
type hungSink struct{}

func (hungSink) Apply(ctx context.Context, _ []fleethistory.Change) (fleethistory.ApplyStats, error) {
	<-ctx.Done()
	return fleethistory.ApplyStats{}, ctx.Err()
}

// memSink keeps the ids of the changes written.
type memSink struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (s *memSink) Apply(_ context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		s.ids[c.MsgID] = true
	}
	return fleethistory.ApplyStats{Applied: len(changes)}, nil
}

func (s *memSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// TestHungDatabaseAndHandOver: a database that stops answering fails
// each write within the apply timeout, said in the log (it used to hang
// the collector without a word); and the events a stopping collector had
// fetched and not written go back at once, so that the collector taking
// over writes them in seconds, not after the acknowledgement wait (a
// minute by default; here 30 s).
func TestHungDatabaseAndHandOver(t *testing.T) {
	natsURL, js := startNATS(t)
	sc := makeScript(t, 2, 20)
	connect := func() jetstream.JetStream {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		return js
	}
	var log testenv.SyncBuffer
	hung := &Collector{JS: connect(), Sink: hungSink{}, Batch: 10, AckWait: 30 * time.Second, ApplyTimeout: 300 * time.Millisecond,
		Logf: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- hung.Run(ctx) }()
	publish(t, js, sc.events)
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(log.String(), "the database did not answer within 300ms"); {
		if time.Now().After(deadline) {
			t.Fatalf("a hung database was not said: %q", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the collector did not stop")
	}

	mem := &memSink{ids: map[string]bool{}}
	next := &Collector{JS: connect(), Sink: mem, Batch: 10, AckWait: 30 * time.Second, Logf: t.Logf}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go next.Run(ctx2)
	for deadline := time.Now().Add(10 * time.Second); mem.len() < len(sc.events); {
		if time.Now().After(deadline) {
			t.Fatalf("the next collector wrote %d of %d events in 10 s: the stopped one kept its batches", mem.len(), len(sc.events))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
