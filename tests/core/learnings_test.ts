import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  learningId,
  LearningsAggregator,
  mentionsAgent,
} from "../../lib/core/learnings.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";

const START = Date.UTC(2026, 10, 22, 3, 4, 5);

function msg(raw: unknown): BrokerMessage {
  const p = parseMessage(raw);
  if (!p.ok) throw new Error(JSON.stringify(p.error));
  return p.message;
}

function conflictFeedback(to: string, text: string): BrokerMessage {
  return msg({
    type: "agent.feedback",
    agent_id: to,
    payload: { from: "supervisor", errors: [text] },
  });
}

function agg(brokerPublish = true) {
  const a = new LearningsAggregator({ brokerPublish, startedAt: START });
  a.registerAgent("feat-x");
  a.registerAgent("feat-y");
  return a;
}

Deno.test("learningId() is 16 hex of SHA-256 over category|branch|body|UTC hour", () => {
  const at = Date.UTC(2026, 0, 2, 13, 59, 59);
  const expected = createHash("sha256")
    .update("stuck_duration|feat-x|feat-x: blocked 1m00s|2026-01-02T13")
    .digest("hex").slice(0, 16);
  assert.equal(
    learningId("stuck_duration", "feat-x", "  feat-x:  blocked 1m00s ", at),
    expected,
  );
  assert.match(expected, /^[0-9a-f]{16}$/);
  // Same hour → same id; next hour → different id.
  assert.equal(
    learningId("c", null, "b", at),
    learningId("c", null, "b", at - 59 * 60_000),
  );
  assert.notEqual(
    learningId("c", null, "b", at),
    learningId("c", null, "b", at + 1000),
  );
});

Deno.test("mentionsAgent() matches whole agent-id tokens only", () => {
  assert.equal(mentionsAgent("conflict with feat-ab on x", "feat-a"), false);
  assert.equal(mentionsAgent("conflict with feat-ab on x", "feat-ab"), true);
  assert.equal(mentionsAgent("feat-a.", "feat-a"), true);
  assert.equal(mentionsAgent("xfeat-a", "feat-a"), false);
});

Deno.test("LearningsAggregator.flush() writes header, sections in order, and only new entries", () => {
  const a = agg(false);
  a.observe(
    msg({
      type: "agent.blocked",
      agent_id: "feat-x",
      payload: { needs: "types", from: "feat-y" },
    }),
    START,
  );
  a.observe(
    msg({
      type: "agent.artifact",
      agent_id: "feat-x",
      payload: { status: "done" },
    }),
    START + 672_000,
  );
  a.observe(
    conflictFeedback(
      "feat-x",
      "[conflict-detector] in-flight conflict: file a.ts is being modified by both you and feat-y",
    ),
    START,
  );
  a.observe(
    conflictFeedback(
      "feat-y",
      "[conflict-detector] in-flight conflict: file a.ts is being modified by both you and feat-x",
    ),
    START,
  );
  const first = a.flush(START + 700_000);
  assert.equal(
    first.text,
    [
      "## Session Learnings — 2026-11-22T03:04:05Z",
      "",
      "### Conflict events",
      "- in-flight-conflict: feat-x and feat-y",
      "",
      "### Where agents got stuck",
      "- feat-x: blocked 11m12s waiting on feat-y",
      "",
    ].join("\n"),
  );
  assert.deepEqual(first.publish, []);
  assert.deepEqual(a.flush(START + 800_000), { text: null, publish: [] });
  a.observe(
    msg({
      type: "agent.feedback",
      agent_id: "feat-y",
      payload: { from: "feat-x", errors: ["tests fail"] },
    }),
    START,
  );
  a.observe(
    msg({
      type: "agent.verified",
      agent_id: "feat-y",
      payload: { verified_by: "supervisor" },
    }),
    START,
  );
  assert.equal(
    a.flush(START).text,
    "### Recovery cycles\n- feat-y: 1 feedback cycle before verifying\n",
  );
});

Deno.test("LearningsAggregator parses every detector wording and dedupes pairs", () => {
  const a = agg();
  for (
    const [to, text] of [
      [
        "feat-x",
        "[conflict-detector] forward conflict: agent feat-y also intends to modify: a",
      ],
      [
        "feat-y",
        "[conflict-detector] forward conflict: agent feat-x also intends to modify: a",
      ],
      [
        "feat-x",
        "[conflict-detector] in-flight conflict with feat-y on src/a.rs",
      ],
      [
        "feat-x",
        "[conflict-detector] ownership violation: you edited lib/a b.ts but agent feat-y declared intent over it. Update your agent.intent to declare this file or back off.",
      ],
    ]
  ) a.observe(conflictFeedback(to!, text!), START);
  a.observe(
    msg({
      type: "agent.question",
      agent_id: "supervisor",
      payload: {
        question:
          "[conflict-detector] ownership violation: feat-x edited lib/a b.ts which is in feat-y's intent. Human review requested.",
      },
    }),
    START,
  );
  const out = a.flush(START);
  assert.equal(
    out.text?.split("### Conflict events\n")[1],
    [
      "- forward-conflict: feat-x and feat-y",
      "- in-flight-conflict: feat-x and feat-y",
      "- ownership-violation: feat-x edited `lib/a b.ts` owned by feat-y",
      "",
    ].join("\n"),
  );
  assert.equal(out.publish.length, 3);
  for (const p of out.publish) {
    assert.equal(p.payload.category, "conflict_event");
    assert.equal(p.payload.agent_id, "supervisor");
    assert.match(p.payload.id, /^[0-9a-f]{16}$/);
  }
});

