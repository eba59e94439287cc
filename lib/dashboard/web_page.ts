/**
 * The live web dashboard page: one self-contained HTML document (CSS and JS
 * inline, no external resources), kept as a string so it survives
 * `deno bundle` / `deno compile` with no asset files and no build step.
 *
 * The script inserts every piece of agent text with `textContent` (never
 * `innerHTML`), so hostile text renders literally. It loads `/status` and
 * pages through `/log`, then follows `/events` (server-sent events): `hello`
 * names the session (another one → reload), `entry`
 * events carry `id: <seq>` so `EventSource` resumes with `Last-Event-ID`;
 * `roster` events replace the agent table; `reset` means the log was replaced.
 *
 * Test hooks (stable): rows `#agent-rows tr[data-agent]`, messages
 * `#messages li[data-type][data-seq]`, chips `#chips button[data-type]`
 * (`data-type="all"` for All, `aria-pressed`), attention items
 * `#attention-list li[data-agent][data-reason]`, connection `#conn[data-state]`.
 * @module
 */

/** What the page needs to know from the server. */
export type WebPageOptions = {
  /** Session name shown in the title. */
  session: string;
  /** CSP nonce for the inline style and script. */
  nonce: string;
  /** An agent silent this long (status not terminal) needs attention. */
  stallThresholdSeconds: number;
  /** Messages kept in the stream (newest first). */
  maxMessages: number;
};

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/** JSON safe to embed in a `<script type="application/json">` element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The Content-Security-Policy for a page rendered with `nonce`. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Render the dashboard page. */
export function renderWebPage(opts: WebPageOptions): string {
  const session = escapeHtml(opts.session);
  const nonce = escapeHtml(opts.nonce);
  const config = jsonForScript({
    session: opts.session,
    stallThresholdSeconds: opts.stallThresholdSeconds,
    maxMessages: opts.maxMessages,
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>git-paw — ${session}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>git-paw <span class="sep">·</span> <span id="session">${session}</span></h1>
  <span id="conn" data-state="connecting">connecting…</span>
</header>
<main>
<section id="attention" hidden>
  <h2>Needs attention</h2>
  <ul id="attention-list"></ul>
</section>
<section id="agents-section">
  <h2>Agents <span id="counts" class="muted"></span></h2>
  <table id="agents">
    <thead><tr><th>Agent</th><th>CLI</th><th>Status</th><th>Last update</th><th>Summary</th></tr></thead>
    <tbody id="agent-rows"></tbody>
  </table>
  <p id="no-agents" class="muted">No agents connected yet</p>
</section>
<section id="messages-section">
  <h2>Messages</h2>
  <div id="chips" role="toolbar" aria-label="Filter messages by type"></div>
  <ol id="messages"></ol>
  <p id="no-messages" class="muted">No messages yet</p>
</section>
</main>
<script type="application/json" id="paw-config">${config}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: dark light; --bg:#0f1115; --fg:#e6e6e6; --muted:#8a8f98;
  --line:#262a33; --card:#161a21; --warn:#f5c451; --bad:#ff7a7a; --accent:#4fb3ff; }
@media (prefers-color-scheme: light) { :root { --bg:#fafafa; --fg:#1b1d21;
  --muted:#6b7079; --line:#dcdfe4; --card:#fff; --warn:#9a6a00; --bad:#b3261e;
  --accent:#0b62b8; } }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 ui-sans-serif, system-ui, sans-serif;
  background:var(--bg); color:var(--fg); }
header { display:flex; align-items:center; justify-content:space-between;
  padding:10px 16px; border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0; } h2 { font-size:15px; margin:0 0 8px; }
.sep, .muted { color:var(--muted); }
main { padding:12px 16px; display:grid; gap:16px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:12px; min-width:0; }
#conn { font-size:12px; padding:2px 8px; border-radius:10px; border:1px solid var(--line); }
#conn[data-state=live] { color:#3ecf8e; } #conn[data-state=reconnecting] { color:var(--warn); }
#attention { border-color:var(--warn); }
#attention-list { margin:0; padding-left:18px; }
#attention-list li { margin:2px 0; overflow-wrap:anywhere; }
#attention-list li[data-reason=blocked] .why, #attention-list li[data-reason=stalled] .why { color:var(--warn); }
#attention-list li[data-reason=question] .why { color:var(--accent); }
table { width:100%; border-collapse:collapse; table-layout:fixed; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line);
  overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
th:nth-child(1) { width:18%; } th:nth-child(2) { width:10%; } th:nth-child(3) { width:16%; }
th:nth-child(4) { width:12%; }
tr.supervisor td { border-bottom:2px solid var(--line); font-weight:600; }
tr.attention td:first-child { color:var(--warn); }
#chips { display:flex; flex-wrap:wrap; gap:6px; margin-bottom:8px; }
#chips button { font:inherit; font-size:12px; padding:2px 10px; border-radius:12px;
  border:1px solid var(--line); background:transparent; color:var(--fg); cursor:pointer; }
#chips button[aria-pressed=true] { background:var(--accent); border-color:var(--accent); color:#fff; }
#messages { list-style:none; margin:0; padding:0; font-family:ui-monospace, monospace; font-size:12.5px; }
#messages li { padding:3px 4px; border-bottom:1px solid var(--line); cursor:pointer;
  white-space:pre-wrap; overflow-wrap:anywhere; }
#messages li .t { color:var(--muted); } #messages li .ty { color:var(--accent); }
#messages li[data-type="agent.blocked"] .ty, #messages li[data-type="agent.question"] .ty { color:var(--warn); }
#messages pre { margin:4px 0 2px; padding:6px; background:var(--bg); border-radius:4px;
  white-space:pre-wrap; overflow-wrap:anywhere; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:6px;
  vertical-align:-1px; background:#9aa0a6; }
.dot[data-tone=working] { background:#3b82f6; } .dot[data-tone=done] { background:#22c55e; }
.dot[data-tone=committed] { background:#a855f7; } .dot[data-tone=blocked] { background:#eab308; }
td, .text, .why, pre { unicode-bidi:plaintext; }
@media (max-width: 640px) {
  main { padding:8px; } section { padding:8px; }
  th:nth-child(2), td:nth-child(2), th:nth-child(4), td:nth-child(4) { display:none; }
  th:nth-child(1) { width:38%; } th:nth-child(3) { width:26%; }
}
[hidden] { display:none !important; }
`;

// Plain ES2017, no template literals (this file is itself one).
const SCRIPT = `
"use strict";
(function () {
  var CONFIG = JSON.parse(document.getElementById("paw-config").textContent);
  var TYPES = ["agent.status", "agent.artifact", "agent.blocked", "agent.verified",
    "agent.feedback", "agent.question", "agent.intent", "supervisor.verify-now",
    "agent.advanced-main", "agent.learning"];
  var TERMINAL = { done: 1, verified: 1, committed: 1, merged: 1 };
  var PAGE = 2000;
  var state = {
    agents: [], rosterAt: Date.now(), entries: [], lastSeq: 0,
    lastSent: new Map(), heardAt: new Map(), filter: new Set(), es: null, retryTimer: null
  };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function shortType(t) { return String(t).replace(/^agent\\./, "").replace(/^supervisor\\./, ""); }
  function str(v) { return v === undefined || v === null ? "" : String(v); }
  // Control and bidi-override characters become spaces (no visual spoofing).
  function oneLine(s) { return str(s).replace(/[\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]+/g, " "); }
  function clip(s, n) { s = oneLine(s); return s.length > n ? s.slice(0, n - 1) + "\\u2026" : s; }

  // Who spoke (feedback is sent by payload.from, a verification by
  // verified_by); same rule as the TUI (lib/core/dashboard_summary.ts).
  function sender(m) {
    var p = m.payload || {};
    if (m.type === "agent.feedback") return str(p.from);
    if (m.type === "agent.verified") return str(p.verified_by);
    return identity(m);
  }
  // The row a message is filed under (docs/REFERENCE.md, "Broker wire format", identity).
  function identity(m) {
    if (m.type === "agent.advanced-main") return str(m.from);
    if (m.type === "agent.learning") return str((m.payload || {}).agent_id);
    if (m.type === "supervisor.verify-now") return str(m.branch_id);
    return str(m.agent_id);
  }
  function list(a) { return Array.isArray(a) ? a : []; }
  function files(a, max) {
    a = list(a).map(function (f) { return typeof f === "string" ? f : str(f && f.path); });
    max = max || 3;
    if (!a.length) return "";
    var head = a.slice(0, max).join(", ");
    return a.length > max ? head + " +" + (a.length - max) : head;
  }
  function count(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  // One line saying what a message means (wording as the TUI's summarize()).
  function describe(m) {
    var p = m.payload || {};
    switch (m.type) {
      case "agent.status": {
        var text = str(p.message).trim();
        if (text) return text;
        var mf = list(p.modified_files);
        return mf.length ? str(p.status) + ": " + count(mf.length, "file") + " modified (" + files(mf) + ")" : str(p.status);
      }
      case "agent.artifact": {
        var parts = [str(p.status)];
        if (list(p.modified_files).length) parts.push(files(p.modified_files));
        if (list(p.exports).length) parts.push("exports " + files(p.exports));
        return parts.join(" \\u2014 ");
      }
      case "agent.blocked": return "blocked: needs " + str(p.needs) + " from " + str(p.from);
      case "agent.verified": return "verified by " + str(p.verified_by) + (p.message ? " \\u2014 " + str(p.message) : "");
      case "agent.feedback": return "feedback from " + str(p.from) + ": " + count(list(p.errors).length, "error") +
        " \\u2014 " + str(list(p.errors)[0]);
      case "agent.question": return "asks: " + str(p.question);
      case "agent.intent": return "intends: " + str(p.summary) + " (" + files(p.files) + ")";
      case "agent.advanced-main": return "merged " + str(m.merged_branch) + " \\u2192 " + str(m.base) + " (" +
        str(m.new_main_sha).slice(0, 7) + ")" + (m.summary ? " \\u2014 " + str(m.summary) : "");
      case "agent.learning": return "learning (" + str(p.category) + "): " + str(p.title);
      case "supervisor.verify-now": return "verification requested";
      default: return str(m.type);
    }
  }
  function ageText(secs) {
    secs = Math.max(0, Math.floor(secs));
    if (secs < 60) return secs + "s ago";
    if (secs < 3600) return Math.floor(secs / 60) + "m ago";
    return Math.floor(secs / 3600) + "h " + Math.floor((secs % 3600) / 60) + "m ago";
  }
  function durationText(secs) { return ageText(secs).replace(/ ago$/, ""); }
  // Status colour class (the TUI's 🔵🟢🟣🟡⚪, drawn with CSS: no emoji font needed).
  function tone(label) {
    switch (label) {
      case "working": return "working";
      case "done": case "verified": return "done";
      case "committed": return "committed";
      case "blocked": return "blocked";
      default: return "other";
    }
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(unix) {
    var d = new Date(unix * 1000);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  // Seconds since we last heard from an agent: the roster's last_seen, or a
  // live message it sent since (a repeated status changes no roster field, so
  // the broker sends no new roster for it).
  function agentAge(a) {
    var now = Date.now();
    var age = (a.last_seen_seconds || 0) + (now - state.rosterAt) / 1000;
    var heard = state.heardAt.get(a.agent_id);
    return heard !== undefined ? Math.min(age, (now - heard) / 1000) : age;
  }

  function ingest(entry) {
    if (!entry || typeof entry.seq !== "number" || entry.seq <= state.lastSeq) return false;
    state.lastSeq = entry.seq;
    state.entries.push(entry);
    if (state.entries.length > CONFIG.maxMessages) state.entries.shift();
    var who = sender(entry.message || {});
    if (who) state.lastSent.set(who, entry);
    return true;
  }

  function attentionItems() {
    var items = [];
    var seen = new Set();
    var byId = new Map();
    state.agents.forEach(function (a) { byId.set(a.agent_id, a); });
    var ids = [];
    state.agents.forEach(function (a) { ids.push(a.agent_id); });
    state.lastSent.forEach(function (_e, id) { ids.push(id); });
    ids.forEach(function (id) {
      if (seen.has(id)) return;
      seen.add(id);
      var last = state.lastSent.get(id);
      var m = last ? last.message : null;
      if (m && m.type === "agent.blocked") {
        items.push({ id: id, reason: "blocked", text: "blocked: needs " + str(m.payload.needs) + " from " + str(m.payload.from) });
        return;
      }
      if (m && m.type === "agent.question") {
        items.push({ id: id, reason: "question", text: describe(m) });
        return;
      }
      var a = byId.get(id);
      if (a && !TERMINAL[str(a.status).trim().toLowerCase()] && agentAge(a) > CONFIG.stallThresholdSeconds) {
        items.push({ id: id, reason: "stalled", text: "silent for " + durationText(agentAge(a)) + " (status " + str(a.status) + ")" });
      }
    });
    return items;
  }

  function renderAttention() {
    var items = attentionItems();
    var list = $("attention-list");
    list.replaceChildren();
    items.forEach(function (it) {
      var li = el("li");
      li.setAttribute("data-agent", it.id);
      li.setAttribute("data-reason", it.reason);
      li.append(el("strong", "who", it.id), document.createTextNode(" \\u2014 "), el("span", "why", clip(it.text, 400)));
      list.append(li);
    });
    $("attention").hidden = items.length === 0;
    return new Set(items.map(function (it) { return it.id; }));
  }

  function renderAgents() {
    var flagged = renderAttention();
    var rows = state.agents.slice().sort(function (a, b) {
      if (a.agent_id === "supervisor") return -1;
      if (b.agent_id === "supervisor") return 1;
      return a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0;
    });
    var body = $("agent-rows");
    body.replaceChildren();
    var counts = { working: 0, done: 0, blocked: 0, committed: 0 };
    rows.forEach(function (a) {
      var label = (a.phase && (a.agent_id === "supervisor" || a.phase === "stuck-on-prompt")) ? a.phase : a.status;
      if (a.status === "working") counts.working++;
      else if (a.status === "done" || a.status === "verified") counts.done++;
      else if (a.status === "blocked") counts.blocked++;
      else if (a.status === "committed") counts.committed++;
      var last = state.lastSent.get(a.agent_id);
      var summary = a.summary ? a.summary : (last ? describe(last.message) : "");
      var tr = el("tr");
      tr.setAttribute("data-agent", a.agent_id);
      if (a.agent_id === "supervisor") tr.classList.add("supervisor");
      if (flagged.has(a.agent_id)) tr.classList.add("attention");
      var sum = el("td", "summary", clip(summary, 300));
      sum.title = oneLine(summary);
      tr.append(el("td", "agent", a.agent_id), el("td", "cli", a.cli ? a.cli : "?"),
        statusCell(a.status, label), el("td", "age", ageText(agentAge(a))), sum);
      body.append(tr);
    });
    $("no-agents").hidden = rows.length > 0;
    $("counts").textContent = rows.length ? "\\u00b7 " + rows.length + " agents: " + counts.working + " working, " +
      counts.done + " done, " + counts.blocked + " blocked, " + counts.committed + " committed" : "";
  }

  function statusCell(status, label) {
    var td = el("td", "status");
    var dot = el("span", "dot");
    dot.setAttribute("data-tone", tone(status));
    dot.setAttribute("aria-hidden", "true");
    td.append(dot, el("span", "label", str(label)));
    return td;
  }

  function visible(entry) { return state.filter.size === 0 || state.filter.has(entry.message.type); }

  function messageItem(entry) {
    var m = entry.message;
    var li = el("li");
    li.setAttribute("data-type", m.type);
    li.setAttribute("data-seq", String(entry.seq));
    li.append(el("span", "t", clock(entry.timestamp_unix_secs)), document.createTextNode(" \\u00b7 "),
      el("span", "ty", shortType(m.type)), document.createTextNode(" \\u00b7 "),
      el("span", "id", identity(m)), document.createTextNode(" \\u00b7 "),
      el("span", "text", clip(describe(m), 500)));
    li.addEventListener("click", function () {
      var pre = li.querySelector("pre");
      if (pre) { pre.remove(); return; }
      li.append(el("pre", "json", JSON.stringify(entry, null, 2)));
    });
    return li;
  }

  function renderMessages() {
    var list = $("messages");
    list.replaceChildren();
    for (var i = state.entries.length - 1; i >= 0; i--) {
      if (visible(state.entries[i])) list.append(messageItem(state.entries[i]));
    }
    $("no-messages").hidden = list.childElementCount > 0;
  }

  function addMessage(entry) {
    if (!visible(entry)) return;
    var list = $("messages");
    list.prepend(messageItem(entry));
    while (list.childElementCount > CONFIG.maxMessages) list.lastElementChild.remove();
    $("no-messages").hidden = true;
  }

  function renderChips() {
    var box = $("chips");
    box.replaceChildren();
    var all = el("button", "chip", "All");
    all.type = "button";
    all.setAttribute("data-type", "all");
    all.setAttribute("aria-pressed", String(state.filter.size === 0));
    all.addEventListener("click", function () { state.filter.clear(); renderChips(); renderMessages(); });
    box.append(all);
    TYPES.forEach(function (t) {
      var b = el("button", "chip", shortType(t));
      b.type = "button";
      b.setAttribute("data-type", t);
      b.setAttribute("aria-pressed", String(state.filter.has(t)));
      b.addEventListener("click", function () {
        if (state.filter.has(t)) state.filter.delete(t); else state.filter.add(t);
        renderChips();
        renderMessages();
      });
      box.append(b);
    });
  }

  function setConn(s, text) { var c = $("conn"); c.setAttribute("data-state", s); c.textContent = text; }

  function setRoster(agents) {
    state.agents = Array.isArray(agents) ? agents : [];
    state.rosterAt = Date.now();
    renderAgents();
  }

  function connect() {
    if (state.retryTimer) { clearTimeout(state.retryTimer); state.retryTimer = null; }
    if (state.es) state.es.close();
    var es = new EventSource("/events?since=" + state.lastSeq);
    state.es = es;
    es.addEventListener("open", function () { setConn("live", "live"); });
    es.addEventListener("entry", function (ev) {
      var entry;
      try { entry = JSON.parse(ev.data); } catch (_e) { return; }
      if (ingest(entry)) {
        state.heardAt.set(sender(entry.message || {}), Date.now());
        addMessage(entry);
        renderAgents();
      }
    });
    es.addEventListener("roster", function (ev) {
      try { setRoster(JSON.parse(ev.data)); } catch (_e) { /* ignore */ }
    });
    es.addEventListener("hello", function (ev) {
      var hello;
      try { hello = JSON.parse(ev.data); } catch (_e) { return; }
      // Another session now answers on this port: start over with its page.
      if (hello && hello.session !== CONFIG.session) location.reload();
    });
    es.addEventListener("reset", function () {
      state.entries = []; state.lastSent = new Map(); state.heardAt = new Map(); state.lastSeq = 0;
      renderMessages(); renderAgents();
    });
    es.addEventListener("error", function () {
      if (es.readyState === EventSource.CLOSED) {
        setConn("offline", "offline \\u2014 retrying");
        state.retryTimer = setTimeout(connect, 3000);
      } else {
        setConn("reconnecting", "reconnecting\\u2026");
      }
    });
  }

  async function fetchJson(url) {
    var r = await fetch(url, { cache: "no-store", headers: { accept: "application/json" } });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return r.json();
  }

  async function boot() {
    renderChips();
    renderMessages();
    try {
      var status = await fetchJson("/status");
      setRoster(status.agents);
      for (;;) {
        var page = await fetchJson("/log?since=" + state.lastSeq + "&limit=" + PAGE);
        var list = Array.isArray(page.entries) ? page.entries : [];
        var added = 0;
        list.forEach(function (e) { if (ingest(e)) added++; });
        if (added === 0 || list.length < PAGE) break;
      }
    } catch (_e) {
      setConn("reconnecting", "reconnecting\\u2026");
    }
    renderMessages();
    renderAgents();
    connect();
    setInterval(renderAgents, 1000);
  }

  boot();
})();
`;
