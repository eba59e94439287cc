/**
 * The approval routes at handler level: `createBrokerHandler` called with
 * `new Request(...)` over a real store in a temp dir (no socket).
 */
import assert from "node:assert/strict";
import {
  type BrokerHandler,
  createBrokerHandler,
} from "../../lib/broker/handler.ts";
import { openStore } from "../../lib/broker/store.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { watchTargets } from "../../lib/core/broker_state.ts";
import { approvalsPlugin } from "../../lib/coord/approvals_plugin.ts";

const TOKEN = "tok";
const ORIGIN = "http://127.0.0.1:9119";

async function open(dataDir: string) {
  const store = await openStore({ dataDir, session: "t", warn: () => {} });
  const plugin = approvalsPlugin({
    mode: "queue",
    policy: { allow: ["git add *"], deny: [], worktree_writes: "allow" },
    timeoutSeconds: 600,
  });
  const broker: Broker = {
    url: ORIGIN,
    port: 9119,
    session: "t",
    publish: (i) => h.publish(i),
    lastSeq: () => store.durableSeq,
    logSince: (since) =>
      Promise.resolve(
        store.entries(store.logSeqs(since)).map((e) => ({
          seq: e.seq,
          timestamp_unix_secs: e.timestamp_unix_secs,
          message: e.message,
        })),
      ),
    agents: () => [],
    watchTargets: () => watchTargets(store.state),
    watch: (t) => h.watch(t),
    subscribe: (fn) => h.subscribe(fn),
    checkSpeaker: (req, ids) => h.checkSpeaker(req, ids),
    close: () => Promise.resolve(),
  };
  const h: BrokerHandler = createBrokerHandler({
    store,
    now: Date.now,
    session: "t",
    token: TOKEN,
    allowedHosts: ["127.0.0.1:9119"],
    plugins: [plugin],
    broker,
  });
  const stop = await plugin.start!(broker);
  return {
    h,
    async [Symbol.asyncDispose]() {
      await stop();
      h.close();
      await store.close();
    },
  };
}

function req(
  path: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string> } =
    {},
): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: {
      host: "127.0.0.1:9119",
      authorization: `Bearer ${TOKEN}`,
      ...(init.json === undefined
        ? {}
        : { "content-type": "application/json" }),
      ...init.headers,
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

const file = (command: string) =>
  req("/approvals", {
    json: { agent_id: "feat-a", tool: "Bash", input: { command }, cwd: "/tmp" },
  });

Deno.test("approval routes: 409 on a second decision, pending across a restart, guarded writes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "paw-approvals-h-" });
  try {
    let a: number, b: number;
    {
      await using s = await open(dataDir);
      a = (await (await s.h(file("make"))).json()).id;
      b = (await (await s.h(file("make test"))).json()).id;
      const ok = await s.h(req(`/approvals/${a}/approve`, { json: {} }));
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).decision.decision, "allow");
      const again = await s.h(
        req(`/approvals/${a}/deny`, { json: { reason: "x" } }),
      );
      assert.equal(again.status, 409);
      await again.body?.cancel();
      // Without the token; cross-site with it; the cookie without the page's header.
      const anon = await s.h(
        new Request(`${ORIGIN}/approvals/${b}/approve`, {
          method: "POST",
          headers: { host: "127.0.0.1:9119" },
        }),
      );
      assert.equal(anon.status, 401);
      await anon.body?.cancel();
      const cross = await s.h(req(`/approvals/${b}/approve`, {
        json: {},
        headers: { origin: "https://evil.example", "x-git-paw-csrf": "1" },
      }));
      assert.equal(cross.status, 403);
      await cross.body?.cancel();
      const cookieOnly = await s.h(
        new Request(`${ORIGIN}/approvals/${b}/approve`, {
          method: "POST",
          headers: {
            host: "127.0.0.1:9119",
            origin: ORIGIN,
            cookie: `git_paw_token=${TOKEN}`,
          },
        }),
      );
      assert.equal(cookieOnly.status, 401);
      await cookieOnly.body?.cancel();
    }
    {
      await using s = await open(dataDir);
      const pending = await (await s.h(req("/approvals?pending=1"))).json();
      assert.deepEqual(pending.approvals.map((r: { id: number }) => r.id), [b]);
      const page = await s.h(
        new Request(`${ORIGIN}/approvals/${b}/deny`, {
          method: "POST",
          headers: {
            host: "127.0.0.1:9119",
            origin: ORIGIN,
            cookie: `git_paw_token=${TOKEN}`,
            "x-git-paw-csrf": "1",
            "content-type": "application/json",
          },
          body: JSON.stringify({ by: "web", reason: "later" }),
        }),
      );
      assert.equal(page.status, 200);
      assert.deepEqual((await page.json()).decision.by, "web");
      const done = await (await s.h(req(`/approvals/${a}`))).json();
      assert.equal(done.decision.by, "user via cli");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
