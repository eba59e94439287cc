import assert from "node:assert/strict";
import type { AgentStatusEntry, LogEntry } from "../../lib/broker/api.ts";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  agentRows,
  applyAttention,
  applyEntry,
  applyRoster,
  createDashboardState,
  type DashboardState,
  handleKey,
  type Key,
  parseKeys,
  selectedEntry,
  statusLine,
  visibleEntries,
} from "../../lib/core/dashboard_model.ts";
import { summarize } from "../../lib/core/dashboard_summary.ts";
import { displayWidth } from "../../lib/core/dashboard_text.ts";
import { renderFrame, tableColumns } from "../../lib/dashboard/render.ts";

const NOW = 1_750_760_000;
// deno-lint-ignore no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const ESC = new RegExp("\x1b");
const BOLD = new RegExp("\x1b\\[1m");

function state(opts: Partial<{ max: number; visible: boolean }> = {}) {
  return createDashboardState({
    session: "paw-demo",
    url: "http://127.0.0.1:9119",
    maxMessages: opts.max ?? 500,
    logVisible: opts.visible ?? true,
  });
}

let seq = 0;
function entry(message: unknown, ts = NOW - 5): LogEntry {
  return {
    seq: ++seq,
    timestamp_unix_secs: ts,
    message: message as BrokerMessage,
  };
}

function status(id: string, text: string | null, st = "working"): unknown {
  return {
    type: "agent.status",
    agent_id: id,
    payload: {
      status: st,
      modified_files: ["a.ts"],
      message: text,
      cli: null,
      phase: null,
    },
  };
}

function roster(
  ...rows: Array<Partial<AgentStatusEntry> & { agent_id: string }>
) {
  return rows.map((r) => ({
    cli: "claude",
    status: "working",
    last_seen_seconds: 3,
    summary: "",
    ...r,
  }));
}

const HOSTILE =
  "pwn\x1b[2J\x1b]0;title\x07\x1b[31mred\u009b1m\u202eevil\u0000z";

function plain(line: string): string {
  return line.replace(SGR, "");
}

function assertFrame(lines: string[], width: number, height: number) {
  assert.equal(lines.length, height);
  for (const l of lines) {
    const p = plain(l);
    assert.doesNotMatch(p, CONTROL, `control char in ${JSON.stringify(p)}`);
    assert.ok(
      displayWidth(p) <= width,
      `too wide (${displayWidth(p)} > ${width}): ${p}`,
    );
  }
}

function render(s: DashboardState, width = 120, height = 40, color = false) {
  return renderFrame(s, { width, height, now: NOW, color });
}

Deno.test("renderFrame() shows title, URL, empty roster message and status line", () => {
  const s = state();
  const lines = render(s);
  assertFrame(lines, 120, 40);
  assert.match(
    lines[0]!,
    /^git-paw dashboard — paw-demo +broker http:\/\/127\.0\.0\.1:9119$/,
  );
  assert.ok(lines.some((l) => l.includes("No agents connected yet")));
  assert.ok(
    lines.some((l) =>
      l === "0 agents: 0 working, 0 done, 0 blocked, 0 committed"
    ),
  );
  assert.ok(lines.some((l) => l.includes("(no broker messages yet)")));
  assert.match(lines[39]!, /^q quit/);
});

Deno.test("agentRows() pins the supervisor first, then sorts ids; blank CLI shows ?", () => {
  const s = state();
  applyRoster(
    s,
    roster(
      { agent_id: "feat-b" },
      { agent_id: "supervisor", cli: "", phase: "reviewing" },
      { agent_id: "feat-a", status: "done" },
    ),
    NOW,
  );
  const rows = agentRows(s, NOW);
  assert.deepEqual(rows.map((r) => r.id), ["supervisor", "feat-a", "feat-b"]);
  assert.equal(rows[0]!.cli, "?");
  assert.equal(rows[0]!.label, "reviewing");
  assert.equal(rows[1]!.symbol, "🟢");
  const lines = render(s);
  const sup = lines.findIndex((l) => l.includes("supervisor"));
  assert.match(lines[sup + 1]!, /^─+$/);
  assert.ok(lines[sup + 2]!.includes("feat-a"));
});

Deno.test("statusSymbol and labels follow the Dashboard reference, stuck-on-prompt phase wins", () => {
  const s = state();
  applyRoster(
    s,
    roster(
      { agent_id: "a", status: "working" },
      { agent_id: "b", status: "committed" },
      { agent_id: "c", status: "blocked" },
      { agent_id: "d", status: "verified" },
      { agent_id: "e", status: "weird" },
      { agent_id: "f", status: "working", phase: "stuck-on-prompt" },
      { agent_id: "g", status: "working", phase: "planning" },
    ),
    NOW,
  );
  const rows = agentRows(s, NOW);
  assert.deepEqual(rows.map((r) => r.symbol), [
    "🔵",
    "🟣",
    "🟡",
    "🟢",
    "⚪",
    "🔵",
    "🔵",
  ]);
  assert.equal(rows[5]!.label, "stuck-on-prompt");
  assert.equal(rows[6]!.label, "working");
  assert.equal(
    statusLine(s),
    "7 agents: 3 working, 1 done, 1 blocked, 1 committed",
  );
});

