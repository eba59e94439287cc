import assert from "node:assert/strict";
import {
  agentsTable,
  agentsView,
  type AgentsViewInput,
  attentionOf,
  declaredFinished,
} from "../../lib/core/agents_view.ts";
import type { LogEntry } from "../../lib/core/broker_types.ts";
import type { ApprovalRecord } from "../../lib/core/approvals.ts";

let seq = 0;
function entry(at: number, message: unknown): LogEntry {
  return {
    seq: ++seq,
    timestamp_unix_secs: at,
    message: message as LogEntry["message"],
  };
}
const status = (id: string, s: string, message?: string, detail?: unknown) => ({
  type: "agent.status",
  agent_id: id,
  payload: {
    status: s,
    modified_files: [],
    ...(message === undefined ? {} : { message }),
    ...(detail === undefined ? {} : { detail }),
  },
});

function input(more: Partial<AgentsViewInput> = {}): AgentsViewInput {
  return {
    worktrees: [
      { branch: "feat/b", worktree_path: "/w/proj-feat-b", cli: "claude" },
      { branch: "feat-a", worktree_path: "/w/proj-feat-a", cli: "demo" },
    ],
    roster: [],
    log: [],
    approvals: [],
    panes: new Map([["feat-a", "%2"], ["feat-b", "%3"]]),
    ...more,
  };
}

Deno.test("agentsView() lists every agent of the receipt by id, with pane and worktree, before any word", () => {
  const rows = agentsView(input(), 100);
  assert.deepEqual(rows.map((r) => [r.id, r.branch, r.cli, r.pane]), [
    ["feat-a", "feat-a", "demo", "%2"],
    ["feat-b", "feat/b", "claude", "%3"],
  ]);
  assert.deepEqual(rows[0], {
    id: "feat-a",
    branch: "feat-a",
    cli: "demo",
    status: "",
    declared_status: "",
    attention: "working",
    pane: "%2",
    worktree: "/w/proj-feat-a",
    last_message: null,
    waiting_for: {
      approval: null,
      question: null,
      blocked_on: null,
      prompt: null,
    },
  });
});

Deno.test("agentsView() says what an agent waits for: a pending approval and its command", () => {
  const approval: ApprovalRecord = {
    id: 7,
    agent: "feat-a",
    cli: "demo",
    tool: "Bash",
    what: "git push origin feat-a",
    cwd: "/w/proj-feat-a",
    mode: "queue",
    why: "not in the policy",
    requested_at: 90,
    decision: null,
  };
  const log = [
    entry(
      91,
      status(
        "feat-a",
        "needs_input",
        "approval 7: Bash: git push origin feat-a — git paw approve 7",
        { approval: 7 },
      ),
    ),
  ];
  const rows = agentsView(
    input({
      log,
      approvals: [approval],
      roster: [{
        agent_id: "feat-a",
        cli: "demo",
        status: "needs_input",
        last_seen_seconds: 9,
        summary: "",
      }],
    }),
    100,
  );
  const a = rows[0]!;
  assert.equal(a.attention, "needs_input");
  assert.deepEqual(a.waiting_for.approval, {
    id: 7,
    tool: "Bash",
    what: "git push origin feat-a",
    command: "git paw approve 7",
  });
  assert.equal(a.waiting_for.prompt, null, "the approval says it all");
  assert.equal(a.last_message?.type, "agent.status");
  assert.equal(a.last_message?.age_seconds, 9);
  // Decided: nothing to wait for any more.
  const done = agentsView(
    input({
      log,
      approvals: [{
        ...approval,
        decision: { decision: "deny", by: "timeout", reason: null, at: 95 },
      }],
    }),
    100,
  );
  assert.equal(done[0]!.waiting_for.approval, null);
});

Deno.test("agentsView() keeps a question open until the agent speaks again or gets an answer", () => {
  const q = entry(10, {
    type: "agent.question",
    agent_id: "feat-b",
    payload: { question: "Which DB?" },
  });
  const watcher = entry(11, status("feat-b", "working")); // a bare file report
  let rows = agentsView(input({ log: [q, watcher] }), 20);
  const b = rows.find((r) => r.id === "feat-b")!;
  assert.equal(b.waiting_for.question, "Which DB?");
  assert.equal(b.attention, "needs_input");
  const answer = entry(12, {
    type: "agent.feedback",
    agent_id: "feat-b",
    payload: { from: "user", errors: ["Postgres"] },
  });
  rows = agentsView(input({ log: [q, watcher, answer] }), 20);
  assert.equal(rows.find((r) => r.id === "feat-b")!.waiting_for.question, null);
  assert.match(
    rows.find((r) => r.id === "feat-b")!.last_message!.summary,
    /feedback from user/,
  );
  rows = agentsView(
    input({ log: [q, entry(13, status("feat-b", "working", "on it"))] }),
    20,
  );
  assert.equal(rows.find((r) => r.id === "feat-b")!.waiting_for.question, null);
});

