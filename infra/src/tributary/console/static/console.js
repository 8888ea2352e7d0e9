// Tributary console: polls the /api endpoints and draws them with plain DOM and inline SVG (no libraries).
"use strict";

const TOPOLOGY_MS = 2000;
const LETTERS_MS = 5000;
const SERIES_MS = 15000;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const s = (tag, attrs, ...children) => el("svg:" + tag, attrs, ...children);

function num(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  if (Math.abs(value) >= 1e4) return (value / 1e3).toFixed(1) + "k";
  return value.toFixed(digits);
}
const rate = (v) => (v === null || v === undefined ? "—/s" : num(v) + "/s");
const ms = (v) => (v === null || v === undefined ? "—" : v >= 10000 ? (v / 1000).toFixed(1) + " s" : num(v, 0) + " ms");

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  let body = null;
  try { body = await response.json(); } catch (e) { body = { detail: response.statusText }; }
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.msg}`).join("; ") : body.detail;
    throw new Error(detail || `HTTP ${response.status}`);
  }
  return body;
}

function showError(container, error) {
  container.replaceChildren(el("div", { class: "error", text: error.message || String(error) }));
}

function copyable(command) {
  return el("code", { class: "cmd", title: "click to copy", onclick: () => navigator.clipboard && navigator.clipboard.writeText(command) }, command);
}

// ---------------------------------------------------------------- topology

const COLUMNS = { producers: 12, ingest: 178, bus: 344, rule: 520, queue: 690, worker: 916, store: 1096 };
const BOX_W = 150, BOX_H = 62, ROW_H = 104, WIDTH = 1260, QUEUE_W = 200;

function box(x, y, { kind, title, lines, state = "", id, w = BOX_W, h = BOX_H }) {
  const g = s("g", { class: `node ${state}`, transform: `translate(${x},${y})`, id });
  g.append(s("rect", { class: "box", width: w, height: h, rx: 8 }));
  g.append(s("text", { class: "kind", x: 10, y: 14, text: kind }));
  const room = Math.floor((w - 16) / 7.6);
  const shown = title.length > room ? title.slice(0, room - 1) + "…" : title;
  g.append(s("text", { class: "title", x: 10, y: 30, text: shown }, s("title", { text: title })));
  lines.forEach((line, i) => {
    const t = s("text", { class: `metric ${line.cls || ""}`, x: 10, y: 46 + i * 13 });
    if (line.id) t.setAttribute("id", line.id);
    t.append(s("tspan", { class: "big", text: line.big }));
    if (line.rest) t.append(s("tspan", { text: " " + line.rest }));
    g.append(t);
  });
  return g;
}

function edge(x1, y1, x2, y2, flowing, cls = "") {
  const mid = (x1 + x2) / 2;
  return s("path", { class: `edge ${flowing ? "flow" : ""} ${cls}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
}

function badge(x, y, label, cls = "") {
  const g = s("g", { class: `badge ${cls}`, transform: `translate(${x},${y})` });
  g.append(s("rect", { width: label.length * 7 + 14, height: 15, rx: 7 }));
  g.append(s("text", { x: 7, y: 11, text: label }));
  return g;
}

