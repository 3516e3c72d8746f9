package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/provider"
)

func init() { Register(newEnumCmd) }

func newEnumCmd(e *Env) *cobra.Command {
	var out string
	var shallow bool
	var remote remoteFlags
	var table tableFlags
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "enum CLASS",
		Short: "Enumerate the instances of a class and (unless --shallow) of its subclasses",
		Example: `  cimsess enum Win32_Session
  cimsess enum Win32_LogonSession --output json
  cimsess enum Win32_LogonSession --utmp ./utmp.copy --proc ./proc-snapshot
  cimsess enum CIM_Namespace --namespace root/interop`,
		Args: ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := namespace.get()
			if err != nil {
				return err
			}
			if remote.url != "" {
				if shallow {
					return &usageError{cim.Errorf(cim.ErrNotSupported, "--shallow is not asked of a --remote host")}
				}
				reg := remoteSchema(ns)
				return e.listRemote(cmd.Context(), &remote, ns, reg, out, &table, "instances of "+args[0], nil, func(ctx context.Context, c remoteAsker, page func([]*cim.Instance) error) error {
					return c.EnumerateClass(ctx, args[0], checkRemotePages(remote.url, reg, args[0], page))
				})
			}
			// Every format but the table (which holds its first page) is
			// done with a batch once it is written: the provider may make
			// the next one in its memory.
			f, _ := output.ParseFormat(out, instanceFormats...)
			hint := provider.Hint{Lent: f != "" && f != output.Table}
			return elsewhere(e.listInstances(cmd.Context(), ns, out, &table, "instances of "+args[0], func(ctx context.Context, om *cimom.ObjectManager) (listing, error) {
				return listing{classes: classesOf(om.Schema(), args[0], shallow), stream: func(emit provider.Emit) error {
					return om.StreamInstances(ctx, args[0], cimom.EnumOptions{Shallow: shallow, Hint: hint}, emit)
				}}, nil
			}), args[0], ns)
		},
	}
	cmd.Flags().BoolVar(&shallow, "shallow", false, "only instances of exactly CLASS, not of its subclasses")
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, list, json, csv, mof or xml")
	addNamespaceFlag(cmd, &namespace)
	addTableFlags(cmd, &table)
	AddSourceFlags(cmd, &e.src)
	addRemoteFlags(cmd, &remote)
	return cmd
}

func init() { Register(newGetCmd) }

func newGetCmd(e *Env) *cobra.Command {
	var out string
	var remote remoteFlags
	var table tableFlags
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "get OBJECTPATH",
		Short: "Get one instance by its object path",
		Example: `  cimsess get 'Win32_LogonSession.LogonId="42"'
  cimsess get '\\HOST\root\cimv2:Win32_UserAccount.Domain="HOST",Name="alice"'
  cimsess get 'root/interop:CIM_ObjectManager.CreationClassName="CIM_ObjectManager",Name="cimsess",SystemCreationClassName="CIM_ComputerSystem",SystemName="HOST"'`,
		Args: ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := cim.ParseObjectPath(args[0])
			if err != nil {
				return err
			}
			// The path's namespace, else --namespace's.
			ns, err := namespace.forPath(args[0], path)
			if err != nil {
				return err
			}
			if remote.url != "" {
				// The shorthand Class=value, and a number for a string key,
				// as this schema reads them when it knows the class: a
				// protocol's key binding names its key. A class it does
				// not know goes to the host as it was written.
				reg := remoteSchema(ns)
				if reg != nil {
					if _, err := reg.Class(path.ClassName); err == nil {
						if path, err = cim.ResolvePath(reg, path); err != nil {
							return err
						}
					}
				}
				return e.listRemote(cmd.Context(), &remote, ns, reg, out, &table, "instance", nil, func(ctx context.Context, c remoteAsker, page func([]*cim.Instance) error) error {
					in, err := c.Get(ctx, path)
					if err != nil {
						return err
					}
					if err := checkRemoteGet(remote.url, reg, path, in); err != nil {
						return err
					}
					return page([]*cim.Instance{in})
				})
			}
			return e.listInstances(cmd.Context(), ns, out, &table, "instance", func(ctx context.Context, om *cimom.ObjectManager) (listing, error) {
				// One instance: a get is all at once by nature.
				in, err := om.GetInstance(ctx, path)
				if err != nil {
					return listing{}, elsewherePath(err, path, ns, namespace.given())
				}
				return listing{classes: []string{in.ClassName}, stream: func(emit provider.Emit) error {
					return emit([]*cim.Instance{in})
				}}, nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "list", "output format: table, list, json, csv, mof or xml")
	addNamespaceFlag(cmd, &namespace)
	addTableFlags(cmd, &table)
	AddSourceFlags(cmd, &e.src)
	addRemoteFlags(cmd, &remote)
	return cmd
}