Deno.test("ages follow the clock from the roster snapshot time", () => {
  const s = state();
  applyRoster(s, roster({ agent_id: "feat-a", last_seen_seconds: 10 }), NOW);
  assert.equal(agentRows(s, NOW)[0]!.age, "10s ago");
  assert.equal(agentRows(s, NOW + 55)[0]!.age, "1m ago");
  assert.equal(agentRows(s, NOW + 3700)[0]!.age, "1h 1m ago");
});

Deno.test("the Summary column comes from the agent's last message", () => {
  const s = state();
  applyRoster(
    s,
    roster({ agent_id: "feat-a" }, { agent_id: "feat-b" }, {
      agent_id: "feat-c",
    }),
    NOW,
  );
  applyEntry(s, entry(status("feat-a", "writing the parser")));
  applyEntry(
    s,
    entry({
      type: "agent.blocked",
      agent_id: "feat-b",
      payload: { needs: "API schema", from: "feat-a" },
    }),
  );
  applyEntry(
    s,
    entry({
      type: "agent.artifact",
      agent_id: "feat-c",
      payload: {
        status: "committed",
        exports: ["parse"],
        modified_files: ["p.ts"],
      },
    }),
  );
  const rows = agentRows(s, NOW);
  assert.equal(rows[0]!.summary, "writing the parser");
  assert.equal(rows[1]!.summary, "blocked: needs API schema from feat-a");
  assert.equal(rows[2]!.summary, "committed — p.ts — exports parse");
  applyEntry(s, entry(status("feat-a", null)));
  assert.equal(
    agentRows(s, NOW)[0]!.summary,
    "working: 1 file modified (a.ts)",
  );
});

Deno.test("summarize() covers every message type in one line", () => {
  const msgs: unknown[] = [
    {
      type: "agent.question",
      agent_id: "a",
      payload: { question: "Which\nDB?" },
    },
    {
      type: "agent.intent",
      agent_id: "a",
      payload: {
        files: ["x.ts", { path: "y.ts" }],
        summary: "refactor",
        valid_for_seconds: 60,
      },
    },
    {
      type: "agent.verified",
      agent_id: "a",
      payload: { verified_by: "supervisor", message: "lgtm" },
    },
    {
      type: "agent.feedback",
      agent_id: "a",
      payload: { from: "supervisor", errors: ["lint", "test"] },
    },
    {
      type: "agent.advanced-main",
      from: "supervisor",
      merged_branch: "feat-a",
      new_main_sha: "0123456789",
      base: "main",
      merged_at: "2026-01-01T00:00:00Z",
      summary: null,
    },
    {
      type: "agent.learning",
      payload: {
        id: "1",
        agent_id: "a",
        branch_id: null,
        category: "build",
        title: "use deno",
        body: "",
        timestamp: "t",
      },
    },
    { type: "supervisor.verify-now", branch_id: "a" },
  ];
  const out = msgs.map((m) => summarize(m as BrokerMessage));
  assert.deepEqual(out, [
    "asks: Which DB?",
    "intends: refactor (x.ts, y.ts)",
    "verified by supervisor — lgtm",
    "feedback from supervisor: 2 errors — lint",
    "merged feat-a → main (0123456)",
    "learning (build): use deno",
    "verification requested",
  ]);
});

Deno.test("hostile agent text never reaches the frame as control characters", () => {
  const s = state();
  applyRoster(
    s,
    roster({
      agent_id: "feat-x",
      cli: `cl\x1b[5mi`,
      status: `wo\x07rking`,
      phase: HOSTILE,
    }),
    NOW,
  );
  applyEntry(s, entry(status("feat-x", HOSTILE)));
  applyEntry(
    s,
    entry({
      type: "agent.question",
      agent_id: "feat-x",
      payload: { question: HOSTILE },
    }),
  );
  applyAttention(s, [{
    agent_id: "feat-x",
    reason: "question",
    detail: "q",
    seq: 2,
    since: NOW,
  }]);
  for (const color of [false, true]) {
    for (const width of [1, 5, 20, 40, 80, 120, 200]) {
      const lines = render(s, width, 30, color);
      assertFrame(lines, width, 30);
      for (const l of lines) {
        // Only SGR sequences may carry ESC, and only in colour mode.
        assert.doesNotMatch(l.replace(SGR, ""), ESC);
        if (!color) assert.doesNotMatch(l, ESC);
      }
    }
  }
  const text = render(s).join("\n");
  assert.ok(text.includes("␛[2J"), "ESC shown as a visible picture");
  assert.ok(text.includes("␇"), "BEL shown as a visible picture");
  s.overlay = true;
  const overlay = render(s, 80, 30);
  assertFrame(overlay, 80, 30);
  assert.ok(overlay.join("\n").includes("seq "));
});