function drawTopology(data) {
  const workers = data.workers;
  const rows = Math.max(workers.length, 1);
  const height = rows * ROW_H + 20;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": "pipeline topology" });
  const midY = height / 2 - BOX_H / 2;
  const ing = data.ingest;
  const flowing = (v) => typeof v === "number" && v > 0;
  const ingestState = ing.up === false ? "down" : (ing.server_errors_per_s > 0 ? "failing" : (flowing(ing.accepted_per_s) ? "busy" : "ok"));

  const edges = s("g"), nodes = s("g");
  svg.append(edges, nodes);
  nodes.append(box(COLUMNS.producers, midY, {
    kind: "producers", title: "HTTP clients", id: "hop-producers",
    lines: [{ big: rate(ing.requests_per_s), rest: "requests", id: "m-requests-rate" },
            { big: num(ing.rejected_total), rest: "rejected", cls: ing.rejected_per_s > 0 ? "warn" : "", id: "m-rejected-total" }],
  }));
  nodes.append(box(COLUMNS.ingest, midY, {
    kind: "ingest", title: ing.up === false ? "ingest (down)" : "ingest", state: ingestState, id: "hop-ingest",
    lines: [{ big: num(ing.accepted_total), rest: "accepted", id: "m-accepted-total" },
            { big: rate(ing.accepted_per_s), rest: ing.latency_ms !== null ? ms(ing.latency_ms) : "", id: "m-accepted-rate" }],
  }));
  const errs = (ing.client_errors_per_s || 0) + (ing.server_errors_per_s || 0);
  nodes.append(box(COLUMNS.bus, midY, {
    kind: "EventBridge bus", title: data.bus.name, id: "hop-bus",
    lines: [{ big: rate(data.bus.events_per_s), rest: "events" },
            { big: rate(errs), rest: "4xx/5xx", cls: ing.server_errors_per_s > 0 ? "bad" : (errs > 0 ? "warn" : "") }],
  }));
  edges.append(edge(COLUMNS.producers + BOX_W, midY + BOX_H / 2, COLUMNS.ingest, midY + BOX_H / 2, flowing(ing.requests_per_s)));
  edges.append(edge(COLUMNS.ingest + BOX_W, midY + BOX_H / 2, COLUMNS.bus, midY + BOX_H / 2, flowing(ing.accepted_per_s)));

  workers.forEach((w, i) => {
    const y = 10 + i * ROW_H;
    const cy = y + BOX_H / 2 - 8;
    const wk = w.worker, q = w.queue;
    const live = flowing(wk.processed_per_s);
    edges.append(edge(COLUMNS.bus + BOX_W, midY + BOX_H / 2, COLUMNS.rule, cy, flowing(data.bus.events_per_s)));
    const ruleState = w.rule.state === "ENABLED" ? "ok" : (w.rule.state ? "down" : "");
    nodes.append(box(COLUMNS.rule, y, {
      kind: "rule", title: w.service, state: ruleState, h: BOX_H - 16,
      lines: [{ big: (w.rule.state || "?").toLowerCase(), rest: w.consumes.length ? `${w.consumes.length} type${w.consumes.length > 1 ? "s" : ""}` : "" }],
    }));
    edges.append(edge(COLUMNS.rule + BOX_W, cy, COLUMNS.queue, cy, live || (q.visible > 0)));
    const qState = w.state === "backed_up" ? "backed_up" : (q.visible || q.in_flight ? "busy" : "ok");
    nodes.append(box(COLUMNS.queue, y, {
      kind: "SQS queue", title: q.name || "?", state: `${qState} ${w.hot ? "hot" : ""}`, id: `hop-queue-${w.service}`, w: QUEUE_W,
      lines: [{ big: num(q.visible), rest: "waiting", cls: w.state === "backed_up" ? "warn" : "", id: `m-queue-${w.service}` },
              { big: num(q.in_flight), rest: "in flight" + (w.drain_s ? ` · ${num(w.drain_s, 0)} s to drain` : "") }],
    }));
    if (w.hot) nodes.append(badge(COLUMNS.queue + QUEUE_W - 84, y - 8, "BACKED UP"));
    // the DLQ hangs under its queue
    const dy = y + BOX_H + 6;
    const depth = w.dlq.depth || 0;
    const dlq = s("g", { class: `dlq ${depth > 0 ? "full" : ""}`, transform: `translate(${COLUMNS.queue + 12},${dy})`, id: `hop-dlq-${w.service}` });
    dlq.append(s("rect", { class: "box", width: 146, height: 22, rx: 6 }));
    dlq.append(s("text", { x: 9, y: 15, id: `m-dlq-${w.service}`, text: `DLQ ${num(w.dlq.depth)}${depth > 0 ? " ✗" : ""}` }));
    nodes.append(dlq);
    edges.append(s("path", { class: "edge dead", d: `M${COLUMNS.queue + 6},${y + BOX_H} L${COLUMNS.queue + 6},${dy + 11} L${COLUMNS.queue + 12},${dy + 11}` }));
    edges.append(edge(COLUMNS.queue + QUEUE_W, cy, COLUMNS.worker, cy, live));
    const wState = w.state === "down" ? "down" : (w.state === "failing" ? "failing" : (live ? "busy" : "ok"));
    nodes.append(box(COLUMNS.worker, y, {
      kind: `worker${wk.replicas ? " ×" + wk.replicas : ""}`, title: w.service, state: wState, id: `hop-worker-${w.service}`,
      lines: [{ big: num(wk.processed_total), rest: "stored · " + rate(wk.processed_per_s), id: `m-processed-${w.service}` },
              { big: ms(wk.lag_ms), rest: "lag" + (wk.failed_per_s ? ` · ${rate(wk.failed_per_s)} failed` : ""), cls: wk.failed_per_s > 0 ? "bad" : "" }],
    }));
    if (w.slowest) nodes.append(badge(COLUMNS.worker + 78, y - 8, "SLOWEST", "slow"));
    edges.append(edge(COLUMNS.worker + BOX_W, cy, COLUMNS.store, cy, live));
    nodes.append(box(COLUMNS.store, y, {
      kind: "store", title: (w.store.names || []).slice(0, 2).join(" + ") || "store", w: 150,
      lines: [{ big: ms(wk.store_ms), rest: "per batch" }],
      h: BOX_H - 16,
    }));
  });
  $("topology").replaceChildren(svg);

  const stored = workers.reduce((a, w) => a + (w.worker.processed_per_s || 0), 0);
  const dead = workers.reduce((a, w) => a + (w.dlq.depth || 0), 0);
  const waiting = workers.reduce((a, w) => a + (w.queue.visible || 0), 0);
  $("summary").replaceChildren(
    el("span", {}, el("b", { id: "sum-accepted" }, rate(ing.accepted_per_s)), " accepted · "),
    el("span", {}, el("b", {}, rate(stored)), " stored across workers · "),
    el("span", {}, el("b", {}, num(waiting)), " waiting · "),
    el("span", {}, el("b", { id: "sum-dead" }, num(dead)), " dead letters"),
    ...(data.hot ? [el("span", {}, " · backed up: ", el("b", {}, data.hot))] : []),
  );
  const from = data.rates_from === "cloudwatch" ? ` · rates: CloudWatch, last 5 min${data.rates_error ? " (" + data.rates_error + ")" : ""}` : "";
  $("where").textContent = `${data.where} · bus ${data.bus.name}${from}`;
}

