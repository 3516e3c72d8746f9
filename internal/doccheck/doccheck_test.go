package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// moduleRoot returns the directory of the go.mod above the test's own.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// skipDir reports whether a directory holds no package of the module's
// own: test data, vendored code, hidden and underscore directories.
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func isGenerated(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "// Code generated ") && strings.HasSuffix(c.Text, " DO NOT EDIT.") {
				return true
			}
		}
	}
	return false
}

// TestDocComments checks every non-test .go file of the module, whatever
// its build constraints, and lists every package without a package doc
// comment and every exported name without a doc comment.
func TestDocComments(t *testing.T) {
	root := moduleRoot(t)
	byDir := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	fset := token.NewFileSet()
	for dir, files := range byDir {
		sort.Strings(files)
		rel, _ := filepath.Rel(root, dir)
		hasPkgDoc := map[string]bool{} // package name → documented
		for _, file := range files {
			f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: does not parse: %v", relTo(root, file), err))
				continue
			}
			if isGenerated(f) {
				if _, seen := hasPkgDoc[f.Name.Name]; !seen {
					hasPkgDoc[f.Name.Name] = false
				}
				continue
			}
			hasPkgDoc[f.Name.Name] = hasPkgDoc[f.Name.Name] || f.Doc != nil
			problems = append(problems, undocumented(fset, root, f)...)
		}
		for name, ok := range hasPkgDoc {
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: package %s has no package doc comment", filepath.ToSlash(rel), name))
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("%d doc comments are missing:\n\t%s", len(problems), strings.Join(problems, "\n\t"))
	}
}

func relTo(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// undocumented lists the exported top-level names of f without a doc
// comment: functions, methods of exported types, types, constants and
// variables (a comment on a parenthesised group covers its members).
func undocumented(fset *token.FileSet, root string, f *ast.File) []string {
	var out []string
	report := func(pos token.Pos, what, name string) {
		p := fset.Position(pos)
		out = append(out, fmt.Sprintf("%s:%d: %s %s has no doc comment", relTo(root, p.Filename), p.Line, what, name))
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil && len(d.Recv.List) > 0 {
				recv := receiverName(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue
				}
				report(d.Pos(), "method", recv+"."+d.Name.Name)
				continue
			}
			report(d.Pos(), "func", d.Name.Name)
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			grouped := d.Lparen.IsValid()
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						report(s.Pos(), "type", s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if !n.IsExported() || s.Doc != nil || d.Doc != nil {
							continue
						}
						// In a group, a trailing line comment is as good.
						if grouped && s.Comment != nil {
							continue
						}
						report(n.Pos(), d.Tok.String(), n.Name)
					}
				}
			}
		}
	}
	return out
}

// receiverName returns the type name of a method receiver: T, *T, T[P].
func receiverName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestUndocumented checks the checker on a file with every kind of name.
func TestUndocumented(t *testing.T) {
	src := `// Package p is documented.
package p

// A is documented.
func A() {}

func B() {}

func c() {}

// T is documented.
type T struct{}

type U int

type v int

func (T) M() {}

// N is documented.
func (*T) N() {}

func (v) W() {}

func (g G[X]) Gen() {}

// G is generic.
type G[X any] struct{}

// The group is documented.
const (
	C1 = 1
	C2 = 2
)

const (
	D1 = 1 // D1 has a line comment.
	// D2 has a doc comment.
	D2 = 2
	D3 = 3
	d4 = 4
)

var E, e = 1, 2

type (
	// H is documented.
	H int
	I int
)
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range undocumented(fset, "", f) {
		got = append(got, p[strings.Index(p, ": ")+2:])
	}
	want := []string{
		"func B has no doc comment",
		"type U has no doc comment",
		"method T.M has no doc comment",
		"method G.Gen has no doc comment",
		"const D3 has no doc comment",
		"var E has no doc comment",
		"type I has no doc comment",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("undocumented =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
