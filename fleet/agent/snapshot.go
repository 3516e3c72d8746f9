package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/wire"
)

// The snapshot is the instances the agent last saw, so that a restarted
// agent publishes the changes made while it was stopped. It is saved
// after the events of a change are in the outbox: a crash between the two
// can repeat that change's events (under new IDs), never lose them.
const snapshotName = "snapshot.json"

type snapshotFile struct {
	Host      string          `json:"host"`
	Instances []wire.Instance `json:"instances"`
}

// loadSnapshot returns the last snapshot, or nil when there is none (the
// first run: every instance present is published as a creation).
func (a *Agent) loadSnapshot() map[string]*cim.Instance {
	b, err := os.ReadFile(filepath.Join(a.cfg.StateDir, snapshotName))
	if err != nil {
		return nil
	}
	var f snapshotFile
	if err := json.Unmarshal(b, &f); err != nil || !strings.EqualFold(f.Host, a.cfg.Host) {
		a.logf("ignoring the snapshot in %s: not this host's or unreadable", a.cfg.StateDir)
		return nil
	}
	m := make(map[string]*cim.Instance, len(f.Instances))
	for _, w := range f.Instances {
		in, err := wire.DecodeInstance(a.cfg.OM.Schema(), w)
		if err != nil {
			continue
		}
		m[in.Path.Canonical()] = in
	}
	return m
}

// saveSnapshot writes the current instances when they changed.
func (a *Agent) saveSnapshot() {
	if len(a.pending) > 0 || a.lost > 0 {
		// Changes whose events are not in the outbox: the snapshot on
		// disk stays as it was, so that the next start finds them again.
		return
	}
	a.mu.Lock()
	if !a.dirty {
		a.mu.Unlock()
		return
	}
	f := snapshotFile{Host: a.cfg.Host, Instances: make([]wire.Instance, 0, len(a.current))}
	for _, in := range a.current {
		if w, err := wire.EncodeInstance(in); err == nil {
			f.Instances = append(f.Instances, w)
		}
	}
	a.dirty = false
	a.mu.Unlock()
	b, _ := json.Marshal(f)
	p := filepath.Join(a.cfg.StateDir, snapshotName)
	err := os.WriteFile(p+".tmp", b, 0o600)
	if err == nil {
		err = os.Rename(p+".tmp", p)
	}
	if err != nil {
		a.logf("saving the snapshot: %v", err)
		a.mu.Lock()
		a.dirty = true // tried again at the next save
		a.mu.Unlock()
	}
}

// diffSnapshots returns the events that turn prev into cur, as the event
// engine makes them: deletions, modifications, creations, each in path
// order; IdleTime and ActiveTime alone are no modification.
func diffSnapshots(prev, cur map[string]*cim.Instance, now time.Time) []cimom.Event {
	var dels, mods, creates []string
	for k := range prev {
		if _, ok := cur[k]; !ok {
			dels = append(dels, k)
		}
	}
	for k, in := range cur {
		old, ok := prev[k]
		switch {
		case !ok:
			creates = append(creates, k)
		case cimom.Modified(old, in):
			mods = append(mods, k)
		}
	}
	sort.Strings(dels)
	sort.Strings(mods)
	sort.Strings(creates)
	var out []cimom.Event
	for _, k := range dels {
		out = append(out, cimom.Event{Class: cimom.InstanceDeletionEvent, Target: prev[k], Time: now})
	}
	for _, k := range mods {
		out = append(out, cimom.Event{Class: cimom.InstanceModificationEvent, Target: cur[k], Previous: prev[k], Time: now})
	}
	for _, k := range creates {
		out = append(out, cimom.Event{Class: cimom.InstanceCreationEvent, Target: cur[k], Time: now})
	}
	return out
}
