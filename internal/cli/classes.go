package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/mof"
	"github.com/cimsess/cimsess/output"
	"github.com/cimsess/cimsess/schema"
)

// ClassXMLEncoder writes a class as CIM-XML; the cimxml package registers
// itself here.
var ClassXMLEncoder func(w io.Writer, c *cim.Class) error

func newClassesCmd(e *Env) *cobra.Command {
	var out string
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "classes",
		Short: "Print the class tree of a namespace (default root/cimv2)",
		Example: `  cimsess classes
  cimsess classes --namespace root/interop -o json`,
		Args: ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(out, output.Table, output.JSON)
			if err != nil {
				return &usageError{err}
			}
			reg, err := namespaceSchema(&namespace)
			if err != nil {
				return err
			}
			if f == output.JSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(classTree(reg, ""))
			}
			var b strings.Builder
			var walk func(name, indent string)
			walk = func(name, indent string) {
				kids := reg.Children(name)
				for i, k := range kids {
					branch, next := "├─ ", "│  "
					if i == len(kids)-1 {
						branch, next = "└─ ", "   "
					}
					if name == "" {
						branch, next = "", ""
					}
					c, _ := reg.Class(k)
					fmt.Fprintf(&b, "%s%s%s%s\n", indent, branch, k, classTags(c))
					walk(k, indent+next)
				}
			}
			walk("", "")
			_, err = io.WriteString(e.stdout, b.String())
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "table", "output format: table or json")
	addNamespaceFlag(cmd, &namespace)
	return cmd
}

// namespaceSchema returns the classes of the namespace --namespace names.
func namespaceSchema(n *namespaceFlag) (*schema.Registry, error) {
	ns, err := n.get()
	if err != nil {
		return nil, err
	}
	return schemaIn(ns)
}

func classTags(c *cim.Class) string {
	var tags []string
	if c.IsAbstract() {
		tags = append(tags, "abstract")
	}
	if c.IsAssociation() {
		tags = append(tags, "association")
	}
	if len(tags) == 0 {
		return ""
	}
	return " (" + strings.Join(tags, ", ") + ")"
}

type classNode struct {
	Name        string      `json:"name"`
	SuperClass  string      `json:"superclass,omitempty"`
	Abstract    bool        `json:"abstract"`
	Association bool        `json:"association"`
	Children    []classNode `json:"children"`
}

func classTree(reg *schema.Registry, name string) []classNode {
	out := []classNode{}
	for _, k := range reg.Children(name) {
		c, _ := reg.Class(k)
		out = append(out, classNode{Name: c.Name, SuperClass: c.SuperClass, Abstract: c.IsAbstract(),
			Association: c.IsAssociation(), Children: classTree(reg, k)})
	}
	return out
}

func newClassCmd(e *Env) *cobra.Command {
	var out string
	var namespace namespaceFlag
	cmd := &cobra.Command{
		Use:   "class NAME",
		Short: "Print one class: its MOF declaration, or its resolved form as JSON or CIM-XML",
		Example: `  cimsess class Win32_LogonSession
  cimsess class CIM_Namespace --namespace root/interop -o json`,
		Args: ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := output.ParseFormat(out, output.MOF, output.JSON, output.XML)
			if err != nil {
				return &usageError{err}
			}
			reg, err := namespaceSchema(&namespace)
			if err != nil {
				return err
			}
			switch f {
			case output.JSON:
				c, err := reg.Class(args[0])
				if err != nil {
					return elsewhere(err, args[0], reg.Namespace())
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(classJSON(c))
			case output.XML:
				c, err := reg.Class(args[0])
				if err != nil {
					return elsewhere(err, args[0], reg.Namespace())
				}
				if ClassXMLEncoder == nil {
					return cim.Errorf(cim.ErrNotSupported, "XML output is not built in")
				}
				return ClassXMLEncoder(e.stdout, c)
			}
			c, err := reg.Declared(args[0])
			if err != nil {
				return elsewhere(err, args[0], reg.Namespace())
			}
			_, err = io.WriteString(e.stdout, mof.Format(c))
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "mof", "output format: mof, json or xml")
	addNamespaceFlag(cmd, &namespace)
	return cmd
}

type qualifierJSON struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

type propertyJSON struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	ClassOrigin string          `json:"classOrigin"`
	Propagated  bool            `json:"propagated"`
	Default     any             `json:"default,omitempty"`
	Qualifiers  []qualifierJSON `json:"qualifiers"`
}

type classJSONT struct {
	Name       string          `json:"name"`
	SuperClass string          `json:"superclass,omitempty"`
	Qualifiers []qualifierJSON `json:"qualifiers"`
	Properties []propertyJSON  `json:"properties"`
}

func qualifiersJSON(qs cim.Qualifiers) []qualifierJSON {
	out := []qualifierJSON{}
	for _, q := range qs {
		out = append(out, qualifierJSON{q.Name, output.JSONValue(q.Value)})
	}
	return out
}

func classJSON(c *cim.Class) classJSONT {
	out := classJSONT{Name: c.Name, SuperClass: c.SuperClass, Qualifiers: qualifiersJSON(c.Qualifiers), Properties: []propertyJSON{}}
	for _, p := range c.Properties {
		out.Properties = append(out.Properties, propertyJSON{Name: p.Name, Type: p.Type.String(), ClassOrigin: p.ClassOrigin,
			Propagated: p.Propagated, Default: output.JSONValue(p.Default), Qualifiers: qualifiersJSON(p.Qualifiers)})
	}
	return out
}