Deno.test("renderFrame() fits narrow terminals with … and wide/RTL/emoji text", () => {
  const s = state();
  applyRoster(
    s,
    roster(
      { agent_id: "feat-漢字漢字漢字漢字漢字" },
      { agent_id: "feat-🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥" },
      { agent_id: "feat-" + "x".repeat(200) },
    ),
    NOW,
  );
  applyEntry(s, entry(status("feat-x", "مرحبا بالعالم " + "漢".repeat(300))));
  for (let width = 1; width <= 130; width += 7) {
    for (const height of [1, 3, 8, 24]) {
      assertFrame(render(s, width, height), width, height);
    }
  }
  const narrow = render(s, 40, 24);
  assert.ok(narrow.some((l) => l.includes("…")));
});

Deno.test("tableColumns() drops CLI, then age, then summary as the width shrinks", () => {
  const wide = tableColumns(120, 10);
  assert.ok(wide.cli > 0 && wide.age > 0 && wide.summary >= 20);
  const mid = tableColumns(60, 10);
  assert.equal(mid.cli, 0);
  assert.ok(mid.summary > 0);
  const tiny = tableColumns(20, 10);
  assert.equal(tiny.summary, 0);
});

Deno.test("applyEntry() keeps a ring buffer of max_messages, newest first", () => {
  const s = state({ max: 3 });
  for (let i = 0; i < 5; i++) applyEntry(s, entry(status("feat-a", `m${i}`)));
  const v = visibleEntries(s);
  assert.deepEqual(v.map((p) => p.text), ["m4", "m3", "m2"]);
  // Old or repeated seqs are ignored.
  assert.equal(applyEntry(s, v[0]!.entry), false);
  assert.equal(s.panel.length, 3);
});

Deno.test("log rows read HH:MM:SS · type · id · summary (UTC)", () => {
  const s = state();
  applyEntry(
    s,
    entry(status("feat-a", "hello"), Date.UTC(2026, 0, 2, 3, 4, 5) / 1000),
  );
  const lines = render(s);
  assert.ok(
    lines.some((l) => l.startsWith("› 03:04:05 · status · feat-a · hello")),
    lines.join("\n"),
  );
});

function keys(s: DashboardState, input: string) {
  return parseKeys(input).map((k) => handleKey(s, k));
}

Deno.test("parseKeys() decodes letters, arrows, Enter, lone Esc and Ctrl-C", () => {
  const k: Key[] = parseKeys("jk\x1b[A\x1b[B\x1bOA\r\x1b\x03q\x1b[1;5C");
  assert.deepEqual(k.map((x) => x.kind === "char" ? x.ch : x.kind), [
    "j",
    "k",
    "up",
    "down",
    "up",
    "enter",
    "escape",
    "interrupt",
    "q",
  ]);
});

Deno.test("chips: a digit narrows from All, toggling off returns to All, a resets", () => {
  const s = state();
  applyEntry(s, entry(status("feat-a", "s1")));
  applyEntry(
    s,
    entry({
      type: "agent.question",
      agent_id: "feat-a",
      payload: { question: "q1" },
    }),
  );
  applyEntry(
    s,
    entry({
      type: "agent.blocked",
      agent_id: "feat-b",
      payload: { needs: "n", from: "feat-a" },
    }),
  );
  keys(s, "1");
  assert.deepEqual(visibleEntries(s).map((p) => p.type), ["agent.status"]);
  keys(s, "6");
  assert.deepEqual(visibleEntries(s).map((p) => p.type), [
    "agent.question",
    "agent.status",
  ]);
  let chipLine = render(s).find((l) => l.includes("[1:status]"));
  assert.ok(chipLine?.includes("[6:question]") && chipLine.includes(" a:All "));
  keys(s, "16");
  assert.equal(s.chips.size, 0);
  assert.equal(visibleEntries(s).length, 3);
  keys(s, "0");
  assert.equal(visibleEntries(s).length, 0);
  assert.ok(render(s).some((l) => l.includes("no messages match the filter")));
  keys(s, "a");
  assert.equal(visibleEntries(s).length, 3);
  chipLine = render(s).find((l) => l.includes("[a:All]"));
  assert.ok(chipLine);
});

