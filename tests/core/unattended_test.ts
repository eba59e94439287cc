import assert from "node:assert/strict";
import type { AgentView } from "../../lib/core/agents_view.ts";
import type { ApprovalRecord } from "../../lib/core/approvals.ts";
import type { RosterRow } from "../../lib/core/broker_state.ts";
import {
  agentFinished,
  createUnattended,
  summaryText,
  type UnattendedInput,
  unattendedStep,
  unattendedSummary,
} from "../../lib/core/unattended.ts";

function agent(id: string, more: Partial<AgentView> = {}): AgentView {
  return {
    id,
    branch: id,
    cli: "demo",
    status: "working",
    declared_status: "",
    attention: "working",
    pane: "%1",
    worktree: `/w/${id}`,
    last_message: null,
    waiting_for: {
      approval: null,
      question: null,
      blocked_on: null,
      prompt: null,
    },
    ...more,
  };
}
function row(id: string, status: string, lastSeen: number): RosterRow {
  return {
    agent_id: id,
    cli: "demo",
    status,
    last_seen_seconds: lastSeen,
    summary: "",
  };
}
function input(
  agents: AgentView[],
  roster: RosterRow[],
  more: Partial<UnattendedInput> = {},
): UnattendedInput {
  return { agents, roster, approvals: [], entries: [], ...more };
}
const nudges = (r: ReturnType<typeof unattendedStep>) =>
  r.actions.filter((a) => a.kind === "nudge").map((a) =>
    a.kind === "nudge" ? a.agent : ""
  );

Deno.test("unattendedStep() nudges a stalled agent once per stall, again only after it was heard from", async (t) => {
  const s = createUnattended({
    stallSeconds: 30,
    startedAt: 1000,
    deadline: null,
  });
  const a = [agent("feat-a")];
  await t.step("silent less than the threshold: nothing", () => {
    assert.deepEqual(
      nudges(unattendedStep(s, input(a, [row("feat-a", "working", 10)]), 1010)),
      [],
    );
  });
  await t.step("past it: one nudge", () => {
    const r = unattendedStep(s, input(a, [row("feat-a", "working", 31)]), 1031);
    assert.deepEqual(nudges(r), ["feat-a"]);
    const n = r.actions.find((x) => x.kind === "nudge");
    assert.ok(
      n?.kind === "nudge" && /no progress from you for 31s/.test(n.text),
    );
  });
  await t.step("still silent, for long: no second nudge", () => {
    for (const now of [1040, 1100, 2000]) {
      const r = unattendedStep(
        s,
        input(a, [row("feat-a", "working", now - 1000)]),
        now,
      );
      assert.deepEqual(nudges(r), []);
    }
  });
  await t.step(
    "heard from (a newer last_seen), then silent again: one more",
    () => {
      assert.deepEqual(
        nudges(
          unattendedStep(s, input(a, [row("feat-a", "working", 0)]), 2010),
        ),
        [],
      );
      assert.deepEqual(
        nudges(
          unattendedStep(s, input(a, [row("feat-a", "working", 20)]), 2030),
        ),
        [],
      );
      assert.deepEqual(
        nudges(
          unattendedStep(s, input(a, [row("feat-a", "working", 30)]), 2040),
        ),
        ["feat-a"],
      );
      assert.deepEqual(
        nudges(
          unattendedStep(s, input(a, [row("feat-a", "working", 90)]), 2100),
        ),
        [],
      );
    },
  );
  await t.step("a roster second of jitter is not being heard from", () => {
    const s2 = createUnattended({
      stallSeconds: 5,
      startedAt: 0,
      deadline: null,
    });
    unattendedStep(s2, input(a, [row("feat-a", "working", 0)]), 100);
    assert.deepEqual(
      nudges(
        unattendedStep(s2, input(a, [row("feat-a", "working", 5)]), 105.9),
      ),
      ["feat-a"],
    );
    // 106.2 - 5 = 101.2: within the whole-second slack of 100.
    assert.deepEqual(
      nudges(
        unattendedStep(s2, input(a, [row("feat-a", "working", 5)]), 106.2),
      ),
      [],
    );
  });
});

