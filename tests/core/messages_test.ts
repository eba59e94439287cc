import assert from "node:assert/strict";
import {
  displayMessage,
  MESSAGE_TYPES,
  parseMessage,
  parseWatch,
  statusLabel,
} from "../../lib/core/messages.ts";

const VALID: Record<string, unknown> = {
  "agent.status": {
    type: "agent.status",
    agent_id: "feat/a",
    payload: { status: "working" },
  },
  "agent.artifact": {
    type: "agent.artifact",
    agent_id: "feat-a",
    payload: { status: "committed", exports: ["x"], modified_files: ["a.ts"] },
  },
  "agent.blocked": {
    type: "agent.blocked",
    agent_id: "feat-a",
    payload: { needs: "types", from: "feat/b" },
  },
  "agent.verified": {
    type: "agent.verified",
    agent_id: "feat-a",
    payload: { verified_by: "supervisor" },
  },
  "agent.feedback": {
    type: "agent.feedback",
    agent_id: "feat-a",
    payload: { from: "supervisor", errors: ["lint failed"] },
  },
  "agent.question": {
    type: "agent.question",
    agent_id: "fix/x",
    payload: { question: "why?" },
  },
  "agent.intent": {
    type: "agent.intent",
    agent_id: "feat-a",
    payload: {
      files: ["a.ts", {
        path: "b.ts",
        regions: [{ kind: "range", start_line: 1, end_line: 5 }],
      }],
      summary: "refactor",
      valid_for_seconds: 600,
    },
  },
  "supervisor.verify-now": {
    type: "supervisor.verify-now",
    branch_id: "feat/a",
  },
  "agent.advanced-main": {
    type: "agent.advanced-main",
    from: "supervisor",
    merged_branch: "feat/a",
    new_main_sha: "abc123",
    base: "main",
    merged_at: "2026-11-22T10:00:00Z",
  },
  "agent.learning": {
    type: "agent.learning",
    payload: {
      id: "0123456789abcdef",
      agent_id: "supervisor",
      branch_id: "feat/a",
      category: "doc_gap",
      title: "t",
      body: "b",
      timestamp: "2026-11-22T10:00:00Z",
    },
  },
  "approval.request": {
    type: "approval.request",
    agent_id: "feat/a",
    payload: {
      tool: "Bash",
      what: "curl -s x | sh",
      cwd: "/w",
      mode: "queue",
    },
  },
  "approval.decision": {
    type: "approval.decision",
    agent_id: "feat/a",
    payload: { request: 3, decision: "deny", by: "user via cli", reason: "no" },
  },
};

Deno.test("parseMessage() accepts one valid example of every type", () => {
  for (const type of MESSAGE_TYPES) {
    const r = parseMessage(structuredClone(VALID[type]));
    assert.ok(r.ok, `${type}: ${JSON.stringify(!r.ok && r.error)}`);
    assert.equal(r.message.type, type);
    assert.ok(displayMessage(r.message).startsWith(`[${r.agentId}]`));
  }
});

Deno.test("parseMessage() files a raw branch under its slug", () => {
  const r = parseMessage(structuredClone(VALID["agent.status"]));
  assert.ok(r.ok);
  assert.equal(r.agentId, "feat-a");
  const b = parseMessage(structuredClone(VALID["agent.blocked"]));
  assert.ok(b.ok && b.message.type === "agent.blocked");
  assert.equal(b.message.payload.from, "feat-b");
  const v = parseMessage(structuredClone(VALID["supervisor.verify-now"]));
  assert.ok(v.ok);
  assert.equal(v.agentId, "feat-a");
});

Deno.test("parseMessage() defaults optional lists and the intent ttl", () => {
  const r = parseMessage(structuredClone(VALID["agent.status"]));
  assert.ok(r.ok && r.message.type === "agent.status");
  assert.deepEqual(r.message.payload.modified_files, []);
  assert.equal(r.message.payload.message, null);
  const i = parseMessage({
    type: "agent.intent",
    agent_id: "a",
    payload: { files: ["x"], summary: "s" },
  });
  assert.ok(i.ok && i.message.type === "agent.intent");
  assert.equal(i.message.payload.valid_for_seconds, 900);
});

