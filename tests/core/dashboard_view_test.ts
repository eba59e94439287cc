import assert from "node:assert/strict";
import { clockText, messageLine } from "../../lib/core/dashboard_summary.ts";
import {
  applyAttention,
  applyEntries,
  applyEntry,
  applyRoster,
  attentionRows,
  createDashboardState,
  dashboardView,
  statusLine,
  statusTone,
} from "../../lib/core/dashboard_model.ts";
import type { LogEntry } from "../../lib/core/broker_types.ts";
import type { AgentStatusEntry } from "../../lib/core/broker_types.ts";

const T = Date.UTC(2026, 0, 2, 13, 4, 5) / 1000;

function entry(seq: number, message: unknown, at = T): LogEntry {
  return { seq, timestamp_unix_secs: at, message } as LogEntry;
}

function agent(id: string, status: string, seen = 0): AgentStatusEntry {
  return {
    agent_id: id,
    cli: "claude",
    status,
    last_seen_seconds: seen,
  } as AgentStatusEntry;
}

Deno.test("messageLine() gives the type, subject, UTC time and summary of an entry", () => {
  assert.deepEqual(
    messageLine(entry(1, {
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "supervisor", errors: ["lint failed", "x"] },
    })),
    {
      type: "agent.feedback",
      id: "feat-a",
      time: "13:04:05",
      text: "feedback from supervisor: 2 errors — lint failed",
    },
  );
});

Deno.test("messageLine() sanitises hostile text", () => {
  const line = messageLine(entry(2, {
    type: "agent.question",
    agent_id: "feat-\x1b[2Jb",
    payload: { question: "ok?\x07\u202e" },
  }));
  assert.equal(line.id, "feat-␛[2Jb");
  assert.equal(line.text, "asks: ok?␇\ufffd");
});

Deno.test("messageLine() still gives a row for a malformed message", () => {
  const line = messageLine(entry(3, { type: "agent.blocked", payload: null }));
  assert.equal(line.type, "agent.blocked");
  assert.equal(line.id, "?");
  assert.match(line.text, /"payload":null/);
  assert.equal(messageLine(entry(4, { type: "nope" })).type, "agent.status");
  assert.equal(messageLine(entry(5, {}, Number.NaN)).time, "??:??:??");
});

Deno.test("clockText() is HH:MM:SS UTC", () => {
  assert.equal(clockText(T + 0.9), "13:04:05");
});

Deno.test("the TUI panel row and the message line are one text", () => {
  const s = createDashboardState({
    session: "paw",
    url: "http://x",
    maxMessages: 10,
    logVisible: true,
  });
  const e = entry(1, {
    type: "agent.status",
    agent_id: "feat-a",
    payload: { status: "working", modified_files: ["a.ts", "b.ts"] },
  });
  applyEntry(s, e);
  const { entry: _e, ...row } = s.panel[0]!;
  assert.deepEqual(row, messageLine(e));
  assert.equal(row.text, "working: 2 files modified (a.ts, b.ts)");
});

Deno.test("dashboardView() carries rows with summary, age and tone, counts and attention", () => {
  const s = createDashboardState({
    session: "paw",
    url: "http://x",
    maxMessages: 10,
    logVisible: true,
  });
  applyEntry(
    s,
    entry(1, {
      type: "agent.question",
      agent_id: "feat-a",
      payload: { question: "Which DB?" },
    }),
  );
  applyRoster(
    s,
    [agent("feat-a", "working", 5), agent("supervisor", "done")],
    T,
  );
  applyAttention(s, [{
    agent_id: "feat-a",
    reason: "question",
    detail: "Which DB?",
    seq: 1,
    since: T - 5,
  }]);
  const v = dashboardView(s, T + 70);
  assert.equal(v.session, "paw");
  assert.equal(v.counts, "2 agents: 1 working, 1 done, 0 blocked, 0 committed");
  assert.deepEqual(
    v.agents.map((a) => [a.id, a.tone, a.age, a.summary, a.attention]),
    [
      ["supervisor", "done", "1m ago", "", false],
      ["feat-a", "working", "1m ago", "asks: Which DB?", true],
    ],
  );
  assert.deepEqual(v.attention, [
    {
      id: "feat-a",
      reason: "question",
      why: "question",
      age: "1m ago",
      detail: "Which DB?",
    },
  ]);
  assert.deepEqual(attentionRows(s, T + 3600 + 125), [
    {
      id: "feat-a",
      reason: "question",
      why: "question",
      age: "1h 2m ago",
      detail: "Which DB?",
    },
  ]);
});

Deno.test("statusTone() groups labels as the status symbols do", () => {
  assert.equal(statusTone(" Verified "), "done");
  assert.equal(statusTone("committed"), "committed");
  assert.equal(statusTone("blocked"), "blocked");
  assert.equal(statusTone("working"), "working");
  assert.equal(statusTone("idle"), "other");
});

Deno.test("statusTone() and statusLine() show an agent waiting for a person", () => {
  assert.equal(statusTone("needs_input"), "waiting");
  const s = createDashboardState({
    session: "s",
    url: "u",
    maxMessages: 10,
    logVisible: true,
  });
  applyRoster(s, [{
    agent_id: "feat-a",
    cli: "claude",
    status: "needs_input",
    last_seen_seconds: 0,
    summary: "",
  }], 100);
  assert.equal(
    statusLine(s),
    "1 agent: 0 working, 0 done, 0 blocked, 0 committed, 1 waiting for you",
  );
});

Deno.test("applyEntries() ends where applyEntry() one by one ends, for bursts larger and smaller than the panel", () => {
  const agents = ["feat-a", "feat-b", "feat-c", "feat-d", "feat-e"];
  const all: LogEntry[] = [];
  for (let seq = 1; seq <= 2000; seq++) {
    const id = agents[(seq * 7) % 5]!;
    // feat-e speaks only early: its summary comes from an entry that has
    // long left the panel.
    const who = seq > 50 && id === "feat-e" ? "feat-a" : id;
    all.push(entry(
      seq,
      seq % 13 === 0
        ? {
          type: "agent.question",
          agent_id: who,
          payload: { question: `q${seq}` },
        }
        : {
          type: "agent.status",
          agent_id: who,
          payload: { status: "working", message: `step ${seq}` },
        },
      T + seq,
    ));
  }
  all.push(entry(2001, { type: "not.a.type" }));
  const opts = { session: "s", url: "u", maxMessages: 100, logVisible: true };
  const one = createDashboardState(opts);
  for (const e of all) applyEntry(one, e);
  for (
    const cuts of [[all.length], [3, 40, 41, 1500, all.length], [
      99,
      100,
      101,
      1999,
      all.length,
    ]]
  ) {
    const many = createDashboardState(opts);
    let at = 0;
    for (const cut of cuts) {
      assert.equal(applyEntries(many, all.slice(at, cut)), cut > at);
      at = cut;
    }
    // Entries already in are skipped, as applyEntry skips them.
    assert.equal(applyEntries(many, all.slice(1990)), false);
    assert.deepEqual(many.panel, one.panel, `cuts ${cuts}`);
    assert.deepEqual(many.summaries, one.summaries, `cuts ${cuts}`);
  }
  assert.equal(one.panel.length, 100);
  assert.match(one.summaries.get("feat-e")!.text, /step \d+/);
});