Deno.test("unattendedStep() never nudges a finished agent or one waiting for the approval queue", () => {
  const s = createUnattended({ stallSeconds: 5, startedAt: 0, deadline: null });
  const waiting = agent("feat-w", {
    status: "needs_input",
    attention: "needs_input",
    waiting_for: {
      approval: {
        id: 4,
        tool: "Bash",
        what: "x",
        command: "git paw approve 4",
      },
      question: null,
      blocked_on: null,
      prompt: null,
    },
  });
  const r = unattendedStep(
    s,
    input(
      [
        agent("feat-d", { status: "done", attention: "done" }),
        waiting,
        agent("feat-q", { attention: "needs_input" }),
      ],
      [
        row("feat-d", "done", 50),
        row("feat-w", "needs_input", 50),
        row("feat-q", "working", 50),
      ],
    ),
    100,
  );
  // A question nobody answers is a stall too: it gets its nudge.
  assert.deepEqual(nudges(r), ["feat-q"]);
});

Deno.test("unattendedStep() ends with done when every agent is done or verified, with budget at the deadline", () => {
  const s = createUnattended({ stallSeconds: 30, startedAt: 0, deadline: 600 });
  const rows = [row("a", "done", 0), row("b", "working", 0)];
  const mixed = [agent("a", { status: "done", attention: "done" }), agent("b")];
  assert.equal(unattendedStep(s, input(mixed, rows), 10).outcome, null);
  assert.equal(unattendedStep(s, input(mixed, rows), 600).outcome, "budget");
  const all = [
    agent("a", { status: "done", attention: "done" }),
    agent("b", { status: "verified", attention: "verified" }),
  ];
  assert.equal(unattendedStep(s, input(all, rows), 20).outcome, "done");
  assert.equal(
    unattendedStep(s, input([], []), 20).outcome,
    null,
    "no agents yet",
  );
});

Deno.test("unattendedStep() notifies each denial once and reports progress", () => {
  const s = createUnattended({
    stallSeconds: 300,
    startedAt: 0,
    deadline: null,
  });
  const denied: ApprovalRecord = {
    id: 9,
    agent: "a",
    cli: "demo",
    tool: "Bash",
    what: "git push origin a",
    cwd: null,
    mode: "queue",
    why: null,
    requested_at: 5,
    decision: {
      decision: "deny",
      by: "policy: deny git push *",
      reason: "refused by the policy",
      at: 5,
    },
  };
  const a = [agent("a")];
  const r1 = unattendedStep(
    s,
    input(a, [row("a", "working", 0)], { approvals: [denied] }),
    10,
  );
  const notes = r1.actions.filter((x) => x.kind === "notify");
  assert.deepEqual(notes, [{
    kind: "notify",
    cause: "denied:a:9",
    agent: "a",
    reason: "denied",
    detail:
      "Bash: git push origin a — denied by policy: deny git push *: refused by the policy",
    approval: 9,
  }]);
  const r2 = unattendedStep(
    s,
    input(a, [row("a", "working", 0)], { approvals: [denied] }),
    11,
  );
  assert.equal(r2.actions.filter((x) => x.kind === "notify").length, 0);
  const r3 = unattendedStep(
    s,
    input([agent("a", { status: "done", attention: "done" })], [
      row("a", "done", 0),
    ], {
      entries: [{
        seq: 3,
        timestamp_unix_secs: 12,
        message: {
          type: "agent.artifact",
          agent_id: "a",
          payload: {
            status: "committed",
            exports: [],
            modified_files: ["x.md"],
            commit: "0123456789abcdef",
          },
        },
      }],
    }),
    12,
  );
  const lines = r3.actions.flatMap((x) =>
    x.kind === "progress" ? [x.line] : []
  );
  assert.deepEqual(lines, [
    "a committed 01234567 (x.md)",
    "a: working → done (done)",
  ]);
});

