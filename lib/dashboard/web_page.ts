/**
 * The live web dashboard page: one self-contained HTML document (CSS and JS
 * inline, no external resources), kept as a string so it survives
 * `deno bundle` / `deno compile` with no asset files and no build step.
 *
 * The script inserts every piece of agent text with `textContent` (never
 * `innerHTML`), so hostile text renders literally. It only renders: every
 * text it shows (message rows, agent rows, ages, counts, attention) is
 * computed on the server by lib/core, the same functions the TUI draws with.
 * It loads `/view`, then follows `/events` (server-sent events) from the
 * newest `maxMessages` entries on: `hello` names the session (another one →
 * reload), `entry` events carry `id: <seq>` (so `EventSource` resumes with
 * `Last-Event-ID`) and the row text; `view` events replace the agent table
 * and attention list; `reset` means the log was replaced. Once a second it
 * fetches `/view` again so ages and silences tick.
 *
 * "Needs you" comes first: `view.needs_you` (lib/core/needs_you.ts) as one
 * card per item, kept across re-renders by key (typed text survives the
 * once-a-second refresh). Approve / Deny post to the approvals plugin's
 * `approvals/:id/approve|deny` with `by: "web"`; Answer / Tell to
 * `needs-you/:agent/answer|tell`. Every write is relative to the page (so it
 * stays under the token cookie's path) and sends `X-Git-Paw-Csrf: 1`.
 *
 * Test hooks (stable): "Needs you" items
 * `#needs-you-list li.ny-item[data-kind][data-key][data-agent][data-ref]`
 * (an approval's `id` is `approval-<id>`, the notification link's anchor),
 * their `button.ny-approve`, `button.ny-deny`, `input.ny-reason`,
 * `textarea.ny-reply`, `button.ny-answer`, `button.ny-tell`,
 * `.ny-status`, and the list's `#ny-status`; rows `#agent-rows tr[data-agent]`, messages
 * `#messages li[data-type][data-seq]`, chips `#chips button[data-type]`
 * (`data-type="all"` for All, `aria-pressed`), attention items
 * `#attention-list li[data-agent][data-reason]`, connection `#conn[data-state]`,
 * review panel `#review-agent` (select), `#review-worktree`, diff lines
 * `#review-diff .rv-file[data-file] tr[data-line][data-side]`, comment form
 * `.rv-form textarea` / `.rv-form button.rv-send`, `#review-status`, and the
 * integration lane's `#integration-line`.
 * @module
 */

