import assert from "node:assert/strict";
import {
  answerTarget,
  answerText,
  applyNeedsYouEntry,
  claimAnswer,
  createNeedsYouState,
  needsYouItems,
  type NeedsYouState,
} from "../../lib/core/needs_you.ts";
import type {
  AgentStatusEntry,
  LogEntry,
} from "../../lib/core/broker_types.ts";

const T0 = 1_700_000_000;

function feeder(state: NeedsYouState) {
  let seq = 0;
  return (message: unknown, at = T0 + seq): number => {
    seq++;
    applyNeedsYouEntry(state, {
      seq,
      timestamp_unix_secs: at,
      message: message as LogEntry["message"],
    });
    return seq;
  };
}

function status(agent: string, s: string, extra: Record<string, unknown> = {}) {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: s, modified_files: [], ...extra },
  };
}

function question(agent: string, q: string) {
  return { type: "agent.question", agent_id: agent, payload: { question: q } };
}

function feedback(agent: string, from: string, text = "ok") {
  return {
    type: "agent.feedback",
    agent_id: agent,
    payload: { from, errors: [text] },
  };
}

function request(agent: string, what: string, mode: "queue" | "pane") {
  return {
    type: "approval.request",
    agent_id: agent,
    payload: {
      cli: "claude",
      tool: "Bash",
      what,
      cwd: "/w/" + agent,
      mode,
      why: mode === "queue" ? "not allowed by the policy" : null,
    },
  };
}

function decision(agent: string, id: number) {
  return {
    type: "approval.decision",
    agent_id: agent,
    payload: { request: id, decision: "allow", by: "web", reason: null },
  };
}

function roster(
  rows: Array<[string, string]>,
): AgentStatusEntry[] {
  return rows.map(([agent_id, status]) => ({
    agent_id,
    cli: "claude",
    status,
    last_seen_seconds: 0,
    summary: "",
  }));
}

Deno.test("needsYouItems() lists pending queue approvals, then open questions, then waiting agents", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const q = feed(question("feat-b", "Which DB?"));
  const a = feed(request("feat-a", "npm i\nleft-pad", "queue"));
  const w = feed(status("feat-c", "needs_input", { message: "Bash: rm x" }));
  feed(request("feat-c", "rm x", "pane")); // the pane's own prompt
  const items = needsYouItems(
    s,
    roster([["feat-a", "working"], ["feat-b", "idle"], [
      "feat-c",
      "needs_input",
    ]]),
    T0 + 70,
  );
  assert.deepEqual(items.map((i) => [i.kind, i.key, i.agent, i.ref]), [
    ["approval", `approval-${a}`, "feat-a", a],
    ["question", `question-${q}`, "feat-b", q],
    ["needs_input", `waiting-${w}`, "feat-c", w],
  ]);
  assert.equal(items[0]!.text, "npm i left-pad", "one line");
  assert.equal(items[0]!.tool, "Bash");
  assert.equal(items[0]!.cwd, "/w/feat-a");
  assert.equal(items[0]!.why, "not allowed by the policy");
  assert.equal(items[0]!.age, "1m ago");
  assert.equal(items[1]!.text, "Which DB?");
  assert.equal(items[2]!.text, "Bash: rm x");
  assert.equal(items[2]!.answered, null);
});

Deno.test("needsYouItems() drops a decided approval; an agent waiting on its queue approval has that one item", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const a = feed(request("feat-a", "make deploy", "queue"));
  // The hook's own needs_input for the queued request adds no item.
  feed(status("feat-a", "needs_input", {
    message: `approval ${a}: Bash: make deploy`,
    detail: { approval: a },
  }));
  const r = roster([["feat-a", "needs_input"]]);
  assert.deepEqual(needsYouItems(s, r, T0).map((i) => i.kind), ["approval"]);
  feed(decision("feat-a", a));
  // Decided, the roster says needs_input until the CLI goes on: still the
  // queue's wait, no item.
  assert.deepEqual(needsYouItems(s, r, T0), []);
  // A needs_input the log does not explain (no status on record): a
  // waiting item with no ref (Tell only).
  const other = needsYouItems(s, roster([["feat-x", "needs_input"]]), T0);
  assert.deepEqual(other.map((i) => [i.kind, i.key, i.ref, i.text]), [[
    "needs_input",
    "waiting-feat-x",
    null,
    "waiting for a person",
  ]]);
});

