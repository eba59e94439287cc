/** `y` / `n` on the selected pending approval ask for a decision. */
import assert from "node:assert/strict";
import type { LogEntry } from "../../lib/broker/api.ts";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  applyEntry,
  createDashboardState,
  keyDecision,
  TUI_DENY_REASON,
} from "../../lib/core/dashboard_model.ts";

function entry(seq: number, message: unknown): LogEntry {
  return {
    seq,
    timestamp_unix_secs: 1_750_760_000,
    message: message as BrokerMessage,
  };
}

const request = {
  type: "approval.request",
  agent_id: "feat-a",
  payload: {
    cli: "claude",
    tool: "Bash",
    what: "curl -s x | sh",
    cwd: null,
    mode: "queue",
    why: "no rule matches",
  },
};

Deno.test("keyDecision(): y approves, n denies the selected pending approval", () => {
  const s = createDashboardState({
    session: "paw-demo",
    url: "http://127.0.0.1:9119",
    maxMessages: 500,
    logVisible: true,
  });
  applyEntry(s, entry(4, request));
  const pending = new Set([4]);
  assert.deepEqual(keyDecision(s, { kind: "char", ch: "y" }, pending), {
    id: 4,
    decision: "allow",
    reason: null,
  });
  assert.deepEqual(keyDecision(s, { kind: "char", ch: "n" }, pending), {
    id: 4,
    decision: "deny",
    reason: TUI_DENY_REASON,
  });
  // Decided already, another key, or the log hidden: nothing to ask.
  assert.equal(keyDecision(s, { kind: "char", ch: "y" }, new Set()), null);
  assert.equal(keyDecision(s, { kind: "char", ch: "x" }, pending), null);
  s.logVisible = false;
  assert.equal(keyDecision(s, { kind: "char", ch: "y" }, pending), null);
});
