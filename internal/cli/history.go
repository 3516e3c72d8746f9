package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/history"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

func init() { Register(newHistoryCmd) }

// HistoryFlags are the flags of every command that uses the history.
type HistoryFlags struct {
	DB   string // --db: the history database
	Wtmp string // --wtmp: the wtmp file to backfill it from; "-" for none
	// wtmpGiven: --wtmp was given, so a missing file is an error.
	wtmpGiven bool
	Layout    string // --layout: the record layout of utmp and wtmp
}

// AddHistoryFlags adds --db, --wtmp and --layout to cmd.
func AddHistoryFlags(cmd *cobra.Command, h *HistoryFlags) {
	cmd.Flags().StringVar(&h.DB, "db", history.DefaultPath, "history database: a SQLite file, or postgres://… for the fleet history that collect writes")
	cmd.Flags().StringVar(&h.Wtmp, "wtmp", utmp.DefaultWtmpPath, "wtmp file to backfill the history from ('-' for none)")
	cmd.Flags().StringVar(&h.Layout, "layout", "native", layoutHelp)
}

func newHistoryCmd(e *Env) *cobra.Command {
	var h HistoryFlags
	var since, until, user, class, out string
	var noBackfill bool
	var fl fleetHistoryFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Sessions that came and went: last(1) with more in it, from the history database and wtmp",
		Long: `history lists the sessions of the history database, oldest first, after merging in
what wtmp knows (logins paired with logouts, shutdowns and crashes exactly as last(1)
pairs them), so that it shows the same sessions as last -f WTMP and more: the sessions
'cimsess record' saw live (also those with no terminal, which wtmp never holds), their
LogonId, LogonType and how they ended:

  logout                       a logout (or, in wtmp, a later login on the same line)
  ghost                        recorded live: the session went away after its processes had died
  seen-gone-while-not-running  the recorder found it gone when it started again
  shutdown                     wtmp: the system went down (last's "down")
  crash                        wtmp: the system booted again without a shutdown (last's "crash")

--since and --until take a duration back from now (90m, 36h, 7d), a date (2026-01-31),
a local time (2026-01-31 14:00, 2026-01-31T14:00:05), an RFC 3339 time, today or yesterday;
they select the sessions that were open at some time between them.

With --db postgres://… (the fleet history 'cimsess collect' writes), a warning on stderr
names the hosts asked for (--host) whose agents numbered events that never came to it:
lost by a full outbox on the host, or by the stream; their sessions are not listed.`,
		Example: `  cimsess history --since 7d
  cimsess history --user alice --output json
  cimsess history --wtmp ./wtmp.copy --db ./history.db --since 2026-01-01 --until 2026-02-01
  cimsess history --db postgres://cimsess@db.example.com/fleet --host 'web-*' --user deploy --since 30d
  cimsess history --db postgres://cimsess@db.example.com/fleet --host db-7 --at '2026-11-30 02:00'`,
		Args: ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(out, output.Table, output.JSON, output.CSV)
			if err != nil {
				return &usageError{err}
			}
			if fleethistory.IsURL(h.DB) {
				return e.fleetHistory(cmd.Context(), h.DB, fl, since, until, user, class, f)
			}
			if err := fl.checkLocal(); err != nil {
				return err
			}
			now := time.Now()
			var filt history.Filter
			if filt.Since, err = parseWhen(since, now); err != nil {
				return &usageError{fmt.Errorf("--since: %w", err)}
			}
			if filt.Until, err = parseWhen(until, now); err != nil {
				return &usageError{fmt.Errorf("--until: %w", err)}
			}
			filt.User = user
			if class != "" {
				reg, err := schema.Default()
				if err != nil {
					return err
				}
				c, err := reg.Class(class)
				if err != nil {
					return err
				}
				filt.Classes = append([]string{c.Name}, reg.Subclasses(c.Name, true)...)
			}
			ctx := cmd.Context()
			h.wtmpGiven = cmd.Flags().Changed("wtmp")
			store, merge, err := e.openHistory(ctx, h, noBackfill)
			if err != nil {
				return err
			}
			defer store.Close()
			// The merge runs beside the listing, which prints each
			// stretch of time as the merge settles it. A listing that
			// stops early (a closed pipe) lets the merge finish: only
			// the command's context cancels it.
			var settled *history.Settled
			if merge != nil {
				settled = history.NewSettled()
				merged := make(chan struct{})
				go func() {
					defer close(merged)
					settled.Finish(merge(settled))
				}()
				defer func() { <-merged }()
			}
			var changes func(id int64) ([]history.StatusChange, error)
			if f == output.JSON {
				changes = func(id int64) ([]history.StatusChange, error) { return store.StatusChanges(ctx, id) }
			}
			return writeSessions(e.stdout, f, func(fn func(history.Session) error) error {
				return store.EachSettled(ctx, filt, settled, fn)
			}, changes)
		},
	}
	AddHistoryFlags(cmd, &h)
	cmd.Flags().StringVar(&since, "since", "", "only sessions open at or after this time (duration back, date or time)")
	cmd.Flags().StringVar(&until, "until", "", "only sessions open at or before this time")
	cmd.Flags().StringVar(&user, "user", "", "only this user's sessions")
	cmd.Flags().StringVar(&class, "class", "", "only sessions of this class and its subclasses, such as Win32_ServerSession")
	cmd.Flags().BoolVar(&noBackfill, "no-backfill", false, "do not merge wtmp in first; show the database as it is")
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, json or csv")
	addFleetHistoryFlags(cmd, &fl)
	return cmd
}

