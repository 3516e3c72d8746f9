package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/schema"
)

// namespaceFlag is -n, --namespace: the CIM namespace a verb asks, as
// WMI's -Namespace and /namespace: name it.
type namespaceFlag struct {
	name string
	cmd  *cobra.Command // to tell the flag given from its default
}

func addNamespaceFlag(cmd *cobra.Command, n *namespaceFlag) {
	n.cmd = cmd
	cmd.Flags().StringVarP(&n.name, "namespace", "n", schema.Namespace,
		`CIM namespace to ask: root/cimv2 (the sessions) or root/interop (the object manager and its namespaces); root\interop and any case alike`)
}

// given reports whether --namespace was on the command line.
func (n *namespaceFlag) given() bool { return n.cmd != nil && n.cmd.Flags().Changed("namespace") }

// get returns the namespace asked, as normNamespace writes it.
func (n *namespaceFlag) get() (string, error) { return normNamespace(n.name) }

// forPath returns the namespace a path is asked in: the one it names,
// else --namespace's. A path that names another namespace than a
// --namespace given is a usage error: which one was meant is not for
// the program to guess.
func (n *namespaceFlag) forPath(arg string, p cim.ObjectPath) (string, error) {
	flag, err := n.get()
	if err != nil || p.Namespace == "" {
		return flag, err
	}
	ns, err := normNamespace(p.Namespace)
	if err != nil {
		return "", err
	}
	if n.given() && !strings.EqualFold(ns, flag) {
		return "", &usageError{cim.Errorf(cim.ErrInvalidParameter, "%s names namespace %s, --namespace %s: give one of them, or the same",
			cim.Clip(arg), ns, flag)}
	}
	return ns, nil
}

// normNamespace writes a namespace with '/' separators and no outer ones,
// one this program serves as it spells it (root\interop and ROOT/Interop
// are root/interop, as in WMI, whose namespaces are case-insensitive).
// Another is kept as written, for a --remote host to judge, once each of
// its names is checked to be a CIM name: an empty or malformed one is
// CIM_ERR_INVALID_NAMESPACE.
func normNamespace(ns string) (string, error) {
	n := strings.Trim(strings.ReplaceAll(strings.TrimSpace(ns), `\`, "/"), "/")
	for _, known := range []string{schema.Namespace, schema.InteropNamespace} {
		if strings.EqualFold(n, known) {
			return known, nil
		}
	}
	for _, seg := range strings.Split(n, "/") {
		if !isCIMName(seg) {
			return "", cim.Errorf(cim.ErrInvalidNamespace, "%q is not a namespace: write its names with / or \\ between them, as root/interop", cim.Clip(ns))
		}
	}
	return n, nil
}

// isCIMName reports whether s is a CIM name: a letter or underscore, then
// letters, digits and underscores (ASCII: no namespace in use has more).
func isCIMName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// objectManagerIn returns the object manager of namespace ns over the
// source flags (ObjectManager, then its In): CIM_ERR_INVALID_NAMESPACE
// for a namespace it does not serve.
func (e *Env) objectManagerIn(ns string) (*cimom.ObjectManager, error) {
	om, err := e.ObjectManager()
	if err != nil {
		return nil, err
	}
	return om.In(ns)
}

// schemaIn returns the classes of namespace ns as the object manager
// serves them (its In decides which namespaces there are), without
// reading any source: CIM_ERR_INVALID_NAMESPACE for another namespace.
func schemaIn(ns string) (*schema.Registry, error) {
	reg, err := schema.Default()
	if err != nil {
		return nil, err
	}
	om, err := cimom.New(reg, cimom.Options{Host: "localhost"})
	if err != nil {
		return nil, err
	}
	if om, err = om.In(ns); err != nil {
		return nil, err
	}
	return om.Schema(), nil
}

// remoteSchema returns the classes this program knows of namespace ns,
// to type and check what a --remote host sends; nil for a namespace it
// does not serve itself (the host's answers are then taken as they come).
func remoteSchema(ns string) *schema.Registry {
	reg, err := schemaIn(ns)
	if err != nil {
		return nil
	}
	return reg
}

// fleetNamespace refuses --fleet in another namespace than root/cimv2:
// the agents answer queries and publish events of that one alone (the
// fleet's query message names no namespace). instead says how else to
// ask ("on the host").
func fleetNamespace(ns, instead string) error {
	if ns == schema.Namespace {
		return nil
	}
	return &usageError{cim.Errorf(cim.ErrNotSupported, "--fleet asks %s only: the agents answer for their sessions, not for %s; ask a host's %s %s",
		schema.Namespace, ns, ns, instead)}
}

// elsewhere adds to the error of a class that namespace ns lacks the
// namespace this program serves that has it ("CIM_Namespace is a class of
// root/interop: --namespace root/interop"), as WMI users ask for a CIM_
// class in root/cimv2 out of habit. Any other error is returned as it is.
func elsewhere(err error, class, ns string) error {
	return elsewhereHint(err, class, ns, func(other string) string { return "--namespace " + other })
}

// elsewherePath is elsewhere for a get of path: when the path names its
// namespace, --namespace cannot move it (a path and a --namespace that
// disagree are a usage error), so the hint is the path written in the
// other namespace ("write root/cimv2:Linux_LogonSession.LogonId=…"), and
// flagGiven adds that --namespace must then name it too, or be dropped.
func elsewherePath(err error, path cim.ObjectPath, ns string, flagGiven bool) error {
	if path.Namespace == "" {
		return elsewhere(err, path.ClassName, ns)
	}
	return elsewhereHint(err, path.ClassName, ns, func(other string) string {
		p := path
		p.Namespace = other
		hint := "write " + cim.Clip(p.String())
		if flagGiven {
			hint += " with --namespace " + other + " or without --namespace"
		}
		return hint
	})
}

// elsewhereHint is elsewhere with the way to ask the other namespace
// written by how.
func elsewhereHint(err error, class, ns string, how func(other string) string) error {
	ce, ok := err.(*cim.Error)
	if !ok || ce.Code != cim.ErrInvalidClass {
		return err
	}
	for _, other := range []string{schema.Namespace, schema.InteropNamespace} {
		if strings.EqualFold(other, ns) {
			continue
		}
		if reg, e := schemaIn(other); e == nil {
			if c, e := reg.Class(class); e == nil {
				return &cim.Error{Code: ce.Code, Err: err,
					Description: fmt.Sprintf("%s (%s is a class of %s: %s)", ce.Description, c.Name, other, how(other))}
			}
		}
	}
	return err
}
