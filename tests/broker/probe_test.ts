import assert from "node:assert/strict";
import { probeBroker } from "../../lib/broker/probe.ts";

/** A port that was free a moment ago: bind port 0, then close it. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("probeBroker() reports free when the port is closed and a session is expected", async () => {
  const port = closedPort();
  assert.equal(
    await probeBroker(`http://127.0.0.1:${port}`, "some-session"),
    "free",
  );
});

Deno.test("probeBroker() reports free for a closed port even with a long timeout", async () => {
  const port = closedPort();
  const r = await probeBroker(`http://127.0.0.1:${port}`, "s", {
    timeoutMs: 5_000,
  });
  assert.equal(r, "free");
});
