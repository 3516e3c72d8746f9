package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/natsconn"
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
)

// DefaultWindow is how many events a publisher has on their way to
// JetStream at once when Publisher.Window is 0.
const DefaultWindow = 256

// Timings of the publisher: how long an acknowledgement may take, and
// how old the oldest event on its way may be before no more are sent
// after it (see Publisher).
const (
	ackTimeout = 5 * time.Second
	stallAfter = 250 * time.Millisecond
)

// Publisher numbers a host's events, keeps them in its outbox and
// publishes them to the stream in order; an event leaves the outbox only
// once JetStream has acknowledged it and every event before it. Up to
// Window events are on their way at once (asynchronous publishes, each
// acknowledgement checked in order). While NATS is away the events wait in
// the outbox, and the publisher tries again every little while.
//
// Order per host: events are sent in sequence order on one connection. A
// failed or late acknowledgement makes the publisher send again from the
// first event not acknowledged, one at a time until the stream takes one;
// a repeat of an event the stream has is dropped there (Nats-Msg-Id). So
// that an event lost on its way (a stream leader killed, a connection
// cut) is not overtaken by a later one that another leader or connection
// takes, nothing more is sent while the oldest event on its way is older
// than 250 ms or was sent before the connection's last reconnect: an
// acknowledgement takes milliseconds, a leader election seconds.
type Publisher struct {
	Host  string
	Agent string // the agent's instance id
	Box   *outbox.Outbox
	// NC is the connection to publish on.
	NC *nats.Conn
	// Window bounds the events on their way; default DefaultWindow, 1
	// waits for each acknowledgement before the next publish.
	Window int
	// Log gets the notices: the outbox full, NATS away and back.
	Log func(string)

	tok       string
	js        jetstream.JetStream
	jsErr     error
	once      sync.Once
	mu        sync.Mutex
	published uint64
	dropped   uint64
}

func (p *Publisher) init() {
	p.once.Do(func() {
		p.tok = wire.HostToken(p.Host)
		if p.Window <= 0 {
			p.Window = DefaultWindow
		}
		if p.NC == nil {
			p.jsErr = cim.Errorf(cim.ErrFailed, "the publisher has no NATS connection")
			return
		}
		p.js, p.jsErr = jetstream.New(p.NC, jetstream.WithPublishAsyncTimeout(ackTimeout),
			jetstream.WithPublishAsyncMaxPending(2*p.Window))
	})
}

func (p *Publisher) logf(format string, args ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}

// Add numbers ev (ID, Seq, Host) and queues it. When the outbox is full
// the event is lost, with a warning that says so, and Add returns
// outbox.ErrFull.
func (p *Publisher) Add(ev *wire.Event) error {
	p.init()
	ev.Host = p.Host
	seq, err := p.Box.Append(func(seq uint64) ([]byte, error) {
		ev.Seq = seq
		ev.ID = wire.EventID(p.tok, p.Agent, seq)
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		// A record is the subject, the ID and the body, a line each.
		var b bytes.Buffer
		b.WriteString(ev.Subject())
		b.WriteByte('\n')
		b.WriteString(ev.ID)
		b.WriteByte('\n')
		b.Write(body)
		return b.Bytes(), nil
	})
	if errors.Is(err, outbox.ErrFull) {
		p.mu.Lock()
		p.dropped++
		n := p.dropped
		p.mu.Unlock()
		p.logf("WARNING: the outbox is full (%d events wait for NATS): event %d (%s %s) is LOST; %d lost so far", p.Box.Len(), seq, ev.Kind, ev.Path, n)
	}
	return err
}

func splitRecord(data []byte) (subject, id string, body []byte, err error) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return "", "", nil, cim.Errorf(cim.ErrFailed, "outbox: a record without a subject")
	}
	j := bytes.IndexByte(data[i+1:], '\n')
	if j < 0 {
		return "", "", nil, cim.Errorf(cim.ErrFailed, "outbox: a record without an ID")
	}
	return string(data[:i]), string(data[i+1 : i+1+j]), data[i+2+j:], nil
}

// flight is an event on its way: its record and the acknowledgement to
// come (nil for a record dropped without sending).
type flight struct {
	rec        outbox.Record
	ack        jetstream.PubAckFuture
	sent       time.Time
	reconnects uint64
}

