//go:build linux

package fleetdb

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/cimsess/cimsess/access"
	"github.com/cimsess/cimsess/cim"
	"github.com/cimsess/cimsess/fleet/wire"
	"github.com/cimsess/cimsess/internal/testenv"
)

// startNATS starts an embedded NATS server with JetStream and the fleet's
// stream as a hub makes it.
func startNATS(tb testing.TB) (string, jetstream.JetStream) {
	tb.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: tb.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: wire.Stream, Subjects: []string{wire.EventSubjects},
		Storage: jetstream.FileStorage, MaxMsgSize: wire.MaxEventBytes}); err != nil {
		tb.Fatal(err)
	}
	return ns.ClientURL(), js
}

// agent plays one host's agent: it numbers its events and publishes them.
type agent struct {
	tb   testing.TB
	js   jetstream.JetStream
	host string
	seq  uint64
}

func (a *agent) publish(kind string, at time.Time, in, prev *cim.Instance) {
	a.tb.Helper()
	a.seq++
	w, err := wire.EncodeInstance(in)
	if err != nil {
		a.tb.Fatal(err)
	}
	tok := wire.HostToken(a.host)
	e := wire.Event{ID: wire.EventID(tok, "test", a.seq), Host: a.host, Seq: a.seq, Kind: kind, Time: at, Class: in.ClassName,
		Path: fmt.Sprintf(`linux_logonsession.logonid="%s"`, in.String("LogonId")), Instance: w}
	if prev != nil {
		p, _ := wire.EncodeInstance(prev)
		e.Previous = &p
	}
	data, _ := json.Marshal(e)
	m := nats.NewMsg(e.Subject())
	m.Data = data
	m.Header.Set(wire.MsgIDHeader, e.ID)
	if _, err := a.js.PublishMsg(context.Background(), m); err != nil {
		a.tb.Fatal(err)
	}
}

func logon(id, user, from string, start time.Time) *cim.Instance {
	in := cim.NewInstance("Linux_LogonSession")
	in.Set("LogonId", id).Set("UserName", user).Set("UserId", uint32(1000)).Set("TTY", "pts/"+id).
		Set("LogonType", uint32(10)).Set("LeaderProcessId", uint32(4000)).Set("StartTime", cim.NewDateTime(start)).Set("Status", "OK")
	if from != "" {
		in.Set("RemoteHost", from).Set("RemoteAddress", from)
	}
	return in
}

// session publishes a whole session: its start, and its end unless end is
// zero; ghost ends it as a ghost.
func (a *agent) session(id, user, from string, start, end time.Time, ghost bool) {
	in := logon(id, user, from, start)
	a.publish(wire.KindCreation, start, in, nil)
	if end.IsZero() {
		return
	}
	if ghost {
		lost := in.Clone().Set("Status", "Lost Comm")
		a.publish(wire.KindModification, end.Add(-time.Second), lost, in)
		in = lost
	}
	a.publish(wire.KindDeletion, end, in, nil)
}

// collect runs `cimsessd collect` until the test ends and returns the
// timeline's base URL.
func collect(t *testing.T, natsURL, db, users string, extra ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"collect", "--nats", natsURL, "--db", db, "--batch", "20", "--http", addr, "--users", users}, extra...)
	cmd := exec.Command(cimsessdBin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	var log testenv.SyncBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(&log, sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("collect's log:\n%s", log.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("collect exited:\n%s", log.String())
			}
			if strings.Contains(line, "collecting from") {
				return "http://" + addr + "/"
			}
		case <-deadline:
			t.Fatalf("collect did not start:\n%s", log.String())
		}
	}
}

