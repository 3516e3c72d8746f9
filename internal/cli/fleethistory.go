package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/fleethistory/collector"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
)

// fleetHistoryFlags are history's flags for a fleet history in
// PostgreSQL (--db postgres://…).
type fleetHistoryFlags struct {
	host, from, at, passwordFile string
	limit                        int
}

func addFleetHistoryFlags(cmd *cobra.Command, f *fleetHistoryFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "", "fleet history: only hosts matching this glob, such as 'web-*'")
	fl.StringVar(&f.from, "from", "", "fleet history: only sessions from this address, CIDR prefix (10.0.0.0/8) or remote host glob")
	fl.StringVar(&f.at, "at", "", "fleet history: only sessions open at this instant (who was logged in then)")
	fl.StringVar(&f.passwordFile, "db-password-file", "", "fleet history: file whose first line is the PostgreSQL password")
	fl.IntVar(&f.limit, "limit", 0, "fleet history: at most this many sessions (0: all)")
}

// checkLocal refuses the fleet flags with a SQLite database.
func (f fleetHistoryFlags) checkLocal() error {
	if f.host != "" || f.from != "" || f.at != "" || f.passwordFile != "" || f.limit != 0 {
		return &usageError{cim.Errorf(cim.ErrInvalidParameter, "--host, --from, --at, --limit and --db-password-file need a fleet history: --db postgres://…")}
	}
	return nil
}

// fleetHistory lists the sessions of a fleet history in PostgreSQL,
// streaming them as they come.
func (e *Env) fleetHistory(ctx context.Context, db string, fl fleetHistoryFlags, since, until, user, class string, f output.Format) error {
	now := time.Now()
	filt := fleethistory.Filter{Host: fl.host, User: user, From: fl.from, Limit: fl.limit}
	var err error
	if filt.Since, err = parseWhen(since, now); err != nil {
		return &usageError{fmt.Errorf("--since: %w", err)}
	}
	if filt.Until, err = parseWhen(until, now); err != nil {
		return &usageError{fmt.Errorf("--until: %w", err)}
	}
	if filt.At, err = parseWhen(fl.at, now); err != nil {
		return &usageError{fmt.Errorf("--at: %w", err)}
	}
	if fl.limit < 0 {
		return &usageError{fmt.Errorf("--limit must not be negative")}
	}
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
	store, err := fleethistory.Open(ctx, db, fleethistory.Options{PasswordFile: fl.passwordFile, ReadOnly: true, MaxConns: 2})
	if err != nil {
		return err
	}
	defer store.Close()
	w := newFleetWriter(e.stdout, f)
	err = store.Sessions(ctx, filt, func(s fleethistory.Session) error {
		var changes []fleetChangeJSON
		if f == output.JSON {
			cs, err := store.StatusChanges(ctx, s.Key())
			if err != nil {
				return err
			}
			for _, c := range cs {
				changes = append(changes, fleetChangeJSON{At: c.At.Format(time.RFC3339Nano), From: c.From, To: c.To})
			}
		}
		return w.write(s, changes)
	})
	if ferr := w.close(); err == nil {
		err = ferr
	}
	if err == nil {
		// Best effort: a database whose schema is older than the gap
		// accounting, or a role that may not read it, goes without.
		if gaps, gerr := store.Gaps(ctx, fl.host); gerr == nil {
			writeGapWarnings(e.stderr, gaps)
		}
	}
	return err
}

// maxGapWarnings bounds the agents history warns of one by one.
const maxGapWarnings = 10

// writeGapWarnings warns of the agents whose events never came to the
// fleet history: the sessions listed may lack what those events said.
func writeGapWarnings(w io.Writer, gaps []fleethistory.Gap) {
	for i, g := range gaps {
		if i == maxGapWarnings {
			fmt.Fprintf(w, "cimsess: warning: and %d more agents whose events never all came ('cimsess collect' logs each)\n", len(gaps)-i)
			break
		}
		fmt.Fprintf(w, "cimsess: warning: %s; the sessions or changes they told are not in the history\n", collector.GapMessage(g))
	}
}

