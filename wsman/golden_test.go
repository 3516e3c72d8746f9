package wsman

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden responses of testdata/golden")

// generatedUUID matches the uuids the handler makes (lower-case, version
// 4), which differ from run to run; the requests' own are upper-case.
var generatedUUID = regexp.MustCompile(`uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

// TestGolden sends the requests of testdata/golden, written in the shapes
// of MS-WSMV's and DSP0226's message examples (WinRM's header set with
// DataLocale, SessionId, OperationID, an OptionSet; DMTF's wildcard URI
// with an association filter), and compares the responses with the files
// beside them (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	h := newTestHandler(t, 3, Config{ProductVersion: "golden"})
	reqs, _ := filepath.Glob("testdata/golden/*.req.xml")
	if len(reqs) == 0 {
		t.Fatal("no golden requests")
	}
	for _, req := range reqs {
		name := strings.TrimSuffix(filepath.Base(req), ".req.xml")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(req)
			if err != nil {
				t.Fatal(err)
			}
			code, resp := postRaw(h, admin, body)
			got := fmt.Sprintf("<!-- HTTP %d -->\n%s\n", code, generatedUUID.ReplaceAll(resp, []byte("uuid:GENERATED")))
			golden := strings.TrimSuffix(req, ".req.xml") + ".resp.xml"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("response differs from %s:\n got %s\nwant %s", golden, got, want)
			}
		})
	}
}
