// Package cli implements the cimsess command line: one cobra command per
// verb, all going through the same object manager, and the mapping of CIM
// status codes to exit codes. It also exports the small kit that other
// packages of verbs build on (internal/daemon, which only cimsessd links):
// Register, the Env of a run (its streams, command line, source flags and
// object manager), the flag helpers (AddSourceFlags, AddHistoryFlags,
// AddFleetFlags, ExactArgs), UsageError and the exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/wql"
)

// Exit codes of the cimsess command.
const (
	ExitOK           = 0 // success
	ExitFailure      = 1 // any other failure
	ExitUsage        = 2 // bad flags or arguments
	ExitInvalid      = 3 // unknown class or namespace, malformed query
	ExitNotFound     = 4 // no such instance
	ExitAccessDenied = 5 // not allowed to read a source or see an object
	// ExitInterrupted is the exit code of a command that SIGINT (Ctrl-C)
	// or SIGTERM stopped before it finished: 128 plus the signal's
	// number, as a shell reports a process the signal killed (130, 143).
	ExitInterrupted = 128
)

// ExitCode maps an error to the command's exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var pe *partialError
	if errors.As(err, &pe) {
		return ExitPartial
	}
	switch cim.CodeOf(err) {
	case cim.ErrInvalidClass, cim.ErrInvalidQuery, cim.ErrInvalidNamespace, cim.ErrQueryLanguageNotSupported:
		return ExitInvalid
	case cim.ErrNotFound:
		return ExitNotFound
	case cim.ErrAccessDenied:
		return ExitAccessDenied
	case cim.ErrInvalidParameter:
		return ExitUsage
	}
	return ExitFailure
}

type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// UsageError marks err as the user's mistake (a bad flag, argument or
// combination of them): the command exits with ExitUsage.
func UsageError(err error) error { return &usageError{err} }

// Program is the name the help and the usage errors give the program:
// "cimsess", or "cimsessd" in the daemons' binary, which sets it.
var Program = "cimsess"

// Env is what every command is built on: the process's streams, its
// command line, and the source flags its object manager reads.
type Env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
	src            SourceFlags
	// location is the zone the table shows times in; nil is time.Local.
	location *time.Location
}

// NewEnv returns an Env over these streams and the system's own sources,
// as Main makes one for each run; tests build a command on it.
func NewEnv(stdin io.Reader, stdout, stderr io.Writer) *Env {
	return &Env{stdin: stdin, stdout: stdout, stderr: stderr}
}

// Stdout is where the command writes its answer.
func (e *Env) Stdout() io.Writer { return e.stdout }

// Stderr is where the command writes warnings, logs and errors.
func (e *Env) Stderr() io.Writer { return e.stderr }

// Args is the whole command line the program was given, after its name,
// unchanged (the verb, its flags and arguments as they came).
func (e *Env) Args() []string { return e.args }

// Sources are the source flags of the run (AddSourceFlags binds them),
// which ObjectManager reads.
func (e *Env) Sources() *SourceFlags { return &e.src }

// Main runs the command line with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(NewEnv(stdin, stdout, stderr), args)
}

// run is Main over an env whose streams are set (and, in tests, the
// fixture machine's roots and clock).
func run(e *Env, args []string) int {
	e.args = args
	ctx, interrupted, stop := interruptContext()
	defer stop()
	stdin, stdout, stderr := e.stdin, e.stdout, e.stderr
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command ") {
		// cobra's own error for a verb it does not know: a usage error.
		err = &usageError{fmt.Errorf("%w; see %s --help", err, Program)}
	}
	if sig := interrupted(); err != nil && sig != nil {
		// Stopped by Ctrl-C or SIGTERM: what the command says of it (a
		// cancelled context) is not the reason; the signal is.
		fmt.Fprintf(stderr, "cimsess: interrupted by %s before the command finished; its output is incomplete\n", signalName(sig))
		if n, ok := sig.(syscall.Signal); ok {
			return ExitInterrupted + int(n)
		}
		return ExitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "cimsess: %s\n", escapeLines(strings.TrimRight(err.Error(), "\n")))
		// A query's syntax error: its line, with a caret under the column.
		var se *wql.SyntaxError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "%s\n", se.Caret())
		}
	}
	return ExitCode(err)
}

// escapeLines escapes each line of a message as the table escapes values
// (output.Escape): an error may carry what a remote server, a file or a
// user name said, and none of it may move the cursor, retitle or clear
// the terminal, or reorder the text.
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = output.Escape(l)
	}
	return strings.Join(lines, "\n")
}

// interruptContext returns a context that SIGINT or SIGTERM cancels, a
// function that tells which of them came (nil while none did), and the
// function that stops listening. Every command runs under that context,
// so a signal reaches the provider within one batch. After the first
// signal the default handling is back: a second Ctrl-C kills at once.
func interruptContext() (ctx context.Context, interrupted func() os.Signal, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var (
		got  os.Signal
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		select {
		case got = <-ch:
			signal.Stop(ch)
			cancel(fmt.Errorf("%s received", signalName(got)))
		case <-ctx.Done():
		}
	}()
	interrupted = func() os.Signal {
		if ctx.Err() == nil {
			return nil
		}
		<-done
		return got
	}
	stop = func() {
		signal.Stop(ch)
		cancel(nil)
		<-done
	}
	return ctx, interrupted, stop
}

// signalName is the signal's usual name: SIGINT, SIGTERM.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

func newRoot(e *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   Program,
		Short: "Who is interacting with this machine, how, since when — as WMI Win32_Session instances",
		Long: `cimsess reads the sessions of this machine from the operating system's own records
(utmp, the kernel's audit session ids, systemd-logind, Samba) and answers for them
the way WMI does: the Win32_Session class family, WQL queries, object paths, and a
CIM-XML server that WBEM clients such as wbemcli talk to.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newVersionCmd(e), newClassesCmd(e), newClassCmd(e))
	for _, add := range extraCommands {
		root.AddCommand(add(e))
	}
	return root
}

// extraCommands are the commands registered with Register.
var extraCommands []func(*Env) *cobra.Command

// Register adds a command to the command line: f builds it on the Env of
// the run. The files of this package register their verbs from init, each
// in a file of its own, and so do the packages a binary links for more
// (internal/daemon: serve, hub, agent, collect). Call it from init only.
func Register(f func(*Env) *cobra.Command) { extraCommands = append(extraCommands, f) }

// ExactArgs is cobra.ExactArgs with a usage error, and a hint when the
// arguments look like a query or path the shell split into words.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			if n == 1 && len(args) > 1 {
				err = fmt.Errorf("%w: quote the whole argument, as in cimsess %s %q", err, cmd.Name(), strings.Join(args, " "))
			}
			return &usageError{err}
		}
		return nil
	}
}
