package mof

import (
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestFiles parses every .mof file of testdata and of the schema (when
// the schema's files are there) and checks that each formats back to the
// same classes.
func TestFiles(t *testing.T) {
	files := seedFiles(t)
	if len(files) == 0 {
		t.Skip("no .mof files")
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			f, err := ParseFile(filepath.Base(name), files[name])
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Classes) == 0 && len(f.Qualifiers) == 0 {
				t.Errorf("declares nothing")
			}
			again, err := ParseFile("formatted.mof", []byte(FormatFile(f)))
			if err != nil {
				t.Fatalf("Parse(Format): %v\n%s", err, FormatFile(f))
			}
			if again.Namespace != f.Namespace || !reflect.DeepEqual(normalize(again.Classes), normalize(f.Classes)) {
				t.Errorf("Parse(Format) differs:\n got %s\nwant %s", dump(again.Classes), dump(f.Classes))
			}
		})
	}
}
