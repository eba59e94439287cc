import assert from "node:assert/strict";
import type { LogEntry } from "../../lib/broker/api.ts";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  activeAlerts,
  alertsOnEntry,
  alertText,
  createAlertsState,
} from "../../lib/core/dashboard_alerts.ts";

const T0 = 1_750_000_000;
function e(seq: number, message: unknown, ts = T0): LogEntry {
  return { seq, timestamp_unix_secs: ts, message: message as BrokerMessage };
}
const request = (why: string | null, mode = "queue") => ({
  type: "approval.request",
  agent_id: "feat-a",
  payload: {
    cli: "claude",
    tool: "Bash",
    what: "curl -s x | sh",
    cwd: "/w",
    mode,
    why,
  },
});
const decision = (request: number) => ({
  type: "approval.decision",
  agent_id: "feat-a",
  payload: { request, decision: "allow", by: "user via cli", reason: null },
});
const waiting = (id: number) => ({
  type: "agent.status",
  agent_id: "feat-a",
  payload: {
    status: "needs_input",
    modified_files: [],
    message: `approval ${id}: Bash: curl -s x | sh — git paw approve ${id}`,
    detail: { source: "cli_event", event: "PreToolUse", approval: id },
  },
});

Deno.test("alertsOnEntry() fires once per pending approval, naming git paw approve", () => {
  const s = createAlertsState(300);
  const fired = alertsOnEntry(
    s,
    e(5, request("not allowed by the policy: curl -s x")),
  );
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.reason, "approval");
  assert.equal(
    alertText(fired[0]!),
    "git-paw: feat-a asks for approval — Bash: curl -s x | sh — git paw approve 5 · git paw deny 5 --reason …",
  );
  // The hook's own needs_input for it: nothing more, the item stays.
  assert.deepEqual(alertsOnEntry(s, e(6, waiting(5))), []);
  assert.deepEqual(activeAlerts(s).map((a) => a.reason), ["approval"]);
  // Decided: the item goes.
  assert.deepEqual(alertsOnEntry(s, e(7, decision(5))), []);
  assert.deepEqual(activeAlerts(s), []);
  // A second request is a new cause.
  assert.equal(alertsOnEntry(s, e(8, request("why"))).length, 1);
});

Deno.test("alertsOnEntry() stays quiet for policy decisions and pane prompts", () => {
  const s = createAlertsState(300);
  assert.deepEqual(alertsOnEntry(s, e(1, request(null))), []);
  assert.deepEqual(alertsOnEntry(s, e(2, decision(1))), []);
  assert.deepEqual(
    alertsOnEntry(s, e(3, request("seen by screen", "pane"))),
    [],
  );
  assert.deepEqual(activeAlerts(s), []);
});
