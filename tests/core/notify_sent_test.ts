import assert from "node:assert/strict";
import {
  alertCause,
  createSent,
  markSent,
  MAX_SENT,
  parseSent,
  sentText,
  wasSent,
} from "../../lib/core/notify_sent.ts";

Deno.test("alertCause() names a message's cause by seq and a stall by the silence's start", () => {
  const base = { agent_id: "feat-a", detail: "x", since: 1000 };
  assert.equal(
    alertCause({ ...base, reason: "approval", seq: 12 }, 300),
    "approval:feat-a:12",
  );
  assert.equal(
    alertCause({ ...base, reason: "needs_input", seq: 3 }, 300),
    "needs_input:feat-a:3",
  );
  assert.equal(
    alertCause({ ...base, reason: "stalled", seq: null, since: 1300.4 }, 300),
    "stalled:feat-a:1000",
  );
});

Deno.test("wasSent() matches a stall a moment apart, every other cause exactly", () => {
  const s = createSent(["stalled:feat-a:1000", "question:feat-a:5"]);
  assert.ok(wasSent(s, "question:feat-a:5"));
  assert.ok(!wasSent(s, "question:feat-a:6"));
  assert.ok(wasSent(s, "stalled:feat-a:1002"));
  assert.ok(wasSent(s, "stalled:feat-a:998"));
  assert.ok(!wasSent(s, "stalled:feat-a:1003"));
  assert.ok(!wasSent(s, "stalled:feat-b:1000"));
});

Deno.test("markSent() keeps the newest MAX_SENT causes; the file text round-trips", () => {
  const s = createSent();
  for (let i = 0; i < MAX_SENT + 5; i++) markSent(s, `question:a:${i}`);
  assert.equal(s.order.length, MAX_SENT);
  assert.ok(!wasSent(s, "question:a:0"));
  assert.ok(wasSent(s, `question:a:${MAX_SENT + 4}`));
  const back = parseSent(sentText(s))!;
  assert.deepEqual(back.order, s.order);
  assert.equal(parseSent("not json"), null);
  assert.equal(parseSent('{"other": 1}'), null);
});
