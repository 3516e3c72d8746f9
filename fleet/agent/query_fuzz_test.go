package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/cimom"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/provider/linux"
	"github.com/cimsess/cimsess/schema"
	"github.com/cimsess/cimsess/sysfile/utmp"
)

// queryHost makes an agent (not started) over a host of n ghost sessions
// with long user names, so that an answer of them takes several chunks.
func queryHost(tb testing.TB, n int) *Agent {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{"proc", "logind"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	recs := make([]utmp.Record, n)
	for i := range recs {
		recs[i] = utmp.Record{Type: utmp.UserProcess, PID: int32(100000 + i), Line: fmt.Sprintf("pts/%d", i),
			ID: fmt.Sprint(i), User: strings.Repeat("u", 31), Host: "192.0.2.7", Time: time.Unix(1_790_000_000+int64(i), 0)}
	}
	ut := filepath.Join(dir, "utmp")
	if err := utmp.WriteFile(ut, recs, utmp.LayoutFor("amd64")); err != nil {
		tb.Fatal(err)
	}
	om, err := cimom.New(schema.MustDefault(), cimom.Options{Host: "h1.example.com"}, linux.New(linux.Options{
		UtmpPath: ut, ProcRoot: filepath.Join(dir, "proc"), LogindRoot: filepath.Join(dir, "logind"), StatePath: "-"}))
	if err != nil {
		tb.Fatal(err)
	}
	return &Agent{cfg: Config{OM: om, Host: "h1.example.com"}}
}

// FuzzQuery runs whatever a query message holds as the agent does: it is
// refused as no query, left alone when its hosts glob leaves the host
// out, or answered; every answer is messages a client reads
// (wire.ParseAnswer), numbered from 0, the last alone marked last with
// the total of instances, each under wire.MaxChunkBytes of instances
// unless it holds one, an error one message with its CIM status code.
func FuzzQuery(f *testing.F) {
	a := queryHost(f, 2000)
	for _, s := range []string{
		`{"wql":"SELECT * FROM Win32_LogonSession"}`,
		`{"wql":"SELECT LogonId, UserName FROM Linux_LogonSession WHERE UserName LIKE 'u%'","hosts":"h1.*","timeout_ms":5000}`,
		`{"wql":"SELECT * FROM Win32_LogonSession","hosts":"db-*"}`,
		`{"wql":"SELECT * FROM Win32_LogonSession","hosts":"["}`,
		`{"wql":"ASSOCIATORS OF {Linux_LogonSession.LogonId=\"7\"}"}`,
		`{"wql":"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_Session'"}`,
		`{"wql":"SELECT * FROM NoSuchClass"}`,
		`{"wql":"SELECT FROM"}`,
		`{"wql":"SELECT * FROM Win32_LogonSession","timeout_ms":-1}`,
		`{"wql":"SELECT * FROM Win32_LogonSession","timeout_ms":9223372036854775807}`,
		`{"wql":7}`,
		`[]`,
		`not json`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		q, asked, err := queryFor(data, a.cfg.Host)
		if err == nil && !asked {
			return
		}
		if err == nil && (q.timeout <= 0 || q.timeout > maxQueryTime) {
			t.Fatalf("timeout %v outside (0, %v]", q.timeout, maxQueryTime)
		}
		var insts []*cim.Instance
		var props []string
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), min(q.timeout, 5*time.Second))
			insts, props, err = a.cfg.OM.ExecQuery(ctx, q.wql)
			cancel()
		}
		var msgs [][]byte
		a.answer(insts, props, err, func(b []byte) { msgs = append(msgs, b) })
		total := 0
		for i, m := range msgs {
			ans, perr := wire.ParseAnswer(m)
			if perr != nil {
				t.Fatalf("message %d of the answer does not read: %v", i, perr)
			}
			if ans.Chunk != i || ans.Last != (i == len(msgs)-1) || ans.Host != a.cfg.Host {
				t.Fatalf("message %d of %d: chunk %d, last %v, host %q", i, len(msgs), ans.Chunk, ans.Last, ans.Host)
			}
			if err != nil {
				if ans.Error == nil || ans.Error.Code != int(cim.CodeOf(err)) || len(msgs) != 1 {
					t.Fatalf("the error %v answered as %s", err, m)
				}
				continue
			}
			size := 0
			for _, in := range ans.Instances {
				b, _ := json.Marshal(in)
				size += len(b)
			}
			if len(ans.Instances) > 1 && size > wire.MaxChunkBytes {
				t.Fatalf("chunk %d holds %d bytes of %d instances, over %d", i, size, len(ans.Instances), wire.MaxChunkBytes)
			}
			total += len(ans.Instances)
			if ans.Last && ans.Total != total {
				t.Fatalf("the last chunk says %d instances, the chunks hold %d", ans.Total, total)
			}
		}
		if err == nil && total != len(insts) {
			t.Fatalf("%d instances answered of %d", total, len(insts))
		}
	})
}

// TestAnswerInChunks: the fuzz target's host answers SELECT * in several
// chunks, so that its checks of numbering and sizes are of a real split.
func TestAnswerInChunks(t *testing.T) {
	a := queryHost(t, 2000)
	insts, props, err := a.cfg.OM.ExecQuery(context.Background(), "SELECT * FROM Win32_LogonSession")
	if err != nil || len(insts) != 2000 {
		t.Fatalf("%d instances, %v", len(insts), err)
	}
	n := 0
	a.answer(insts, props, nil, func([]byte) { n++ })
	if n < 2 {
		t.Fatalf("the answer of 2,000 sessions took %d message(s)", n)
	}
}