async function refreshTopology() {
  try {
    const data = await getJSON("/api/topology");
    drawTopology(data);
    $("topology-error").classList.add("hidden");
    $("pulse").className = "pulse live";
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    $("topology-error").textContent = error.message;
    $("topology-error").classList.remove("hidden");
    $("pulse").className = "pulse stale";
  }
}

// ---------------------------------------------------------------- dead letters

function drawLetters(data) {
  const box = $("dead-letters");
  const total = data.queues.reduce((a, q) => a + q.depth, 0);
  $("dlq-summary").replaceChildren(total
    ? el("span", {}, el("b", {}, num(total)), ` letters in ${data.queues.length} DLQ${data.queues.length > 1 ? "s" : ""} — peeked, not consumed`)
    : "every DLQ is empty");
  if (!data.queues.length) {
    box.replaceChildren(el("div", { class: "empty" }, "no dead letters"), ...data.errors.map((e) => el("div", { class: "error", text: e })));
    return;
  }
  box.replaceChildren(...data.queues.map((q) => {
    const rows = q.letters.map((le) => el("tr", { class: "letter" },
      el("td", {}, le.event_id ? el("a", { class: "event", href: "#trace-card", onclick: () => loadTrace(le.event_id) }, le.event_id) : el("span", { class: "muted" }, "(no event)")),
      el("td", { class: "mono" }, le.type || "—"),
      el("td", { class: "reason" }, le.reason || "—"),
      el("td", { class: "msg" }, el("b", {}, le.error_type || ""), le.error_message ? " " + le.error_message : ""),
      el("td", { class: "mono" }, le.attempts || "—"),
      el("td", { class: "mono" }, le.failed_at ? new Date(le.failed_at).toLocaleTimeString() : "—"),
      el("td", {}, le.redrive ? copyable(le.redrive) : ""),
    ));
    return el("div", { class: "dlq-block", id: `dlq-${q.service}` },
      el("h3", {}, el("span", {}, q.dlq), el("span", { class: "count" }, `${q.depth} letter${q.depth > 1 ? "s" : ""}`),
        el("span", { class: "muted" }, "move them back:"), copyable(q.redrive), el("span", { class: "muted" }, "or first"), copyable(q.dry_run)),
      el("table", {}, el("thead", {}, el("tr", {}, ["event", "type", "reason", "error", "attempts", "failed", "redrive this one"].map((h) => el("th", { text: h })))),
        el("tbody", {}, rows)));
  }));
}

