package mof

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
)

// seedFiles are the .mof files FuzzParse starts from besides the table
// tests: this package's testdata and, when present, the schema's files.
func seedFiles(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*.mof", filepath.Join("..", "schema", "mof", "*.mof")} {
		names, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = b
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.src))
	}
	for _, tc := range errorCases {
		f.Add([]byte(tc.src))
	}
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	var rich strings.Builder
	for _, c := range richClasses(f) {
		rich.WriteString(Format(c))
	}
	f.Add([]byte(rich.String()))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseFile("fuzz.mof", src)
		if err != nil {
			if ce, ok := err.(*cim.Error); !ok || ce.Code != cim.ErrInvalidParameter {
				t.Fatalf("error %v is not a CIM_ERR_INVALID_PARAMETER *cim.Error", err)
			}
			return
		}
		out := FormatFile(file)
		again, err := ParseFile("formatted.mof", []byte(out))
		if err != nil {
			t.Fatalf("Parse(Format(…)) failed: %v\n%s", err, out)
		}
		if again.Namespace != file.Namespace {
			t.Fatalf("namespace %q came back as %q", file.Namespace, again.Namespace)
		}
		if !reflect.DeepEqual(normalize(again.Classes), normalize(file.Classes)) {
			t.Fatalf("Parse(Format(c)) != c:\n got %s\nwant %s\n%s", dump(again.Classes), dump(file.Classes), out)
		}
		if out2 := FormatFile(again); out2 != out {
			t.Fatalf("Format is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

// normalize replaces object path defaults by their text: an object path
// is equal to the one its text parses into, but not always field for
// field (ParseObjectPath trims, and reads key values by their form).
func normalize(cs []*cim.Class) []*cim.Class {
	out := make([]*cim.Class, len(cs))
	for i, c := range cs {
		cc := *c
		cc.Properties = append([]cim.Property(nil), c.Properties...)
		for j := range cc.Properties {
			cc.Properties[j].Default = normValue(cc.Properties[j].Default)
		}
		out[i] = &cc
	}
	return out
}

func normValue(v any) any {
	switch x := v.(type) {
	case cim.ObjectPath:
		return "path:" + x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normValue(e)
		}
		return out
	}
	return v
}