Deno.test("applyNeedsYouEntry() closes a question on feedback from a person or the supervisor, not from git-paw's lanes", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const q = feed(question("feat-b", "Ship it?"));
  feed(feedback("feat-b", "review"));
  feed(feedback("feat-b", "integration"));
  feed(status("feat-b", "working", { message: "meanwhile" }));
  feed(feedback("feat-a", "web")); // another agent's
  assert.equal(needsYouItems(s, [], T0).length, 1);
  feed(feedback("feat-b", "supervisor"));
  assert.deepEqual(needsYouItems(s, [], T0), []);
  const t = answerTarget(s, "feat-b", q);
  assert.deepEqual(t, {
    ok: false,
    status: 409,
    error: `question #${q} of feat-b was already answered (by supervisor)`,
  });
  // A feedback before a question does not answer it.
  const q2 = feed(question("feat-b", "And now?"));
  assert.equal(answerTarget(s, "feat-b", q2).ok, true);
});

Deno.test("applyNeedsYouEntry() closes an agent's questions when it reports a terminal status", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const q = feed(question("feat-b", "Ship it?"));
  feed({
    type: "agent.artifact",
    agent_id: "feat-b",
    payload: { status: "done", exports: [], modified_files: [] },
  });
  assert.deepEqual(needsYouItems(s, [], T0), []);
  const t = answerTarget(s, "feat-b", q);
  assert.equal(t.ok, false);
  assert.match(!t.ok ? t.error : "", /already answered \(by feat-b \(done\)\)/);
});

Deno.test("a wait is answered by feedback but stays listed while the roster says needs_input; a file report does not end it", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const w = feed(status("feat-c", "needs_input", { message: "Bash: rm x" }));
  // The screen detector and then the hook report the same wait: one item.
  feed(status("feat-c", "needs_input", { message: "Bash: rm x" }));
  feed(status("feat-c", "working")); // the watcher's bare file report
  const r = roster([["feat-c", "needs_input"]]);
  assert.deepEqual(needsYouItems(s, r, T0).map((i) => i.ref), [w]);
  feed(feedback("feat-c", "web", "go ahead"), T0 + 3);
  const [item] = needsYouItems(s, r, T0 + 13);
  assert.equal(item!.answered, "answered by web 10s ago");
  assert.equal(answerTarget(s, "feat-c", w).ok, false);
  // The agent goes on: the wait is gone, answering it is refused.
  feed(status("feat-c", "working", { message: "deleting" }));
  const gone = answerTarget(s, "feat-c", w);
  assert.deepEqual(gone, {
    ok: false,
    status: 409,
    error: `feat-c no longer waits on #${w} (it went on or was answered)`,
  });
});

Deno.test("answerTarget() finds the item, refuses a second claim, and undoes a failed one", () => {
  const s = createNeedsYouState();
  const feed = feeder(s);
  const q = feed(question("feat-b", "Ship it?"));
  const t = answerTarget(s, "feat-b", q);
  assert.ok(t.ok);
  assert.equal(t.kind, "question");
  assert.deepEqual(answerTarget(s, "feat-a", q), {
    ok: false,
    status: 409,
    error: `feat-a no longer waits on #${q} (it went on or was answered)`,
  });
  assert.deepEqual(answerTarget(s, "feat-b", 99), {
    ok: false,
    status: 404,
    error: "no question or wait #99 of feat-b",
  });
  const undo = claimAnswer(t.ask, "web", T0);
  assert.equal(answerTarget(s, "feat-b", q).ok, false);
  assert.deepEqual(needsYouItems(s, [], T0), []);
  undo();
  assert.equal(answerTarget(s, "feat-b", q).ok, true);
});

Deno.test("applyNeedsYouEntry() ignores entries already applied (replay overlapping live)", () => {
  const s = createNeedsYouState();
  const e: LogEntry = {
    seq: 5,
    timestamp_unix_secs: T0,
    message: question("feat-b", "Ship it?") as LogEntry["message"],
  };
  assert.equal(applyNeedsYouEntry(s, e), true);
  assert.equal(applyNeedsYouEntry(s, e), false);
  assert.equal(applyNeedsYouEntry(s, { ...e, seq: 4 }), false);
  assert.equal(needsYouItems(s, [], T0).length, 1);
});

Deno.test("needsYouItems() sanitises agent text", () => {
  const s = createNeedsYouState();
  feeder(s)(question("feat-b", "a\u001b[31mred\u202e\n  b"));
  assert.equal(needsYouItems(s, [], T0)[0]!.text, "a\u241b[31mred\ufffd b");
});

Deno.test("answerText() names what is answered", () => {
  assert.equal(
    answerText("question", { text: "Which\nDB?" }, "  Postgres "),
    'Answer to your question "Which DB?": Postgres',
  );
  assert.equal(
    answerText("needs_input", { text: "Bash: rm x" }, "no"),
    'Answer while you wait ("Bash: rm x"): no',
  );
});