async function refreshLetters() {
  try { drawLetters(await getJSON("/api/dead-letters")); } catch (error) { showError($("dead-letters"), error); }
}

// ---------------------------------------------------------------- alerts

function drawAlerts(data) {
  const alerts = data.alerts || [];
  const counts = {};
  alerts.forEach((a) => (counts[a.status] = (counts[a.status] || 0) + 1));
  $("alerts-summary").textContent = alerts.length
    ? `latest ${alerts.length}: ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")
    : "the notifier has sent nothing yet";
  if (!alerts.length) { $("alerts").replaceChildren(el("div", { class: "empty" }, "no alerts yet")); return; }
  $("alerts").replaceChildren(el("table", {},
    el("thead", {}, el("tr", {}, ["when", "rule", "severity", "status", "message", "channels"].map((h) => el("th", { text: h })))),
    el("tbody", {}, alerts.map((a) => el("tr", { class: "alert" },
      el("td", { class: "mono" }, a.created_at ? new Date(a.created_at).toLocaleTimeString() : "—"),
      el("td", { class: "mono" }, a.rule),
      el("td", { class: `sev ${a.severity}` }, a.severity || "—"),
      el("td", { class: `status ${a.status}` }, a.status),
      el("td", { class: "msg" }, a.message || a.subject || ""),
      el("td", { class: "mono" }, (a.sent || []).join(", ") || (a.channels || []).join(", ")),
    )))));
}

async function refreshAlerts() {
  try { drawAlerts(await getJSON("/api/alerts")); }
  catch (error) { $("alerts-summary").textContent = ""; showError($("alerts"), error); }
}

// ---------------------------------------------------------------- series chart

function niceTicks(min, max, count = 5) {
  if (min === max) { min -= 1; max += 1; }
  const step0 = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= step0);
  const ticks = [];
  const top = Math.ceil(max / step) * step;
  for (let v = Math.floor(min / step) * step; v <= top + step * 1e-9; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

function drawSeries(data) {
  const points = data.buckets.filter((b) => b.value !== null).map((b) => ({ t: Date.parse(b.start), v: b.value, n: b.count }));
  const holder = $("series-chart");
  if (!points.length) {
    holder.replaceChildren(el("div", { class: "empty", text: `no points for ${data.metric} in this range` }));
    return;
  }
  const W = 640, H = 260, L = 56, R = 14, T = 14, B = 30;
  const t0 = Date.parse(data.from), t1 = Date.parse(data.to);
  const vs = points.map((p) => p.v);
  const ticks = niceTicks(Math.min(...vs, data.agg === "count" || data.agg === "sum" ? 0 : Infinity), Math.max(...vs));
  const lo = ticks[0], hi = ticks[ticks.length - 1];
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo || 1)) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `series ${data.metric}` });
  svg.append(s("defs", {}, s("linearGradient", { id: "area", x1: 0, y1: 0, x2: 0, y2: 1 },
    s("stop", { offset: "0%", "stop-color": "#38bdf8", "stop-opacity": ".35" }), s("stop", { offset: "100%", "stop-color": "#38bdf8", "stop-opacity": "0" }))));
  const grid = s("g", { class: "grid" }), axis = s("g", { class: "axis" });
  ticks.forEach((v) => {
    grid.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    axis.append(s("text", { x: L - 6, y: y(v) + 3, "text-anchor": "end", text: num(v, Math.abs(hi - lo) < 10 ? 1 : 0) }));
  });
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const d = new Date(t);
    const label = (t1 - t0) > 2 * 86400e3 ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" }) : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    axis.append(s("text", { x: x(t), y: H - 10, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle", text: label }));
  }
  svg.append(grid, axis);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  svg.append(s("path", { class: "series-area", d: `${line} L${x(points[points.length - 1].t).toFixed(1)},${y(lo)} L${x(points[0].t).toFixed(1)},${y(lo)} Z` }));
  svg.append(s("path", { class: "series-line", d: line }));
  points.forEach((p) => svg.append(s("circle", { class: "series-dot", cx: x(p.t), cy: y(p.v), r: points.length > 60 ? 1.5 : 3 },
    s("title", { text: `${new Date(p.t).toLocaleString()}: ${num(p.v, 2)} ${data.units || ""} (${p.n} points)` }))));
  const filters = Object.entries(data.filters || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  holder.replaceChildren(svg, el("div", { class: "chart-note", id: "series-note" },
    `${data.agg} of ${data.metric}${data.units ? " (" + data.units + ")" : ""} per ${data.bucket}${filters ? " where " + filters : ""} — ${points.length} buckets, ${points.reduce((a, p) => a + p.n, 0)} points`));
}

function seriesQuery() {
  const params = new URLSearchParams();
  params.set("metric", $("series-metric").value.trim());
  params.set("bucket", $("series-bucket").value);
  params.set("agg", $("series-agg").value);
  const end = new Date();
  params.set("to", end.toISOString());
  params.set("from", new Date(end.getTime() - Number($("series-span").value) * 60000).toISOString());
  for (const pair of $("series-dims").value.split(/[,\s]+/).filter(Boolean)) {
    const [k, ...rest] = pair.split("=");
    if (k && rest.length) params.set(k.trim(), rest.join("=").trim());
  }
  return params;
}

async function loadSeries() {
  if (!$("series-metric").value.trim()) return;
  try { drawSeries(await getJSON("/api/series?" + seriesQuery())); } catch (error) { showError($("series-chart"), error); }
}

// ---------------------------------------------------------------- graph

const PALETTE = ["#38bdf8", "#f59e0b", "#34d399", "#a78bfa", "#f472b6", "#facc15", "#fb7185", "#2dd4bf", "#c084fc"];

function drawGraph(data) {
  const W = 640, H = 380, cx = W / 2 - 60, cy = H / 2;
  const labels = [...new Set(data.nodes.map((n) => n.label))];
  const color = (label) => PALETTE[labels.indexOf(label) % PALETTE.length];
  const byHop = {};
  data.nodes.forEach((n) => (byHop[n.hops] = byHop[n.hops] || []).push(n));
  const maxHop = Math.max(...data.nodes.map((n) => n.hops));
  const pos = {};
  Object.entries(byHop).forEach(([hop, nodes]) => {
    const r = Number(hop) === 0 ? 0 : (Number(hop) / Math.max(maxHop, 1)) * (H / 2 - 34);
    nodes.forEach((n, i) => {
      const a = (2 * Math.PI * i) / nodes.length + Number(hop) * 0.4 - Math.PI / 2;
      pos[n.id] = [cx + r * 1.35 * Math.cos(a), cy + r * Math.sin(a)];
    });
  });
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `neighbourhood of ${data.node.id}` });
  const edges = s("g");
  data.edges.forEach(([a, b]) => pos[a] && pos[b] && edges.append(s("line", { class: "gedge", x1: pos[a][0], y1: pos[a][1], x2: pos[b][0], y2: pos[b][1] })));
  const nodes = s("g");
  data.nodes.forEach((n) => {
    const [x, y] = pos[n.id];
    const g = s("g", { class: `gnode ${n.hops === 0 ? "center" : ""}`, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      onclick: () => { $("graph-node").value = n.id; loadGraph(); } });
    g.append(s("circle", { r: n.hops === 0 ? 11 : 7, fill: color(n.label) }, s("title", { text: `${n.id} (${n.label}), ${n.hops} hop${n.hops === 1 ? "" : "s"}` })));
    if (data.nodes.length <= 40 || n.hops <= 1) g.append(s("text", { x: 10, y: 4, text: n.id.length > 26 ? n.id.slice(0, 25) + "…" : n.id }));
    nodes.append(g);
  });
  const legend = s("g", { class: "glegend", transform: `translate(${W - 120},14)` });
  labels.forEach((label, i) => {
    legend.append(s("circle", { cx: 6, cy: i * 18 + 6, r: 5, fill: color(label) }));
    legend.append(s("text", { x: 16, y: i * 18 + 10, text: label }));
  });
  svg.append(edges, nodes, legend);
  const props = Object.entries(data.node.properties || {}).slice(0, 6).map(([k, v]) => `${k}=${v}`).join(" · ");
  $("graph").replaceChildren(svg, el("div", { class: "chart-note", id: "graph-note" },
    `${data.node.id} (${data.node.label}) — ${data.nodes.length - 1} nodes within ${data.depth} hop${data.depth > 1 ? "s" : ""}${data.truncated ? " (first ones only)" : ""}${props ? " — " + props : ""}`));
}

async function loadGraph() {
  const params = new URLSearchParams({ node: $("graph-node").value.trim(), depth: $("graph-depth").value });
  if ($("graph-rel").value.trim()) params.set("rel", $("graph-rel").value.trim());
  try { drawGraph(await getJSON("/api/graph?" + params)); } catch (error) { showError($("graph"), error); }
}

// ---------------------------------------------------------------- trace waterfall

// A worker makes the same call once per batch it handled: show each kind once, with a count and a total.
function groupCalls(calls) {
  const groups = new Map();
  for (const c of calls) {
    const key = `${c.name}.${c.operation}`;
    const g = groups.get(key) || { key, n: 0, ms: 0, errors: [] };
    g.n += 1; g.ms += c.duration_ms;
    if (c.error) g.errors.push(c.error);
    groups.set(key, g);
  }
  return [...groups.values()];
}

function drawTrace(data) {
  const hops = data.hops;
  const end = Math.max(...hops.map((h) => h.start_ms + h.duration_ms), 1);
  const pct = (v) => `${((v / end) * 100).toFixed(2)}%`;
  const rows = hops.map((h) => el("div", { class: "wf-row" },
    el("div", { class: "wf-name" }, h.service, el("small", {}, h.via ? `under ${h.parent} › ${h.via}` : (h.parent ? `under ${h.parent}` : "first hop"))),
    el("div", { class: "wf-track" }, el("div", { class: `wf-bar ${h.outcome || ""}`, style: `left:${pct(h.start_ms)};width:${pct(Math.max(h.duration_ms, end / 400))}`, title: `${h.outcome || ""} ${h.errors.join("; ")}` })),
    el("div", { class: "wf-time" }, `+${num(h.start_ms, 0)} · ${num(h.duration_ms)} ms`),
    el("div", { class: "wf-calls" },
      h.outcome ? el("span", {}, h.outcome) : null,
      ...groupCalls(h.calls).map((c) => el("span", { class: c.errors.length ? "err" : "" },
        `${c.key}${c.n > 1 ? " ×" + c.n : ""} ${num(c.ms)} ms${c.errors.length ? " ✗ " + c.errors[0] : ""}`)),
      ...h.errors.map((e) => el("span", { class: "err" }, e))),
  ));
  $("trace").replaceChildren(el("div", { class: "wf-axis" }, el("div", {}, "hop"), el("div", {}, el("span", {}, "0 ms"), el("span", {}, `${num(end, 0)} ms`)), el("div", {})), ...rows);
  $("trace-summary").replaceChildren(el("span", {}, el("b", {}, data.event_id), ` — ${hops.length} hops in ${ms(end)}, trace ${[...new Set(hops.map((h) => h.trace_id))].join(", ")}`));
}

async function loadTrace(eventId) {
  if (eventId) $("trace-event").value = eventId;
  const id = $("trace-event").value.trim();
  if (!id) return;
  try { drawTrace(await getJSON("/api/trace/" + encodeURIComponent(id))); } catch (error) { $("trace-summary").textContent = ""; showError($("trace"), error); }
}

// ---------------------------------------------------------------- wiring

function fromQuery() {
  const q = new URLSearchParams(location.search);
  const set = (id, key) => q.has(key) && ($(id).value = q.get(key));
  set("series-metric", "metric"); set("series-dims", "dims"); set("series-span", "span"); set("series-bucket", "bucket"); set("series-agg", "agg");
  set("graph-node", "node"); set("graph-depth", "depth"); set("trace-event", "trace");
  return q;
}

function every(ms, fn) {
  let running = false;
  const tick = async () => { if (running) return; running = true; try { await fn(); } finally { running = false; } };
  tick();
  return setInterval(tick, ms);
}

document.addEventListener("DOMContentLoaded", () => {
  const q = fromQuery();
  $("series-form").addEventListener("submit", (e) => { e.preventDefault(); loadSeries(); });
  $("graph-form").addEventListener("submit", (e) => { e.preventDefault(); loadGraph(); });
  $("trace-form").addEventListener("submit", (e) => { e.preventDefault(); loadTrace(); });
  every(TOPOLOGY_MS, refreshTopology);
  every(LETTERS_MS, refreshLetters);
  every(LETTERS_MS, refreshAlerts);
  every(SERIES_MS, loadSeries);
  loadGraph();
  if (q.has("trace")) loadTrace();
});
