// The fleet timeline: sessions as bars on a time axis, one lane per host
// or per user. Plain SVG, no library. The server's API:
//   /api/sessions?from&to&host&user&group  sessions open in [from, to];
//     when cut, each lane's newest, and "cut" lists the lanes cut
//     (lane, shown, total)
//   /api/session?host&class&logonId&start  one session in full
//   /api/events  Server-Sent Events: "change" after each batch written
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const ROW_H = 18, AXIS_H = 26, BAR_H = 13;
  // The lane labels' width: 190 px, less in a narrow window.
  const labelW = () => Math.min(190, Math.max(60, Math.floor($("chart").clientWidth * 0.3)));
  // The plot's width: what the chart's box has, the labels aside (the SVG
  // was drawn at least 400 px wide, and a narrower box hid the newest).
  const plotWidth = () => Math.max(20, $("chart").clientWidth - labelW() - 8);
  // A lane's rows at most: one busy host's thousands of overlapping
  // sessions made a lane of thousands of rows, the other hosts 85,000 px
  // down.
  const MAX_ROWS = 20;
  // How far behind now a range's end may be and still be live (now moves
  // on while a request is answered; live updates slide it every 30 s).
  const LIVE_SLACK = 60e3;
  const $ = (id) => document.getElementById(id);
  const state = {
    from: Date.now() - 6 * 3600e3, to: Date.now(), group: "host", host: "", user: "",
    live: true, sessions: [], selected: null, truncated: false, cut: [], lanesLeftOut: false,
    // loaded: the range and time of the last answer; error: why the
    // last request failed, while the chart shows an older answer.
    loaded: null, error: "",
  };

  function el(name, attrs, text) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const pad = (n) => String(n).padStart(2, "0");
  function localInput(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  // Times are the browser's, and say so: its offset from UTC at that
  // instant ("UTC", "+05:30"), which also tells the two hours of a
  // daylight-saving fall-back apart.
  function offset(ms) {
    const m = -new Date(ms).getTimezoneOffset();
    if (m === 0) return "UTC";
    const a = Math.abs(m);
    return `${m < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  }
  function fmt(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset(ms)}`;
  }
  // iso isolates a name in a line of plain text (a tooltip; HTML has
  // <bdi>): a right-to-left override in a user name must not reverse
  // what follows it (the host, the times).
  const iso = (s) => "\u2068" + s + "\u2069";
  function fmtDur(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
    return d > 0 ? `${d}d ${pad(h % 24)}:${pad(m % 60)}` : `${pad(h)}:${pad(m % 60)}`;
  }
  function keyOf(s) { return [s.host, s.class, s.logonId, s.start].join("\u0000"); }

  function syncInputs() {
    $("from").value = localInput(state.from);
    $("to").value = localInput(state.to);
    $("zone").textContent = offset(state.to);
    $("group").value = state.group;
  }

  let loading = 0;
  async function load() {
    const q = new URLSearchParams({ from: new Date(state.from).toISOString(), to: new Date(state.to).toISOString() });
    if (state.host) q.set("host", state.host);
    if (state.user) q.set("user", state.user);
    q.set("group", state.group);
    const my = ++loading;
    try {
      const r = await fetch("api/sessions?" + q, { credentials: "same-origin" });
      if (!r.ok) throw new Error(r.status + " " + (await r.text()));
      const body = await r.json();
      if (my !== loading) return;
      state.loaded = { from: Date.parse(body.from), to: Date.parse(body.to), at: Date.now() };
      state.error = "";
      state.sessions = body.sessions;
      state.truncated = body.truncated;
      state.cut = body.cut || [];
      state.lanesLeftOut = !!body.lanesLeftOut;
      state.cutGroup = body.group || state.group;
      render();
      showCut();
    } catch (e) {
      if (my !== loading) return;
      state.error = e.message;
      showStatus();
    }
  }

  // ticks are the times of the axis's labels. From an hour up they are
  // the local calendar's (whole hours of local days, local midnights,
  // first days of months), so that across a daylight-saving change a tick
  // is still at the hour it names; shorter steps divide an hour, which
  // such a change keeps.
  function ticks(from, to, width) {
    const steps = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400].map((s) => s * 1000);
    const want = Math.max(2, Math.floor(width / 110));
    let step = steps[steps.length - 1];
    for (const s of steps) if ((to - from) / s <= want) { step = s; break; }
    const out = [];
    const add = (t) => { if (t >= from && t <= to && (!out.length || t > out[out.length - 1])) out.push(t); };
    const d0 = new Date(from);
    const days = function* () {
      for (let d = new Date(d0.getFullYear(), d0.getMonth(), d0.getDate()); +d <= to; d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) yield d;
    };
    if (step >= 30 * 86400e3) {
      for (let d = new Date(d0.getFullYear(), d0.getMonth(), 1); +d <= to; d = new Date(d.getFullYear(), d.getMonth() + 1, 1)) add(+d);
    } else if (step >= 86400e3) {
      const n = step / 86400e3;
      for (const d of days()) if (Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400e3) % n === 0) add(+d);
    } else if (step >= 3600e3) {
      const n = step / 3600e3;
      for (const d of days()) for (let h = 0; h < 24; h += n) add(+new Date(d.getFullYear(), d.getMonth(), d.getDate(), h));
    } else {
      const off = d0.getTimezoneOffset() * 60e3;
      for (let t = Math.ceil((from - off) / step) * step + off; t <= to; t += step) add(t);
    }
    return { list: out, step };
  }
  function tickLabel(t, step) {
    const d = new Date(t);
    if (step >= 86400e3) return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    if (step < 60e3) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    if (d.getHours() === 0 && d.getMinutes() === 0) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  // render draws the chart: the time axis in an SVG of its own that
  // stays at the window's top while the lanes scroll, the lanes below.
  function render() {
    const svg = $("svg"), axisSvg = $("axis");
    // A bar that had the focus keeps it when it is drawn anew (a key that
    // pans); one no longer drawn, or a "+N more", leaves it to the chart.
    const active = document.activeElement;
    const hadFocus = active && active.classList && active.classList.contains("bar") ? barKey(active) : null;
    const inChart = active && active !== $("chart") && $("chart").contains(active);
    const width = $("chart").clientWidth, lw = labelW(), plotW = plotWidth();
    const maxChars = Math.max(4, Math.floor((lw - 12) / 7));
    // Lanes, each packed into as many rows as its overlapping sessions
    // need, at most MAX_ROWS: the sessions that do not fit are counted
    // ("+N more"), not drawn.
    const now = Date.now();
    const byLane = new Map();
    for (const s of state.sessions) {
      const l = s[state.group] || "(none)";
      if (!byLane.has(l)) byLane.set(l, []);
      byLane.get(l).push(s);
    }
    const lanes = [...byLane.keys()].sort();
    const place = new Map(); // session key -> y; the sessions drawn
    let y = 0;
    const laneBoxes = [];
    for (const l of lanes) {
      const rowsEnd = [];
      let more = 0;
      const list = byLane.get(l).slice().sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      for (const s of list) {
        const st = Date.parse(s.start), en = s.end ? Date.parse(s.end) : now;
        let r = rowsEnd.findIndex((e) => e <= st);
        if (r < 0 && rowsEnd.length < MAX_ROWS) { r = rowsEnd.length; rowsEnd.push(en); }
        if (r < 0) { more++; continue; }
        rowsEnd[r] = en;
        place.set(keyOf(s), y + r * ROW_H);
      }
      const h = Math.max(more ? 2 : 1, rowsEnd.length) * ROW_H + 4;
      laneBoxes.push([l, y, h, more]);
      y += h;
    }
    const height = Math.max(y, ROW_H) + 4;
    const x = (t) => lw + ((t - state.from) / (state.to - state.from)) * plotW;
    // The plot's groups are clipped to the plot's area and moved as a
    // whole while a drag pans (see drag below).
    const plot = (target, id, h) => {
      const clip = el("clipPath", { id });
      clip.append(el("rect", { x: lw, y: 0, width: plotW + 8, height: h }));
      const defs = el("defs");
      defs.append(clip);
      const outer = el("g", { "clip-path": `url(#${id})` });
      const inner = el("g", { class: "plot" });
      outer.append(inner);
      target.append(defs, outer);
      return inner;
    };
    for (const [s, h] of [[svg, height], [axisSvg, AXIS_H]]) {
      s.setAttribute("width", width);
      s.setAttribute("height", h);
      s.setAttribute("viewBox", `0 0 ${width} ${h}`);
      s.replaceChildren();
    }
    // The lanes are a group of buttons (an img's content would be hidden
    // from assistive technology), the axis an image of the range.
    const range = `${fmt(state.from)} to ${fmt(state.to)}`;
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", `Sessions, one lane per ${state.group}, ${range}: a button for each session`);
    axisSvg.setAttribute("role", "img");
    axisSvg.setAttribute("aria-label", `Time axis, ${range}`);
    laneBoxes.forEach(([l, ly, h, more], i) => {
      svg.append(el("rect", { class: "lane-bg" + (i % 2 ? " odd" : ""), x: 0, y: ly, width, height: h }));
      svg.append(el("text", { class: "lane-label", x: 6, y: ly + 15, "data-lane": l }, l.length > maxChars ? l.slice(0, maxChars - 1) + "…" : l));
      if (more) {
        const tip = `${more} sessions of ${iso(l)} overlap too many others to draw: click to show ${iso(l)} alone`;
        const m = el("text", { class: "more", x: 6, y: ly + 15 + ROW_H, "data-lane": l, tabindex: 0, role: "button", "aria-label": tip },
          `+${more.toLocaleString("en")} more`);
        m.append(el("title", {}, tip));
        m.addEventListener("click", (ev) => { ev.stopPropagation(); filterLane(l, state.group === "user"); });
        m.addEventListener("keydown", (ev) => { if (activates(ev)) { ev.preventDefault(); filterLane(l, state.group === "user"); } });
        m.addEventListener("mousedown", (ev) => ev.stopPropagation());
        svg.append(m);
      }
    });
    const axis = plot(axisSvg, "clip-axis", AXIS_H);
    axis.classList.add("axis");
    const body = plot(svg, "clip-body", height);
    const tk = ticks(state.from, state.to, plotW);
    for (const t of tk.list) {
      const tx = x(t);
      body.append(el("line", { class: "grid", x1: tx, x2: tx, y1: 0, y2: height }));
      axis.append(el("line", { class: "grid", x1: tx, x2: tx, y1: AXIS_H - 6, y2: AXIS_H }));
      axis.append(el("text", { x: tx + 2, y: 14, "data-t": t }, tickLabel(t, tk.step)));
    }
    // Now, also a little after the range's end: a live range ends when
    // its request was made, before its answer is drawn.
    if (now > state.from && now <= state.to + LIVE_SLACK) {
      const nx = x(Math.min(now, state.to));
      body.append(el("line", { class: "now", x1: nx, x2: nx, y1: 0, y2: height }));
    }
    let refocus = null;
    const bars = el("g", { id: "bars" });
    for (const s of state.sessions) {
      const k = keyOf(s);
      if (!place.has(k)) continue;
      const start = Date.parse(s.start), end = s.end ? Date.parse(s.end) : now;
      const x0 = x(Math.max(start, state.from)), x1 = x(Math.min(end, state.to));
      const y = place.get(k) + (ROW_H - BAR_H) / 2 + 2;
      // An open session whose leader is gone (Status "Lost Comm") is a ghost already.
      const how = s.end ? (s.how || "logout") : s.status === "Lost Comm" ? "ghost" : "open";
      const r = el("rect", {
        class: "bar " + how + (state.selected === k ? " selected" : ""), x: x0, y, width: Math.max(2, x1 - x0), height: BAR_H, rx: 2,
        "data-host": s.host, "data-user": s.user, "data-logon-id": s.logonId, "data-class": s.class, "data-start": s.start, "data-how": how,
      });
      const tip = `${iso(s.user)}@${iso(s.host)} ${iso(s.tty || "")} from ${iso(s.remoteHost || "local")}\n${fmt(start)} – ${s.end ? fmt(end) + " (" + how + ")" : "still logged in"}, ${fmtDur(end - start)}`;
      r.append(el("title", {}, tip));
      r.setAttribute("tabindex", 0);
      r.setAttribute("role", "button");
      r.setAttribute("aria-label", tip.replace("\n", ", "));
      r.addEventListener("click", (ev) => { ev.stopPropagation(); if (!dragged) select(s); });
      r.addEventListener("keydown", (ev) => { if (activates(ev)) { ev.preventDefault(); select(s); } });
      bars.append(r);
      if (hadFocus === k) refocus = r;
      // Open is told by more than its hue: an arrow at its end.
      if (!s.end && end >= state.from) {
        bars.append(el("path", { class: "open-end", d: `M${x1 + 1},${y} l5,${BAR_H / 2} l-5,${BAR_H / 2} z`, "aria-hidden": "true" }));
      }
      if (s.end && (how === "ghost" || how === "crash" || how === "shutdown") && end <= state.to) {
        bars.append(el("text", { class: "mark " + how, x: x1 + 2, y: y + BAR_H - 2 }, how === "ghost" ? "?" : "✕"));
      }
    }
    body.append(bars);
    if (refocus) refocus.focus({ preventScroll: true });
    else if (inChart) $("chart").focus({ preventScroll: true });
    showStatus();
  }
  const barKey = (b) => [b.dataset.host, b.dataset.class, b.dataset.logonId, b.dataset.start].join("\u0000");
  // activates reports whether a key presses a button: Enter or Space.
  const activates = (ev) => ev.key === "Enter" || ev.key === " ";

  // showStatus says what the chart shows: the range and time of the
  // answer drawn, which is not the range of the inputs while a zoom or
  // pan waits for its answer, and is stale after a failed request.
  function showStatus() {
    $("chart").classList.toggle("stale", !!state.error);
    if (!state.loaded) {
      $("status").textContent = state.error ? "error: " + state.error : "loading…";
      return;
    }
    const hosts = new Set(state.sessions.map((s) => s.host)).size;
    const what = `${state.sessions.length} sessions${state.truncated ? " (not all: see below)" : ""} on ${hosts} host(s), ` +
      `${fmt(state.loaded.from)} – ${fmt(state.loaded.to)}`;
    $("status").textContent = state.error
      ? `error: ${state.error} — the chart is stale: ${what}, loaded at ${fmt(state.loaded.at).slice(11)}`
      : `${what}; loaded at ${fmt(state.loaded.at).slice(11)}`;
  }

  // showCut says which lanes an answer holds only some sessions of (each
  // lane keeps its newest, an equal share), with a button that shows one
  // lane alone.
  function showCut() {
    const box = $("cut");
    box.replaceChildren();
    box.hidden = !state.truncated;
    if (!state.truncated) return;
    const byUser = state.cutGroup === "user";
    const what = byUser ? "user" : "host";
    box.append(`More sessions than one answer holds: each ${what} keeps its newest. `);
    const shown = state.cut.slice(0, 8);
    shown.forEach((c, i) => {
      const b = document.createElement("bdi");
      b.textContent = c.lane || "(none)";
      box.append(i ? "; " : "", b, ` shows ${c.shown.toLocaleString("en")} of ${c.total.toLocaleString("en")} `);
      const only = document.createElement("button");
      only.type = "button";
      only.className = "only";
      only.textContent = `only this ${what}`;
      only.dataset.lane = c.lane;
      only.addEventListener("click", () => filterLane(c.lane, byUser));
      box.append(only);
    });
    if (state.cut.length > shown.length) box.append(`; and ${state.cut.length - shown.length} more ${what}s`);
    if (state.lanesLeftOut) box.append(`. Some ${what}s are not shown at all: filter by ${what}`);
    box.append(`. Filter by ${what} (the ${what} box above) to see one in full.`);
  }
  // filterLane shows one host's (or user's) lane alone.
  function filterLane(lane, byUser) {
    if (byUser) { state.user = lane; $("user").value = lane; } else { state.host = lane; $("host").value = lane; }
    load();
  }

  // select shows a session's details below the chart, scrolled into
  // view with the focus on their heading.
  async function select(s) {
    state.selected = keyOf(s);
    for (const b of document.querySelectorAll("#bars rect.bar.selected")) b.classList.remove("selected");
    for (const b of document.querySelectorAll("#bars rect.bar")) {
      if (b.dataset.host === s.host && b.dataset.class === s.class && b.dataset.logonId === s.logonId && b.dataset.start === s.start) b.classList.add("selected");
    }
    const q = new URLSearchParams({ host: s.host, class: s.class, logonId: s.logonId, start: s.start });
    const r = await fetch("api/session?" + q, { credentials: "same-origin" });
    if (!r.ok) { $("status").textContent = "error: " + r.status; return; }
    const d = await r.json();
    $("details").hidden = false;
    const bdi = (text) => { const b = document.createElement("bdi"); b.textContent = text; return b; };
    $("details-title").replaceChildren(bdi(d.user || "?"), " on ", bdi(d.host), ` — ${d.class} `, bdi(d.logonId));
    const rows = [["Host", d.host], ["User", d.user], ["UID", d.uid], ["TTY", d.tty], ["Remote host", d.remoteHost],
      ["Remote address", d.remoteAddress], ["Logon type", d.logonType], ["Leader PID", d.pid], ["Start", fmt(Date.parse(d.start))],
      ["End", d.end ? fmt(Date.parse(d.end)) : "still logged in"], ["How it ended", d.how || (d.end ? "logout" : "")], ["Status", d.status]];
    const props = (d.props && d.props.properties) || {};
    if (Object.keys(props).length) rows.push(["— instance —", "as its agent last sent it"]);
    for (const k of Object.keys(props).sort()) rows.push([k, typeof props[k] === "string" ? props[k] : JSON.stringify(props[k])]);
    const t = $("details-table");
    t.replaceChildren();
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === "") continue;
      const tr = document.createElement("tr");
      const th = document.createElement("th"); th.textContent = k;
      const td = document.createElement("td"); td.textContent = String(v); td.dir = "auto";
      tr.append(th, td); t.append(tr);
    }
    const c = $("details-changes");
    c.replaceChildren();
    for (const ch of d.changes || []) {
      const tr = document.createElement("tr");
      for (const v of [fmt(Date.parse(ch.at)), (ch.from || "(none)") + " → " + ch.to]) {
        const td = document.createElement("td"); td.textContent = v; tr.append(td);
      }
      c.append(tr);
    }
    const procs = props.Processes || props.ProcessIds || props.ProcessId;
    $("details-procs").textContent = procs ? (Array.isArray(procs) ? procs.join(", ") : String(procs)) : "not recorded for this session";
    $("details").scrollIntoView({ block: "start" });
    $("details-title").focus({ preventScroll: true });
  }

  // Zoom with the wheel around the cursor, pan by dragging.
  const chart = $("chart");
  chart.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = chart.getBoundingClientRect();
    const plotW = plotWidth();
    const f = Math.min(1, Math.max(0, (ev.clientX - rect.left - labelW()) / plotW));
    const at = state.from + f * (state.to - state.from);
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, at, f);
  }, { passive: false });
  // zoom scales the range by k around the time at, f of the way across.
  function zoom(k, at, f) {
    const span = Math.min(400 * 86400e3, Math.max(10e3, (state.to - state.from) * k));
    view(at - f * span, at - f * span + span);
  }
  // view shows [from, to] at once and loads it shortly; a range that
  // ends before now is not live.
  function view(from, to) {
    state.from = from; state.to = to;
    state.live = state.live && state.to >= Date.now() - 1000;
    $("live").checked = state.live;
    syncInputs(); render(); scheduleLoad(150);
  }
  // The keyboard: + and − zoom around the middle, ← and → pan by a tenth.
  chart.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const span = state.to - state.from;
    switch (ev.key) {
      case "+": case "=": zoom(0.8, state.from + span / 2, 0.5); break;
      case "-": case "_": case "\u2212": zoom(1.25, state.from + span / 2, 0.5); break;
      case "ArrowLeft": view(state.from - span / 10, state.to - span / 10); break;
      case "ArrowRight": view(state.from + span / 10, state.to + span / 10); break;
      default: return;
    }
    ev.preventDefault();
  });
  // A drag moves the plot as it is drawn, once a frame at most, and
  // draws it anew at its end: drawing thousands of bars at each
  // mousemove took seconds.
  let drag = null, dragged = false; // dragged: a click that ends a drag selects nothing
  chart.addEventListener("mousedown", (ev) => {
    if (ev.button !== 0) return;
    drag = { x: ev.clientX, dx: 0, from: state.from, to: state.to, frame: 0 };
    chart.classList.add("dragging");
  });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    drag.dx = ev.clientX - drag.x;
    if (drag.frame) return;
    drag.frame = requestAnimationFrame(() => {
      if (!drag) return;
      drag.frame = 0;
      const plotW = plotWidth();
      const dt = (drag.dx / plotW) * (drag.to - drag.from);
      state.from = drag.from - dt; state.to = drag.to - dt;
      for (const g of chart.querySelectorAll("g.plot")) g.setAttribute("transform", `translate(${drag.dx} 0)`);
      syncInputs();
    });
  });
  window.addEventListener("mouseup", () => {
    if (!drag) return;
    cancelAnimationFrame(drag.frame);
    const moved = drag.dx !== 0;
    if (moved) {
      const plotW = plotWidth();
      const dt = (drag.dx / plotW) * (drag.to - drag.from);
      state.from = drag.from - dt; state.to = drag.to - dt;
    }
    drag = null; chart.classList.remove("dragging");
    dragged = moved;
    setTimeout(() => { dragged = false; }, 0);
    if (moved) { state.live = false; $("live").checked = false; syncInputs(); render(); scheduleLoad(0); }
  });

  let timer = null;
  function scheduleLoad(ms) { clearTimeout(timer); timer = setTimeout(load, ms); }

  $("controls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = Date.parse($("from").value), t = Date.parse($("to").value);
    // A range picked (the inputs no longer what the page wrote) that ends
    // in the past leaves live mode, as a ?from=&to= address does: live, it
    // was replaced by the last hour within 30 s.
    const picked = $("from").value !== localInput(state.from) || $("to").value !== localInput(state.to);
    if (!isNaN(f) && !isNaN(t) && t > f) {
      state.from = f; state.to = t;
      if (picked && t < Date.now() - LIVE_SLACK) $("live").checked = false;
    }
    state.group = $("group").value; state.host = $("host").value.trim(); state.user = $("user").value.trim();
    state.live = $("live").checked;
    load();
  });
  $("group").addEventListener("change", () => { state.group = $("group").value; render(); load(); });
  $("live").addEventListener("change", () => { state.live = $("live").checked; if (state.live) slide(); });
  for (const b of document.querySelectorAll("[data-range]")) {
    b.addEventListener("click", () => {
      const span = Number(b.dataset.range) * 1000;
      state.to = Date.now(); state.from = state.to - span; state.live = true; $("live").checked = true;
      syncInputs(); load();
    });
  }
  // Closing the details gives the focus back to the session's bar.
  $("details-close").addEventListener("click", () => {
    const was = state.selected;
    $("details").hidden = true; state.selected = null;
    for (const b of document.querySelectorAll("#bars rect.bar.selected")) b.classList.remove("selected");
    const bar = [...document.querySelectorAll("#bars rect.bar")].find((b) => barKey(b) === was);
    (bar || $("chart")).focus();
  });
  window.addEventListener("resize", () => render());

  // Live: keep the window's end at now and reload when a batch touches it.
  function slide() {
    const span = state.to - state.from;
    state.to = Date.now(); state.from = state.to - span;
    syncInputs(); scheduleLoad(0);
  }
  setInterval(() => { if (state.live && !drag) slide(); }, 30e3);
  if (window.EventSource) {
    const es = new EventSource("api/events");
    es.addEventListener("change", (ev) => {
      let c;
      try { c = JSON.parse(ev.data); } catch (e) { return; }
      if (!state.live) return;
      const span = state.to - state.from;
      state.to = Math.max(Date.now(), state.to); state.from = state.to - span;
      if (Date.parse(c.to) >= state.from) { syncInputs(); scheduleLoad(300); }
    });
  }

  const params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) {
    const f = Date.parse(params.get("from")), t = Date.parse(params.get("to"));
    if (!isNaN(f) && !isNaN(t) && t > f) { state.from = f; state.to = t; state.live = false; $("live").checked = false; }
  }
  if (params.get("group") === "user") state.group = "user";
  state.host = params.get("host") || ""; state.user = params.get("user") || "";
  $("host").value = state.host; $("user").value = state.user;
  syncInputs();
  load();
})();
