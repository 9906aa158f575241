/**
 * The dashboard's page: one HTML document with its CSS and JavaScript
 * inline (no CDN, no other request but the dashboard's own API), allowed by
 * a Content-Security-Policy nonce. All text from the server is set with
 * `textContent`, never parsed as HTML.
 *
 * @module
 */

const PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ttlog dashboard</title>
<link rel="icon" href="data:,">
<style nonce="__NONCE__">
:root { color-scheme: dark; --bg: #0f1115; --panel: #171a21; --line: #262b36; --text: #d7dae0; --dim: #8a93a3;
  --trace: #8a8f98; --debug: #5aa0d8; --info: #3fb950; --warn: #d29922; --error: #f85149; --fatal: #db61a2; --logged: #c9d1d9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 16px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
#status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #30363d; }
#status.live { background: #1f6f3a; }
#status.down { background: #7d2a25; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; padding: 12px 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--dim); margin: 0 0 8px; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; }
.card .label { font-size: 11px; color: var(--dim); }
.card .value { font-size: 18px; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 11px; color: var(--dim); font-variant-numeric: tabular-nums; }
.bad .value { color: var(--error); }
.bar { height: 6px; background: #30363d; border-radius: 3px; margin-top: 4px; overflow: hidden; }
.bar > div { height: 100%; background: var(--info); width: 0; }
#rate-chart { width: 100%; height: 200px; display: block; background: #0b0d11; border: 1px solid var(--line); border-radius: 4px; }
#rate-chart .grid { stroke: #222833; stroke-width: 1; }
#rate-chart text { fill: var(--dim); font-size: 10px; }
#rate-chart polyline { fill: none; stroke-width: 1.6; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; font-size: 12px; margin-top: 6px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; background: currentColor; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { white-space: normal; word-break: break-all; }
.ok { color: var(--info); }
.failing { color: var(--error); }
.controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 8px; }
input, select, button { background: #0b0d11; color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; font: inherit; font-size: 13px; }
button { cursor: pointer; background: #21262d; }
button:hover { background: #30363d; }
button.primary { background: #1f6f3a; border-color: #2ea043; }
a { color: #58a6ff; }
.note { font-size: 12px; color: var(--dim); }
.rows { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; max-height: 420px; overflow: auto; background: #0b0d11; border: 1px solid var(--line); border-radius: 4px; padding: 4px 0; }
.row { display: flex; gap: 8px; padding: 0 8px; white-space: pre-wrap; word-break: break-word; }
.row:hover { background: #161b22; }
.row .t { color: var(--dim); flex: none; }
.row .l { flex: none; width: 42px; font-weight: 600; }
.row .g { color: #a5d6ff; flex: none; }
.row .m { flex: 1 1 auto; min-width: 0; }
.row .f { color: var(--dim); }
.lv-trace { color: var(--trace); } .lv-debug { color: var(--debug); } .lv-info { color: var(--info); }
.lv-warn { color: var(--warn); } .lv-error { color: var(--error); } .lv-fatal { color: var(--fatal); }
.hidden { display: none; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
</style>
</head>
<body>
<header>
  <h1>ttlog · <span id="service">…</span></h1>
  <span id="status">connecting</span>
  <span class="note" id="drain-mode"></span>
</header>
<main>
  <section class="wide" id="metrics-panel">
    <h2>Events per second</h2>
    <svg id="rate-chart" viewBox="0 0 720 200" preserveAspectRatio="none" data-samples="0" data-latest="0" role="img" aria-label="events per second by level"></svg>
    <div class="legend" id="legend"></div>
  </section>
  <section id="counters-panel">
    <h2>Counters</h2>
    <div class="cards" id="cards"></div>
  </section>
  <section id="sinks-panel">
    <h2>Sinks</h2>
    <table><thead><tr><th>sink</th><th>health</th><th class="num">written</th><th class="num">/s</th><th class="num">errors</th></tr></thead><tbody id="sinks"></tbody></table>
  </section>
  <section class="wide" id="tail-panel">
    <h2>Live tail</h2>
    <div class="controls">
      <label>level <select id="tail-level"><option value="">all</option></select></label>
      <input id="tail-target" placeholder="target (db, http…)" size="16">
      <input id="tail-text" placeholder="text in message or fields" size="24">
      <button id="tail-pause" type="button">Pause</button>
      <button id="tail-clear" type="button">Clear</button>
      <span class="note" id="tail-status"></span>
    </div>
    <div class="rows" id="tail-rows"></div>
  </section>
  <section class="wide" id="snapshots-panel">
    <h2>Snapshots</h2>
    <div class="controls">
      <input id="snapshot-reason" placeholder="reason (dashboard)" size="24" maxlength="80">
      <button id="snapshot-button" class="primary" type="button">Take snapshot</button>
      <span class="note" id="snapshot-message"></span>
    </div>
    <table><thead><tr><th>file</th><th>reason</th><th>taken</th><th class="num">size</th><th></th></tr></thead><tbody id="snapshot-list"></tbody></table>
    <div id="view-panel" class="hidden">
      <h2 id="view-title"></h2>
      <div class="controls">
        <label>level <select id="view-level"><option value="">all</option></select></label>
        <input id="view-target" placeholder="--target" size="12">
        <input id="view-grep" placeholder="--grep" size="14">
        <input id="view-where" placeholder="--where user.id=42 …" size="22">
        <input id="view-since" placeholder="--since 30s" size="10">
        <input id="view-until" placeholder="--until" size="10">
        <input id="view-last" type="number" min="1" max="100000" value="1000" title="--last">
        <button id="view-apply" type="button">Apply</button>
        <span class="note" id="view-status"></span>
      </div>
      <div class="rows" id="view-rows"></div>
    </div>
  </section>
</main>
<script nonce="__NONCE__">
(function () {
  "use strict";
  var LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];
  var TOP = { time: 1, level: 1, target: 1, msg: 1, service: 1, seq: 1 };
  var MAX_ROWS = 500, MAX_SAMPLES = 120, MAX_PAUSED = 2000;
  var $ = function (id) { return document.getElementById(id); };

  // The token: from ?token= (then kept for this tab and taken off the address bar).
  var params = new URLSearchParams(location.search);
  var token = params.get("token") || sessionStorage.getItem("ttlog-dashboard-token") || "";
  if (params.has("token")) {
    sessionStorage.setItem("ttlog-dashboard-token", token);
    params.delete("token");
    var rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  function withToken(url) {
    return token ? url + (url.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(token) : url;
  }
  function api(method, url, body) {
    var headers = {};
    if (token) headers.authorization = "Bearer " + token;
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) throw new Error(data.error || res.statusText);
          return data;
        });
      });
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(n) {
    if (n === null || n === undefined || isNaN(n)) return "–";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return Math.round(n * 10) % 10 === 0 ? String(Math.round(n)) : n.toFixed(1);
  }
  function bytes(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MiB";
    if (n >= 1024) return (n / 1024).toFixed(1) + " KiB";
    return n + " B";
  }
  function clock(ms) {
    var d = new Date(ms);
    return isNaN(d.getTime()) ? String(ms) : d.toISOString().slice(11, 23);
  }
  for (var i = 0; i < LEVELS.length; i++) {
    $("tail-level").appendChild(el("option", "", LEVELS[i])).value = LEVELS[i];
    $("view-level").appendChild(el("option", "", LEVELS[i])).value = LEVELS[i];
  }

  // One event as a row: time, level, target, message, fields.
  function renderValue(value) {
    if (typeof value === "string") return /[\s"=]/.test(value) || value === "" ? JSON.stringify(value) : value;
    return JSON.stringify(value);
  }
  function row(event) {
    var r = el("div", "row");
    r.dataset.level = event.level;
    r.appendChild(el("span", "t", clock(event.time)));
    r.appendChild(el("span", "l lv-" + event.level, String(event.level).toUpperCase()));
    if (event.target) r.appendChild(el("span", "g", event.target));
    var m = el("span", "m", event.msg);
    var fields = [];
    for (var key in event) if (!TOP[key]) fields.push(key + "=" + renderValue(event[key]));
    if (fields.length) { m.appendChild(document.createTextNode(" ")); m.appendChild(el("span", "f", fields.join(" "))); }
    r.appendChild(m);
    return r;
  }

  // The chart: events per second by level, and everything logged (dashed).
  var samples = [];
  var SERIES = LEVELS.concat(["logged"]);
  var svgNS = "http://www.w3.org/2000/svg";
  var chart = $("rate-chart");
  var lines = {};
  var grid = document.createElementNS(svgNS, "g");
  chart.appendChild(grid);
  var maxLabel = document.createElementNS(svgNS, "text");
  maxLabel.setAttribute("x", "4"); maxLabel.setAttribute("y", "12");
  chart.appendChild(maxLabel);
  SERIES.forEach(function (name) {
    var line = document.createElementNS(svgNS, "polyline");
    line.style.stroke = "var(--" + name + ")";
    line.setAttribute("id", "series-" + name);
    if (name === "logged") line.setAttribute("stroke-dasharray", "4 3");
    chart.appendChild(line);
    lines[name] = line;
    var key = el("span", "lv-" + name, name);
    key.id = "legend-" + name;
    $("legend").appendChild(key);
  });
  $("legend-logged").style.color = "var(--logged)";
  for (var g = 1; g < 4; g++) {
    var gl = document.createElementNS(svgNS, "line");
    gl.setAttribute("class", "grid"); gl.setAttribute("x1", "0"); gl.setAttribute("x2", "720");
    gl.setAttribute("y1", String(g * 50)); gl.setAttribute("y2", String(g * 50));
    grid.appendChild(gl);
  }
  function drawChart() {
    var max = 1;
    samples.forEach(function (s) { SERIES.forEach(function (name) { if (s[name] > max) max = s[name]; }); });
    max = max * 1.1;
    var step = 720 / (MAX_SAMPLES - 1);
    var offset = MAX_SAMPLES - samples.length;
    SERIES.forEach(function (name) {
      var points = [];
      samples.forEach(function (s, i) {
        if (s[name] === undefined) return;
        points.push(((offset + i) * step).toFixed(1) + "," + (200 - (s[name] / max) * 196).toFixed(1));
      });
      lines[name].setAttribute("points", points.join(" "));
    });
    maxLabel.textContent = fmt(max) + "/s";
    var last = samples[samples.length - 1] || {};
    var total = 0;
    LEVELS.forEach(function (name) {
      if (last[name] !== undefined) total += last[name];
      $("legend-" + name).textContent = name + " " + fmt(last[name]);
    });
    $("legend-logged").textContent = "all logged " + fmt(last.logged);
    chart.dataset.samples = String(samples.length);
    chart.dataset.latest = String(last.logged === undefined ? total : Math.max(total, last.logged));
  }

  // Counters and sinks.
  var cards = {};
  function card(id, label) {
    var c = el("div", "card");
    c.id = "card-" + id;
    c.appendChild(el("div", "label", label));
    var v = el("div", "value", "–"); c.appendChild(v);
    var s = el("div", "sub", ""); c.appendChild(s);
    $("cards").appendChild(c);
    cards[id] = { box: c, value: v, sub: s };
    return cards[id];
  }
  [["logged", "logged"], ["emitted", "emitted"], ["filtered", "recorded only"], ["dropped", "dropped"],
   ["lost", "lost"], ["pending", "pending"], ["ring", "ring fill"], ["drain", "drain pass p50 / p99"],
   ["passes", "drain passes"], ["dictionary", "dictionary"]].forEach(function (c) { card(c[0], c[1]); });
  var ringBar = el("div", "bar"); var ringFill = el("div"); ringBar.appendChild(ringFill);
  cards.ring.box.appendChild(ringBar);
  function showMetrics(frame) {
    var m = frame.metrics, r = frame.rates || {};
    $("service").textContent = frame.service;
    document.title = "ttlog · " + frame.service;
    $("drain-mode").textContent = m.worker ? "drain in a worker thread" : "drain on the caller's thread";
    ["logged", "emitted", "filtered", "dropped", "lost"].forEach(function (k) {
      cards[k].value.textContent = fmt(m[k]);
      cards[k].sub.textContent = frame.rates ? fmt(r[k]) + "/s" : "";
    });
    cards.dropped.box.classList.toggle("bad", m.dropped > 0);
    cards.lost.box.classList.toggle("bad", m.lost > 0);
    cards.pending.value.textContent = fmt(m.pending);
    cards.ring.value.textContent = (frame.ringFill * 100).toFixed(1) + "%";
    cards.ring.sub.textContent = bytes(m.ringUsed) + " of " + bytes(m.ringBytes) + ", high " + bytes(m.ringHighWater);
    ringFill.style.width = (frame.ringFill * 100).toFixed(1) + "%";
    cards.drain.value.textContent = m.drainBatchMsP50.toFixed(2) + " / " + m.drainBatchMsP99.toFixed(2);
    cards.drain.sub.textContent = "ms per pass";
    cards.passes.value.textContent = fmt(m.drainPasses);
    cards.passes.sub.textContent = m.workerRestarts ? m.workerRestarts + " worker restarts" : "";
    cards.dictionary.value.textContent = fmt(m.dictionaryEntries);
    cards.dictionary.sub.textContent = bytes(m.dictionaryBytes);
    var body = $("sinks");
    body.textContent = "";
    frame.sinks.forEach(function (s) {
      var tr = el("tr");
      tr.dataset.sink = s.name;
      tr.appendChild(el("td", "name", s.name));
      tr.appendChild(el("td", s.healthy ? "ok" : "failing", s.healthy ? "ok" : "failing (" + fmt(s.errorsPerSecond) + " errors/s)"));
      tr.appendChild(el("td", "num", fmt(s.written)));
      tr.appendChild(el("td", "num", fmt(s.writtenPerSecond)));
      tr.appendChild(el("td", "num" + (s.errors ? " failing" : ""), fmt(s.errors)));
      body.appendChild(tr);
    });
    if (frame.rates) {
      var sample = { logged: r.logged };
      if (frame.levels) LEVELS.forEach(function (name) { sample[name] = frame.levels[name]; });
      else sample.info = r.emitted;
      samples.push(sample);
      if (samples.length > MAX_SAMPLES) samples.shift();
      drawChart();
    }
    tailAttached = frame.tail.attached;
    tailSkipped = frame.tail.skippedPerSecond;
    showTailStatus();
  }

  // The live tail.
  var tailRows = $("tail-rows");
  var paused = false, waiting = [], shown = 0, dropped = 0, lapped = false, tailAttached = true, tailSkipped = 0;
  function showTailStatus() {
    var parts = [];
    if (!tailAttached) parts.push("no dashboardSink: pass one to createLogger's sinks and to dashboardHandler as tail");
    parts.push(shown + " shown");
    if (paused) parts.push("paused, " + waiting.length + " waiting");
    if (dropped) parts.push(dropped + " dropped (slow page)");
    if (tailSkipped) parts.push(fmt(tailSkipped) + "/s past the rate cap not shown");
    if (lapped) parts.push("some lines were missed");
    $("tail-status").textContent = parts.join(" · ");
  }
  function appendRows(container, events) {
    var stick = container.scrollTop + container.clientHeight >= container.scrollHeight - 4;
    var fragment = document.createDocumentFragment();
    events.forEach(function (e) { fragment.appendChild(row(e)); });
    container.appendChild(fragment);
    while (container.childElementCount > MAX_ROWS) container.removeChild(container.firstChild);
    if (stick) container.scrollTop = container.scrollHeight;
  }
  function showTail(events) {
    if (paused) {
      for (var i = 0; i < events.length; i++) waiting.push(events[i]);
      if (waiting.length > MAX_PAUSED) waiting.splice(0, waiting.length - MAX_PAUSED);
    } else {
      appendRows(tailRows, events);
      shown += events.length;
    }
    showTailStatus();
  }
  $("tail-pause").addEventListener("click", function () {
    paused = !paused;
    this.textContent = paused ? "Resume" : "Pause";
    if (!paused && waiting.length) { var w = waiting; waiting = []; showTail(w); }
    showTailStatus();
  });
  $("tail-clear").addEventListener("click", function () { tailRows.textContent = ""; shown = 0; showTailStatus(); });

  // The event stream: metrics and the tail, with the tail's filters.
  var source = null;
  function connect() {
    if (source) source.close();
    var q = new URLSearchParams();
    var level = $("tail-level").value, target = $("tail-target").value.trim(), text = $("tail-text").value;
    if (level) q.set("level", level);
    if (target) q.set("target", target);
    if (text) q.set("q", text);
    source = new EventSource(withToken("api/stream" + (q.toString() ? "?" + q : "")));
    source.onopen = function () { $("status").textContent = "live"; $("status").className = "live"; };
    source.onerror = function () { $("status").textContent = "reconnecting"; $("status").className = "down"; };
    source.addEventListener("metrics", function (e) { showMetrics(JSON.parse(e.data)); });
    source.addEventListener("tail", function (e) {
      var data = JSON.parse(e.data);
      dropped += data.dropped;
      if (data.lapped) lapped = true;
      showTail(data.events);
    });
  }
  var refilter = null;
  function onFilter() {
    clearTimeout(refilter);
    refilter = setTimeout(function () {
      tailRows.textContent = ""; waiting = []; shown = 0; lapped = false;
      connect();
    }, 250);
  }
  $("tail-level").addEventListener("change", onFilter);
  $("tail-target").addEventListener("input", onFilter);
  $("tail-text").addEventListener("input", onFilter);
  connect();

  // Snapshots.
  var current = null;
  function listSnapshots() {
    return api("GET", "api/snapshots").then(function (data) {
      var body = $("snapshot-list");
      body.textContent = "";
      if (!data.files.length) {
        var tr = el("tr"); var td = el("td", "note", "No snapshots in " + data.dir + " yet.");
        td.colSpan = 5; tr.appendChild(td); body.appendChild(tr);
      }
      data.files.forEach(function (f) {
        var tr = el("tr");
        tr.dataset.name = f.name;
        tr.appendChild(el("td", "name", f.name));
        tr.appendChild(el("td", "", (f.reason || "") + (f.trigger && f.trigger !== "manual" ? " (" + f.trigger + ")" : "")));
        tr.appendChild(el("td", "", new Date(f.time || f.mtime).toLocaleString()));
        tr.appendChild(el("td", "num", bytes(f.size)));
        var actions = el("td");
        var view = el("button", "view", "View");
        view.type = "button";
        view.addEventListener("click", function () { openSnapshot(f.name); });
        actions.appendChild(view);
        actions.appendChild(document.createTextNode(" "));
        var link = el("a", "download", "Download");
        link.href = withToken("api/snapshots/" + encodeURIComponent(f.name));
        link.setAttribute("download", f.name);
        actions.appendChild(link);
        tr.appendChild(actions);
        body.appendChild(tr);
      });
      return data;
    }).catch(function (error) { $("snapshot-message").textContent = String(error.message || error); });
  }
  $("snapshot-button").addEventListener("click", function () {
    var button = this;
    button.disabled = true;
    $("snapshot-message").textContent = "taking a snapshot…";
    api("POST", "api/snapshots", { reason: $("snapshot-reason").value.trim() })
      .then(function (taken) {
        $("snapshot-message").textContent = "wrote " + taken.name + " (" + bytes(taken.size) + ")" + (taken.warning ? ": " + taken.warning : "");
        $("snapshot-message").dataset.name = taken.name;
        return listSnapshots();
      })
      .catch(function (error) { $("snapshot-message").textContent = "failed: " + (error.message || error); })
      .then(function () { button.disabled = false; });
  });
  // --where conditions split on spaces, "quoted" when they hold one.
  function words(text) {
    var out = [], re = /"([^"]*)"|(\S+)/g, m;
    while ((m = re.exec(text)) !== null) out.push(m[1] !== undefined ? m[1] : m[2]);
    return out;
  }
  function openSnapshot(name) {
    current = name;
    $("view-panel").classList.remove("hidden");
    $("view-title").textContent = name;
    loadView();
  }
  function loadView() {
    if (!current) return;
    var q = new URLSearchParams();
    [["level", "view-level"], ["target", "view-target"], ["grep", "view-grep"], ["since", "view-since"],
     ["until", "view-until"], ["last", "view-last"]].forEach(function (p) {
      var v = $(p[1]).value.trim();
      if (v) q.set(p[0], v);
    });
    words($("view-where").value).forEach(function (w) { q.append("where", w); });
    $("view-status").textContent = "reading…";
    api("GET", "api/snapshots/" + encodeURIComponent(current) + "/events?" + q).then(function (data) {
      var rows = $("view-rows");
      rows.textContent = "";
      var events = data.lines;
      var fragment = document.createDocumentFragment();
      events.forEach(function (e) { fragment.appendChild(row(e)); });
      rows.appendChild(fragment);
      var meta = data.meta || {};
      var notes = [events.length + (data.more ? " newest" : "") + " of " + data.events + " events",
        "reason " + (meta.reason || "?"), "pid " + (meta.pid || "?"), meta.runtime ? meta.runtime + " " + (meta.runtimeVersion || "") : ""];
      if (data.truncatedAt !== undefined) notes.push("truncated at byte " + data.truncatedAt);
      if (data.error) notes.push("corrupt: " + data.error);
      if (data.undecodable) notes.push(data.undecodable + " undecodable");
      $("view-status").textContent = notes.filter(Boolean).join(" · ");
      $("view-rows").dataset.count = String(events.length);
    }).catch(function (error) {
      $("view-status").textContent = "error: " + (error.message || error);
      $("view-rows").textContent = "";
      $("view-rows").dataset.count = "0";
    });
  }
  $("view-apply").addEventListener("click", loadView);
  ["view-target", "view-grep", "view-where", "view-since", "view-until", "view-last"].forEach(function (id) {
    $(id).addEventListener("keydown", function (e) { if (e.key === "Enter") loadView(); });
  });
  $("view-level").addEventListener("change", loadView);
  listSnapshots();
  setInterval(listSnapshots, 10000);
})();
</script>
</body>
</html>
`;

/**
 * The page, with `nonce` on its inline style and script.
 *
 * @param nonce The Content-Security-Policy nonce of this response (base64).
 * @returns The HTML.
 *
 * @example
 * ```ts
 * import { dashboardPage } from "./page.ts";
 * import assert from "node:assert/strict";
 * const html = dashboardPage("abc123");
 * assert.match(html, /<script nonce="abc123">/);
 * assert.doesNotMatch(html, /src="https?:/);
 * ```
 */
export function dashboardPage(nonce: string): string {
  return PAGE.replaceAll("__NONCE__", nonce);
}
