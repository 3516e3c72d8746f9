package collector

import (
	"context"
	"strings"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/history"
)

// SQLiteSink writes the fleet's sessions into the embedded SQLite history
// ([history.Store]) — enough for a small fleet, with nothing to run
// beside the collector. A row's path names its host as a CIM object
// path's host part (//web-1/root/cimv2:Linux_LogonSession.LogonId="7").
// The history's own matching makes a change applied again a no-op: a
// begin finds the row of the same path and start, an end closes a row
// once, a Status already set is not recorded again. Unlike PostgreSQL's,
// a batch is not one transaction, so a crash mid-batch may leave part of
// it, which its redelivery completes.
type SQLiteSink struct {
	Store *history.Store
}

// FullPath returns the path a SQLite row of a fleet session gets: the
// host, the namespace and the relative path.
func FullPath(host, path string) string {
	if strings.HasPrefix(path, "//") {
		return path
	}
	return "//" + host + "/root/cimv2:" + path
}

// Apply writes the changes one by one. It keeps no account of the
// agents' numbers: a Skip change is passed over.
func (s SQLiteSink) Apply(ctx context.Context, changes []fleethistory.Change) (fleethistory.ApplyStats, error) {
	var st fleethistory.ApplyStats
	for _, c := range changes {
		if c.Kind == fleethistory.Skip {
			continue
		}
		hs := c.Session.Session
		hs.Path = FullPath(c.Session.Host, hs.Path)
		if hs.Start.IsZero() {
			hs.Start = c.Time
		}
		id, found, err := s.find(ctx, hs)
		if err != nil {
			return st, err
		}
		if !found {
			if id, err = s.Store.Begin(ctx, hs); err != nil {
				return st, err
			}
		}
		if c.Kind != fleethistory.Finish && hs.Status != "" {
			if err := s.Store.SetStatus(ctx, id, c.Time, hs.Status); err != nil {
				return st, err
			}
		}
		switch c.Kind {
		case fleethistory.Update:
			if err := s.Store.Update(ctx, id, hs); err != nil {
				return st, err
			}
		case fleethistory.Finish:
			how := c.How
			if how == "" {
				how = history.EndLogout
			}
			if err := s.Store.Finish(ctx, id, c.Time, how); err != nil {
				return st, err
			}
		}
		st.Applied++
	}
	return st, nil
}

// find looks for the row of the session: the same path and start.
func (s SQLiteSink) find(ctx context.Context, hs history.Session) (int64, bool, error) {
	rows, err := s.Store.Sessions(ctx, history.Filter{Since: hs.Start, Until: hs.Start})
	if err != nil {
		return 0, false, err
	}
	for _, r := range rows {
		if r.Path == hs.Path && r.Start.Equal(hs.Start) {
			return r.ID, true, nil
		}
	}
	return 0, false, nil
}
