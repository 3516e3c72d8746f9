// Package wire is the fleet's contract on NATS: the names of the subjects,
// the JetStream stream, the KV bucket and the shared consumer, and the JSON
// bodies that travel on them — an instance [Event] published by an agent,
// a [Heartbeat] in the hosts bucket, and the [Instance] form of a CIM
// instance that both carry. Agents, clients and collectors all speak
// through this package, so that none of them spells a subject or a field
// of its own.
//
// An instance travels as JSON without type tags: integers as JSON numbers
// written from their exact decimal text, reals as numbers (NaN and the
// infinities as strings), datetimes and references in their CIM text form,
// arrays as arrays, NULL as null. The receiver gives the values back their
// CIM types from the class in its schema ([DecodeInstance]).
package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
)

// The names the fleet uses on NATS.
const (
	// Stream is the JetStream stream of every host's instance events.
	Stream = "CIMSESS_EVENTS"
	// EventSubjectPrefix begins every event subject:
	// cimsess.ev.<hosttoken>.<class>.
	EventSubjectPrefix = "cimsess.ev."
	// EventSubjects is the stream's subject filter.
	EventSubjects = EventSubjectPrefix + ">"
	// Bucket is the KV bucket of the hosts' heartbeats, keyed by host
	// token, with a bucket-wide TTL so that a dead host drops out.
	Bucket = "cimsess_hosts"
	// QuerySubjectPrefix begins the query subjects: cimsess.q.<hosttoken>
	// asks one host, [QueryAll] every host.
	QuerySubjectPrefix = "cimsess.q."
	// QueryAll is the subject every agent answers queries on.
	QueryAll = QuerySubjectPrefix + "all"
	// CollectConsumer is the durable pull consumer on [Stream] that the
	// collectors (cimsess collect) share.
	CollectConsumer = "cimsess-collect"
	// MsgIDHeader is the JetStream header that carries an event's ID, by
	// which the stream drops a message it already has.
	MsgIDHeader = "Nats-Msg-Id"
)

// The kinds of an [Event].
const (
	KindCreation     = "creation"
	KindDeletion     = "deletion"
	KindModification = "modification"
)

// The CIM intrinsic event classes the kinds stand for.
const (
	classCreation     = "__InstanceCreationEvent"
	classDeletion     = "__InstanceDeletionEvent"
	classModification = "__InstanceModificationEvent"
)

// Event is one instance event as an agent publishes it on
// cimsess.ev.<hosttoken>.<class>.
type Event struct {
	// ID is unique per event forever: the host's token, the agent's
	// instance id (made once and kept in its state directory) and Seq
	// ([EventID]). It is also the message's Nats-Msg-Id.
	ID string `json:"id"`
	// Host is the host's name as the agent knows it (HostToken(Host) is
	// the subject's token).
	Host string `json:"host"`
	// Seq numbers the host's events from 1, increasing, kept across agent
	// restarts.
	Seq uint64 `json:"seq"`
	// Kind is KindCreation, KindDeletion or KindModification.
	Kind string `json:"kind"`
	// Time is when the agent saw the change.
	Time time.Time `json:"time"`
	// Class is the target instance's class.
	Class string `json:"class"`
	// Path is the target instance's relative object path, in canonical
	// form (keys sorted by name).
	Path string `json:"path"`
	// Instance is the instance created or deleted, or as it is after a
	// modification.
	Instance Instance `json:"instance"`
	// Previous is the instance before a modification; nil for the other
	// kinds.
	Previous *Instance `json:"previous,omitempty"`
}

// Subject returns the subject the event is published on.
func (e *Event) Subject() string { return EventSubject(HostToken(e.Host), e.Class) }

// CIMClass returns the intrinsic event class of the event's kind
// (__InstanceCreationEvent, …), or "" for an unknown kind.
func (e *Event) CIMClass() string { return EventClassOf(e.Kind) }

// EventClassOf returns the intrinsic event class of a kind, or "".
func EventClassOf(kind string) string {
	switch kind {
	case KindCreation:
		return classCreation
	case KindDeletion:
		return classDeletion
	case KindModification:
		return classModification
	}
	return ""
}