/** What the page needs to know from the server. */
export type WebPageOptions = {
  /** Session name shown in the title. */
  session: string;
  /** CSP nonce for the inline style and script. */
  nonce: string;
  /**
   * An agent silent this long (status not terminal) needs attention. The
   * server decides; the page only carries it (shown to tools and tests).
   */
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
<style nonce="${nonce}">${STYLE}${NEEDS_YOU_STYLE}${REVIEW_STYLE}</style>
</head>
<body>
<header>
  <h1>git-paw <span class="sep">·</span> <span id="session">${session}</span></h1>
  <span id="conn" data-state="connecting">connecting…</span>
</header>
<main>
<section id="needs-you" hidden aria-labelledby="needs-you-title">
  <h2 id="needs-you-title">Needs you <span id="ny-count" class="muted"></span></h2>
  <ol id="needs-you-list"></ol>
</section>
<p id="ny-status" class="muted" role="status" aria-live="polite"></p>
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
<p id="integration-line" class="muted" hidden></p>
<section id="messages-section">
  <h2>Messages</h2>
  <div id="chips" role="toolbar" aria-label="Filter messages by type"></div>
  <ol id="messages"></ol>
  <p id="no-messages" class="muted">No messages yet</p>
</section>
${REVIEW_SECTION}
</main>
<script type="application/json" id="paw-config">${config}</script>
<script nonce="${nonce}">${SCRIPT}${REVIEW_SCRIPT}</script>
</body>
</html>
`;
}

const NEEDS_YOU_STYLE = `
#needs-you { border-color:var(--accent); }
#needs-you-list { list-style:none; margin:0; padding:0; display:grid; gap:10px; }
.ny-item { border:1px solid var(--line); border-radius:8px; padding:10px; background:var(--bg);
  min-width:0; scroll-margin-top:8px; }
.ny-item.ny-target { outline:2px solid var(--accent); }
tr.ny-target td { background:var(--line); }
.ny-head { display:flex; flex-wrap:wrap; gap:4px 8px; align-items:baseline; }
.ny-kind { font-size:12px; font-weight:700; text-transform:uppercase; letter-spacing:.04em;
  color:var(--warn); }
.ny-agent { overflow-wrap:anywhere; }
.ny-text { margin:6px 0 2px; overflow-wrap:anywhere; }
.ny-what { font-family:ui-monospace, monospace; font-size:13.5px; white-space:pre-wrap;
  overflow-wrap:anywhere; }
.ny-item[data-kind=question] .ny-what { font-family:inherit; font-size:inherit; }
.ny-meta { font-size:12.5px; overflow-wrap:anywhere; margin:2px 0; }
.ny-meta:empty, .ny-status:empty, #ny-status:empty { display:none; }
.ny-item input, .ny-item textarea { display:block; width:100%; font:inherit; font-size:16px;
  padding:8px; margin:8px 0; border-radius:6px; border:1px solid var(--line);
  background:var(--card); color:var(--fg); }
.ny-actions { display:flex; flex-wrap:wrap; gap:8px; }
.ny-actions button { flex:1 1 120px; min-height:44px; padding:8px 12px; font:inherit;
  font-size:16px; font-weight:600; border-radius:8px; border:1px solid var(--line);
  background:var(--card); color:var(--fg); cursor:pointer; }
.ny-actions button.ny-approve { background:#15803d; border-color:#15803d; color:#fff; }
.ny-actions button.ny-deny { background:#b91c1c; border-color:#b91c1c; color:#fff; }
.ny-actions button.ny-answer { background:var(--accent); border-color:var(--accent); color:#fff; }
.ny-actions button:disabled { opacity:.55; cursor:progress; }
.ny-status { margin:6px 0 0; font-size:13.5px; overflow-wrap:anywhere; }
.ny-item[data-result=refused] .ny-status { color:var(--bad); }
#ny-status { margin:0; padding:0 4px; overflow-wrap:anywhere; }
@media (min-width: 641px) {
  .ny-actions, .ny-item input, .ny-item textarea { max-width:560px; }
}
@media (max-width: 640px) {
  header { flex-wrap:wrap; gap:4px 8px; padding:8px; }
  h1 { font-size:16px; overflow-wrap:anywhere; }
}
`;

// The "Needs you" cards, inside the main script's closure (it calls
// renderNeedsYou from renderView). Plain ES2017 like the rest.
const NEEDS_YOU_SCRIPT = `
  var NY_KIND = { approval: "approval", question: "question", needs_input: "waiting" };
  var nyFocused = false;

  function nySay(li, text, refused) {
    var st = li.querySelector(".ny-status");
    if (st) st.textContent = text;
    if (refused) li.setAttribute("data-result", "refused"); else li.removeAttribute("data-result");
  }

  async function nyPost(li, url, body, ok) {
    var buttons = li.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    nySay(li, "sending\u2026", false);
    try {
      var r = await fetch(url, {
        method: "POST",
        cache: "no-store",
        headers: { "content-type": "application/json", "x-git-paw-csrf": "1" },
        body: JSON.stringify(body),
      });
      var j = null;
      try { j = await r.json(); } catch (_e) { /* no body */ }
      if (r.ok) {
        var text = ok(j);
        nySay(li, text, false);
        $("ny-status").textContent = text;
        li.querySelectorAll("input, textarea").forEach(function (f) { f.value = ""; });
        tick();
      } else {
        var why = (j && j.error) ? String(j.error) : "HTTP " + r.status;
        nySay(li, "not done: " + why, true);
        $("ny-status").textContent = "not done: " + why;
      }
    } catch (e) {
      nySay(li, "not sent: " + e, true);
    }
    buttons.forEach(function (b) { b.disabled = false; });
  }

  function nyButton(cls, label, fn) {
    var b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", fn);
    return b;
  }

  function nyCard(it) {
    var li = el("li", "ny-item");
    li.setAttribute("data-key", it.key);
    li.setAttribute("data-kind", it.kind);
    if (it.kind === "approval") li.id = "approval-" + it.ref;
    var head = el("div", "ny-head");
    head.append(el("span", "ny-kind"), el("strong", "ny-agent"), el("span", "ny-age muted"));
    var text = el("div", "ny-text");
    text.append(el("span", "ny-tool"), el("span", "ny-what"));
    li.append(head, text, el("div", "ny-meta muted"));
    var actions = el("div", "ny-actions");
    if (it.kind === "approval") {
      var reason = el("input", "ny-reason");
      reason.type = "text";
      reason.maxLength = 2000;
      reason.placeholder = "Reason for Deny (optional)";
      reason.setAttribute("aria-label", "Reason for denying");
      actions.append(
        nyButton("ny-approve", "Approve", function () {
          var id = li.getAttribute("data-ref");
          nyPost(li, "approvals/" + id + "/approve", { by: "web" }, function () {
            return "Approved #" + id + " (" + li.getAttribute("data-agent") + ")";
          });
        }),
        nyButton("ny-deny", "Deny", function () {
          var id = li.getAttribute("data-ref");
          var body = { by: "web" };
          if (reason.value.trim()) body.reason = reason.value.trim();
          nyPost(li, "approvals/" + id + "/deny", body, function () {
            return "Denied #" + id + " (" + li.getAttribute("data-agent") + ")";
          });
        }));
      li.append(reason, actions);
    } else {
      var reply = el("textarea", "ny-reply");
      reply.rows = 2;
      reply.maxLength = 8000;
      reply.setAttribute("aria-label", "Answer or message");
      var send = function (what) {
        var agent = li.getAttribute("data-agent");
        if (!reply.value.trim()) { nySay(li, "write the " + what + " first", true); return; }
        var path = "needs-you/" + encodeURIComponent(agent) + "/" + what;
        var body = { text: reply.value };
        if (what === "answer") body.ref = Number(li.getAttribute("data-ref"));
        nyPost(li, path, body, function (j) {
          if (what === "answer") return "Answer sent to " + agent;
          if (j && j.route === "keys") return "Typed into " + agent + "'s pane";
          return "Told " + agent + " (in its inbox" + (j && j.why ? ": " + j.why : "") + ")";
        });
      };
      actions.append(
        nyButton("ny-answer", "Answer", function () { send("answer"); }),
        nyButton("ny-tell", "Tell", function () { send("tell"); }));
      li.append(reply, actions);
    }
    li.append(el("p", "ny-status"));
    return li;
  }

  function nyUpdate(li, it) {
    li.setAttribute("data-agent", it.agent);
    li.setAttribute("data-ref", it.ref === null ? "" : String(it.ref));
    var kind = NY_KIND[it.kind] || it.kind;
    li.querySelector(".ny-kind").textContent = it.kind === "approval" ? kind + " #" + it.ref : kind;
    li.querySelector(".ny-agent").textContent = it.agent;
    li.querySelector(".ny-age").textContent = it.age;
    li.querySelector(".ny-tool").textContent = it.tool ? it.tool + ": " : "";
    li.querySelector(".ny-what").textContent = it.text;
    var meta = [];
    if (it.cwd) meta.push("in " + it.cwd);
    if (it.why) meta.push(it.why);
    if (it.answered) meta.push(it.answered + " \u2014 still waiting");
    li.querySelector(".ny-meta").textContent = meta.join(" \u00b7 ");
    var reply = li.querySelector(".ny-reply");
    if (reply) reply.placeholder = "Answer or message to " + it.agent;
    var answer = li.querySelector(".ny-answer");
    if (answer) answer.hidden = it.ref === null || !!it.answered;
  }

  function renderNeedsYou(items) {
    var ol = $("needs-you-list");
    var have = new Map();
    Array.prototype.forEach.call(ol.children, function (li) { have.set(li.getAttribute("data-key"), li); });
    var keep = new Set();
    items.forEach(function (it, i) {
      var li = have.get(it.key);
      if (!li) li = nyCard(it);
      nyUpdate(li, it);
      keep.add(it.key);
      // Move only when out of place: moving a card would blur its field.
      if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] || null);
    });
    have.forEach(function (li, key) { if (!keep.has(key)) li.remove(); });
    $("needs-you").hidden = items.length === 0;
    $("ny-count").textContent = items.length ? "\u00b7 " + items.length : "";
    if (!nyFocused && location.hash.indexOf("#approval-") === 0) {
      var target = document.getElementById(location.hash.slice(1));
      if (target) {
        nyFocused = true;
        target.classList.add("ny-target");
        target.scrollIntoView();
      }
    }
  }
`;

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
#attention-list li[data-reason=question] .why, #attention-list li[data-reason=needs_input] .why { color:var(--accent); }
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
.dot[data-tone=waiting] { background:#f97316; }
td, .text, .why, pre { unicode-bidi:plaintext; }
@media (max-width: 640px) {
  main { padding:8px; } section { padding:8px; }
  th:nth-child(2), td:nth-child(2), th:nth-child(4), td:nth-child(4) { display:none; }
  th:nth-child(1) { width:38%; } th:nth-child(3) { width:26%; }
}
[hidden] { display:none !important; }
`;

// Plain ES2017, no template literals (this file is itself one). The script
// renders what the server sends and derives nothing: message rows carry
// their text (`line`, from lib/core/dashboard_summary.ts), and the agent
// table, counts and attention items come as one `view` (lib/core's
// dashboardView, the TUI's own rules) on every change, re-fetched from
// `/view` once a second so ages tick.
const SCRIPT = `
"use strict";
(function () {
  var CONFIG = JSON.parse(document.getElementById("paw-config").textContent);
  var TYPES = ["agent.status", "agent.artifact", "agent.blocked", "agent.verified",
    "agent.feedback", "agent.question", "agent.intent", "supervisor.verify-now",
    "agent.advanced-main", "agent.learning"];
  var agentFocused = false;
  var state = { entries: [], lastSeq: 0, filter: new Set(), es: null, retryTimer: null, view: null };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function shortType(t) { return String(t).replace(/^agent\\./, "").replace(/^supervisor\\./, ""); }
  function list(a) { return Array.isArray(a) ? a : []; }

  function ingest(entry) {
    if (!entry || typeof entry.seq !== "number" || entry.seq <= state.lastSeq || !entry.line) return false;
    state.lastSeq = entry.seq;
    state.entries.push(entry);
    if (state.entries.length > CONFIG.maxMessages) state.entries.shift();
    return true;
  }

  function renderView(view) {
    if (!view || typeof view !== "object") return;
    state.view = view;
    var items = list(view.attention);
    var alist = $("attention-list");
    alist.replaceChildren();
    items.forEach(function (it) {
      var li = el("li");
      li.setAttribute("data-agent", it.id);
      li.setAttribute("data-reason", it.reason);
      li.append(el("strong", "who", it.id), document.createTextNode(" \\u2014 "),
        el("span", "why", it.why), document.createTextNode(" \\u00b7 "),
        el("span", "age muted", it.age), document.createTextNode(" \\u2014 "),
        el("span", "text", it.detail));
      alist.append(li);
    });
    $("attention").hidden = items.length === 0;
    renderNeedsYou(list(view.needs_you));

    var rows = list(view.agents);
    var body = $("agent-rows");
    body.replaceChildren();
    rows.forEach(function (a) {
      var tr = el("tr");
      tr.id = "agent-" + a.id;
      tr.setAttribute("data-agent", a.id);
      if (a.supervisor) tr.classList.add("supervisor");
      if (a.attention) tr.classList.add("attention");
      var sum = el("td", "summary", a.summary);
      sum.title = a.summary;
      var status = el("td", "status");
      var dot = el("span", "dot");
      dot.setAttribute("data-tone", a.tone);
      dot.setAttribute("aria-hidden", "true");
      status.append(dot, el("span", "label", a.label));
      tr.append(el("td", "agent", a.port ? a.id + " :" + a.port : a.id), el("td", "cli", a.cli), status, el("td", "age", a.age), sum);
      body.append(tr);
    });
    // A notification's #agent-<id> link: that agent's card under "Needs
    // you" when it has one, else its row.
    if (!agentFocused && location.hash.indexOf("#agent-") === 0) {
      var wanted = decodeURIComponent(location.hash.slice(7));
      var card = null;
      document.querySelectorAll("#needs-you li[data-agent]").forEach(function (li) {
        if (!card && li.getAttribute("data-agent") === wanted) card = li;
      });
      var row = card || document.getElementById("agent-" + wanted);
      if (row) {
        agentFocused = true;
        row.classList.add("ny-target");
        row.scrollIntoView();
      }
    }
    $("no-agents").hidden = rows.length > 0;
    $("counts").textContent = rows.length ? "\\u00b7 " + view.counts : "";
  }

${NEEDS_YOU_SCRIPT}
  function visible(entry) { return state.filter.size === 0 || state.filter.has(entry.line.type); }

  function messageItem(entry) {
    var line = entry.line;
    var li = el("li");
    li.setAttribute("data-type", line.type);
    li.setAttribute("data-seq", String(entry.seq));
    li.append(el("span", "t", line.time), document.createTextNode(" \\u00b7 "),
      el("span", "ty", shortType(line.type)), document.createTextNode(" \\u00b7 "),
      el("span", "id", line.id), document.createTextNode(" \\u00b7 "),
      el("span", "text", line.text));
    li.addEventListener("click", function () {
      var pre = li.querySelector("pre");
      if (pre) { pre.remove(); return; }
      var raw = { seq: entry.seq, timestamp_unix_secs: entry.timestamp_unix_secs, message: entry.message };
      li.append(el("pre", "json", JSON.stringify(raw, null, 2)));
    });
    return li;
  }

  function renderMessages() {
    var ol = $("messages");
    ol.replaceChildren();
    for (var i = state.entries.length - 1; i >= 0; i--) {
      if (visible(state.entries[i])) ol.append(messageItem(state.entries[i]));
    }
    $("no-messages").hidden = ol.childElementCount > 0;
  }

  function addMessage(entry) {
    if (!visible(entry)) return;
    var ol = $("messages");
    ol.prepend(messageItem(entry));
    while (ol.childElementCount > CONFIG.maxMessages) ol.lastElementChild.remove();
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

  function connect() {
    if (state.retryTimer) { clearTimeout(state.retryTimer); state.retryTimer = null; }
    if (state.es) state.es.close();
    var es = new EventSource("events?since=" + state.lastSeq);
    state.es = es;
    es.addEventListener("open", function () { setConn("live", "live"); });
    es.addEventListener("entry", function (ev) {
      var entry;
      try { entry = JSON.parse(ev.data); } catch (_e) { return; }
      if (ingest(entry)) addMessage(entry);
    });
    es.addEventListener("view", function (ev) {
      try { renderView(JSON.parse(ev.data)); } catch (_e) { /* ignore */ }
    });
    es.addEventListener("hello", function (ev) {
      var hello;
      try { hello = JSON.parse(ev.data); } catch (_e) { return; }
      // Another session now answers on this port: start over with its page.
      if (hello && hello.session !== CONFIG.session) location.reload();
    });
    es.addEventListener("reset", function () {
      state.entries = []; state.lastSeq = 0;
      renderMessages();
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

  async function fetchView() {
    var r = await fetch("view", { cache: "no-store", headers: { accept: "application/json" } });
    if (!r.ok) throw new Error("/view: HTTP " + r.status);
    return r.json();
  }

  async function tick() {
    try { renderView(await fetchView()); } catch (_e) { /* the stream reports trouble */ }
  }

  async function boot() {
    renderChips();
    renderMessages();
    try {
      var view = await fetchView();
      renderView(view);
      // The stream replays the newest messages the page keeps, then goes live.
      state.lastSeq = Math.max(0, (view.last_seq | 0) - CONFIG.maxMessages);
    } catch (_e) {
      setConn("reconnecting", "reconnecting\\u2026");
    }
    connect();
    setInterval(tick, 1000);
  }

  boot();
})();
`;

// ---------------------------------------------------------------------------
// Review panel (issue "Review, integrate, merge"): each agent's diff from
// `GET /diff/:agent`, a comment on a line or file posted to
// `/diff/:agent/comment` (the agent gets it as `agent.feedback`), and the
// integration lane's line from `GET /integration`. Hidden when the broker
// serves no such routes (a standalone broker outside a repo).
// ---------------------------------------------------------------------------

const REVIEW_SECTION = `<section id="review-section" hidden>
  <h2>Review</h2>
  <div class="rv-bar">
    <select id="review-agent" aria-label="Agent to review"><option value="">choose an agent\u2026</option></select>
    <label><input type="checkbox" id="review-worktree"> include uncommitted</label>
    <span id="review-status" class="muted"></span>
  </div>
  <div id="review-diff"></div>
</section>`;

const REVIEW_STYLE = `
.rv-bar { display:flex; gap:12px; align-items:center; flex-wrap:wrap; margin-bottom:8px; }
.rv-file { border:1px solid var(--line); border-radius:6px; margin:8px 0; overflow:hidden; }
.rv-head { display:flex; gap:8px; align-items:center; padding:4px 8px; background:var(--bg); }
.rv-path { font-family:ui-monospace, monospace; font-weight:600; overflow-wrap:anywhere; }
.rv-head button, .rv-form button { font:inherit; font-size:12px; margin-left:auto; }
table.rv-lines { table-layout:auto; font-family:ui-monospace, monospace; font-size:12.5px; }
table.rv-lines td { padding:0 6px; border:0; white-space:pre-wrap; overflow-wrap:anywhere; }
table.rv-lines td.rv-no { width:1%; color:var(--muted); text-align:right; white-space:nowrap; }
table.rv-lines tr[data-line] { cursor:pointer; }
table.rv-lines tr[data-line]:hover td { outline:1px solid var(--line); }
tr.rv-add td.rv-text { background:rgba(34,197,94,.14); }
tr.rv-del td.rv-text { background:rgba(255,122,122,.16); }
tr.rv-hunk td { color:var(--accent); padding-top:4px; }
.rv-form textarea { width:100%; font:inherit; margin:4px 0; }
#integration-line { margin:0; font-family:ui-monospace, monospace; overflow-wrap:anywhere; }
#review-agent { max-width:100%; }
#integration-line[data-state=failing], #integration-line[data-state=conflict] { color:var(--bad); }
`;

const REVIEW_SCRIPT = `
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function setStatus(t) { $("review-status").textContent = t; }
  function where(file, line) { return line ? file + ":" + line : file; }

  async function loadAgents() {
    var r;
    try { r = await fetch("diff", { cache: "no-store", headers: { accept: "application/json" } }); }
    catch (_e) { return; }
    if (!r.ok) { $("review-section").hidden = true; return; }
    var body = await r.json();
    $("review-section").hidden = false;
    var sel = $("review-agent");
    var keep = sel.value;
    var first = el("option", null, "choose an agent\u2026");
    first.value = "";
    sel.replaceChildren(first);
    (Array.isArray(body.agents) ? body.agents : []).forEach(function (a) {
      var o = el("option", null, a.agent + " (" + a.branch + ")");
      o.value = a.agent;
      sel.append(o);
    });
    sel.value = keep;
  }

  async function loadDiff() {
    var id = $("review-agent").value;
    var box = $("review-diff");
    box.replaceChildren();
    setStatus("");
    if (!id) return;
    var q = $("review-worktree").checked ? "?worktree=1" : "";
    var r = await fetch("diff/" + encodeURIComponent(id) + q, { cache: "no-store" });
    if (!r.ok) { setStatus("cannot load the diff: HTTP " + r.status); return; }
    var d = await r.json();
    if (id !== $("review-agent").value) return;
    setStatus(d.summary.files + " files, +" + d.summary.additions + " \u2212" +
      d.summary.deletions + " against " + d.base);
    d.files.forEach(function (f) { box.append(fileView(id, f)); });
  }

  function fileView(id, f) {
    var sec = el("div", "rv-file");
    sec.setAttribute("data-file", f.path);
    var head = el("div", "rv-head");
    head.append(el("span", "rv-path", f.path),
      el("span", "muted", f.status + " +" + f.additions + " \u2212" + f.deletions));
    var btn = el("button", "rv-file-comment", "comment on file");
    btn.type = "button";
    btn.addEventListener("click", function () { openForm(head, id, f.path, null, "new"); });
    head.append(btn);
    sec.append(head);
    var table = el("table", "rv-lines");
    f.hunks.forEach(function (h) {
      var hr = el("tr", "rv-hunk");
      var htd = el("td", null, h.header);
      htd.colSpan = 3;
      hr.append(htd);
      table.append(hr);
      h.lines.forEach(function (l) {
        var tr = el("tr", "rv-" + l.kind);
        var del = l.kind === "del";
        var line = del ? l.old : l.new;
        var side = del ? "old" : "new";
        tr.setAttribute("data-line", String(line));
        tr.setAttribute("data-side", side);
        var mark = l.kind === "add" ? "+" : del ? "-" : " ";
        tr.append(el("td", "rv-no", l.old === null ? "" : l.old),
          el("td", "rv-no", l.new === null ? "" : l.new),
          el("td", "rv-text", mark + l.text));
        tr.addEventListener("click", function () { openForm(tr, id, f.path, line, side); });
        table.append(tr);
      });
    });
    sec.append(table);
    return sec;
  }

  function openForm(after, id, file, line, side) {
    var open = document.querySelector(".rv-form");
    if (open) open.remove();
    var inRow = after.tagName === "TR";
    var form = el(inRow ? "tr" : "div", "rv-form");
    var holder = form;
    if (inRow) { holder = el("td"); holder.colSpan = 3; form.append(holder); }
    var ta = el("textarea");
    ta.rows = 3;
    ta.placeholder = "Comment to " + id + " on " + where(file, line);
    var send = el("button", "rv-send", "Send to " + id);
    send.type = "button";
    var cancel = el("button", "rv-cancel", "Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", function () { form.remove(); });
    send.addEventListener("click", async function () {
      if (!ta.value.trim()) return;
      send.disabled = true;
      try {
        var r = await fetch("diff/" + encodeURIComponent(id) + "/comment", {
          method: "POST",
          headers: { "content-type": "application/json", "x-git-paw-csrf": "1" },
          body: JSON.stringify({ file: file, line: line, side: side, text: ta.value }),
        });
        if (r.ok) { form.remove(); setStatus("sent to " + id + ": " + where(file, line)); return; }
        setStatus("not sent: HTTP " + r.status);
      } catch (e) {
        setStatus("not sent: " + e);
      }
      send.disabled = false;
    });
    holder.append(ta, send, cancel);
    after.after(form);
    ta.focus();
  }

  async function loadIntegration() {
    var p = $("integration-line");
    try {
      var r = await fetch("integration", { cache: "no-store", headers: { accept: "application/json" } });
      if (!r.ok) { p.hidden = true; return; }
      var s = await r.json();
      p.textContent = s.line;
      p.setAttribute("data-state", s.state);
      p.hidden = !s.line;
    } catch (_e) { /* the stream reports trouble */ }
  }

  $("review-agent").addEventListener("change", loadDiff);
  $("review-worktree").addEventListener("change", loadDiff);
  loadAgents();
  loadIntegration();
  setInterval(function () { loadAgents(); loadIntegration(); }, 3000);
})();
`;
