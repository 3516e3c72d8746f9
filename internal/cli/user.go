package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
)

func init() { Register(newUserCmd) }

func newUserCmd(e *Env) *cobra.Command {
	var users string
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the users of 'cimsess serve': add, del, list",
		Long: `user manages the users file of 'cimsess serve': one account a line, its password as a
bcrypt hash, and its role: an administrator sees every session, any other user only their own.
The password is read from the terminal (asked twice) or, when standard input is not a
terminal, from its first line; it is never a flag.`,
		Example: `  cimsess user add --users ./users alice --admin
  printf '%s\n' "$PASSWORD" | cimsess user add --users ./users bob
  cimsess user list --users ./users
  cimsess user del --users ./users bob`,
	}
	cmd.PersistentFlags().StringVar(&users, "users", access.DefaultUsersFile, "users file")
	var admin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user, or change the password and role of one",
		Args:  ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !access.ValidUserName(args[0]) {
				return &usageError{cim.Errorf(cim.ErrInvalidParameter, "bad user name %q: use 1 to 64 letters, digits and ._@-", args[0])}
			}
			pw, err := e.readPassword(args[0])
			if err != nil {
				return err
			}
			if err := access.AddUser(users, args[0], pw, admin, 0); err != nil {
				return err
			}
			role := "user"
			if admin {
				role = "admin"
			} else if uid, ok := systemAccount(passwdFile, args[0]); ok {
				fmt.Fprintf(e.stderr, "cimsess: warning: %s is also this system's account with uid %d: as a non-administrator, %s sees every session and process that account owns\n",
					args[0], uid, args[0])
			}
			_, err = fmt.Fprintf(e.stdout, "%s saved in %s as %s\n", args[0], users, role)
			return err
		},
	}
	add.Flags().BoolVar(&admin, "admin", false, "make the user an administrator (sees every session)")
	del := &cobra.Command{
		Use:   "del NAME",
		Short: "Delete a user",
		Args:  ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return access.DeleteUser(users, args[0])
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the users and their roles",
		Args:  ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			us, err := access.ReadUsersFile(users)
			if err != nil {
				return err
			}
			for _, u := range us {
				role := "user"
				if u.Admin {
					role = "admin"
				}
				if _, err := fmt.Fprintf(e.stdout, "%s\t%s\n", u.Name, role); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.AddCommand(add, del, list)
	return cmd
}

// readPassword reads a new password: from the terminal, twice and without
// echo, when standard input is one; otherwise from its first line.
func (e *Env) readPassword(name string) ([]byte, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s: ", name)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return nil, cim.Wrap(cim.ErrFailed, err)
		}
		fmt.Fprintf(e.stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return nil, cim.Wrap(cim.ErrFailed, err)
		}
		if !bytes.Equal(pw, again) {
			return nil, cim.Errorf(cim.ErrInvalidParameter, "the passwords differ")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, cim.Wrap(cim.ErrFailed, err)
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return nil, cim.Errorf(cim.ErrInvalidParameter, "no password on standard input")
	}
	return line, nil
}

// passwdFile is the system's account list, for systemAccount.
var passwdFile = "/etc/passwd"

// systemUIDMax is the highest uid of a system account (login.defs'
// SYS_UID_MAX, as Debian and Fedora set it).
const systemUIDMax = 999

// systemAccount reports whether the passwd file names a system account
// (root, daemons: uid at most systemUIDMax) called exactly name, and its
// uid. It reads at most 16 MiB of the file; a missing file is no account.
func systemAccount(passwd, name string) (int, bool) {
	f, err := os.Open(passwd)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 || fields[0] != name {
			continue
		}
		uid, err := strconv.Atoi(fields[2])
		return uid, err == nil && uid >= 0 && uid <= systemUIDMax
	}
	return 0, false
}
