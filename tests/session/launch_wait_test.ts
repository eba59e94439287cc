import assert from "node:assert/strict";
import { waitForBroker } from "../../lib/session/launch.ts";

Deno.test("waitForBroker() reports taken when a program holds the port and never answers", async () => {
  // Accepts connections (kernel backlog) but never speaks HTTP.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const url = `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`;
    assert.equal(await waitForBroker(url, "s", 10_000), "taken");
  } finally {
    silent.close();
  }
});

Deno.test("waitForBroker() reports taken when a foreign HTTP server answers", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hello"),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    assert.equal(await waitForBroker(url, "s", 5_000), "taken");
  } finally {
    await server.shutdown();
  }
});

Deno.test("waitForBroker() reports ours once the session's broker answers, and timeout when nothing ever listens", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ git_paw: true, session: "mine" }),
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    assert.equal(await waitForBroker(url, "mine", 5_000), "ours");
    assert.equal(await waitForBroker(url, "theirs", 5_000), "taken");
  } finally {
    await server.shutdown();
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  assert.equal(
    await waitForBroker(`http://127.0.0.1:${port}`, "mine", 300),
    "timeout",
  );
});
