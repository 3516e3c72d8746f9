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
	"github.com/chromedp/chromedp/kb"

	"github.com/cimsess/cimsess/fleethistory"
	"github.com/cimsess/cimsess/internal/testenv"
)

// The page's tests drive headless Chromium as e2e/fleetdb does, against
// the timeline served here over a store of this package's PostgreSQL.

// page is a timeline served on loopback, whose /api/sessions fails with
// 503 while failing is set.
type page struct {
	url     string
	h       *Handler
	failing atomic.Bool
}

func servePage(t *testing.T, s *fleethistory.Store) *page {
	t.Helper()
	p := &page{}
	h := New(s, nil)
	p.h = h
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
// height and the environment env (TZ=…), and waits for the page's first
// answer.
func chrome(t *testing.T, p *page, path string, width, height int, env ...string) context.Context {
	t.Helper()
	ctx, _ := testenv.Chromium(t, width, height, 120*time.Second, env...)
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
	all, open := busyFleet(now, 4686, time.Hour)
	apply(t, s, all, open)
}

// busyFleet is big-db with n sessions open since nine months ago, one
// every step, and 29 hosts (web-00 to web-28) of 40 sessions each in the
// last five hours, ended: the sessions and which of them are open.
func busyFleet(now time.Time, n int, step time.Duration) ([]fleethistory.Session, map[string]bool) {
	var all []fleethistory.Session
	open := map[string]bool{}
	old := now.Add(-270 * 24 * time.Hour)
	for i := range n {
		id := "big" + strconv.Itoa(i)
		all = append(all, session("big-db", id, "postgres", old.Add(time.Duration(i)*step)))
		open[id] = true
	}
	for hn := range 29 {
		host := fmt.Sprintf("web-%02d", hn)
		for i := range 40 {
			all = append(all, session(host, host+"-"+strconv.Itoa(i), "alice", now.Add(-5*time.Hour+time.Duration(i)*time.Minute)))
		}
	}
	return all, open
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

// TestPageBusyHost: one host of thousands of overlapping sessions no
// longer makes the page unusable. Its lane has at most 20 rows and says
// how many sessions it leaves out (it was 88,656 px tall, the other hosts
// 85,000 px down); the time axis stays in view as the page scrolls; a
// drag moves the drawn chart and draws it anew once, at its end (each
// mousemove drew it all, seconds each); a click on a bar far down the
// page brings its details into view with the focus on their heading.
func TestPageBusyHost(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	bigFleet(t, s, now)
	p := servePage(t, s)
	ctx := chrome(t, p, rangePath(now.Add(-6*time.Hour), now, ""), 1400, 900)
	if h := mustJS[float64](t, ctx, `document.getElementById("svg").getBoundingClientRect().height`); h > 1200 {
		t.Errorf("the chart is %v px tall", h)
	}
	more := mustJS[string](t, ctx, `(document.querySelector('.more[data-lane="big-db"]') || {firstChild: {}}).firstChild.textContent`)
	if more != "+3,820 more" {
		t.Errorf("big-db's lane says %q of the sessions it leaves out", more)
	}
	rows := mustJS[int](t, ctx, `new Set([...document.querySelectorAll('#bars rect.bar[data-host="big-db"]')].map(b => b.getAttribute("y"))).size`)
	if rows != 20 {
		t.Errorf("big-db's lane has %d rows, want 20", rows)
	}
	// The axis at the top of the window once the page is scrolled down.
	top := mustJS[float64](t, ctx, `window.scrollTo(0, document.body.scrollHeight); document.getElementById("axis").getBoundingClientRect().top`)
	if scrolled := mustJS[float64](t, ctx, `window.scrollY`); scrolled < 100 || top < -1 || top > 1 {
		t.Errorf("scrolled %v px, the axis at %v px from the window's top", scrolled, top)
	}
	mustJS[float64](t, ctx, `window.scrollTo(0, 0), 0`)

	// A drag of ten moves: the same chart moved, drawn anew at the end.
	x, y := 700.0, mustJS[float64](t, ctx, `document.getElementById("svg").getBoundingClientRect().top + 300`)
	before := mustJS[string](t, ctx, `window.barsBefore = document.getElementById("bars"); document.getElementById("from").value`)
	acts := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.Button("left"))}
	for i := 1; i <= 10; i++ {
		acts = append(acts, chromedp.MouseEvent(chromedp.MouseMoved, x+float64(20*i), y, chromedp.Button("left")))
	}
	start := time.Now()
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.querySelector("g.plot").getAttribute("transform") === "translate(200 0)"`)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("ten mousemoves of a drag took %v", took)
	}
	if same := mustJS[bool](t, ctx, `document.getElementById("bars") === window.barsBefore`); !same {
		t.Error("the chart was drawn anew during the drag")
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseReleased, x+200, y, chromedp.Button("left"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById("bars") !== window.barsBefore && !document.querySelector("g.plot").hasAttribute("transform")`)
	if after := mustJS[string](t, ctx, `document.getElementById("from").value`); after >= before {
		t.Errorf("a drag to the right moved the range from %s to %s", before, after)
	}
	if open := mustJS[bool](t, ctx, `!document.getElementById("details").hidden`); open {
		t.Error("the end of a drag on a bar opened its details")
	}

	// A click on the last lane's bar: the details in view, focused. (In
	// the page's own script: the answer of the drag's new range may draw
	// the chart anew between a query of the node and a click on it.)
	poll(t, ctx, `(() => { const b = document.querySelector('#bars rect.bar[data-host="web-28"]');
		if (!b) return false; b.dispatchEvent(new MouseEvent("click", {bubbles: true})); return true })()`)
	poll(t, ctx, `!document.getElementById("details").hidden && document.activeElement === document.getElementById("details-title")`)
	if top, vh := mustJS[float64](t, ctx, `document.getElementById("details-title").getBoundingClientRect().top`), mustJS[float64](t, ctx, `innerHeight`); top < 0 || top > vh-20 {
		t.Errorf("the details' heading is at %v px of a %v px window", top, vh)
	}
}