Deno.test("LearningsAggregator finds the other agent by whole token, not substring", () => {
  const a = new LearningsAggregator({ brokerPublish: false, startedAt: START });
  a.registerAgent("feat-a");
  a.registerAgent("feat-ab");
  a.observe(
    conflictFeedback(
      "feat-a",
      "[conflict-detector] odd wording involving feat-ab here",
    ),
    START,
  );
  assert.match(
    a.flush(START).text ?? "",
    /in-flight-conflict: feat-a and feat-ab\n/,
  );
  const b = new LearningsAggregator({ brokerPublish: false, startedAt: START });
  b.registerAgent("feat-a");
  b.registerAgent("feat-ab");
  b.observe(
    conflictFeedback(
      "feat-ab",
      "[conflict-detector] odd wording about feat-abc",
    ),
    START,
  );
  assert.equal(b.flush(START).text, null);
});

Deno.test("LearningsAggregator reports permission classes at 5 and when they grow", () => {
  const a = agg();
  const approve = () =>
    a.observe(
      msg({
        type: "agent.status",
        agent_id: "feat-x",
        payload: {
          status: "auto_approved",
          message: "auto_approved: matched cargo test",
        },
      }),
      START,
    );
  for (let i = 0; i < 4; i++) approve();
  assert.equal(a.flush(START).text, null);
  approve();
  assert.match(
    a.flush(START).text ?? "",
    /### Permission patterns\n- `cargo test` auto-approved 5 times\n/,
  );
  assert.equal(a.flush(START).text, null);
  approve();
  assert.match(a.flush(START).text ?? "", /auto-approved 6 times/);
});

Deno.test("LearningsAggregator.flushAtShutdown() closes open timers and counts", () => {
  const a = agg(true);
  a.observe(
    msg({
      type: "agent.blocked",
      agent_id: "feat-y",
      payload: { needs: "api", from: "feat-x" },
    }),
    START,
  );
  a.observe(
    msg({
      type: "agent.feedback",
      agent_id: "feat-x",
      payload: { from: "supervisor", errors: ["lint fails", "test fails"] },
    }),
    START,
  );
  a.observe(
    msg({
      type: "agent.feedback",
      agent_id: "feat-x",
      payload: { from: "supervisor", errors: ["again"] },
    }),
    START,
  );
  const out = a.flushAtShutdown(START + 180_000);
  assert.match(
    out.text ?? "",
    /### Where agents got stuck\n- feat-y: blocked 3m00s waiting on feat-x \(unresolved at session end\)\n\n### Recovery cycles\n- feat-x: 2 feedback cycles \(not verified by session end\)\n/,
  );
  assert.deepEqual(
    out.publish.map((p) => [p.payload.category, p.payload.branch_id]),
    [["stuck_duration", "feat-y"], ["recovery_cycles", "feat-x"]],
  );
});

Deno.test("LearningsAggregator files qualitative learnings by category, deduped, never republished", () => {
  const a = agg(true);
  const learn = (category: string, title: string, body: string) =>
    a.observe(
      msg({
        type: "agent.learning",
        payload: {
          id: "x",
          agent_id: "feat-x",
          branch_id: "feat-x",
          category,
          title,
          body,
          timestamp: "2026-11-22T03:00:00Z",
        },
      }),
      START,
    );
  learn("doc_gap", "README lacks setup", "No install step\nmore");
  learn("doc_gap", "README again", "no install step");
  learn("weird", "Something", "");
  const out = a.flush(START);
  assert.equal(
    out.text?.split("\n").slice(2).join("\n"),
    [
      "### Documentation gaps",
      "- feat-x: README lacks setup — No install step",
      "",
      "### Other learnings",
      "- feat-x: Something",
      "",
    ].join("\n"),
  );
  assert.deepEqual(out.publish, []);
});

Deno.test("LearningsAggregator ignores its own published records when they come back", () => {
  const a = agg(true);
  a.observe(
    conflictFeedback(
      "feat-x",
      "[conflict-detector] in-flight conflict with feat-y on a",
    ),
    START,
  );
  const out = a.flush(START);
  assert.equal(out.publish.length, 1);
  a.observe(out.publish[0]!, START);
  assert.equal(a.flush(START).text, null);
});