func history(t *testing.T, db string, args ...string) string {
	t.Helper()
	args = append([]string{"history", "--db", db}, args...)
	cmd := exec.Command(cimsessBin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("cimsess %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

type row struct {
	Host, User, LogonId, How, RemoteAddress string
	End                                     *string
	StatusChanges                           []struct{ From, To string }
}

func historyJSON(t *testing.T, db string, args ...string) []row {
	t.Helper()
	var rows []row
	out := history(t, db, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return rows
}

func ids(rows []row) string {
	var s []string
	for _, r := range rows {
		s = append(s, r.LogonId)
	}
	return strings.Join(s, ",")
}

func TestCollectHistoryAndTimeline(t *testing.T) {
	db := newDB(t)
	natsURL, js := startNATS(t)
	users := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(users, "alice", []byte("alice-pw"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	base := collect(t, natsURL, db, users)

	now := time.Now().UTC().Truncate(time.Second)
	t0 := now.Add(-3 * time.Hour)
	web1 := &agent{tb: t, js: js, host: "web-1.example.com"}
	web2 := &agent{tb: t, js: js, host: "web-2.example.com"}
	db7 := &agent{tb: t, js: js, host: "DB-7"}
	web1.session("11", "deploy", "10.1.2.3", t0, t0.Add(40*time.Minute), false)
	web2.session("21", "deploy", "10.1.2.4", t0.Add(30*time.Minute), t0.Add(90*time.Minute), false)
	db7.session("71", "root", "203.0.113.9", t0.Add(60*time.Minute), t0.Add(150*time.Minute), true)
	db7.session("72", "postgres", "", t0.Add(20*time.Minute), time.Time{}, false) // still open
	web1.session("12", "alice", "10.1.2.3", t0.Add(100*time.Minute), t0.Add(110*time.Minute), false)

	waitFor(t, 30*time.Second, "5 sessions in the database", func() bool {
		return len(historyJSON(t, db)) == 5
	})
	// The queries of the security team.
	at := t0.Add(35 * time.Minute).Format(time.RFC3339)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "11,72,21,71,12"},
		{[]string{"--host", "web-*"}, "11,21,12"},
		{[]string{"--user", "deploy", "--since", "30d"}, "11,21"},
		{[]string{"--at", at}, "11,72,21"},
		{[]string{"--host", "db-7", "--at", at}, "72"},
		{[]string{"--from", "10.1.2.0/24", "--since", t0.Add(50 * time.Minute).Format(time.RFC3339)}, "21,12"},
		{[]string{"--from", "203.0.113.9"}, "71"},
		{[]string{"--since", t0.Add(95 * time.Minute).Format(time.RFC3339), "--until", t0.Add(105 * time.Minute).Format(time.RFC3339)}, "72,71,12"},
	} {
		if got := ids(historyJSON(t, db, tc.args...)); got != tc.want {
			t.Errorf("history %v: %s, want %s", tc.args, got, tc.want)
		}
	}
	rows := historyJSON(t, db, "--host", "db-7", "--user", "root")
	if len(rows) != 1 || rows[0].How != "ghost" || rows[0].Host != "db-7" || rows[0].RemoteAddress != "203.0.113.9" ||
		len(rows[0].StatusChanges) != 2 || rows[0].StatusChanges[1].To != "Lost Comm" {
		t.Errorf("the ghost: %+v", rows)
	}
	table := history(t, db, "--host", "web-1*")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "HOST ") ||
		!strings.Contains(lines[1], "web-1.example.com") || !strings.Contains(lines[1], "00:40") {
		t.Errorf("table:\n%s", table)
	}
	recs, err := csv.NewReader(strings.NewReader(history(t, db, "--user", "nobody", "-o", "csv"))).ReadAll()
	if err != nil || len(recs) != 1 || recs[0][0] != "Host" {
		t.Errorf("csv with no rows: %v %v", recs, err)
	}
	// A SQLite --db refuses the fleet's flags; a bad --at is a usage error.
	cmd := exec.Command(cimsessBin, "history", "--db", filepath.Join(t.TempDir(), "h.db"), "--host", "x", "--wtmp", "-")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "postgres://") {
		t.Errorf("--host with SQLite: %v %s", err, out)
	}
	cmd = exec.Command(cimsessBin, "history", "--db", db, "--at", "yesterday-ish")
	if out, err := cmd.CombinedOutput(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("bad --at: %v %s", err, out)
	}

	t.Run("timeline", func(t *testing.T) {
		timeline(t, base, db7, now)
	})
}

func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// artefactDir is where the screenshots go: $CIMSESS_TEST_ARTEFACTS when
// set, else the test's artifact directory (kept under -outputdir with
// go test -artifacts, removed after the test without it).
func artefactDir(t *testing.T) string {
	if d := os.Getenv("CIMSESS_TEST_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// browser opens the timeline at base in headless Chromium with HTTP
// Basic credentials ("user:password") and waits for its first bar.
func browser(t *testing.T, base, cred string) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := testenv.Chromium(t, 1400, 900, 90*time.Second)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
			return err
		}),
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(`#bars rect.bar`)),
	)
	if err != nil {
		cancel()
		t.Fatalf("loading the timeline: %v", err)
	}
	return ctx, cancel
}

// waitBars waits until the timeline shows at least n bars that match the
// CSS attribute selector sel (such as [data-user="alice"]) and returns
// their user, host and how.
func waitBars(t *testing.T, ctx context.Context, sel string, n int) []map[string]string {
	t.Helper()
	q := "#bars rect.bar" + sel
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf("document.querySelectorAll(%q).length >= %d", q, n),
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %d bars %s: %v", n, sel, err)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]string](
		fmt.Sprintf("[...document.querySelectorAll(%q)].map(b => ({user: b.dataset.user, host: b.dataset.host, how: b.dataset.how}))", q)))
	if err != nil {
		t.Fatal(err)
	}
	return bars
}

// screenshot keeps a full-page screenshot as a test artefact and logs
// its path.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artefactDir(t), name)
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
}

