import assert from "node:assert/strict";
import { listenEarly } from "../../lib/broker/early_listen.ts";

Deno.test("listenEarly() holds requests until a handler is attached, then serves them with it", async () => {
  const early = listenEarly({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.ok(early.port > 0);
    const pending = fetch(`http://127.0.0.1:${early.port}/status`);
    let answered = false;
    pending.then(() => answered = true, () => {});
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(answered, false, "answered before the broker was there");
    early.attach((req) => Response.json({ path: new URL(req.url).pathname }));
    const res = await pending;
    assert.deepEqual(await res.json(), { path: "/status" });
    // Later requests go straight to the handler.
    const again = await fetch(`http://127.0.0.1:${early.port}/x`);
    assert.deepEqual(await again.json(), { path: "/x" });
  } finally {
    await early.server.shutdown();
  }
});

Deno.test("listenEarly(): a throwing handler gets the onError answer; fail() answers 503", async () => {
  const early = listenEarly({ hostname: "127.0.0.1", port: 0 });
  try {
    early.attach(() => {
      throw new Error("boom");
    }, () => new Response("sorry", { status: 500 }));
    const r = await fetch(`http://127.0.0.1:${early.port}/`);
    assert.equal(r.status, 500);
    assert.equal(await r.text(), "sorry");
  } finally {
    await early.server.shutdown();
  }
  const failing = listenEarly({ hostname: "127.0.0.1", port: 0 });
  try {
    const held = fetch(`http://127.0.0.1:${failing.port}/status`);
    failing.fail("store busy");
    const r = await held;
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), {
      error: "broker_unavailable",
      detail: "store busy",
    });
  } finally {
    await failing.server.shutdown();
  }
});

Deno.test("listenEarly() throws AddrInUse for a held port", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    assert.throws(
      () =>
        listenEarly({
          hostname: "127.0.0.1",
          port: (l.addr as Deno.NetAddr).port,
        }),
      Deno.errors.AddrInUse,
    );
  } finally {
    l.close();
  }
});
