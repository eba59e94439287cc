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

/** A stand-in broker answering `/status` with `doc`, on a port of its own. */
function fakeBroker(doc: Record<string, unknown>) {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    () => Response.json(doc),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("probeBroker() counts a broker as ours only when it names the expected repo", async () => {
  await using b = fakeBroker({
    git_paw: true,
    session: "paw-repo",
    repo: "/x/a/repo",
  });
  assert.equal(
    await probeBroker(b.url, "paw-repo", { repo: "/x/a/repo" }),
    "ours",
  );
  // Same session name, another repo: never ours.
  assert.equal(
    await probeBroker(b.url, "paw-repo", { repo: "/x/b/repo" }),
    "other-session",
  );
  assert.equal(await probeBroker(b.url, "paw-repo"), "ours");
  assert.equal(
    await probeBroker(b.url, "paw-repo-2", { repo: "/x/a/repo" }),
    "other-session",
  );
});

Deno.test("probeBroker() does not count a broker that does not say its repo as ours when a repo is expected", async () => {
  await using b = fakeBroker({ git_paw: true, session: "paw-repo" });
  assert.equal(
    await probeBroker(b.url, "paw-repo", { repo: "/x/a/repo" }),
    "other-session",
  );
});
