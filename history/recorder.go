package history

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// DefaultClasses are the classes a Recorder follows unless told others.
var DefaultClasses = []string{"Win32_LogonSession", "Win32_ServerSession"}

// Recorder writes sessions into a Store as the object manager sees them
// come and go. Set the fields, then call Run.
type Recorder struct {
	// Store is where the history goes. Required.
	Store *Store
	// OM is the object manager whose events are recorded. Required.
	OM *cimom.ObjectManager
	// Wtmp is the wtmp file reconciled on start; "" is
	// utmp.DefaultWtmpPath, "-" none.
	Wtmp string
	// Layout is the wtmp file's record layout; the zero Layout is
	// utmp.Native.
	Layout utmp.Layout
	// Classes are the classes followed (deeply); nil is DefaultClasses.
	Classes []string
	// Within is the rescan interval of the subscriptions; 0 is
	// cimom.DefaultWithin. Providers that notify changes are heard at once.
	Within time.Duration
	// Keep and MaxRows are the retention (see Store.Prune), applied at
	// start and every hour; zero values keep everything.
	Keep    time.Duration
	MaxRows int
	// Progress, when set, is told how far the wtmp backfill is.
	Progress func(done, total int)
	// Logf, when set, receives one line per noteworthy thing (a source
	// that failed, a class with no provider).
	Logf func(format string, args ...any)
	// Ready, when set, is called once the recorder has reconciled and
	// follows events.
	Ready func()

	mu  sync.Mutex
	ids map[string]int64 // path → open row id
}

func (r *Recorder) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// BackfillWtmp merges the wtmp file (see [Recorder.Wtmp]) into the
// store (see [Store.MergeFile]). A missing wtmp file is logged, not an
// error: a recorder follows sessions live without one.
func (r *Recorder) BackfillWtmp(ctx context.Context) (MergeStats, error) {
	st, err := BackfillFile(ctx, r.Store, r.Wtmp, MergeOptions{Layout: r.Layout, Progress: r.Progress}, r.logf)
	if cim.CodeOf(err) == cim.ErrNotFound {
		r.logf("%v: nothing to backfill", err)
		return st, nil
	}
	return st, err
}

// BackfillFile merges the wtmp file at path ("" is utmp.DefaultWtmpPath,
// "-" none) into s; see [Store.MergeFile]. A missing file is an error of
// code [cim.ErrNotFound]. A partial last record is told through logf
// (which may be nil) and left for a later merge, when it is whole.
func BackfillFile(ctx context.Context, s *Store, path string, opts MergeOptions, logf func(string, ...any)) (MergeStats, error) {
	if path == "-" {
		return MergeStats{}, nil
	}
	if path == "" {
		path = utmp.DefaultWtmpPath
	}
	st, err := s.MergeFile(ctx, path, opts)
	if err != nil {
		// The reader's errors name the format (utmp); this file is wtmp.
		desc := strings.TrimPrefix(cim.Wrap(cim.ErrFailed, err).Description, "utmp: ")
		return st, cim.Errorf(cim.CodeOf(err), "wtmp: %s", desc)
	}
	if st.Implausible > 0 && logf != nil {
		logf("wtmp %s: %d records with an unknown type or an impossible time were skipped", path, st.Implausible)
	}
	if st.Warning != nil && logf != nil {
		logf("wtmp %s: %v (not merged: it is read again once whole)", path, st.Warning)
	}
	return st, nil
}