// TestPagePastRangeLeavesLive: a past range picked in the form and shown
// stays, live unchecked (it was live, the default, and replaced by the
// last hour within 30 s or at the next change a collector wrote); a Show
// that picks no range stays live.
func TestPagePastRangeLeavesLive(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	apply(t, s, []fleethistory.Session{session("web-1", "1", "alice", now.Add(-30*time.Hour)), session("web-1", "2", "bob", now.Add(-10*time.Minute))}, nil)
	p := servePage(t, s)
	ctx := chrome(t, p, "", 1400, 900)
	if live := mustJS[bool](t, ctx, `document.getElementById("live").checked`); !live {
		t.Fatal("the page is not live at first")
	}
	// Show with another host filter and the range as the page wrote it: still live.
	mustJS[bool](t, ctx, `document.getElementById("host").value = "web-*"; document.querySelector('#controls button[type=submit]').click(); true`)
	poll(t, ctx, `document.querySelectorAll("#bars rect.bar").length === 1`)
	if live := mustJS[bool](t, ctx, `document.getElementById("live").checked`); !live {
		t.Error("a Show of the filters only left live mode")
	}
	picked := mustJS[[]string](t, ctx, `(() => {
		const pad = (n) => String(n).padStart(2, "0");
		const local = (d) => d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
		const to = new Date(Date.now() - 29 * 3600e3), from = new Date(to - 2 * 3600e3);
		document.getElementById("from").value = local(from);
		document.getElementById("to").value = local(to);
		document.querySelector('#controls button[type=submit]').click();
		return [document.getElementById("from").value, document.getElementById("to").value];
	})()`)
	poll(t, ctx, `[...document.querySelectorAll("#bars rect.bar")].map(b => b.dataset.user).join() === "alice"`)
	if live := mustJS[bool](t, ctx, `document.getElementById("live").checked`); live {
		t.Error("a past range shown left the page live")
	}
	// A collector's change: a live page slid to now and rewrote the inputs.
	p.h.Publish([]fleethistory.Change{{MsgID: "x", Kind: fleethistory.Begin, Time: now, Session: session("web-1", "3", "carol", now)}})
	time.Sleep(2 * time.Second)
	got := mustJS[[]string](t, ctx, `[document.getElementById("from").value, document.getElementById("to").value]`)
	if len(got) != 2 || got[0][:16] != picked[0] || got[1][:16] != picked[1] {
		t.Errorf("the range picked %v became %v", picked, got)
	}
	if users := mustJS[string](t, ctx, `[...document.querySelectorAll("#bars rect.bar")].map(b => b.dataset.user).join()`); users != "alice" {
		t.Errorf("the chart of the past range shows %q", users)
	}
}