Deno.test("agentsView() names what a blocked agent needs while it is blocked", () => {
  const log = [
    entry(5, {
      type: "agent.blocked",
      agent_id: "feat-a",
      payload: { needs: "the schema", from: "feat-b" },
    }),
  ];
  const roster = (s: string) => [{
    agent_id: "feat-a",
    cli: "demo",
    status: s,
    last_seen_seconds: 1,
    summary: "",
  }];
  let a = agentsView(input({ log, roster: roster("blocked") }), 6)[0]!;
  assert.equal(a.attention, "blocked");
  assert.equal(a.waiting_for.blocked_on, "needs the schema from feat-b");
  a = agentsView(input({ log, roster: roster("working") }), 6)[0]!;
  assert.equal(a.waiting_for.blocked_on, null);
});

Deno.test("attentionOf() maps roster statuses", () => {
  assert.deepEqual(
    [
      "needs_input",
      "blocked",
      "done",
      "merged",
      "verified",
      "idle",
      "committed",
      "working",
      "intent",
      "",
    ].map(attentionOf),
    [
      "needs_input",
      "blocked",
      "done",
      "done",
      "verified",
      "idle",
      "idle",
      "working",
      "working",
      "working",
    ],
  );
});

Deno.test("agentsTable() shows one row per agent, its worktree and what it waits for", () => {
  const rows = agentsView(
    input({
      log: [entry(40, {
        type: "agent.question",
        agent_id: "feat-a",
        payload: { question: "Ship it?" },
      })],
      roster: [{
        agent_id: "feat-a",
        cli: "demo",
        status: "working",
        last_seen_seconds: 60,
        summary: "",
      }],
    }),
    100,
  );
  const text = agentsTable(rows, "paw-proj");
  const lines = text.split("\n");
  assert.match(
    lines[0]!,
    /^AGENT\s+CLI\s+ATTENTION\s+STATUS\s+PANE\s+LAST MESSAGE$/,
  );
  assert.match(
    lines[1]!,
    /^feat-a\s+demo\s+needs_input\s+working\s+%2\s+question 1m ago: asks: Ship it\?$/,
  );
  assert.match(lines[2]!, /^\s+worktree: \/w\/proj-feat-a$/);
  assert.match(lines[3]!, /^\s+waits for: an answer: Ship it\?$/);
  assert.match(lines[4]!, /^feat-b\s+claude\s+working\s+-\s+%3\s+-$/);
  assert.equal(agentsTable([], "paw-proj"), "no agents in session 'paw-proj'");
  // Styling goes only where the caller puts it (NO_COLOR: identity).
  const styled = agentsTable(rows, "s", {
    attention: (a, t) => `<${a}>${t}`,
    dim: (t) => t,
  });
  assert.match(styled, /<needs_input>needs_input/);
});

Deno.test("agentsView() keeps the agent's own done when its CLI's end of turn or a dialog replaces it on the roster", () => {
  const done = entry(30, status("feat-a", "done", "finished"));
  const idle = entry(
    31,
    status("feat-a", "idle", "Done.", { source: "cli_event" }),
  );
  const dialog = entry(
    32,
    status("feat-a", "needs_input", "Make auto mode your default?", {
      source: "screen",
    }),
  );
  const roster = (s: string) => [{
    agent_id: "feat-a",
    cli: "claude",
    status: s,
    last_seen_seconds: 0,
    summary: "",
  }];
  let a = agentsView(
    input({ log: [done, idle], roster: roster("idle") }),
    40,
  )[0]!;
  assert.equal(a.declared_status, "done");
  assert.equal(a.attention, "done");
  a = agentsView(
    input({ log: [done, idle, dialog], roster: roster("needs_input") }),
    40,
  )[0]!;
  assert.equal(a.declared_status, "done");
  assert.equal(a.attention, "needs_input", "a person should still look");
  assert.equal(a.waiting_for.prompt, "Make auto mode your default?");
  assert.ok(declaredFinished(a));
  // A watcher file report is not the agent's word.
  a = agentsView(
    input({
      log: [done, entry(33, status("feat-a", "working"))],
      roster: roster("done"),
    }),
    40,
  )[0]!;
  assert.equal(a.declared_status, "done");
});
