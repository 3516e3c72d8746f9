package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/output"
)

func init() { Register(newCallCmd) }

func newCallCmd(e *Env) *cobra.Command {
	var out string
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "call OBJECTPATH METHOD [PARAM=VALUE...]",
		Short: "Call a method of an instance, such as Win32_Process's GetOwner",
		Example: `  cimsess call 'Win32_Process.Handle="1234"' GetOwner
  cimsess call Win32_Process=1234 GetOwnerSid -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return &usageError{fmt.Errorf("call needs an object path and a method name, as in cimsess call Win32_Process=1234 GetOwner")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(out, output.List, output.JSON)
			if err != nil {
				return &usageError{err}
			}
			path, err := cim.ParseObjectPath(args[0])
			if err != nil {
				return err
			}
			// The path's namespace, else --namespace's.
			ns, err := namespace.forPath(args[0], path)
			if err != nil {
				return err
			}
			var in []cim.PropertyValue
			for _, a := range args[2:] {
				name, val, ok := strings.Cut(a, "=")
				if !ok || name == "" {
					return &usageError{fmt.Errorf("parameter %q: write NAME=VALUE", a)}
				}
				in = append(in, cim.PropertyValue{Name: name, Value: val})
			}
			om, err := e.objectManagerIn(ns)
			if err != nil {
				return err
			}
			res, err := om.InvokeMethod(cmd.Context(), path, args[1], in)
			if err != nil {
				return err
			}
			if f == output.JSON {
				obj := map[string]any{"ReturnValue": output.JSONValue(res.ReturnValue)}
				for _, pv := range res.Out {
					obj[pv.Name] = output.JSONValue(pv.Value)
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(obj)
			}
			fmt.Fprintf(e.stdout, "ReturnValue=%s\n", cim.FormatValue(res.ReturnValue))
			for _, pv := range res.Out {
				v := ""
				if pv.Value != nil {
					v = cim.FormatValue(pv.Value)
				}
				fmt.Fprintf(e.stdout, "%s=%s\n", pv.Name, v)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "list", "output format: list or json")
	addNamespaceFlag(cmd, &namespace)
	AddSourceFlags(cmd, &e.src)
	return cmd
}