// openHistory opens the history database and returns it with the merge
// of wtmp into it, for the caller to run (nil when there is none to run).
// When the database may not be written, an existing one is read as it is.
func (e *Env) openHistory(ctx context.Context, h HistoryFlags, noBackfill bool) (*history.Store, func(*history.Settled) error, error) {
	store, err := history.Open(ctx, h.DB, history.Options{})
	if err != nil {
		if cim.CodeOf(err) != cim.ErrAccessDenied {
			return nil, nil, err
		}
		ro, rerr := history.Open(ctx, h.DB, history.Options{ReadOnly: true})
		if rerr != nil {
			switch cim.CodeOf(rerr) {
			case cim.ErrNotFound:
				return nil, nil, err
			case cim.ErrAccessDenied:
			default:
				return nil, nil, rerr // locked, corrupt, not a history: its own reason
			}
			// Not even readable: an ordinary user and the system's
			// database, most often.
			return nil, nil, cim.Errorf(cim.ErrAccessDenied,
				"history database %s: this user may neither write nor read it; run as root, or give a database of your own: cimsess history --db ~/sessions.db builds one from wtmp", h.DB)
		}
		fmt.Fprintf(e.stderr, "cimsess: %v; showing it without merging wtmp in\n", err)
		return ro, nil, nil
	}
	if noBackfill {
		return store, nil, nil
	}
	if fleet, err := store.Fleet(ctx); err != nil || fleet {
		if err == nil && h.wtmpGiven {
			fmt.Fprintf(e.stderr, "cimsess: %s is a fleet's history (collect writes it): showing it without merging %s in\n", h.DB, h.Wtmp)
		}
		return store, nil, err
	}
	warnf := func(format string, args ...any) { fmt.Fprintf(e.stderr, "cimsess: warning: "+format+"\n", args...) }
	l, err := utmp.ParseLayout(h.Layout)
	if err != nil {
		store.Close()
		return nil, nil, &usageError{fmt.Errorf("--layout: %w", err)}
	}
	// No progress bar where the listing goes to the terminal: the
	// sessions are printed as the merge settles them.
	var progress func(done, total int)
	if e.stdoutTerminal() == nil {
		progress = e.progressBar("merging wtmp")
	}
	merge := func(settled *history.Settled) error {
		_, err := history.BackfillFile(ctx, store, h.Wtmp, history.MergeOptions{Layout: l, Progress: progress, Settled: settled}, warnf)
		if err != nil && cim.CodeOf(err) == cim.ErrNotFound && !h.wtmpGiven {
			// The default wtmp is missing (a container, a system that
			// keeps none): say so and show the database.
			warnf("%s; showing the database only (--wtmp - says so quietly)", cim.Wrap(cim.ErrFailed, err).Description)
			err = nil
		}
		return err
	}
	return store, merge, nil
}