// fleetSessionJSON is a fleet session as JSON and CSV show it: the local
// history's fields with the host, uid and remote address.
type fleetSessionJSON struct {
	Host          string            `json:"Host"`
	Class         string            `json:"Class"`
	LogonID       string            `json:"LogonId"`
	User          string            `json:"User"`
	UID           *uint32           `json:"UserId"`
	TTY           string            `json:"TTY"`
	RemoteHost    string            `json:"RemoteHost"`
	RemoteAddress string            `json:"RemoteAddress"`
	LogonType     *uint32           `json:"LogonType"`
	PID           int64             `json:"LeaderProcessId"`
	Start         string            `json:"Start"`
	End           *string           `json:"End"`
	How           string            `json:"How"`
	Status        string            `json:"Status"`
	StatusChanges []fleetChangeJSON `json:"StatusChanges,omitempty"`
}

type fleetChangeJSON struct {
	At   string `json:"At"`
	From string `json:"From"`
	To   string `json:"To"`
}

// fleetWriter writes sessions one by one in a format.
type fleetWriter struct {
	w   io.Writer
	f   output.Format
	n   int
	tw  *tabwriter.Writer
	cw  *csv.Writer
	err error
}

func newFleetWriter(w io.Writer, f output.Format) *fleetWriter {
	fw := &fleetWriter{w: w, f: f}
	switch f {
	case output.CSV:
		fw.cw = csv.NewWriter(w)
		fw.err = fw.cw.Write([]string{"Host", "Class", "LogonId", "User", "UserId", "TTY", "RemoteHost", "RemoteAddress", "LogonType", "LeaderProcessId", "Start", "End", "How", "Status"})
	case output.JSON:
		_, fw.err = io.WriteString(w, "[")
	default:
		fw.tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		_, fw.err = fmt.Fprintln(fw.tw, "HOST\tUSER\tTTY\tFROM\tSTART\tEND\tDURATION\tHOW\tCLASS\tLOGONID")
	}
	return fw
}

func (fw *fleetWriter) write(s fleethistory.Session, changes []fleetChangeJSON) error {
	if fw.err != nil {
		return fw.err
	}
	j := fleetSessionJSON{Host: s.Host, Class: s.Class, LogonID: s.LogonID, User: s.User, UID: s.UID, TTY: s.TTY,
		RemoteHost: s.RemoteHost, RemoteAddress: s.RemoteAddress, LogonType: s.LogonType, PID: s.PID,
		Start: s.Start.Format(time.RFC3339Nano), How: string(s.How), Status: s.Status, StatusChanges: changes}
	if !s.Open() {
		end := s.End.Format(time.RFC3339Nano)
		j.End = &end
	}
	switch fw.f {
	case output.JSON:
		b, err := json.MarshalIndent(j, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if fw.n == 0 {
			sep = "\n  "
		}
		_, fw.err = io.WriteString(fw.w, sep+string(b))
	case output.CSV:
		opt := func(p *uint32) string {
			if p == nil {
				return ""
			}
			return strconv.FormatUint(uint64(*p), 10)
		}
		end := ""
		if j.End != nil {
			end = *j.End
		}
		fw.err = fw.cw.Write([]string{j.Host, j.Class, j.LogonID, j.User, opt(j.UID), j.TTY, j.RemoteHost, j.RemoteAddress, opt(j.LogonType),
			strconv.FormatInt(j.PID, 10), j.Start, end, j.How, j.Status})
	default:
		end, dur, how := "still logged in", "", string(s.How)
		if !s.Open() {
			end = localTime(s.End)
			dur = formatDuration(s.End.Sub(s.Start))
		}
		from := s.RemoteHost
		if from == "" {
			from = s.RemoteAddress
		}
		// What agents sent is shown by the one rule of every human
		// format (output.Escape), never raw: a tab or an escape sequence
		// in a user name must not break the table or the terminal.
		_, fw.err = fmt.Fprintf(fw.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", output.Escape(s.Host), dash(output.Escape(s.User)),
			dash(output.Escape(s.TTY)), dash(output.Escape(from)), localTime(s.Start), end, dur, dash(output.Escape(how)),
			output.Escape(s.Class), dash(output.Escape(s.LogonID)))
		// A table is aligned in chunks, so that a long listing streams.
		if fw.n%500 == 499 && fw.err == nil {
			fw.err = fw.tw.Flush()
		}
	}
	fw.n++
	return fw.err
}

func (fw *fleetWriter) close() error {
	if fw.err != nil {
		return fw.err
	}
	switch fw.f {
	case output.JSON:
		end := "]\n"
		if fw.n > 0 {
			end = "\n]\n"
		}
		_, err := io.WriteString(fw.w, end)
		return err
	case output.CSV:
		fw.cw.Flush()
		return fw.cw.Error()
	}
	return fw.tw.Flush()
}