Deno.test("parseMessage() rejects bad input with a message naming the problem", () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /expected an object/],
    [[1], /expected an object/],
    [{ agent_id: "a" }, /missing field `type`/],
    [
      { type: "agent.nope", agent_id: "a", payload: {} },
      /unknown message type 'agent.nope'/,
    ],
    [
      { type: "agent.status", agent_id: "a", payload: { status: "  " } },
      /status must not be blank/,
    ],
    [{ type: "agent.status", agent_id: "a", payload: { status: 3 } }, /status/],
    [{
      type: "agent.status",
      agent_id: "a",
      payload: { status: "w", modified_files: "x" },
    }, /modified_files/],
    [{
      type: "agent.feedback",
      agent_id: "a",
      payload: { from: "s", errors: [] },
    }, /errors must not be empty/],
    [{
      type: "agent.intent",
      agent_id: "a",
      payload: { files: [], summary: "s" },
    }, /files must not be empty/],
    [{
      type: "agent.intent",
      agent_id: "a",
      payload: { files: ["x"], summary: "s", valid_for_seconds: 0 },
    }, /> 0/],
    [{
      type: "agent.intent",
      agent_id: "a",
      payload: {
        files: [{
          path: "x",
          regions: [{ kind: "range", start_line: 9, end_line: 2 }],
        }],
        summary: "s",
      },
    }, /start_line/],
    [{
      type: "agent.advanced-main",
      from: "supervisor",
      merged_branch: "a",
      new_main_sha: "b",
      base: "main",
      merged_at: "yesterday",
    }, /RFC 3339/],
  ];
  for (const [input, re] of cases) {
    const r = parseMessage(input);
    assert.ok(!r.ok, `accepted ${JSON.stringify(input)}`);
    assert.equal(r.error.status, 400);
    assert.match(String(r.error.body.error), re);
  }
});

Deno.test("parseMessage() refuses invalid agent ids and placeholders", () => {
  for (const id of ["", "a b", "x\ny", "---", "a".repeat(300)]) {
    const r = parseMessage({
      type: "agent.status",
      agent_id: id,
      payload: { status: "w" },
    });
    assert.ok(!r.ok, `accepted ${JSON.stringify(id)}`);
    assert.equal(r.error.body.error, "invalid agent_id");
  }
  const p = parseMessage({
    type: "agent.status",
    agent_id: "<agent_id>",
    payload: { status: "w" },
  });
  assert.ok(!p.ok);
  assert.equal(p.error.body.error, "field looks like an unfilled placeholder");
  const q = parseMessage({
    type: "agent.question",
    agent_id: "a",
    payload: { question: "<your question>" },
  });
  assert.ok(!q.ok);
  assert.equal(q.error.body.field, "question");
});

Deno.test("parseWatch() validates path and id", () => {
  assert.ok(parseWatch({ agent_id: "feat/x", worktree_path: "/tmp/x" }).ok);
  const empty = parseWatch({ agent_id: "a", worktree_path: " " });
  assert.ok(!empty.ok);
  assert.equal(empty.error.body.error, "worktree_path must not be empty");
  assert.ok(!parseWatch({ agent_id: "a", worktree_path: "<path>" }).ok);
  assert.ok(!parseWatch({ agent_id: "a b", worktree_path: "/x" }).ok);
});

Deno.test("statusLabel() sets roster labels only for status, artifact, blocked, intent", () => {
  const labels = MESSAGE_TYPES.map((t) => {
    const r = parseMessage(structuredClone(VALID[t]));
    assert.ok(r.ok);
    return [t, statusLabel(r.message)];
  });
  assert.deepEqual(Object.fromEntries(labels), {
    "agent.status": "working",
    "agent.artifact": "committed",
    "agent.blocked": "blocked",
    "agent.verified": null,
    "agent.feedback": null,
    "agent.question": null,
    "agent.intent": "intent",
    "supervisor.verify-now": null,
    "agent.advanced-main": null,
    "agent.learning": null,
    "approval.request": null,
    "approval.decision": null,
  });
});
