package timeline

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/testenv"
)

// The page's tests drive headless Chromium as e2e/fleetdb does, against
// the timeline served here over a store of this package's PostgreSQL.

// page is a timeline served on loopback, whose /api/sessions fails with
// 503 while failing is set.
type page struct {
	url     string
	failing atomic.Bool
}

func servePage(t *testing.T, s *fleethistory.Store) *page {
	t.Helper()
	p := &page{}
	h := New(s, nil)
	t.Cleanup(h.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.failing.Load() && r.URL.Path == "/api/sessions" {
			http.Error(w, "Service Unavailable: the fleet history is unavailable; retry later", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	p.url = srv.URL + "/"
	return p
}

// chrome opens path of p in headless Chromium with a window width by
// height, and waits for the page's first answer.
func chrome(t *testing.T, p *page, path string, width, height int) context.Context {
	t.Helper()
	chromium, err := testenv.LookTool("chromium")
	if err != nil {
		if testenv.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height)), chromedp.Navigate(p.url+path)); err != nil {
		t.Fatalf("loading the timeline: %v", err)
	}
	poll(t, ctx, `/ on \d+ (host|user)/.test(document.getElementById("status").textContent)`)
	return ctx
}

// poll waits until the expression is true.
func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		status, _ := js[string](ctx, `document.getElementById("status").textContent`)
		t.Fatalf("waiting for %s: %v (status %q)", expr, err, status)
	}
}

// js evaluates expr in the page.
func js[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

func mustJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := js[T](ctx, expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// rangePath is the page's path for the range [from, to].
func rangePath(from, to time.Time, more string) string {
	return "?from=" + url.QueryEscape(from.UTC().Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.UTC().Format(time.RFC3339)) + more
}

// bigFleet writes the fleet the reviewer saw: big-db with 4,686 sessions
// open for nine months, and 29 hosts of 40 sessions each in the last five
// hours, ended.
func bigFleet(t *testing.T, s *fleethistory.Store, now time.Time) {
	t.Helper()
	var all []fleethistory.Session
	open := map[string]bool{}
	old := now.Add(-270 * 24 * time.Hour)
	for i := range 4686 {
		id := "big" + strconv.Itoa(i)
		all = append(all, session("big-db", id, "postgres", old.Add(time.Duration(i)*time.Hour)))
		open[id] = true
	}
	for hn := range 29 {
		host := fmt.Sprintf("web-%02d", hn)
		for i := range 40 {
			all = append(all, session(host, host+"-"+strconv.Itoa(i), "alice", now.Add(-5*time.Hour+time.Duration(i)*time.Minute)))
		}
	}
	apply(t, s, all, open)
}

// TestPageNamesTheHostsCut: with one host's thousands of open sessions in
// the range, the page draws every host, names the host cut with its
// count (it said "the newest only: narrow the range", which did not help),
// and a button shows that host alone.
func TestPageNamesTheHostsCut(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	bigFleet(t, s, now)
	p := servePage(t, s)
	ctx := chrome(t, p, rangePath(now.Add(-6*time.Hour), now, ""), 1400, 900)
	lanes := mustJS[[]string](t, ctx, `[...document.querySelectorAll('.lane-label')].map(e => e.dataset.lane)`)
	if len(lanes) != 30 {
		t.Errorf("%d lanes, want 30: %v", len(lanes), lanes)
	}
	cut := mustJS[string](t, ctx, `document.getElementById("cut").hidden ? "" : document.getElementById("cut").textContent`)
	if !strings.Contains(cut, "big-db shows 3,840 of 4,686") || !strings.Contains(cut, "each host keeps its newest") {
		t.Errorf("the notice of the cut: %q", cut)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#cut button.only[data-lane="big-db"]`))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById("host").value === "big-db" && [...document.querySelectorAll('.lane-label')].map(e => e.dataset.lane).join() === "big-db"`)
}