// timeline loads the page in headless Chromium, checks the bars from the
// DOM, opens a session's details, and sees a new session arrive live.
func timeline(t *testing.T, base string, db7 *agent, now time.Time) {
	ctx, cancel := browser(t, base, "alice:alice-pw")
	defer cancel()
	barsJS := `[...document.querySelectorAll('#bars rect.bar')].map(b => ({user: b.dataset.user, host: b.dataset.host, how: b.dataset.how}))`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#bars rect.bar').length >= 5`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for the bars: %v", err)
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]string](barsJS))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range bars {
		got[b["user"]+"@"+b["host"]] = b["how"]
	}
	want := map[string]string{"deploy@web-1.example.com": "logout", "deploy@web-2.example.com": "logout", "root@db-7": "ghost",
		"postgres@db-7": "open", "alice@web-1.example.com": "logout"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("bar %s: %q, want %q (bars %v)", k, got[k], v, bars)
		}
	}
	lanes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.lane-label')].map(e => e.dataset.lane)`))
	if err != nil {
		t.Fatal(err)
	}
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.mark.ghost').length`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lanes, ",") != "db-7,web-1.example.com,web-2.example.com" || marks != 1 {
		t.Errorf("lanes %v, ghost marks %d", lanes, marks)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#bars rect.bar[data-user="root"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#details`)),
	)
	if err != nil {
		t.Fatalf("clicking a bar: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#details-changes').children.length > 0`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the details did not load: %v", err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#details-title`)))
	detail, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#details-table`)))
	if !strings.Contains(title, "root on db-7") || !strings.Contains(detail, "203.0.113.9") || !strings.Contains(detail, "ghost") {
		t.Errorf("details: %q\n%s", title, detail)
	}
	// Times say their zone: the browser's, as an offset.
	if !regexp.MustCompile(`Start\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|[+-]\d\d:\d\d)`).MatchString(detail) {
		t.Errorf("the start time says no zone:\n%s", detail)
	}
	// Live: a login now appears without a reload.
	db7.session("73", "latecomer", "10.9.9.9", now.Add(-time.Minute), time.Time{}, false)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#bars rect.bar[data-user="latecomer"]`))); err != nil {
		t.Fatalf("the live update did not show: %v", err)
	}
	screenshot(t, ctx, "timeline.png")
	// Without credentials: 401.
	resp, err := (&httpClient{}).get(base + "api/sessions")
	if err != nil || !strings.HasPrefix(resp, "401") {
		t.Errorf("no credentials: %q %v", resp, err)
	}
}

// httpClient is a minimal GET for the auth check.
type httpClient struct{}

func (httpClient) get(url string) (string, error) {
	resp, err := netHTTPGet(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b), nil
}

// TestHistoryWarnsOfGaps: an agent whose events 2 to 4 never came (its
// outbox was full) is named on history's stderr, once the gap has lasted
// (made old here in the database rather than waited for), when its host
// is asked for, and not when another host is.
func TestHistoryWarnsOfGaps(t *testing.T) {
	db := newDB(t)
	natsURL, js := startNATS(t)
	users := filepath.Join(t.TempDir(), "users")
	if err := access.AddUser(users, "alice", []byte("alice-pw"), true, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	collect(t, natsURL, db, users)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	lossy := &agent{tb: t, js: js, host: "gap-1.example.com"}
	fine := &agent{tb: t, js: js, host: "web-1.example.com"}
	lossy.session("1", "deploy", "", t0, time.Time{}, false) // number 1
	lossy.seq += 3                                           // 2 to 4 lost
	lossy.session("2", "deploy", "", t0.Add(time.Minute), t0.Add(2*time.Minute), false)
	fine.session("3", "deploy", "", t0, t0.Add(time.Minute), false)
	waitFor(t, 30*time.Second, "3 sessions in the database", func() bool { return len(historyJSON(t, db)) == 3 })
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE agent_seqs SET changed_at = changed_at - interval '1 hour',
		span0_at = span0_at - interval '1 hour', span1_at = span1_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	stderr := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cimsessBin, append([]string{"history", "--db", db}, args...)...)
		var out strings.Builder
		cmd.Stderr = &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("history %v: %v: %s", args, err, out.String())
		}
		return out.String()
	}
	agent := wire.HostToken(lossy.host) + ".test"
	want := "cimsess: warning: host gap-1.example.com: 3 events of agent " + agent + " never came (numbers 2 to 4: lost before they reached the stream"
	if got := stderr("--host", "gap-*"); !strings.Contains(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("history --host gap-*: stderr %q, want one warning %q…", got, want)
	}
	if got := stderr(); !strings.Contains(got, want) {
		t.Errorf("history: stderr %q, want %q…", got, want)
	}
	if got := stderr("--host", "web-1.example.com"); got != "" {
		t.Errorf("history --host web-1.example.com: stderr %q, want nothing", got)
	}
}
