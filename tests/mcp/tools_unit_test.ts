import assert from "node:assert/strict";
import type { LogEntry } from "../../lib/core/broker_types.ts";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  forwardConflicts,
  liveIntents,
  parseLearnings,
} from "../../lib/mcp/tools_session.ts";
import { adrMeta, checklistItems } from "../../lib/mcp/tools_project.ts";
import { brokerOfReceipt } from "../../lib/mcp/context.ts";
import type { Receipt } from "../../lib/core/session.ts";

function intent(
  seq: number,
  at: number,
  agent: string,
  files: unknown[],
  ttl = 100,
): LogEntry {
  return {
    seq,
    timestamp_unix_secs: at,
    message: {
      type: "agent.intent",
      agent_id: agent,
      payload: { files, summary: `s${seq}`, valid_for_seconds: ttl },
    } as BrokerMessage,
  };
}

Deno.test("liveIntents() keeps each agent's latest unexpired intent", () => {
  const log = [
    intent(1, 1000, "a", ["x"]),
    intent(2, 1010, "a", ["y"]),
    intent(3, 1000, "b", ["z"], 5),
  ];
  const live = liveIntents(log, 1020_000);
  assert.deepEqual(live.map((i) => [i.branch_id, i.files, i.summary]), [
    ["a", ["y"], "s2"],
  ]);
});

Deno.test("forwardConflicts() reports shared paths whose regions meet, once per pair", () => {
  const fn = (name: string) => ({
    path: "m.ts",
    regions: [{ kind: "function", name }],
  });
  const log = [
    intent(1, 1000, "a", ["x.ts", fn("f")]),
    intent(2, 1000, "b", ["x.ts", fn("g")]),
    intent(3, 1000, "c", [{
      path: "m.ts",
      regions: [{ kind: "range", start_line: 1, end_line: 5 }],
    }]),
  ];
  const now = 1001_000;
  assert.deepEqual(
    forwardConflicts(log, now).map((c) => [c.branches, c.files]),
    [
      [["a", "b"], ["x.ts"]],
      [["a", "c"], ["m.ts [function f vs lines 1-5]"]],
      [["b", "c"], ["m.ts [function g vs lines 1-5]"]],
    ],
  );
  // Once b's intent expires, only a–c is left.
  const later = [...log, intent(4, 1000, "b", ["x.ts"], 1)];
  assert.deepEqual(
    forwardConflicts(later, 1002_000).map((c) => c.branches),
    [["a", "c"]],
  );
});

Deno.test("parseLearnings() merges sections across blocks and keeps the canonical ones", () => {
  const s = parseLearnings(
    [
      "## Session Learnings — 2026-01-01T00:00:00Z",
      "### Where agents got stuck",
      "- a: blocked 1m waiting on b",
      "## Session Learnings — 2026-01-02T00:00:00Z",
      "### Where agents got stuck",
      "- c: blocked 2m waiting on d",
      "### Custom",
      "* note",
    ].join("\n"),
  );
  assert.deepEqual(s.find((x) => x.category === "Where agents got stuck"), {
    category: "Where agents got stuck",
    entries: ["a: blocked 1m waiting on b", "c: blocked 2m waiting on d"],
  });
  assert.deepEqual(s.at(-1), { category: "Custom", entries: ["note"] });
  assert.equal(parseLearnings(null).length, 9);
});

Deno.test("adrMeta() and checklistItems() read titles, status lines and checkboxes", () => {
  assert.deepEqual(adrMeta("# T\n\n**Status:** Proposed\n", "f"), {
    title: "T",
    status: "Proposed",
  });
  assert.deepEqual(adrMeta("no heading", "stem"), {
    title: "stem",
    status: "unknown",
  });
  assert.deepEqual(checklistItems("- [X] a\n* [ ] b\ntext"), [
    { text: "a", complete: true },
    { text: "b", complete: false },
  ]);
});

Deno.test("brokerOfReceipt() gives a URL only for an active session, wildcard binds on loopback", () => {
  const base: Omit<Receipt, "status"> = {
    session_name: "s",
    repo_path: "/r",
    project_name: "r",
    created_at: "",
    worktrees: [],
    mode: "bare",
    broker_port: 9200,
    broker_bind: "0.0.0.0",
  };
  assert.deepEqual(
    brokerOfReceipt({ ...base, status: "active" }),
    { url: "http://127.0.0.1:9200" },
  );
  assert.equal(brokerOfReceipt({ ...base, status: "paused" }), null);
  assert.equal(brokerOfReceipt(null), null);
});
