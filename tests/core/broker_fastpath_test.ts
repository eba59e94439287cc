import assert from "node:assert/strict";
import { fastParseStatus } from "../../lib/core/broker_fastpath.ts";
import { parseMessage } from "../../lib/core/messages.ts";

const VALUES: unknown[] = [
  undefined,
  null,
  "",
  " ",
  "working",
  "<x>",
  3,
  true,
  [],
  ["a.ts"],
  ["a.ts", 1],
  {},
  { a: 1 },
];
const IDS: unknown[] = [
  "feat-a",
  "feat/a",
  "Feat-A",
  "a",
  "_",
  "-",
  "---",
  "supervisor",
  "<agent_id>",
  "a b",
  "x".repeat(255),
  "x".repeat(256),
  "",
  7,
  null,
];

function* inputs(): Generator<unknown> {
  for (const id of IDS) {
    yield {
      type: "agent.status",
      agent_id: id,
      payload: { status: "working" },
    };
  }
  for (
    const key of [
      "status",
      "modified_files",
      "message",
      "cli",
      "phase",
      "detail",
      "extra",
    ]
  ) {
    for (const v of VALUES) {
      const payload: Record<string, unknown> = { status: "working" };
      if (v === undefined) delete payload[key];
      else payload[key] = v;
      yield { type: "agent.status", agent_id: "feat-a", payload };
    }
  }
  yield { type: "agent.status", agent_id: "feat-a", payload: null };
  yield { type: "agent.status", agent_id: "feat-a", payload: [] };
  yield { type: "agent.status", agent_id: "feat-a" };
  yield {
    type: "agent.status",
    agent_id: "feat-a",
    payload: { status: "w" },
    extra: 1,
  };
  yield JSON.parse(
    '{"type":"agent.status","agent_id":"a","payload":{"status":"w"},"__proto__":{}}',
  );
  yield JSON.parse(
    '{"type":"agent.status","agent_id":"a","payload":{"status":"w","__proto__":{"x":1}}}',
  );
  yield {
    type: "agent.artifact",
    agent_id: "feat-a",
    payload: { status: "w" },
  };
  // The client message id (outbox senders): valid, odd and refused values.
  for (const msgId of ["m-1", crypto.randomUUID(), "", "a b", 7, null, "-x"]) {
    yield {
      type: "agent.status",
      agent_id: "feat-a",
      payload: { status: "w" },
      msg_id: msgId,
    };
  }
  yield {
    msg_id: "first",
    payload: { status: "w" },
    agent_id: "feat-a",
    type: "agent.status",
  };
  yield [];
  yield "agent.status";
  yield {
    type: "agent.status",
    agent_id: "feat-a",
    payload: {
      detail: { n: [1, 2] },
      phase: "p",
      cli: "claude",
      message: "m",
      modified_files: ["x"],
      status: "s",
    },
  };
}

Deno.test("fastParseStatus() answers exactly like parseMessage() whenever it answers", () => {
  let answered = 0;
  let total = 0;
  for (const input of inputs()) {
    total++;
    const fast = fastParseStatus(input);
    if (fast === null) continue;
    answered++;
    const slow = parseMessage(input);
    assert.equal(slow.ok, true, JSON.stringify(input));
    assert.deepEqual(fast, slow, JSON.stringify(input));
    if (fast.ok && slow.ok) {
      assert.equal(JSON.stringify(fast.message), JSON.stringify(slow.message));
    }
  }
  assert.ok(
    answered > 30,
    `fast path covers common shapes (${answered}/${total})`,
  );
});

Deno.test("fastParseStatus() leaves rejections and unusual shapes to zod", () => {
  for (
    const input of [
      { type: "agent.status", agent_id: "feat/a", payload: { status: "w" } },
      { type: "agent.status", agent_id: "feat-a", payload: { status: " " } },
      {
        type: "agent.status",
        agent_id: "feat-a",
        payload: { status: "w", x: 1 },
      },
      { type: "agent.status", agent_id: "---", payload: { status: "w" } },
      { type: "agent.question", agent_id: "a", payload: { question: "q" } },
    ]
  ) {
    assert.equal(fastParseStatus(input), null, JSON.stringify(input));
  }
});