// KindOf returns the kind of an intrinsic event class (case-insensitive),
// or "" when it is none of the three.
func KindOf(eventClass string) string {
	switch {
	case strings.EqualFold(eventClass, classCreation):
		return KindCreation
	case strings.EqualFold(eventClass, classDeletion):
		return KindDeletion
	case strings.EqualFold(eventClass, classModification):
		return KindModification
	}
	return ""
}

// Heartbeat is a host's entry in the hosts bucket, under its host token.
// The agent rewrites it every few seconds; the bucket's TTL drops the
// entry of a host that stopped.
type Heartbeat struct {
	Host    string `json:"host"`
	Version string `json:"version"`
	// Agent is the agent's instance id (the middle part of its event IDs).
	Agent string `json:"agent"`
	// Start is when the agent started; LastSeen when it wrote the entry.
	Start    time.Time `json:"start"`
	LastSeen time.Time `json:"last_seen"`
	// Sessions counts the host's instances by class (Linux_LogonSession,
	// Win32_ServerConnection, …) as the agent last saw them.
	Sessions map[string]int `json:"sessions"`
	// Seq is the last event sequence number the agent assigned.
	Seq uint64 `json:"seq"`
	// Outbox is the number of events waiting to be published.
	Outbox int `json:"outbox"`
}

// MaxEventBytes bounds the JSON of one event that ParseEvent reads: NATS's
// default largest message.
const MaxEventBytes = 1 << 20

// ParseEvent reads an event's JSON body and checks its envelope: every
// member known, an ID, a host, a sequence number from 1, a known kind, a
// class that is a name and is the instance's class, and a previous
// instance exactly for a modification. Its errors are
// CIM_ERR_INVALID_PARAMETER. The instances are left in their wire form
// for [DecodeInstance].
func ParseEvent(data []byte) (*Event, error) {
	if len(data) > MaxEventBytes {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "an event of %d bytes, more than %d", len(data), MaxEventBytes)
	}
	ev, ok := parseFast(data)
	if !ok {
		var err error
		if ev, err = parseJSON(data); err != nil {
			return nil, err
		}
	}
	return checkEvent(ev)
}

// ParseEventOn reads an event that came on subject, as ParseEvent does,
// and checks that the subject is the event's own (Event.Subject): the
// host and class its body names. The hub lets a host publish only on its
// own subjects, so a host's event may speak only for that host; one that
// names another is CIM_ERR_INVALID_PARAMETER.
func ParseEventOn(subject string, data []byte) (*Event, error) {
	ev, err := ParseEvent(data)
	if err != nil {
		return nil, err
	}
	if own := ev.Subject(); subject != own {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "event %q of host %q came on %q, not on its host's subject %q", clip(ev.ID), clip(ev.Host), clip(subject), clip(own))
	}
	return ev, nil
}

// parseJSON reads an event with encoding/json: the reference for what
// parseFast reads, and the reader of the forms it leaves.
func parseJSON(data []byte) (*Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ev Event
	if err := dec.Decode(&ev); err != nil {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "not an event: %v", err)
	}
	if dec.More() {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "not an event: more after it")
	}
	return &ev, nil
}

// checkEvent checks a read event's envelope (see [ParseEvent]).
func checkEvent(ev *Event) (*Event, error) {
	bad := func(what string) (*Event, error) {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "event %q: %s", clip(ev.ID), what)
	}
	switch {
	case ev.ID == "":
		return bad("no id")
	case ev.Host == "":
		return bad("no host")
	case ev.Seq == 0:
		return bad("no sequence number")
	case EventClassOf(ev.Kind) == "":
		return bad("unknown kind " + strconv.Quote(clip(ev.Kind)))
	case !isName(ev.Class):
		return bad("class " + strconv.Quote(clip(ev.Class)) + " is not a class name")
	case !strings.EqualFold(ev.Instance.Class, ev.Class):
		return bad("an instance of " + strconv.Quote(clip(ev.Instance.Class)) + " in an event of " + ev.Class)
	case (ev.Kind == KindModification) != (ev.Previous != nil):
		return bad("a previous instance goes with a modification, and only with one")
	case ev.Previous != nil && !strings.EqualFold(ev.Previous.Class, ev.Class):
		return bad("a previous instance of another class")
	}
	return ev, nil
}

// isName reports whether s is a CIM class name: letters, digits and '_',
// not starting with a digit, so also one subject token.
func isName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
