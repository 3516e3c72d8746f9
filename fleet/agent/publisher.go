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
	"github.com/cimsess/cimsess/fleet/outbox"
	"github.com/cimsess/cimsess/fleet/wire"
)

// Publisher numbers a host's events, keeps them in its outbox and
// publishes them to the stream in order, one at a time, each acknowledged
// by JetStream before the next; an event leaves the outbox only once the
// stream has it. While NATS is away the events wait in the outbox, and
// the publisher tries again every little while.
type Publisher struct {
	Host  string
	Agent string // the agent's instance id
	Box   *outbox.Outbox
	JS    jetstream.JetStream
	// Log gets the notices: the outbox full, NATS away and back.
	Log func(string)

	tok       string
	once      sync.Once
	mu        sync.Mutex
	published uint64
	dropped   uint64
}

func (p *Publisher) init() { p.once.Do(func() { p.tok = wire.HostToken(p.Host) }) }

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

// Run publishes what the outbox holds until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	p.init()
	backoff := 100 * time.Millisecond
	away := false
	for ctx.Err() == nil {
		recs, err := p.Box.Peek(64)
		if err != nil {
			p.logf("%v", err)
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.Box.Notify():
			case <-time.After(time.Second):
			}
			continue
		}
		for _, r := range recs {
			subject, id, body, err := splitRecord(r.Data)
			if err == nil {
				err = p.publish(ctx, subject, id, body)
			} else {
				p.logf("%v: dropping record %d", err, r.Seq)
			}
			if err != nil && ctx.Err() == nil && !isPermanent(err) {
				if !away {
					away = true
					p.logf("NATS does not take events (%v): %d wait in the outbox, kept until it does", err, p.Box.Len())
				}
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 2*time.Second)
				break
			}
			if err != nil && isPermanent(err) {
				p.logf("NATS refuses event %d for good (%v): dropping it", r.Seq, err)
			}
			if err == nil || isPermanent(err) {
				if err := p.Box.Ack(r); err != nil {
					p.logf("%v", err)
				}
				p.mu.Lock()
				p.published++
				p.mu.Unlock()
				if away {
					away = false
					p.logf("NATS takes events again: %d wait in the outbox", p.Box.Len())
				}
				backoff = 100 * time.Millisecond
			}
			if ctx.Err() != nil {
				return
			}
		}
	}
}

func (p *Publisher) publish(ctx context.Context, subject, id string, body []byte) error {
	msg := nats.NewMsg(subject)
	msg.Header.Set(wire.MsgIDHeader, id)
	msg.Data = body
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := p.JS.PublishMsg(ctx, msg, jetstream.WithExpectStream(wire.Stream))
	return err
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
