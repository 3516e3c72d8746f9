package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/output"
)

func init() { Register(newWatchCmd) }

func newWatchCmd(e *Env) *cobra.Command {
	var out string
	var count int
	var timeout, within time.Duration
	var noNotify bool
	var fleet bool
	var ff FleetFlags
	var hosts, since string
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "watch 'EVENT QUERY'",
		Short: "Print instance events (sessions created, deleted, modified) as they happen",
		Long: `watch subscribes to a WQL event query and prints each event as it happens, until
interrupted, --count events have been printed or --timeout has passed:

  SELECT * FROM __InstanceCreationEvent | __InstanceDeletionEvent |
      __InstanceModificationEvent | __InstanceOperationEvent [WITHIN seconds]
      WHERE TargetInstance ISA 'Class' [AND TargetInstance.Prop = value …]

Changes are seen at once where the source tells of them (inotify on utmp and
logind's folder) and otherwise by rescanning every WITHIN seconds (default 1).
A change of IdleTime or ActiveTime alone is not a modification.

--output json writes one JSON object per line (__CLASS, TIME_CREATED, TargetInstance,
PreviousInstance), for pipes; the table output is one line per event.`,
		Example: `  cimsess watch "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_LogonSession'"
  cimsess watch "SELECT * FROM __InstanceModificationEvent WITHIN 2 WHERE TargetInstance ISA 'Win32_LogonSession' AND TargetInstance.Status = 'Lost Comm'"
  cimsess watch --output json --count 1 "SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_Session'" | jq .
  cimsess watch --fleet --since 12h "SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Linux_LogonSession' AND TargetInstance.UserName = 'root'"`,
		Args: ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(out, output.Table, output.JSON)
			if err != nil {
				return &usageError{err}
			}
			if count < 0 || timeout < 0 || within < 0 {
				return &usageError{fmt.Errorf("--count, --timeout and --within must not be negative")}
			}
			ns, err := namespace.get()
			if err != nil {
				return err
			}
			if fleet {
				if err := fleetNamespace(ns, "on the host"); err != nil {
					return err
				}
				ctx := cmd.Context()
				if timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, timeout)
					defer cancel()
				}
				return e.fleetWatch(ctx, ff, out, args[0], hosts, since, count)
			}
			om, err := e.objectManagerIn(ns)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			present := 0
			ch, err := om.Subscribe(ctx, args[0], cimom.SubscribeOptions{
				Within:     within,
				NoNotify:   noNotify,
				OnBaseline: func(in []*cim.Instance) { present = len(in) },
				OnError:    func(err error) { fmt.Fprintf(e.stderr, "cimsess: watch: %v\n", err) },
				OnWarning:  func(w string) { fmt.Fprintf(e.stderr, "cimsess: warning: %s\n", w) },
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "cimsess: watching (%d instances now); interrupt to stop\n", present)
			w := eventWriter{w: e.stdout, f: f, r: output.Renderer{Schema: om.Schema()}}
			n := 0
			for ev := range ch {
				if err := w.write(ev); err != nil {
					return cim.Errorf(cim.ErrFailed, "writing an event: %v", err)
				}
				n++
				if count > 0 && n >= count {
					cancel()
					break
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table (a line per event) or json (a JSON object per line)")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many events (0: never)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop after this long, such as 30s (0: never)")
	cmd.Flags().DurationVar(&within, "within", 0, "rescan interval, overriding the query's WITHIN (default: the query's, or 1s)")
	cmd.Flags().BoolVar(&noNotify, "no-notify", false, "ignore the sources' change notifications; find changes by rescanning only")
	addNamespaceFlag(cmd, &namespace)
	AddSourceFlags(cmd, &e.src)
	cmd.Flags().BoolVar(&fleet, "fleet", false, "follow the events of every host of the fleet from its stream (see cimsess hub)")
	cmd.Flags().StringVar(&hosts, "hosts", "", "with --fleet: only the hosts whose names match this glob")
	cmd.Flags().StringVar(&since, "since", "", "with --fleet: replay the events from this long ago (2h) or this time (RFC 3339) first")
	AddFleetFlags(cmd, &ff)
	return cmd
}

// eventWriter prints events as they come.
type eventWriter struct {
	w io.Writer
	f output.Format
	r output.Renderer
}

func (w eventWriter) write(ev cimom.Event) error {
	if w.f == output.JSON {
		obj := struct {
			Class            string         `json:"__CLASS"`
			TimeCreated      uint64         `json:"TIME_CREATED"`
			TargetInstance   json.Marshaler `json:"TargetInstance"`
			PreviousInstance json.Marshaler `json:"PreviousInstance"`
		}{Class: ev.Class, TimeCreated: ev.TimeCreated(), TargetInstance: w.r.Object(ev.Target)}
		if ev.Previous != nil {
			obj.PreviousInstance = w.r.Object(ev.Previous)
		} else {
			obj.PreviousInstance = jsonNull{}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = w.w.Write(b)
		return err
	}
	_, err := io.WriteString(w.w, eventLine(ev)+"\n")
	return err
}

type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// eventLine is one event as the table shows it: time, what happened, the
// path, and a few telling properties (the changed ones for a
// modification), each escaped as every human format escapes values
// (output.Escape): nothing from a utmp record drives the terminal.
func eventLine(ev cimom.Event) string {
	what := map[string]string{cimom.InstanceCreationEvent: "created", cimom.InstanceDeletionEvent: "deleted",
		cimom.InstanceModificationEvent: "modified"}[ev.Class]
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-8s  %s", ev.Time.Local().Format("2006-01-02 15:04:05.000"), what, output.Escape(ev.Target.Path.Relative().String()))
	if ev.Previous != nil {
		var changes []string
		change := func(name string, old, now any) {
			if old == nil && now == nil || old != nil && now != nil && cim.Equal(old, now) ||
				strings.EqualFold(name, "IdleTime") || strings.EqualFold(name, "ActiveTime") {
				return
			}
			changes = append(changes, fmt.Sprintf("%s: %s → %s", output.Escape(name), short(old), short(now)))
		}
		for _, p := range ev.Target.Properties {
			old, _ := ev.Previous.Get(p.Name)
			change(p.Name, old, p.Value)
		}
		// A property the target no longer has became NULL (a provider
		// leaves unknown properties out).
		for _, p := range ev.Previous.Properties {
			if _, ok := ev.Target.Get(p.Name); !ok {
				change(p.Name, p.Value, nil)
			}
		}
		sort.Strings(changes)
		if len(changes) > 0 {
			b.WriteString("  " + strings.Join(changes, ", "))
		}
		return b.String()
	}
	for _, n := range []string{"UserName", "TTY", "RemoteHost", "Status"} {
		if v := ev.Target.Value(n); v != nil {
			fmt.Fprintf(&b, "  %s=%s", n, short(v))
		}
	}
	return b.String()
}

// short is a value as an event line shows it: escaped, and in quotes
// when it holds a space.
func short(v any) string {
	if v == nil {
		return "NULL"
	}
	s := output.Escape(cim.FormatValue(v))
	if strings.ContainsAny(s, " ") {
		return `"` + s + `"`
	}
	return s
}