// Run publishes what the outbox holds until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	p.init()
	if p.jsErr != nil {
		p.logf("publishing: %v", p.jsErr)
		return
	}
	var inflight []flight
	backoff := 100 * time.Millisecond
	away, careful := false, false
	fail := func(err error) {
		// Start again from the first event not acknowledged, one at a
		// time; the acknowledgements still to come are ignored.
		if !away {
			away = true
			p.logf("NATS does not take events (%s): %d wait in the outbox, kept until it does", natsconn.ReasonOn(p.NC, err), p.Box.Len())
		}
		inflight, careful = inflight[:0], true
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	for ctx.Err() == nil {
		// Send what the window and the oldest event on its way allow.
		limit := p.Window
		if careful {
			limit = 1
		}
		if n := limit - len(inflight); n > 0 && p.maySend(inflight) {
			var recs []outbox.Record
			var err error
			if len(inflight) == 0 {
				recs, err = p.Box.Peek(n)
			} else {
				recs, err = p.Box.PeekAfter(inflight[len(inflight)-1].rec, n)
			}
			if err != nil {
				p.logf("%v", err)
			}
			var sendErr error
			for _, r := range recs {
				f := flight{rec: r, sent: time.Now(), reconnects: p.NC.Stats().Reconnects}
				subject, id, body, err := splitRecord(r.Data)
				if err != nil {
					p.logf("%v: dropping record %d", err, r.Seq)
				} else if f.ack, err = p.publish(subject, id, body); err != nil {
					if !isPermanent(err) {
						sendErr = err
						break
					}
					p.logf("NATS refuses event %d for good (%v): dropping it", r.Seq, err)
				}
				inflight = append(inflight, f)
			}
			if sendErr != nil && len(inflight) == 0 {
				fail(sendErr)
				continue
			}
		}
		if len(inflight) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.Box.Notify():
			case <-time.After(time.Second):
			}
			continue
		}
		// Wait for the oldest event's acknowledgement, for new events
		// when more may be sent, or for the stall to pass.
		head := inflight[0]
		var okc <-chan *jetstream.PubAck
		var errc <-chan error
		if head.ack != nil {
			okc, errc = head.ack.Ok(), head.ack.Err()
		}
		var more <-chan struct{}
		if len(inflight) < limit && p.maySend(inflight) {
			more = p.Box.Notify()
		}
		var err error
		timer := time.NewTimer(stallAfter)
		if head.ack == nil {
			timer.Reset(0)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-okc:
		case err = <-errc:
		case <-more:
			timer.Stop()
			continue
		case <-timer.C:
			if head.ack != nil {
				if time.Since(head.sent) > ackTimeout+time.Second {
					// The library's timeout did not fire: give up on it.
					fail(jetstream.ErrAsyncPublishTimeout)
				}
				continue
			}
		}
		timer.Stop()
		if err != nil {
			fail(err)
			continue
		}
		// The head is in the stream; so may be those after it.
		n := 1
		for n < len(inflight) && done(inflight[n]) {
			n++
		}
		if err := p.Box.Ack(inflight[n-1].rec); err != nil {
			p.logf("%v", err)
		}
		inflight = append(inflight[:0], inflight[n:]...)
		p.mu.Lock()
		p.published += uint64(n)
		p.mu.Unlock()
		if away {
			away = false
			p.logf("NATS takes events again: %d wait in the outbox", p.Box.Len())
		}
		careful, backoff = false, 100*time.Millisecond
	}
}

// done reports whether f's event is acknowledged (or was dropped), without
// waiting.
func done(f flight) bool {
	if f.ack == nil {
		return true
	}
	select {
	case <-f.ack.Ok():
		return true
	default:
		return false
	}
}

// maySend reports whether more events may follow those on their way: the
// oldest is recent and was sent on the connection as it is now.
func (p *Publisher) maySend(inflight []flight) bool {
	if len(inflight) == 0 {
		return true
	}
	head := inflight[0]
	return p.NC.IsConnected() && time.Since(head.sent) < stallAfter && p.NC.Stats().Reconnects == head.reconnects
}

func (p *Publisher) publish(subject, id string, body []byte) (jetstream.PubAckFuture, error) {
	msg := nats.NewMsg(subject)
	msg.Header.Set(wire.MsgIDHeader, id)
	msg.Data = body
	// No retry inside the library: a retried event could land after a
	// later one; Run sends again in order.
	return p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(wire.Stream), jetstream.WithRetryAttempts(0))
}

// isPermanent reports whether publishing can never succeed: the message
// is too large for the server.
func isPermanent(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload)
}

// Published returns how many events the stream took.
func (p *Publisher) Published() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.published
}