// progressBar returns a progress callback that draws a bar on stderr when
// stderr is a terminal and the job is long, else nil.
func (e *Env) progressBar(what string) func(done, total int) {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	const minTotal = 2000
	shown := false
	return func(done, total int) {
		if total < minTotal {
			return
		}
		const width = 30
		fill := width * done / total
		fmt.Fprintf(f, "\r%s [%s%s] %3d%% %d/%d", what, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*done/total, done, total)
		shown = true
		if done >= total && shown {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

// sessionJSON is a session as JSON and CSV show it.
type sessionJSON struct {
	Class      string  `json:"Class"`
	LogonID    string  `json:"LogonId"`
	User       string  `json:"User"`
	TTY        string  `json:"TTY"`
	RemoteHost string  `json:"RemoteHost"`
	LogonType  *uint32 `json:"LogonType"`
	PID        int64   `json:"LeaderProcessId"`
	Start      *string `json:"Start"` // null: no time (a zero tv_sec)
	End        *string `json:"End"`
	How        string  `json:"How"`
	Status     string  `json:"Status"`
	Source     string  `json:"Source"`
	// StatusChanges are the session's changes of Status (JSON only).
	StatusChanges []statusChangeJSON `json:"StatusChanges,omitempty"`
}

// statusChangeJSON is one change of a session's Status.
type statusChangeJSON struct {
	At   string `json:"At"`
	From string `json:"From"`
	To   string `json:"To"`
}

func toJSON(s history.Session) sessionJSON {
	j := sessionJSON{Class: s.Class, LogonID: s.LogonID, User: s.User, TTY: s.TTY, RemoteHost: s.RemoteHost,
		LogonType: s.LogonType, PID: s.PID, How: string(howOf(s)), Status: s.Status, Source: s.Source}
	if !s.Start.IsZero() {
		start := s.Start.Format(time.RFC3339Nano)
		j.Start = &start
	}
	if !s.Open() {
		end := s.End.Format(time.RFC3339Nano)
		j.End = &end
	}
	return j
}

// howOf is how a session ended, or, open, whether last would call it
// gone with no logout.
func howOf(s history.Session) history.End {
	if s.Open() && history.GoneNoLogout(s) {
		return history.EndGoneNoLogout
	}
	return s.How
}

// writeSessions writes the sessions each gives, as they come: JSON (with
// each session's Status changes, when changes is not nil), CSV or a table.
func writeSessions(w io.Writer, f output.Format, each func(func(history.Session) error) error,
	changes func(id int64) ([]history.StatusChange, error)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	each = pipelined(each)
	var err error
	switch f {
	case output.JSON:
		err = writeSessionsJSON(bw, each, changes)
	case output.CSV:
		err = writeSessionsCSV(bw, each)
	default:
		err = writeSessionsTable(bw, each)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// errStopped ends a listing whose writer failed.
var errStopped = errors.New("stopped")

// pipelined returns each run on a goroutine of its own, its sessions
// handed over in batches: reading the database and formatting the rows
// take two cores, as they take about as long. fn runs on the caller's
// goroutine; when it fails, the listing is stopped at its next batch.
func pipelined(each func(func(history.Session) error) error) func(func(history.Session) error) error {
	return func(fn func(history.Session) error) error {
		const size = 256
		batches := make(chan []history.Session, 4)
		free := make(chan []history.Session, 6)
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			defer close(batches)
			batch := make([]history.Session, 0, size)
			send := func() error {
				select {
				case batches <- batch:
				case <-stop:
					return errStopped
				}
				select {
				case batch = <-free:
				default:
					batch = make([]history.Session, 0, size)
				}
				return nil
			}
			err := each(func(s history.Session) error {
				if batch = append(batch, s); len(batch) == size {
					return send()
				}
				return nil
			})
			if err == nil && len(batch) > 0 {
				err = send()
			}
			done <- err
		}()
		var ferr error
		for b := range batches {
			for _, s := range b {
				if ferr != nil {
					break
				}
				if ferr = fn(s); ferr != nil {
					close(stop)
				}
			}
			clear(b)
			select {
			case free <- b[:0]:
			default:
			}
		}
		if err := <-done; ferr == nil {
			return err
		}
		return ferr
	}
}

// writeSessionsJSON writes an array of sessions, indented as
// json.Encoder's SetIndent("", "  ") would, one element at a time.
func writeSessionsJSON(w *bufio.Writer, each func(func(history.Session) error) error,
	changes func(id int64) ([]history.StatusChange, error)) error {
	n := 0
	err := each(func(s history.Session) error {
		j := toJSON(s)
		if changes != nil {
			cs, err := changes(s.ID)
			if err != nil {
				return err
			}
			for _, c := range cs {
				j.StatusChanges = append(j.StatusChanges, statusChangeJSON{At: c.At.Format(time.RFC3339Nano), From: c.From, To: c.To})
			}
		}
		b, err := json.MarshalIndent(j, "  ", "  ")
		if err != nil {
			return err
		}
		if n == 0 {
			w.WriteString("[\n  ")
		} else {
			w.WriteString(",\n  ")
		}
		n++
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		_, err = w.WriteString("[]\n")
	} else {
		_, err = w.WriteString("\n]\n")
	}
	return err
}

func writeSessionsCSV(w io.Writer, each func(func(history.Session) error) error) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Class", "LogonId", "User", "TTY", "RemoteHost", "LogonType", "LeaderProcessId", "Start", "End", "How", "Status", "Source"})
	err := each(func(s history.Session) error {
		j := toJSON(s)
		lt, start, end := "", "", ""
		if j.Start != nil {
			start = *j.Start
		}
		if j.LogonType != nil {
			lt = strconv.FormatUint(uint64(*j.LogonType), 10)
		}
		if j.End != nil {
			end = *j.End
		}
		return cw.Write([]string{j.Class, j.LogonID, j.User, j.TTY, j.RemoteHost, lt, strconv.FormatInt(j.PID, 10), start, end, j.How, j.Status, j.Source})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// tableSample is how many rows the table measures its columns on before
// it writes; later rows keep those widths (a longer value pushes only
// its own row), so that the table streams.
const tableSample = 1000

func writeSessionsTable(w *bufio.Writer, each func(func(history.Session) error) error) error {
	header := []string{"USER", "TTY", "FROM", "START", "END", "DURATION", "HOW", "CLASS", "LOGONID"}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	var sample [][]string
	measured := false
	write := func(cells []string) {
		for i, c := range cells {
			if i == len(cells)-1 {
				w.WriteString(c)
				break
			}
			w.WriteString(c)
			w.Write(output.AppendSpaces(w.AvailableBuffer(), max(widths[i]-output.Width(c), 0)+2))
		}
		w.WriteByte('\n')
	}
	flush := func() {
		measured = true
		write(header)
		for _, cells := range sample {
			write(cells)
		}
		sample = nil
	}
	err := each(func(s history.Session) error {
		end, dur, how := "still logged in", "", howOf(s)
		switch {
		case !s.Open():
			end = localTime(s.End)
			if !s.Start.IsZero() {
				dur = formatDuration(wholeSeconds(s.End).Sub(wholeSeconds(s.Start)))
			}
		case how == history.EndGoneNoLogout:
			end, how = "gone - no logout", ""
		case s.Class == "" && s.TTY == history.BootLine:
			end = "still running"
		}
		start := "-"
		if !s.Start.IsZero() {
			start = localTime(s.Start)
		}
		// Values from wtmp are raw bytes: they are shown by the one rule of
		// every human format (output.Escape), never raw.
		cells := []string{dash(output.Escape(s.User)), dash(output.Escape(s.TTY)), dash(output.Escape(s.RemoteHost)), start, end, dur,
			dash(string(how)), dash(s.Class), dash(output.Escape(s.LogonID))}
		if measured {
			write(cells)
			return nil
		}
		for i, c := range cells {
			widths[i] = max(widths[i], output.Width(c))
		}
		if sample = append(sample, cells); len(sample) >= tableSample {
			flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !measured {
		flush()
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// localTime is t in the local zone as "2006-01-02 15:04:05 -0700", written
// out digit by digit: time.Format parses its layout for every time, which
// was a third of the table's time for a long history.
func localTime(t time.Time) string {
	t = t.Local()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return t.Format(output.TimeLayout)
	}
	var b [25]byte
	two := func(i, v int) { b[i], b[i+1] = byte('0'+v/10), byte('0'+v%10) }
	two(0, y/100)
	two(2, y%100)
	b[4], b[7], b[10], b[13], b[16], b[19] = '-', '-', ' ', ':', ':', ' '
	two(5, int(mo))
	two(8, d)
	two(11, h)
	two(14, mi)
	two(17, sec)
	// The offset from UTC, as the instance table writes it: a history
	// spans changes of daylight saving time, so each time says its own.
	_, off := t.Zone()
	b[20] = '+'
	if off < 0 {
		b[20], off = '-', -off
	}
	two(21, off/3600%100)
	two(23, off/60%60)
	return string(b[:])
}

// formatDuration is last's (days+hh:mm), with seconds under a minute.
// wholeSeconds is t as the table shows it and last(1) counts it: the
// length of a session is that of the times printed beside it (a login at
// 00:01:00.5 and a logout at 00:05:00.0 last 00:04, as in last).
func wholeSeconds(t time.Time) time.Time { return t.Truncate(time.Second) }

func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	m := int64(d / time.Minute)
	var b []byte
	if m >= 24*60 {
		b = strconv.AppendInt(make([]byte, 0, 16), m/(24*60), 10)
		b = append(b, '+')
	} else {
		b = make([]byte, 0, 8)
	}
	two := func(v int64) { b = append(b, byte('0'+v/10), byte('0'+v%10)) }
	two((m / 60) % 24)
	b = append(b, ':')
	two(m % 60)
	return string(b)
}

// ParseDuration is time.ParseDuration with d (days) and w (weeks).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || !(v >= 0) || v*float64(u.unit) >= math.MaxInt64 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q (use 90m, 36h, 7d)", s)
	}
	return d, nil
}

// parseWhen reads --since and --until: "" is no bound.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return time.Time{}, nil
	case "now":
		return now, nil
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), nil
	case "yesterday":
		y, m, d := now.AddDate(0, 0, -1).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	if d, err := ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (7d), a date (2026-01-31) nor a time (2026-01-31 14:00)", s)
}