Deno.test("selection moves with j/k/arrows, sticks to its entry, Enter/Esc toggle the overlay", () => {
  const s = state();
  for (let i = 0; i < 4; i++) applyEntry(s, entry(status("feat-a", `m${i}`)));
  assert.equal(selectedEntry(s)!.text, "m3");
  assert.deepEqual(keys(s, "k"), ["none"]);
  keys(s, "jj");
  assert.equal(selectedEntry(s)!.text, "m1");
  keys(s, "\x1b[A");
  assert.equal(selectedEntry(s)!.text, "m2");
  keys(s, "jjjjjj");
  assert.equal(selectedEntry(s)!.text, "m0");
  applyEntry(s, entry(status("feat-a", "m4")));
  assert.equal(selectedEntry(s)!.text, "m0", "selection follows its entry");
  const before = render(s);
  assert.ok(before.some((l) => l.startsWith("› ") && l.includes("m0")));
  assert.deepEqual(keys(s, "\r"), ["changed"]);
  assert.equal(s.overlay, true);
  const over = render(s, 100, 30).join("\n");
  assert.match(over, /┌ seq \d+ · status · feat-a — Esc closes/);
  assert.ok(over.includes('"message": "m0"'));
  // Keys other than Esc still act while the overlay is open.
  keys(s, "k");
  assert.equal(selectedEntry(s)!.text, "m1");
  assert.deepEqual(keys(s, "\x1b"), ["changed"]);
  assert.equal(s.overlay, false);
  assert.deepEqual(keys(s, "q"), ["quit"]);
});

Deno.test("l hides the log panel and the status line says so", () => {
  const s = state();
  applyEntry(s, entry(status("feat-a", "m")));
  keys(s, "l");
  const lines = render(s);
  assert.ok(
    lines.some((l) => l.endsWith("broker log hidden — press l to show")),
  );
  assert.ok(!lines.some((l) => l.includes("a:All")));
  assert.deepEqual(keys(s, "\r"), ["none"], "no overlay while hidden");
  keys(s, "l");
  assert.ok(render(s).some((l) => l.includes("a:All")));
});

Deno.test("the overlay of a huge message is bounded and fits the screen", () => {
  const s = state();
  const big = Array.from(
    { length: 5000 },
    (_, i) => `line ${i} ${"y".repeat(50)}`,
  );
  applyEntry(
    s,
    entry({
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "supervisor", errors: big },
    }),
  );
  keys(s, "\r");
  const lines = render(s, 80, 24);
  assertFrame(lines, 80, 24);
  assert.ok(lines.some((l) => /… \d+ more lines \(PgDn\)/.test(l)));
  assert.deepEqual(keys(s, "\x1b[6~\x1b[6~"), ["changed", "changed"]);
  const down = render(s, 80, 24);
  assertFrame(down, 80, 24);
  assert.ok(down.some((l) => l.includes("… 20 lines above (PgUp)")));
  assert.ok(down.some((l) => l.includes('"line 1') || l.includes("line 1")));
  keys(s, "\x1b[5~\x1b[5~\x1b[5~");
  assert.equal(s.overlayScroll, 0);
  assert.ok(!render(s, 80, 24).some((l) => l.includes("lines above")));
  // PgDn far past the end stays clamped to the last page.
  for (let i = 0; i < 1000; i++) keys(s, "\x1b[6~");
  const end = render(s, 80, 24);
  assertFrame(end, 80, 24);
  assert.ok(end.some((l) => l.includes('"line 1990 ')), end.join("\n"));
  assert.ok(
    !end.some((l) => l.includes("(PgDn)")),
    "nothing below the last page",
  );
});

Deno.test("attention items show in their own section and mark the agent row", () => {
  const s = state();
  applyRoster(s, roster({ agent_id: "feat-a" }, { agent_id: "feat-b" }), NOW);
  applyAttention(s, [{
    agent_id: "feat-b",
    reason: "blocked",
    detail: "needs the schema",
    seq: 4,
    since: NOW - 120,
  }]);
  const lines = render(s);
  assert.ok(lines.includes("⚠ Attention (1)"));
  assert.ok(
    lines.some((l) => /^! feat-b +blocked +2m ago +needs the schema$/.test(l)),
  );
  assert.ok(lines.some((l) => /^! feat-b +claude/.test(l)));
  assert.ok(lines.some((l) => /^ {2}feat-a +claude/.test(l)));
  assert.equal(applyAttention(s, [...s.attention]), false);
  assert.equal(applyAttention(s, []), true);
});

Deno.test("colour output uses SGR only and NO_COLOR output has no escapes but keeps symbols", () => {
  const s = state();
  applyRoster(s, roster({ agent_id: "feat-a" }), NOW);
  const colored = render(s, 100, 20, true).join("\n");
  assert.match(colored, BOLD);
  assert.doesNotMatch(colored.replace(SGR, ""), ESC);
  const mono = render(s, 100, 20, false).join("\n");
  assert.doesNotMatch(mono, ESC);
  assert.ok(mono.includes("🔵 working"));
});
