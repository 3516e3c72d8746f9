package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/fleethistory"
)

// TestUnstorableEventsRefused: an event whose texts PostgreSQL cannot
// store (a NUL; a user name too long for an index) is refused with its
// reason, before it reaches the database, where it used to stop the batch
// and every batch after it.
func TestUnstorableEventsRefused(t *testing.T) {
	c := &Collector{}
	sc := makeScript(t, 1, 1)
	for _, bad := range []struct {
		set  func(*wire.Event)
		want string
	}{
		{func(e *wire.Event) { setProp(e, "UserName", "us\x00er") }, "a NUL character in its session's fields"},
		{func(e *wire.Event) { setProp(e, "Caption", "x\x00y") }, "a NUL character in its instance's properties"},
		{func(e *wire.Event) { setProp(e, "UserName", strings.Repeat("u", 5000)) }, "its UserName is 5000 bytes"},
	} {
		e := sc.events[0]
		e.Instance.Properties = append([]wire.Property(nil), e.Instance.Properties...)
		bad.set(&e)
		data, err := jsonOf(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Change(e.Subject(), data, e.ID); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v, want %q", err, bad.want)
		}
	}
	for in, want := range map[string]bool{`{"a":"\u0000"}`: true, `{"a":"\\u0000"}`: false, `{"a":"\\\u0000"}`: true, `{"a":"x"}`: false} {
		if jsonHasNUL([]byte(in)) != want {
			t.Errorf("jsonHasNUL(%s) = %v", in, !want)
		}
	}
}

// setProp sets a string property of an event's instance.
func setProp(e *wire.Event, name, v string) {
	for i, p := range e.Instance.Properties {
		if p.Name == name {
			e.Instance.Properties[i].Value = mustJSON(v)
			return
		}
	}
	e.Instance.Properties = append(e.Instance.Properties, wire.Property{Name: name, Value: mustJSON(v)})
}

// poisonSink is a PostgreSQL sink whose database refuses the session's
// data of one event, as it would a value it cannot hold (not its id and
// host, which are all a Skip change holds).
type poisonSink struct {
	PostgresSink
	bad string // the id of the event refused
}

func (s poisonSink) Apply(ctx context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error) {
	for _, c := range changes {
		if c.MsgID == s.bad && c.Kind != fleethistory.Skip {
			return fleethistory.ApplyStats{}, fmt.Errorf("fleet history: %w", &pgconn.PgError{Code: "22021", Message: "invalid byte sequence"})
		}
	}
	return s.PostgresSink.Apply(ctx, changes)
}

// TestOneRefusedEventDoesNotStopTheRest: an event the database refuses is
// set aside, and every other event of its batch and after it is written;
// its number is counted, since it came (and was said).
func TestOneRefusedEventDoesNotStopTheRest(t *testing.T) {
	url := newDB(t)
	natsURL, js := startNATS(t)
	sc := makeScript(t, 2, 20)
	publish(t, js, sc.events)
	bad := sc.events[7].ID
	c := &Collector{Batch: 50}
	logs, stop := runCollectorWith(t, url, natsURL, c, func(s PostgresSink) Sink { return poisonSink{PostgresSink: s, bad: bad} })
	got := waitApplied(t, url, len(sc.events)-1, 30*time.Second)
	stop()
	if got.applied != len(sc.events)-1 || c.Stats().Bad.Load() != 1 || !strings.Contains(logs.String(), "refusing event "+bad) {
		t.Fatalf("applied %d of %d, bad %d; log:\n%s", got.applied, len(sc.events)-1, c.Stats().Bad.Load(), logs.String())
	}
	noGaps(t, url, "with an event the database refused (it came)")
}
