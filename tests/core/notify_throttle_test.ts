import assert from "node:assert/strict";
import {
  createThrottle,
  nextSummaryAt,
  throttleAlert,
  throttleSummary,
} from "../../lib/core/notify_throttle.ts";
import type { Alert, AlertReason } from "../../lib/core/dashboard_alerts.ts";
import { alertText } from "../../lib/core/dashboard_alerts.ts";

const alert = (agent: string, reason: AlertReason = "blocked"): Alert => ({
  agent_id: agent,
  reason,
  detail: "needs x from y",
  seq: 1,
  since: 0,
});

Deno.test("throttleAlert() lets one alert per agent and reason through per window", () => {
  const s = createThrottle();
  assert.equal(throttleAlert(s, alert("a"), 1000), true);
  let sent = 0;
  for (let i = 0; i < 199; i++) {
    if (throttleAlert(s, alert("a"), 1000 + i * 0.01)) sent++;
  }
  assert.equal(sent, 0, "200 forged blocked: one notification");
  // Another reason, another agent: their own causes.
  assert.equal(throttleAlert(s, alert("a", "question"), 1003), true);
  assert.equal(throttleAlert(s, alert("b"), 1003), true);
  // After the window the same cause may notify again.
  assert.equal(throttleAlert(s, alert("a"), 1060), true);
});

Deno.test("throttleAlert() caps notifications per minute across agents", () => {
  const s = createThrottle({ maxPerMinute: 10 });
  const sent = Array.from({ length: 2000 }, (_, i) => i)
    .filter((i) => throttleAlert(s, alert(`spoof-${i}`), 500 + i / 1000));
  assert.equal(sent.length, 10);
  assert.ok(s.last.size <= 1001, `bounded map: ${s.last.size}`);
  // A minute later the cap has room again.
  assert.equal(throttleAlert(s, alert("real"), 561), true);
});

Deno.test("throttleSummary() says once what was held back, when due", () => {
  const s = createThrottle({ summarySeconds: 60 });
  assert.equal(nextSummaryAt(s), null);
  throttleAlert(s, alert("a"), 0);
  for (let i = 0; i < 199; i++) throttleAlert(s, alert("a"), 1 + i * 0.1);
  assert.equal(nextSummaryAt(s), 61);
  assert.equal(throttleSummary(s, 30), null, "not due yet");
  const sum = throttleSummary(s, 61)!;
  assert.equal(sum.reason, "suppressed");
  assert.equal(sum.agent_id, "a");
  assert.equal(
    sum.detail,
    "199 notifications held back in the last 60 s: a blocked ×199",
  );
  assert.equal(alertText(sum), `git-paw: ${sum.detail}`);
  assert.equal(throttleSummary(s, 200), null, "counted once");
  assert.equal(nextSummaryAt(s), null);
  // Several agents: `*`, the biggest first, the rest counted.
  for (const [id, n] of [["b", 3], ["c", 5], ["d", 1], ["e", 2]] as const) {
    for (let i = 0; i <= n; i++) throttleAlert(s, alert(id), 300 + i);
  }
  const many = throttleSummary(s, 400)!;
  assert.equal(many.agent_id, "*");
  assert.match(
    many.detail,
    /^11 notifications held back .*: c blocked ×5, b blocked ×3, e blocked ×2, 1 more$/,
  );
});

Deno.test("throttleAlert() leaves stalls to the stall rule and the global cap", () => {
  const s = createThrottle({ maxPerMinute: 3 });
  assert.equal(throttleAlert(s, alert("a", "stalled"), 0), true);
  assert.equal(throttleAlert(s, alert("a", "stalled"), 2), true);
  assert.equal(throttleAlert(s, alert("a", "stalled"), 4), true);
  assert.equal(throttleAlert(s, alert("a", "stalled"), 6), false, "cap");
});

Deno.test("throttleAlert() counts each pending approval on its own, within the per-minute cap", () => {
  const s = createThrottle({ maxPerMinute: 3 });
  const approval = (seq: number): Alert => ({
    agent_id: "a",
    reason: "approval",
    detail: `Bash: x — git paw approve ${seq}`,
    seq,
    since: 0,
  });
  assert.equal(throttleAlert(s, approval(5), 100), true);
  assert.equal(throttleAlert(s, approval(5), 101), false, "the same one");
  assert.equal(throttleAlert(s, approval(6), 102), true, "another request");
  assert.equal(throttleAlert(s, approval(7), 103), true);
  assert.equal(throttleAlert(s, approval(8), 104), false, "the cap holds");
});
