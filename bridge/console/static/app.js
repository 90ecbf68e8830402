"use strict";
// The console's pages: a hash router over the admin API (/v1/admin/). No build step, no library.
// Every value shown goes through text nodes or esc(); state-changing calls send X-CSRF-Token.

const API = "/v1/admin";
let me = {name: "", role: "viewer", csrf: null};
let live = null;  // the EventSource of the live tail, closed when leaving the page
let refresh = null;  // the overview's refresh timer, stopped when leaving the page
const REFRESH_MS = 5000;

const $page = () => document.getElementById("page");
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const when = (s) => (s ? new Date(s * 1000).toISOString().replace("T", " ").slice(0, 19) : "—");
const ms = (v) => (v == null ? "—" : `${Number(v).toFixed(1)} ms`);
const pct = (v) => (v == null ? "—" : `${(100 * v).toFixed(1)} %`);

function flash(text, kind = "info") {
  const box = document.getElementById("flash");
  box.textContent = text;
  box.className = kind;
}

async function api(path, options = {}) {
  const headers = {"Accept": "application/json"};
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET" && me.csrf) headers["X-CSRF-Token"] = me.csrf;
  const reply = await fetch(API + path, {
    method: options.method || "GET", headers, credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (reply.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  const body = reply.status === 204 ? {} : await reply.json().catch(() => ({}));
  if (!reply.ok) {
    const error = new Error(body.detail || `HTTP ${reply.status}`);
    error.status = reply.status;
    throw error;
  }
  return body;
}

async function act(path, body, done) {
  try {
    const result = await api(path, {method: "POST", body: body || {}});
    flash(done(result), "ok");
    route();
  } catch (e) {
    flash(`refused: ${e.message}`, "error");
  }
}

function table(columns, rows, rowClass = () => "") {
  const head = columns.map((c) => `<th>${esc(c[0])}</th>`).join("");
  const body = rows.map((r) => `<tr class="${rowClass(r)}">${columns.map((c) => `<td>${c[1](r)}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body || `<tr><td colspan="${columns.length}" class="empty">nothing here</td></tr>`}</tbody></table>`;
}

function bars(series, key, label) {
  const max = Math.max(1, ...series.map((b) => b[key]));
  const w = 12, h = 48;
  const rects = series.map((b, i) => {
    const bh = Math.round((b[key] / max) * h);
    return `<rect x="${i * (w + 2)}" y="${h - bh}" width="${w}" height="${bh}"><title>${esc(when(b.minute))}: ${b[key]}</title></rect>`;
  }).join("");
  return `<figure class="chart ${key}"><svg width="${series.length * (w + 2)}" height="${h}" role="img" aria-label="${esc(label)}">${rects}</svg><figcaption>${esc(label)} per minute, last 15 min</figcaption></figure>`;
}

function attemptsCell(attempts) {
  return attempts.map((a) => `<span class="attempt ${esc(a.outcome)}" data-outcome="${esc(a.outcome)}" title="${esc(a.error || "")}">${esc(a.destination)} #${esc(a.attempt)} ${esc(a.outcome)} ${a.status ?? ""} ${ms(a.latency_ms)}</span>`).join(" ");
}

// The [[statistics]] objects' latest figures; a statistic past one of its thresholds is marked.
function queues(rows) {
  if (!rows.length) return "";
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const breached = (r, n) => r.breached.some((t) => t.split(" ")[0] === n);
  const cell = (n) => (r) => (n in r.values ? `<span class="${breached(r, n) ? "bad" : ""}">${esc(r.values[n])}</span>` : "—");
  return `<h2>Queues</h2>` + table([["queue", (r) => esc(r.name)], ...names.map((n) => [n, cell(n)])], rows, () => "queue-row");
}

function subjectLink(subject) {
  return `<a href="#/timeline/${encodeURIComponent(subject)}">${esc(subject)}</a>`;
}

// -- pages --------------------------------------------------------------------------------------

const pages = {
  async overview() {
    const o = await api("/overview");
    $page().innerHTML = `<h1>Overview</h1>
      <section class="tiles">
        <div class="tile"><b>${o.agents.connected}</b> of ${o.agents.configured} agents connected${o.agents.failing ? `, <span class="bad">${o.agents.failing} failing</span>` : ""}</div>
        <div class="tile"><b>${o.events_per_s}</b> events/s</div>
        <div class="tile"><b>${o.deliveries_per_s}</b> deliveries/s</div>
        <div class="tile"><b>${o.failures_last_minute}</b> failed attempts (last minute)</div>
        <div class="tile"><b id="dlq-size">${o.dead_letters}</b> dead letters</div>
        <div class="tile"><b>${o.retries_scheduled}</b> retries scheduled</div>
        <div class="tile"><b>${o.destinations.disabled}</b> of ${o.destinations.configured} destinations disabled</div>
      </section>
      <section class="charts">${bars(o.series, "events", "events")}${bars(o.series, "delivered", "deliveries")}${bars(o.series, "failed", "failed attempts")}</section>
      ${queues(o.statistics)}
      ${o.recording ? "" : `<p class="warn">Recording is off ([console] record = false): no events or attempts are shown.</p>`}`;
    refresh = setTimeout(route, REFRESH_MS);
  },

  async agents() {
    const {agents} = await api("/agents");
    $page().innerHTML = `<h1>Agents</h1>` + table([
      ["agent", (a) => `<a href="#/agents/${encodeURIComponent(a.agent)}">${esc(a.agent)}</a>`],
      ["session", (a) => `<span class="state ${esc(a.session)}">${esc(a.session)}</span>`],
      ["lease holder", (a) => esc(a.lease_holder || "—")],
      ["last message", (a) => when(a.last_message_at)],
      ["events", (a) => esc(a.events ?? "—")],
      ["last error", (a) => esc(a.last_error || "")],
    ], agents, (a) => `agent-row ${a.session}`);
  },

  async agent(name) {
    const a = await api(`/agents/${encodeURIComponent(name)}`);
    const calls = Object.entries(a.calls).map(([s, v]) => `<li>${subjectLink(s)} <code>${esc(JSON.stringify(v))}</code></li>`).join("");
    const interactions = Object.entries(a.interactions).map(([s, v]) => `<li>${subjectLink(s)} <code>${esc(JSON.stringify(v))}</code></li>`).join("");
    $page().innerHTML = `<h1>Agent ${esc(a.agent)}</h1>
      <p>Session <span class="state ${esc(a.session)}">${esc(a.session)}</span>, held by <code>${esc(a.lease_holder || "nobody")}</code>,
      last message ${when(a.last_message_at)}${a.last_error ? `, <span class="bad">${esc(a.last_error)}</span>` : ""}</p>
      <h2>Current state</h2><pre>${esc(JSON.stringify(a.state, null, 2))}</pre>
      <h2>Calls</h2><ul>${calls || "<li>none</li>"}</ul>
      <h2>Interactions</h2><ul>${interactions || "<li>none</li>"}</ul>
      <h2>Recent events</h2>` + eventsTable(a.recent_events);
  },

  async events(query) {
    const params = new URLSearchParams(query || "");
    const fields = ["call_id", "interaction_id", "agent", "type", "webhook_id"];
    const form = fields.map((f) => `<label>${f.replace("_", " ")} <input id="q-${f}" name="${f}" value="${esc(params.get(f) || "")}"></label>`).join("");
    $page().innerHTML = `<h1>Events</h1><form id="search" class="search">${form}<button id="search-go" type="submit">Search</button></form><div id="results">searching…</div>`;
    document.getElementById("search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const f of fields) { const v = document.getElementById(`q-${f}`).value.trim(); if (v) q.set(f, v); }
      location.hash = `#/events?${q}`;
    });
    const {events} = await api(`/events?${params}`);
    document.getElementById("results").innerHTML = eventsTable(events);
  },

  async timeline(subject) {
    const t = await api(`/timeline?subject=${encodeURIComponent(subject)}`);
    const items = t.events.map((e) => `<li class="timeline-item">
        <div><b>${esc(e.type)}</b> <span class="muted">seq ${esc(e.sequence)} · ${esc(e.time)} · ${esc(e.agent)} · webhook-id <code>${esc(e.event_id)}</code></span></div>
        <div class="attempts">${attemptsCell(e.attempts)}</div>
        <details><summary>event</summary><pre>${esc(JSON.stringify(e.event, null, 2))}</pre></details></li>`).join("");
    $page().innerHTML = `<h1>Timeline of ${esc(subject)}</h1>
      <p class="muted">GWS notification → event (the bridge's time) → each delivery attempt, in sequence order.</p>
      <ol class="timeline">${items || "<li>no recorded events for this subject</li>"}</ol>`;
  },

  async destinations() {
    const d = await api("/destinations");
    const op = me.role === "operator";
    $page().innerHTML = `<h1>Destinations</h1><p class="muted">${d.retries_scheduled} retries scheduled in all; recent figures over the last ${d.minutes} minutes.</p>` + table([
      ["name", (r) => esc(r.name)],
      ["kind", (r) => esc(r.kind) + (r.ordered ? " (ordered)" : "")],
      ["state", (r) => `<span class="state ${esc(r.state)}">${esc(r.state)}</span>${r.disabled_reason ? ` <span class="muted">${esc(r.disabled_reason)} since ${esc(r.disabled_at)}</span>` : ""}`],
      ["success", (r) => pct(r.recent && r.recent.success_rate)],
      ["p50 / p95", (r) => r.recent ? `${ms(r.recent.latency_p50_ms)} / ${ms(r.recent.latency_p95_ms)}` : "—"],
      ["attempts", (r) => esc(r.recent ? r.recent.attempts : 0)],
      ["retries", (r) => esc(r.retries_scheduled ?? "?")],
      ["parked", (r) => esc(r.parked)],
      ["dead letters", (r) => `<a href="#/dead-letters?destination=${encodeURIComponent(r.name)}">${esc(r.dead_letters)}</a>`],
      ["", (r) => `<button class="test" data-name="${esc(r.name)}" ${op ? "" : "title=\"operators only\""}>Send test</button>
                   ${r.state === "disabled" ? `<button class="enable" data-name="${esc(r.name)}">Enable</button>` : `<button class="disable" data-name="${esc(r.name)}">Disable</button>`}`],
    ], d.destinations, (r) => `destination-row ${r.state}`);
    for (const b of document.querySelectorAll("button.test")) b.addEventListener("click", () => act(`/destinations/${encodeURIComponent(b.dataset.name)}/test`, {}, (r) => `test event ${r.event_id} scheduled`));
    for (const b of document.querySelectorAll("button.enable")) b.addEventListener("click", () => act(`/destinations/${encodeURIComponent(b.dataset.name)}/enable`, {}, (r) => `enabled; ${r.rescheduled} kept event(s) resent`));
    for (const b of document.querySelectorAll("button.disable")) b.addEventListener("click", () => act(`/destinations/${encodeURIComponent(b.dataset.name)}/disable`, {}, () => "disabled"));
  },

  async deadLetters(query) {
    const params = new URLSearchParams(query || "");
    const {dead_letters: letters} = await api(`/dead-letters?${params}`);
    const filter = params.get("destination");
    $page().innerHTML = `<h1>Dead letters${filter ? ` of ${esc(filter)}` : ""}</h1>
      <p><button id="replay-shown">Replay ${filter ? `all of ${esc(filter)}` : "all"}</button> <button id="purge-shown" class="danger">Purge ${filter ? `all of ${esc(filter)}` : "all"}</button></p>` + table([
      ["id", (l) => `<code>${esc(l.id)}</code>`],
      ["died", (l) => when(l.dead_at)],
      ["subject", (l) => subjectLink(l.subject)],
      ["attempts", (l) => esc(l.attempts.length)],
      ["reason", (l) => esc(l.reason)],
      ["", (l) => `<button class="replay" data-id="${esc(l.id)}">Replay</button> <button class="purge danger" data-id="${esc(l.id)}">Purge</button>
                   <details><summary>show</summary><pre>${esc(JSON.stringify({attempts: l.attempts, event: l.event}, null, 2))}</pre></details>`],
    ], letters, () => "letter");
    for (const b of document.querySelectorAll("button.replay")) b.addEventListener("click", () => act("/dead-letters/replay", {ids: [b.dataset.id]}, (r) => `replayed ${r.count} dead letter(s)`));
    for (const b of document.querySelectorAll("button.purge")) b.addEventListener("click", () => confirm("Delete this dead letter for good?") && act("/dead-letters/purge", {ids: [b.dataset.id]}, (r) => `purged ${r.count}`));
    const bulk = filter ? {destination: filter} : {all: true};
    document.getElementById("replay-shown").addEventListener("click", () => act("/dead-letters/replay", bulk, (r) => `replayed ${r.count} dead letter(s)`));
    document.getElementById("purge-shown").addEventListener("click", () => confirm("Delete these dead letters for good?") && act("/dead-letters/purge", bulk, (r) => `purged ${r.count}`));
  },

  async commands() {
    const {commands} = await api("/commands");
    $page().innerHTML = `<h1>Commands</h1>` + table([
      ["created", (c) => esc(c.created_at)],
      ["client", (c) => esc(c.client)],
      ["agent", (c) => `<a href="#/agents/${encodeURIComponent(c.agent)}">${esc(c.agent)}</a>`],
      ["action", (c) => esc(c.action)],
      ["status", (c) => `<span class="state ${esc(c.status)}">${esc(c.status)}</span>`],
      ["GWS outcome", (c) => esc(c.error ? (c.error.detail || JSON.stringify(c.error)) : (c.notification ? "confirmed" : c.gws_reply ? "accepted by GWS" : ""))],
      ["id", (c) => `<code>${esc(c.id)}</code>`],
    ], commands, () => "command-row");
  },

  async live() {
    $page().innerHTML = `<h1>Live</h1><p class="muted">Delivery attempts as they happen. A slow page skips, it never slows delivery.</p><ol id="tail" class="tail"></ol>`;
    const tail = document.getElementById("tail");
    live = new EventSource(`${API}/stream`);
    live.addEventListener("attempt", (m) => {
      const a = JSON.parse(m.data);
      const li = document.createElement("li");
      li.className = `attempt ${a.outcome}`;
      li.textContent = `${when(a.at)} ${a.destination} ${a.type} ${a.subject} #${a.attempt} ${a.outcome} ${a.status ?? ""} ${ms(a.latency_ms)} ${a.error || ""}`;
      tail.prepend(li);
      while (tail.children.length > 200) tail.lastChild.remove();
    });
    live.addEventListener("skipped", (m) => {
      const li = document.createElement("li");
      li.className = "skipped";
      li.textContent = `… ${JSON.parse(m.data).count} attempts skipped (too many to show)`;
      tail.prepend(li);
    });
  },

  async audit() {
    const {actions} = await api("/audit");
    $page().innerHTML = `<h1>Operator actions</h1>` + table([
      ["when", (a) => when(a.at)], ["who", (a) => esc(a.who)], ["role", (a) => esc(a.role)],
      ["action", (a) => esc(a.action)], ["target", (a) => esc(a.target)], ["result", (a) => esc(a.result)],
    ], actions);
  },
};

function eventsTable(events) {
  return table([
    ["time", (e) => esc(e.time)],
    ["type", (e) => esc(e.type)],
    ["subject", (e) => subjectLink(e.subject)],
    ["agent", (e) => esc(e.agent)],
    ["webhook-id", (e) => `<code>${esc(e.event_id)}</code>`],
    ["deliveries", (e) => attemptsCell(e.attempts)],
  ], events, () => "event-row");
}

async function route() {
  if (live) { live.close(); live = null; }
  if (refresh) { clearTimeout(refresh); refresh = null; }
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("current", a.getAttribute("href").slice(2).split("/")[0] === parts[0]));
  try {
    if (!parts[0]) await pages.overview();
    else if (parts[0] === "agents" && parts[1]) await pages.agent(parts.slice(1).join("/"));
    else if (parts[0] === "agents") await pages.agents();
    else if (parts[0] === "events") await pages.events(query);
    else if (parts[0] === "timeline") await pages.timeline(parts.slice(1).join("/"));
    else if (parts[0] === "destinations") await pages.destinations();
    else if (parts[0] === "dead-letters") await pages.deadLetters(query);
    else if (parts[0] === "commands") await pages.commands();
    else if (parts[0] === "live") await pages.live();
    else if (parts[0] === "audit") await pages.audit();
    else $page().textContent = "no such page";
    document.body.dataset.page = parts[0] || "overview";
  } catch (e) {
    if (e.message !== "signed out") flash(e.message, "error");
  }
}

async function start() {
  me = await api("/session");
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  document.body.classList.add(`role-${me.role}`);
  document.getElementById("signout").addEventListener("click", async () => {
    await api("/session", {method: "DELETE"}).catch(() => null);
    location.href = "/login";
  });
  window.addEventListener("hashchange", () => { flash(""); route(); });
  await route();
  document.body.dataset.ready = "1";
}

start();
