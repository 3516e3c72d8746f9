package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/providers"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// SourceFlags are the operating-system roots every data command takes, so
// that the same commands run on fixture trees and on other machines'
// copies of their files. Empty means the source's own default.
type SourceFlags struct {
	Utmp      string // utmp file
	Proc      string // procfs root
	Logind    string // logind sessions folder
	SmbStatus string // the smbstatus command
	SmbConf   string // smb.conf passed to smbstatus -s
	Host      string // host name in object paths
	Layout    string // record layout of utmp (see utmp.ParseLayout)

	// A fixture machine's other roots and clock, set by tests (no flags):
	// the folder holding etc/passwd, the folder of terminals (idle times),
	// the OS name of processes, the clock. Empty: the system's.
	EtcRoot, DevRoot, OSName string
	Now                      func() time.Time
}

const layoutHelp = "record layout of the utmp and wtmp files: native, 384, 384be, 400 or 400be (another machine's files; a file that does not fit its layout is refused and the likely one named)"

// AddSourceFlags adds the source flags to cmd (--utmp, --proc, --logind,
// --smbstatus, --smb-conf, --host and, unless cmd has it already from
// AddHistoryFlags, --layout), bound to s: pass e.Sources().
func AddSourceFlags(cmd *cobra.Command, s *SourceFlags) {
	f := cmd.Flags()
	f.StringVar(&s.Utmp, "utmp", "", "utmp file to read (default /var/run/utmp)")
	f.StringVar(&s.Proc, "proc", "", "procfs root (default /proc)")
	f.StringVar(&s.Logind, "logind", "", "systemd-logind sessions folder (default /run/systemd/sessions)")
	f.StringVar(&s.SmbStatus, "smbstatus", "", "smbstatus command for SMB sessions (default smbstatus from PATH)")
	f.StringVar(&s.SmbConf, "smb-conf", "", "smb.conf passed to smbstatus -s (default Samba's own)")
	f.StringVar(&s.Host, "host", "", "host name in object paths (default this machine's name)")
	if f.Lookup("layout") == nil { // record and serve have it from their history flags
		f.StringVar(&s.Layout, "layout", "native", layoutHelp)
	}
}

// Foreign returns the flags, as "--utmp" and the like, that point the
// sources away from this machine's own: its sessions are then another
// machine's (or a fixture's), which must not go into this machine's
// history unless a database was named for them.
func (s *SourceFlags) Foreign() []string {
	var out []string
	for _, f := range []struct{ name, value string }{
		{"--utmp", s.Utmp}, {"--proc", s.Proc}, {"--logind", s.Logind}, {"--host", s.Host},
	} {
		if f.value != "" {
			out = append(out, f.name)
		}
	}
	return out
}

// ObjectManager builds the object manager over this system's sources as
// the source flags name them: what package providers gives any Go program.
func (e *Env) ObjectManager() (*cimom.ObjectManager, error) {
	layout, err := utmp.ParseLayout(e.src.Layout)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--layout: %w", err)}
	}
	f := e.src
	return providers.NewObjectManager(providers.Options{Utmp: f.Utmp, Layout: layout, Proc: f.Proc, Logind: f.Logind,
		SmbStatus: f.SmbStatus, SmbConf: f.SmbConf, Host: f.Host, EtcRoot: f.EtcRoot, DevRoot: f.DevRoot, OSName: f.OSName, Now: f.Now,
		Version: BuildVersion()})
}

// warnSources writes a warning line for each source that could be read
// only in part, or failed while others answered, whatever was found.
func warnSources(w io.Writer, om *cimom.ObjectManager) {
	for _, s := range om.Sources() {
		if s.Warn {
			where := ""
			if s.Where != "" {
				where = " " + s.Where
			}
			fmt.Fprintf(w, "cimsess: warning: %s%s: %s\n", s.Name, where, s.Note)
		}
	}
}

// reportEmpty writes the line that says where the program looked when a
// command found nothing, so that an empty answer is never a mystery.
func reportEmpty(w io.Writer, what string, om *cimom.ObjectManager) {
	srcs := om.Sources()
	if len(srcs) == 0 {
		fmt.Fprintf(w, "no %s\n", what)
		return
	}
	parts := make([]string, 0, len(srcs))
	for _, s := range srcs {
		held := fmt.Sprintf("%d records", s.Found)
		if s.Found == 1 {
			held = "1 record"
		}
		if s.Note != "" {
			held = s.Note
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Name, s.Where, held))
	}
	fmt.Fprintf(w, "no %s; sources checked: %s\n", what, strings.Join(parts, ", "))
}