// TestPageStaleAfterAnError: after a request fails (PostgreSQL down, a
// 503), the chart drawn again (here for a resize) is marked stale and the
// status gives the range and time of the answer it shows; it said
// "updated" now with the range asked for, over the old sessions.
func TestPageStaleAfterAnError(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	apply(t, s, []fleethistory.Session{session("web-1", "1", "alice", now.Add(-3*time.Hour))}, nil)
	p := servePage(t, s)
	from, to := now.Add(-4*time.Hour), now.Add(-2*time.Hour)
	ctx := chrome(t, p, rangePath(from, to, ""), 1400, 900, "TZ=UTC")
	wantRange := from.UTC().Format("2006-01-02 15:04:05") + " UTC – " + to.UTC().Format("2006-01-02 15:04:05") + " UTC"
	if st := mustJS[string](t, ctx, `document.getElementById("status").textContent`); !strings.Contains(st, wantRange) || !strings.Contains(st, "loaded at") {
		t.Errorf("status %q, want the range %s", st, wantRange)
	}
	p.failing.Store(true)
	mustJS[bool](t, ctx, `document.getElementById("from").value = "2020-01-01T00:00"; document.getElementById("to").value = "2020-01-02T00:00";
		document.querySelector('#controls button[type=submit]').click(); true`)
	poll(t, ctx, `document.getElementById("status").textContent.startsWith("error: 503")`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.getElementById("svg").getAttribute("width") < 1300`)
	st := mustJS[string](t, ctx, `document.getElementById("status").textContent`)
	if !strings.HasPrefix(st, "error: 503") || !strings.Contains(st, "stale") || !strings.Contains(st, wantRange) || strings.Contains(st, "2020-01-01") {
		t.Errorf("status after a failed request and a new drawing: %q", st)
	}
	if stale := mustJS[bool](t, ctx, `document.getElementById("chart").classList.contains("stale")`); !stale {
		t.Error("the chart is not marked stale")
	}
	p.failing.Store(false)
	mustJS[bool](t, ctx, `document.querySelector('#controls button[type=submit]').click(); true`)
	poll(t, ctx, `!document.getElementById("chart").classList.contains("stale") && document.getElementById("status").textContent.includes("2020-01-01 00:00:00 UTC – 2020-01-02")`)
}

// TestPageAxis: in a 400 px window the chart is drawn as wide as its box
// (it was 400 px in a 366 px box, which hid the newest bars); a live view
// shows now (its line was never drawn, now being after the range's end by
// the time its answer came); across a daylight-saving change the day
// ticks are at local midnights (they were an hour off on one side).
func TestPageAxis(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	apply(t, s, []fleethistory.Session{session("web-1", "1", "alice", now.Add(-time.Hour)), session("web-2", "2", "bob", now.Add(-2*time.Hour))},
		map[string]bool{"1": true})
	p := servePage(t, s)
	ctx := chrome(t, p, "", 400, 800)
	poll(t, ctx, `document.querySelectorAll("#bars rect.bar").length === 2`)
	got := mustJS[[]float64](t, ctx, `(() => {
		const chart = document.getElementById("chart").getBoundingClientRect();
		const bar = document.querySelector('#bars rect.bar[data-user="alice"]').getBoundingClientRect();
		return [document.getElementById("svg").getBoundingClientRect().right, bar.right, chart.right];
	})()`)
	if got[0] > got[2]+0.5 || got[1] > got[2]-2 {
		t.Errorf("the chart's right edge at %v px, the open bar's at %v, its box's at %v", got[0], got[1], got[2])
	}
	if n := mustJS[int](t, ctx, `document.querySelectorAll("#svg line.now").length`); n != 1 {
		t.Errorf("%d lines of now in a live view", n)
	}

	// 2026-10-25 03:00 CEST is 02:00 CET.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	from, to := time.Date(2026, 10, 20, 12, 0, 0, 0, berlin), time.Date(2026, 10, 30, 12, 0, 0, 0, berlin)
	ctx = chrome(t, p, rangePath(from, to, ""), 1400, 900, "TZ=Europe/Berlin")
	ticks := mustJS[[]string](t, ctx, `[...document.querySelectorAll("#axis text[data-t]")].map(e => {
		const d = new Date(+e.dataset.t);
		return e.textContent + "@" + String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
	})`)
	if len(ticks) < 4 || ticks[0] >= "2026-10-25" || ticks[len(ticks)-1] <= "2026-10-25" {
		t.Fatalf("ticks %v, want days on both sides of the change", ticks)
	}
	for _, tk := range ticks {
		if !strings.HasSuffix(tk, "@00:00") {
			t.Errorf("ticks %v, want each at a local midnight", ticks)
			break
		}
	}
}

// TestPageKeyboard: the chart is usable without a mouse and tells open
// sessions by more than hue. Bars are buttons with a label, reached by
// Tab, and Enter or Space opens the details with the focus on their
// heading (a bar had no tabindex, role or label); + and − zoom, ← and →
// pan (mouse only before), a focused bar keeping the focus; the lanes and
// the axis have a role and a label; an open session's bar ends in an
// arrow (open and ended differed only in hue, 1.3:1).
func TestPageKeyboard(t *testing.T) {
	s := openStore(t)
	now := time.Now().Truncate(time.Second)
	apply(t, s, []fleethistory.Session{session("web-1", "1", "alice", now.Add(-time.Hour)), session("web-2", "2", "bob", now.Add(-2*time.Hour))},
		map[string]bool{"1": true})
	p := servePage(t, s)
	ctx := chrome(t, p, rangePath(now.Add(-3*time.Hour), now.Add(time.Hour), ""), 1400, 900)
	roles := mustJS[[]string](t, ctx, `[document.getElementById("svg"), document.getElementById("axis")].map(e => e.getAttribute("role") + ":" + e.getAttribute("aria-label"))`)
	if len(roles) != 2 || !strings.HasPrefix(roles[0], "group:Sessions") || !strings.HasPrefix(roles[1], "img:Time axis") {
		t.Errorf("the SVGs' roles and labels: %q", roles)
	}
	bars := mustJS[[]string](t, ctx, `[...document.querySelectorAll("#bars rect.bar")].map(b => b.getAttribute("tabindex") + " " + b.getAttribute("role") + " " + b.getAttribute("aria-label"))`)
	if len(bars) != 2 || !strings.HasPrefix(bars[0], "0 button \u2068bob\u2069@\u2068web-2\u2069") || !strings.HasPrefix(bars[1], "0 button \u2068alice\u2069@\u2068web-1\u2069") ||
		!strings.Contains(bars[1], "still logged in") {
		t.Errorf("the bars: %q", bars)
	}
	if n := mustJS[int](t, ctx, `document.querySelectorAll("#bars .open-end").length`); n != 1 {
		t.Errorf("%d open ends drawn, want alice's one", n)
	}
	// Tab from the chart to the first bar, then Enter.
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#chart")), chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if u := mustJS[string](t, ctx, `document.activeElement.dataset.user || document.activeElement.id`); u != "bob" {
		t.Fatalf("Tab from the chart focused %q, want bob's bar", u)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.activeElement === document.getElementById("details-title") && document.getElementById("details-title").textContent.startsWith("bob on web-2")`)
	// Space on alice's.
	mustJS[bool](t, ctx, `document.querySelector('#bars rect.bar[data-user="alice"]').focus(), true`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, `document.activeElement === document.getElementById("details-title") && document.getElementById("details-title").textContent.startsWith("alice on web-1")`)

	// Zoom and pan from a focused bar.
	span := func() (float64, float64) {
		v := mustJS[[]float64](t, ctx, `[Date.parse(document.getElementById("from").value), Date.parse(document.getElementById("to").value)]`)
		return v[0], v[1]
	}
	mustJS[bool](t, ctx, `document.querySelector('#bars rect.bar[data-user="alice"]').focus(), true`)
	f0, t0 := span()
	if err := chromedp.Do(ctx, chromedp.KeyEvent("+")); err != nil {
		t.Fatal(err)
	}
	f1, t1 := span()
	if !(t1-f1 < (t0-f0)*0.85) || f1 <= f0 || t1 >= t0 {
		t.Errorf("+ took [%v, %v] to [%v, %v], want a zoom in around the middle", f0, t0, f1, t1)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("-")); err != nil {
		t.Fatal(err)
	}
	if f2, t2 := span(); !(t2-f2 > (t1-f1)*1.15) {
		t.Errorf("- took [%v, %v] to [%v, %v], want a zoom out", f1, t1, f2, t2)
	}
	f2, t2 := span()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowLeft)); err != nil {
		t.Fatal(err)
	}
	if f3, t3 := span(); !(f3 < f2 && t3 < t2) {
		t.Errorf("← took [%v, %v] to [%v, %v], want earlier", f2, t2, f3, t3)
	}
	if u := mustJS[string](t, ctx, `document.activeElement.dataset.user || document.activeElement.id`); u != "alice" {
		t.Errorf("after the keys the focus is on %q, want alice's bar", u)
	}
}
