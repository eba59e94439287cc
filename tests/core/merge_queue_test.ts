import assert from "node:assert/strict";
import {
  blockedEdges,
  leftOutFeedback,
  mergeOrder,
} from "../../lib/core/merge_queue.ts";
import type { LogEntry } from "../../lib/core/broker_types.ts";

const item = (agent: string, time: number) => ({
  agent,
  branch: agent,
  commit: agent,
  time,
});

Deno.test("mergeOrder() puts blockers first, then commit order, and breaks a cycle by age", () => {
  const items = [item("c", 3), item("a", 1), item("b", 2), item("d", 4)];
  assert.deepEqual(mergeOrder(items, []).map((i) => i.agent), [
    "a",
    "b",
    "c",
    "d",
  ]);
  // a needs d; c needs b (already before it); x is unknown.
  assert.deepEqual(
    mergeOrder(items, [["d", "a"], ["b", "c"], ["x", "b"]]).map((i) => i.agent),
    ["b", "c", "d", "a"],
  );
  assert.deepEqual(
    mergeOrder(items, [["a", "b"], ["b", "a"]]).map((i) => i.agent),
    ["c", "d", "a", "b"],
  );
});

Deno.test("blockedEdges() reads agent.blocked as blocker-before-blocked, once per pair", () => {
  const e = (seq: number, agent: string, from: string): LogEntry => ({
    seq,
    timestamp_unix_secs: seq,
    message: {
      type: "agent.blocked",
      agent_id: agent,
      payload: { needs: "x", from },
    },
  });
  assert.deepEqual(
    blockedEdges([e(1, "a", "b"), e(2, "a", "b"), e(3, "c", "c")]),
    [
      ["b", "a"],
    ],
  );
});

Deno.test("leftOutFeedback() names the files of a conflict and quotes failing lines", () => {
  assert.match(
    leftOutFeedback({ branch: "x" }, "main", {
      kind: "conflict",
      files: ["f"],
    }),
    /left out of the merge into main: it conflicts with main in f/,
  );
  assert.match(
    leftOutFeedback({ branch: "x" }, "main", {
      kind: "test",
      command: ["t"],
      code: 2,
      output: "ok\nError: boom\n",
    }),
    /fails `t` \(exit 2\).*\n {2}Error: boom/s,
  );
});
