package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/provider"
	"github.com/cimsess/cimsess/wql"
)

func init() { Register(newQueryCmd) }

func newQueryCmd(e *Env) *cobra.Command {
	var out string
	var remote remoteFlags
	var fleet bool
	var ff FleetFlags
	var hosts string
	var timeout time.Duration
	var table tableFlags
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "query WQL",
		Short: "Run a WQL query: SELECT, ASSOCIATORS OF or REFERENCES OF",
		Example: `  cimsess query "SELECT * FROM Win32_Session"
  cimsess query "SELECT LogonId, UserName, StartTime FROM Linux_LogonSession WHERE LogonType = 10" -o csv
  cimsess query "SELECT * FROM Linux_LogonSession WHERE UserName LIKE 'a%' AND StartTime > '20260101000000.000000+000'"
  cimsess query 'ASSOCIATORS OF {Win32_LogonSession.LogonId="5"} WHERE ResultClass = Win32_Process'
  cimsess query --fleet --hosts 'web-*' "SELECT * FROM Linux_LogonSession WHERE UserName = 'root'"
  cimsess query -n root/interop "SELECT Name FROM CIM_Namespace"`,
		Args: ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, err := namespace.get()
			if err != nil {
				return err
			}
			if remote.url != "" {
				reg := remoteSchema(ns)
				return e.listRemote(cmd.Context(), &remote, ns, reg, out, &table, "instances match", selectList(args[0], reg), func(ctx context.Context, c remoteAsker, page func([]*cim.Instance) error) error {
					return c.Query(ctx, args[0], checkRemoteQueryPages(remote.url, reg, args[0], page))
				})
			}
			if fleet {
				if err := fleetNamespace(ns, "with --remote or on the host"); err != nil {
					return err
				}
				return e.fleetQuery(cmd.Context(), ff, out, args[0], hosts, timeout)
			}
			return e.listInstances(cmd.Context(), ns, out, &table, "instances match", func(ctx context.Context, om *cimom.ObjectManager) (listing, error) {
				q, err := om.Compile(args[0])
				if err != nil {
					return listing{}, err
				}
				for _, w := range q.Warnings() {
					fmt.Fprintf(e.stderr, "cimsess: warning: %s\n", w)
				}
				// A SELECT streams, filtered batch by batch; ASSOCIATORS OF
				// and REFERENCES OF hold their join (bounded by
				// cimom.MaxCollected) and then stream it.
				var classes []string
				if !cimom.ReturnsClasses(q) {
					classes = resultClasses(om, q)
				}
				// Every format but the table (which holds its first page)
				// is done with a batch once it is written.
				f, _ := output.ParseFormat(out, instanceFormats...)
				opts := cimom.QueryOptions{Lent: f != "" && f != output.Table}
				return listing{props: cimom.QueryProperties(q), classes: classes, stream: func(emit provider.Emit) error {
					return om.StreamQueryWith(ctx, q, opts, emit)
				}}, nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table, list, json, csv, mof or xml")
	addNamespaceFlag(cmd, &namespace)
	addTableFlags(cmd, &table)
	AddSourceFlags(cmd, &e.src)
	addRemoteFlags(cmd, &remote)
	cmd.Flags().BoolVar(&fleet, "fleet", false, "ask every live host of the fleet (see cimsess hub); rows carry __SERVER; exit status 6 when some host did not answer")
	cmd.Flags().StringVar(&hosts, "hosts", "", "with --fleet: only the hosts whose names match this glob (web-*)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "with --fleet: how long to wait for the hosts' answers")
	AddFleetFlags(cmd, &ff)
	return cmd
}

// resultClasses are the classes a data query's instances may be of, for a
// header written even when none comes (CSV): a SELECT's class and its
// subclasses; the classes the schema associates with the path's class, or
// the association classes that refer to it, for ASSOCIATORS OF and
// REFERENCES OF (narrowed as the query narrows them), and theirs.
func resultClasses(om *cimom.ObjectManager, q *wql.Query) []string {
	var found []*cim.Class
	var err error
	switch st := q.Statement().(type) {
	case *wql.Select:
		if exact := q.ExactClass(); exact != "" {
			return []string{exact}
		}
		return classesOf(om.Schema(), q.Class(), false)
	case *wql.Associators:
		found, err = om.AssociatorClasses(st.Path.ClassName, cimom.AssocOptions{AssocClass: st.AssocClass, ResultClass: st.ResultClass,
			Role: st.Role, ResultRole: st.ResultRole, RequiredQualifier: st.RequiredQualifier, RequiredAssocQualifier: st.RequiredAssocQualifier})
	case *wql.References:
		found, err = om.ReferenceClasses(st.Path.ClassName, cimom.AssocOptions{ResultClass: st.ResultClass, Role: st.Role,
			RequiredQualifier: st.RequiredQualifier})
	}
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range found {
		for _, n := range classesOf(om.Schema(), c.Name, false) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}