// Run reconciles the store with wtmp and with the sessions present now,
// then records every creation, deletion and Status change until ctx
// ends; it returns nil then. Sessions open in the store but no longer
// present are closed as [EndGone], at wtmp's end time when wtmp has one,
// else at the last time a recorder was known to run.
func (r *Recorder) Run(ctx context.Context) error {
	if r.Store == nil || r.OM == nil {
		return cim.Errorf(cim.ErrInvalidParameter, "history: Recorder needs a Store and an object manager")
	}
	r.ids = map[string]int64{}
	if err := r.prune(ctx); err != nil {
		return err
	}
	if _, err := r.BackfillWtmp(ctx); err != nil {
		return err
	}
	classes := r.Classes
	if classes == nil {
		classes = DefaultClasses
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan cimom.Event, 256)
	var wg sync.WaitGroup
	var firstErr error
	subscribed := 0
	for _, class := range classes {
		if _, err := r.OM.Schema().Class(class); err != nil {
			return err
		}
		var lastErr string
		q := fmt.Sprintf("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA '%s'", class)
		var baseErr error
		ch, err := r.OM.Subscribe(ctx, q, cimom.SubscribeOptions{
			Within: r.Within,
			OnBaseline: func(insts []*cim.Instance) {
				baseErr = r.reconcile(ctx, class, insts)
			},
			OnError: func(err error) {
				if s := err.Error(); s != lastErr {
					lastErr = s
					r.logf("%s: %v", class, err)
				}
			},
		})
		if err == nil && baseErr != nil {
			return baseErr
		}
		if err != nil {
			r.logf("not recording %s: %v", class, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		subscribed++
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range ch {
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if subscribed == 0 {
		return firstErr
	}
	if err := r.Store.Heartbeat(ctx, time.Now()); err != nil {
		return err
	}
	if r.Ready != nil {
		r.Ready()
	}
	heartbeat := time.NewTicker(10 * time.Second)
	defer heartbeat.Stop()
	pruneTick := time.NewTicker(time.Hour)
	defer pruneTick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Say when we stopped, so that the next start knows how long
			// sessions that vanish meanwhile were seen.
			_ = r.Store.Heartbeat(context.WithoutCancel(ctx), time.Now())
			cancel()
			wg.Wait()
			return nil
		case ev := <-events:
			if err := r.retryBusy(ctx, func() error { return r.record(ctx, ev) }); err != nil {
				if ctx.Err() != nil {
					continue
				}
				return err
			}
		case t := <-heartbeat.C:
			if err := r.retryBusy(ctx, func() error { return r.Store.Heartbeat(ctx, t) }); err != nil && ctx.Err() == nil {
				return err
			}
		case <-pruneTick.C:
			if err := r.retryBusy(ctx, func() error { return r.prune(ctx) }); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// busyRetry is how long the recorder waits between tries of a write
// that another process's lock held up (each try itself waits up to the
// store's busy timeout); a variable for tests.
var busyRetry = time.Second

// retryBusy runs write again while the database stays locked by another
// process (a backup, a sqlite3 shell), saying so once and again when it
// takes writes, until write works, fails otherwise, or ctx ends. The
// recorder used to stop there, and miss every session of the time it was
// not running.
func (r *Recorder) retryBusy(ctx context.Context, write func() error) error {
	waited := false
	for {
		err := write()
		if err == nil || !isBusy(err) || ctx.Err() != nil {
			if waited && err == nil {
				r.logf("the history database takes writes again")
			}
			return err
		}
		if !waited {
			r.logf("%v; waiting for it, the sessions seen meanwhile are kept", err)
			waited = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(busyRetry):
		}
	}
}

func (r *Recorder) prune(ctx context.Context) error {
	if r.Keep <= 0 && r.MaxRows <= 0 {
		return nil
	}
	n, err := r.Store.Prune(ctx, time.Now(), r.Keep, r.MaxRows)
	if err == nil && n > 0 {
		r.logf("pruned %d old sessions", n)
	}
	return err
}

// reconcile brings the store in line with the instances of class present
// at the start: each is begun (or found again), and each open row of the
// class that is not among them is closed as seen gone, at the last time a
// recorder was known to run. (A row whose end wtmp holds was closed by
// the merge before, as wtmp says it ended.)
func (r *Recorder) reconcile(ctx context.Context, class string, insts []*cim.Instance) error {
	present := map[int64]bool{}
	for _, in := range insts {
		id, err := r.begin(ctx, in, time.Now())
		if err != nil {
			return err
		}
		present[id] = true
	}
	open, err := r.Store.Sessions(ctx, Filter{OpenOnly: true})
	if err != nil {
		return err
	}
	hb, err := r.Store.LastHeartbeat(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, row := range open {
		if present[row.ID] || !r.OM.Schema().IsA(row.Class, class) {
			continue
		}
		end := now
		if hb.After(row.Start) {
			end = hb
		}
		if end.Before(row.Start) {
			end = row.Start
		}
		if err := r.Store.Finish(ctx, row.ID, end, EndGone); err != nil {
			return err
		}
		r.forget(row.Path)
	}
	return nil
}

func (r *Recorder) forget(path string) {
	r.mu.Lock()
	delete(r.ids, path)
	r.mu.Unlock()
}

// begin records a session instance and remembers its row.
func (r *Recorder) begin(ctx context.Context, in *cim.Instance, seen time.Time) (int64, error) {
	s := SessionOf(in, seen)
	id, err := r.Store.Begin(ctx, s)
	if err != nil {
		return 0, err
	}
	if s.Status != "" {
		if err := r.Store.SetStatus(ctx, id, seen, s.Status); err != nil {
			return 0, err
		}
	}
	r.mu.Lock()
	r.ids[s.Path] = id
	r.mu.Unlock()
	return id, nil
}

// record writes one event.
func (r *Recorder) record(ctx context.Context, ev cimom.Event) error {
	switch ev.Class {
	case cimom.InstanceCreationEvent:
		_, err := r.begin(ctx, ev.Target, ev.Time)
		return err
	case cimom.InstanceDeletionEvent, cimom.InstanceModificationEvent:
		path := pathOf(ev.Target)
		r.mu.Lock()
		id, ok := r.ids[path]
		r.mu.Unlock()
		if !ok {
			// Seen before we followed it (a race at start): begin it now.
			var err error
			if id, err = r.begin(ctx, ev.Target, ev.Time); err != nil {
				return err
			}
		}
		if ev.Class == cimom.InstanceModificationEvent {
			if err := r.Store.Update(ctx, id, SessionOf(ev.Target, ev.Time)); err != nil {
				return err
			}
			if st := ev.Target.String("Status"); st != "" {
				return r.Store.SetStatus(ctx, id, ev.Time, st)
			}
			return nil
		}
		how := EndLogout
		if ev.Target.String("Status") == "Lost Comm" {
			how = EndGhost
		}
		r.forget(path)
		return r.Store.Finish(ctx, id, ev.Time, how)
	}
	return nil
}

func pathOf(in *cim.Instance) string { return in.Path.Relative().Canonical() }

// SessionOf maps a session instance onto a history row: Linux_LogonSession
// and Win32_LogonSession by LogonId, UserName, TTY, RemoteHost, LogonType,
// LeaderProcessId and StartTime; Win32_ServerSession by its keys, its
// UserName and ComputerName (as the remote host). seen stands in for a
// missing StartTime.
func SessionOf(in *cim.Instance, seen time.Time) Session {
	s := Session{Class: in.ClassName, Path: pathOf(in), User: in.String("UserName"), TTY: in.String("TTY"),
		RemoteHost: in.String("RemoteHost"), Status: in.String("Status"), Start: seen}
	s.LogonID = in.String("LogonId")
	if s.LogonID == "" {
		var keys []string
		for _, k := range in.Path.Keys {
			keys = append(keys, fmt.Sprintf("%s=%v", k.Name, k.Value))
		}
		s.LogonID = strings.Join(keys, ",")
	}
	if s.RemoteHost == "" {
		s.RemoteHost = in.String("ComputerName")
	}
	if v, ok := in.Value("LogonType").(uint32); ok {
		s.LogonType = &v
	}
	if v, ok := in.Value("LeaderProcessId").(uint32); ok {
		s.PID = int64(v)
	}
	if dt, ok := in.Value("StartTime").(cim.DateTime); ok {
		if t, ok := dt.Time(); ok {
			s.Start = t
		}
	}
	return s
}