Deno.test("unattendedSummary() and summaryText() say what each agent did, what was denied and what is left", () => {
  const s = createUnattended({
    stallSeconds: 30,
    startedAt: 1000,
    deadline: 1600,
  });
  const denied: ApprovalRecord = {
    id: 9,
    agent: "feat-b",
    cli: "demo",
    tool: "Bash",
    what: "git push",
    cwd: null,
    mode: "queue",
    why: null,
    requested_at: 1005,
    decision: {
      decision: "deny",
      by: "timeout",
      reason: "no decision within 600 s",
      at: 1010,
    },
  };
  const pending: ApprovalRecord = {
    ...denied,
    id: 11,
    what: "rm -rf build",
    decision: null,
  };
  const agents = [
    agent("feat-a", { status: "done", attention: "done" }),
    agent("feat-b", {
      last_message: {
        seq: 3,
        type: "agent.status",
        summary: "thinking",
        at: 1500,
        age_seconds: 100,
      },
    }),
  ];
  unattendedStep(
    s,
    input(agents, [row("feat-a", "done", 0), row("feat-b", "working", 40)], {
      approvals: [denied, pending],
    }),
    1040,
  );
  const sum = unattendedSummary(s, {
    session: "paw-proj",
    outcome: "budget",
    agents,
    approvals: [denied, pending],
    commits: new Map([["feat-a", ["abc1234 demo(feat-a): initial demo edit"]]]),
    maxMinutes: 10,
    sessionRunning: true,
  }, 1600);
  assert.equal(sum.exit_code, 3);
  assert.equal(sum.elapsed_seconds, 600);
  assert.deepEqual(sum.agents.map((a) => [a.id, a.commits.length, a.nudges]), [[
    "feat-a",
    1,
    0,
  ], ["feat-b", 0, 1]]);
  assert.deepEqual(sum.denied.map((d) => [d.id, d.by]), [[9, "timeout"]]);
  assert.deepEqual(sum.left, [
    "feat-b: working",
    "approval #11 of feat-b pending: Bash: rm -rf build",
  ]);
  assert.equal(
    summaryText(sum),
    [
      "Unattended run of 'paw-proj' ended after 10m00s: the time budget is spent (10 min).",
      "",
      "Agents:",
      "  feat-a (demo): done — 1 commit, 0 artifacts",
      "      abc1234 demo(feat-a): initial demo edit",
      "  feat-b (demo): working — 0 commits, 0 artifacts, nudged 1×",
      "      last: agent.status: thinking",
      "",
      "Denied:",
      "  #9 feat-b Bash: git push — by timeout: no decision within 600 s",
      "",
      "Left:",
      "  feat-b: working",
      "  approval #11 of feat-b pending: Bash: rm -rf build",
      "",
      "The session is still running: `git paw agents` to look, `git paw stop` to end it.",
    ].join("\n"),
  );
  const done = unattendedSummary(s, {
    session: "p",
    outcome: "done",
    agents: [agents[0]!],
    approvals: [],
    commits: new Map(),
    maxMinutes: 60,
    sessionRunning: false,
  }, 1100);
  assert.equal(done.exit_code, 0);
  assert.match(summaryText(done), /every agent is done or verified\.\n/);
  assert.match(
    summaryText(done),
    /Left:\n {2}nothing\n\nThe session was stopped\.$/,
  );
});

Deno.test("agentFinished() takes the agent's own done over a dialog its CLI shows afterwards, not over a pending approval", () => {
  const atDialog = agent("a", {
    status: "needs_input",
    declared_status: "done",
    attention: "needs_input",
  });
  assert.ok(agentFinished(atDialog));
  assert.ok(
    !agentFinished({
      ...atDialog,
      waiting_for: {
        approval: {
          id: 1,
          tool: "Bash",
          what: "x",
          command: "git paw approve 1",
        },
        question: null,
        blocked_on: null,
        prompt: null,
      },
    }),
  );
  assert.ok(!agentFinished(agent("b")));
  const s = createUnattended({ stallSeconds: 5, startedAt: 0, deadline: null });
  const r = unattendedStep(
    s,
    input([atDialog], [row("a", "needs_input", 50)]),
    100,
  );
  assert.equal(r.outcome, "done");
  assert.deepEqual(nudges(r), []);
});
