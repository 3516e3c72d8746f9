package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cimsess/cimsess/fleethistory"
)

// TestGapWarnings: history names each agent with events that never came,
// its host escaped, and past ten only counts the others.
func TestGapWarnings(t *testing.T) {
	var gaps []fleethistory.Gap
	for i := 0; i < 12; i++ {
		gaps = append(gaps, fleethistory.Gap{Host: fmt.Sprintf("web-%d\x1b[2J", i), Agent: fmt.Sprintf("web-%d.a1", i), Missing: 3,
			Runs: []fleethistory.SeqRun{{From: 4, To: 6}}})
	}
	var b strings.Builder
	writeGapWarnings(&b, gaps)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 11 || lines[0] != `cimsess: warning: host web-0\x1b[2J: 3 events of agent web-0.a1 never came (numbers 4 to 6: lost before they reached the stream, by a full outbox on the host (see its log), or dropped by the stream's limits before a collector read them); the sessions or changes they told are not in the history` ||
		lines[10] != "cimsess: warning: and 2 more agents whose events never all came ('cimsess collect' logs each)" {
		t.Fatalf("warnings:\n%s", b.String())
	}
	b.Reset()
	if writeGapWarnings(&b, nil); b.Len() != 0 {
		t.Fatalf("warnings without gaps: %q", b.String())
	}
}
