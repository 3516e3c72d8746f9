package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

func init() { Register(newRecordCmd) }

func newRecordCmd(e *Env) *cobra.Command {
	var h HistoryFlags
	var keep string
	var maxRows int
	var within time.Duration
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Record every session that comes and goes into the history database, until interrupted",
		Long: `record keeps the history database up to date: at start it merges in wtmp (so that
nothing wtmp knows is lost while it was not running) and closes the sessions that are
open in the database but gone ("seen-gone-while-not-running", at wtmp's end time when
wtmp has one); then it records each session's creation, deletion and Status changes as
they happen, until interrupted. A SIGKILL loses nothing that was written: each change
is its own SQLite transaction.

--keep drops sessions that ended longer ago (90d); --max-sessions bounds the rows.
'cimsess history' shows what was recorded.`,
		Example: `  cimsess record
  cimsess record --db /var/lib/cimsess/history.db --keep 90d --max-sessions 100000`,
		Args: ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			var keepD time.Duration
			if keep != "" && keep != "0" {
				var err error
				if keepD, err = ParseDuration(keep); err != nil {
					return &usageError{fmt.Errorf("--keep: %w", err)}
				}
			}
			if maxRows < 0 || within < 0 {
				return &usageError{fmt.Errorf("--max-sessions and --within must not be negative")}
			}
			if other := e.src.Foreign(); len(other) > 0 && !cmd.Flags().Changed("db") {
				return &usageError{fmt.Errorf("%s: these sessions are not this machine's own; name a database for them with --db (the default, %s, is this machine's history)",
					strings.Join(other, ", "), h.DB)}
			}
			ctx := cmd.Context()
			e.src.Layout = h.Layout
			layout, err := utmp.ParseLayout(h.Layout)
			if err != nil {
				return &usageError{fmt.Errorf("--layout: %w", err)}
			}
			om, err := e.ObjectManager()
			if err != nil {
				return err
			}
			store, err := history.Open(ctx, h.DB, history.Options{})
			if err != nil {
				return err
			}
			defer store.Close()
			if err := NotFleet(ctx, store); err != nil {
				return err
			}
			rec := &history.Recorder{Store: store, OM: om, Wtmp: h.Wtmp, Layout: layout, Within: within, Keep: keepD, MaxRows: maxRows,
				Progress: e.progressBar("merging wtmp"),
				Logf:     func(format string, args ...any) { fmt.Fprintf(e.stderr, "cimsess: record: "+format+"\n", args...) },
				Ready: func() {
					fmt.Fprintf(e.stderr, "cimsess: record: recording into %s; interrupt to stop\n", store.Path())
				},
			}
			return rec.Run(ctx)
		},
	}
	AddHistoryFlags(cmd, &h)
	cmd.Flags().StringVar(&keep, "keep", "", "drop sessions that ended longer ago than this, such as 90d (default: keep all)")
	cmd.Flags().IntVar(&maxRows, "max-sessions", 0, "keep at most this many sessions, dropping the oldest ended ones (0: no bound)")
	cmd.Flags().DurationVar(&within, "within", 0, "rescan interval for changes no source notifies (default 1s)")
	AddSourceFlags(cmd, &e.src)
	return cmd
}

// NotFleet refuses a database that collect writes (history.Store.Fleet)
// as the place of this host's own sessions: they would be taken for the
// fleet's.
func NotFleet(ctx context.Context, store *history.Store) error {
	fleet, err := store.Fleet(ctx)
	if err != nil {
		return err
	}
	if fleet {
		return &usageError{cim.Errorf(cim.ErrInvalidParameter, "%s is a fleet's history, which collect writes: give this host's own --db", store.Path())}
	}
	return nil
}
