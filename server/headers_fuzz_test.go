package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimxml"
)

// FuzzCIMHeaders reads the headers of a CIM-XML request that the server
// parses by hand: M-POST's Man (manPrefix), CIMObject (sameObject) and
// TE (acceptsTrailers). Whatever they hold, nothing panics; a prefix
// found is one or two digits, as the headers it prefixes need; and a
// CIMObject that is the target's own path names it.
func FuzzCIMHeaders(f *testing.F) {
	f.Add(`http://www.dmtf.org/cim/mapping.http/v1.0 ; ns=73`, `root%2Fcimv2:Win32_Process.Handle="4"`, "trailers, deflate;q=0.5")
	f.Add(`"http://www.dmtf.org/cim/mapping/http/v1.0";ns="07", other;ns=1`, `Win32_Process.Handle="4"`, "")
	f.Add(`x;ns=100`, `:::`, "trailers;q=0")
	target := cim.ObjectPath{ClassName: "Win32_Process", Keys: []cim.KeyBinding{{Name: "Handle", Value: "4"}}}
	call := &cimxml.Call{Namespace: "root/cimv2", Object: target}
	f.Fuzz(func(t *testing.T, man, object, te string) {
		if p, ok := manPrefix([]string{man}); ok {
			if n, err := strconv.Atoi(p); err != nil || n < 0 || len(p) > 2 {
				t.Fatalf("prefix %q from %q", p, man)
			}
		}
		_ = sameObject(object, call)
		r := &http.Request{Header: http.Header{"Te": {te}}}
		_ = acceptsTrailers(r)
		if strings.TrimSpace(object) == "" {
			return
		}
		if p, err := cim.ParseObjectPath(object); err == nil && p.Namespace == "" && p.Equal(target) && !sameObject(object, call) {
			t.Fatalf("%q names the target but is not taken for it", object)
		}
	})
}
