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

Deno.test("approvalsFor(): the TUI decides in-process like the routes, recorded as tui", async () => {
  const { approvalsPlugin } = await import(
    "../../lib/coord/approvals_plugin.ts"
  );
  const { approvalsFor } = await import("../../lib/core/approvals.ts");
  const { get, post, testBroker } = await import("../_helpers/broker.ts");
  const dir = await Deno.makeTempDir({ prefix: "tui-decision-" });
  try {
    await using b = await testBroker({
      plugins: [
        approvalsPlugin({
          mode: "queue",
          policy: { allow: [], deny: [], worktree_writes: "allow" },
          timeoutSeconds: 600,
        }),
      ],
    });
    const filed = await post(`${b.url}/approvals`, {
      agent_id: "feat-a",
      tool: "Bash",
      input: { command: "curl -s x | sh" },
      cwd: dir,
    });
    const id = (filed.json as { id: number }).id;
    const h = approvalsFor(b)!;
    assert.ok(h.pending().has(id));
    assert.equal(
      await h.decide(id, { decision: "deny", by: "tui", reason: "no" }),
      null,
    );
    assert.ok(!h.pending().has(id));
    const one = (await get(`${b.url}/approvals/${id}`)).json as {
      decision: { decision: string; by: string; reason: string };
    };
    assert.equal(one.decision.decision, "deny");
    assert.equal(one.decision.by, "tui");
    assert.equal(one.decision.reason, "no");
    // A decision applies once.
    assert.match(
      (await h.decide(id, { decision: "allow", by: "tui", reason: null }))!,
      /already decided/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
