/**
 * The broker handler without a socket: `new Request(...)` in, `Response`
 * out. Routing, errors, limits, the guard and agent ids.
 */
import assert from "node:assert/strict";
import {
  type BrokerHandler,
  type BrokerHandlerDeps,
  createBrokerHandler,
  dashboardPath,
  MAX_BODY_BYTES,
} from "../../lib/broker/handler.ts";
import { openStore } from "../../lib/broker/store.ts";
import type { Broker, BrokerPlugin } from "../../lib/broker/api.ts";
import { artifactMsg, statusMsg } from "../_helpers/broker.ts";

const BASE = "http://127.0.0.1:7000";

type TestHandler = BrokerHandler & {
  store: Awaited<ReturnType<typeof openStore>>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** A handler on a fresh store in a temp dir, with a fixed clock. */
async function handler(
  deps: Partial<BrokerHandlerDeps> = {},
): Promise<TestHandler> {
  const dir = await Deno.makeTempDir({ prefix: "paw-handler-" });
  const store = await openStore({ dataDir: dir, session: "unit" });
  let t = 1_700_000_000_000;
  const h = createBrokerHandler({
    store,
    now: () => t += 1000,
    session: "unit",
    allowedHosts: ["127.0.0.1:7000", "localhost:7000", "127.0.0.1"],
    hostHint: BASE,
    ...deps,
  });
  return Object.assign(h, {
    store,
    async [Symbol.asyncDispose]() {
      h.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  });
}

function req(
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Request {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = typeof init.json === "string"
      ? init.json
      : JSON.stringify(init.json);
  }
  return new Request(`${BASE}${path}`, {
    method: init.method ?? (body !== undefined ? "POST" : "GET"),
    headers,
    body,
  });
}

// deno-lint-ignore no-explicit-any
async function json(res: Response): Promise<any> {
  const text = await res.text();
  return text === "" ? null : JSON.parse(text);
}

Deno.test("createBrokerHandler() routes publish, messages, status and log without a socket", async () => {
  await using h = await handler();
  await h(req("/publish", { json: statusMsg("feat-b") }));
  const pub = await h(
    req("/publish", { json: artifactMsg("feat/a", "committed") }),
  );
  assert.equal(pub.status, 202);
  assert.equal(await pub.text(), "");
  const inbox = await h(req("/messages/feat-b?since=0"));
  assert.equal(inbox.status, 200);
  assert.equal(inbox.headers.get("content-type"), "application/json");
  const page = await json(inbox);
  assert.equal(page.last_seq, 2);
  assert.equal(page.messages.length, 1);
  assert.equal(page.messages[0].seq, 2);
  assert.equal(page.messages[0].agent_id, "feat-a");
  const st = await json(await h(req("/status")));
  assert.equal(st.git_paw, true);
  assert.equal(st.session, "unit");
  assert.equal(st.last_seq, 2);
  assert.deepEqual(
    st.agents.map((a: { agent_id: string }) => a.agent_id).sort(),
    ["feat-a", "feat-b"],
  );
  const log = await json(await h(req("/log?since=0")));
  assert.equal(log.entries.length, 2);
  assert.equal(log.last_seq, 2);
});

Deno.test("createBrokerHandler() names the session's repo in /status only when it has one", async () => {
  await using plain = await handler();
  const without = await json(await plain(req("/status")));
  assert.equal("repo" in without, false);
  await using h = await handler({ repo: "/work/a/repo" });
  const st = await json(await h(req("/status")));
  assert.equal(st.repo, "/work/a/repo");
  assert.equal(st.session, "unit");
});

Deno.test("createBrokerHandler() answers errors as JSON with the usual status codes", async () => {
  await using h = await handler();
  const cases: Array<[Request, number, RegExp]> = [
    [
      req("/publish", {
        method: "POST",
        body: "{}",
        headers: { "content-type": "text/plain" },
      }),
      415,
      /Content-Type/,
    ],
    [req("/publish", { json: "" }), 400, /must not be empty/],
    [req("/publish", { json: "{nope" }), 400, /invalid message JSON/],
    [req("/watch", { json: "[]" }), 400, /invalid watch JSON/],
    [
      req("/watch", {
        method: "POST",
        body: "{}",
        headers: { "content-type": "text/plain" },
      }),
      415,
      /Content-Type/,
    ],
    [req("/messages/a?wait=61"), 400, /wait/],
    [req("/messages/a?since=-1"), 400, /since/],
    [req("/log?wait=1"), 400, /only supported on \/messages/],
    [req("/nope"), 404, /not found/],
    [req("/publish"), 405, /method/],
    [req("/status", { json: {} }), 405, /method/],
    [req("/watch"), 405, /method/],
    [req("/messages/a", { json: {} }), 405, /method/],
  ];
  for (const [r, status, re] of cases) {
    const res = await h(r);
    assert.equal(res.status, status, `${r.method} ${r.url}`);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.match((await json(res)).error, re);
  }
  assert.equal(h.store.durableSeq, 0, "no 4xx changed state");
});

Deno.test("createBrokerHandler() refuses bodies over the limit with 413, declared or streamed", async () => {
  await using h = await handler();
  const big = "x".repeat(MAX_BODY_BYTES + 1);
  for (const path of ["/publish", "/watch"]) {
    const declared = await h(req(path, { json: big }));
    assert.equal(declared.status, 413, path);
    assert.match((await json(declared)).error, /exceeds/);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const streamed = await h(
      new Request(`${BASE}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
      }),
    );
    assert.equal(streamed.status, 413, `${path} streamed`);
  }
});

Deno.test("createBrokerHandler() guards Host (421) and cross-origin writes (403)", async () => {
  await using h = await handler();
  for (const path of ["/status", "/publish", "/messages/a", "/nope"]) {
    const res = await h(req(path, { headers: { host: "evil.example" } }));
    assert.equal(res.status, 421, path);
    const body = await json(res);
    assert.match(body.error, /Host/);
    assert.equal(body.detail, `use ${BASE}`);
  }
  const evil = await h(
    req("/publish", {
      json: statusMsg("a"),
      headers: { origin: "http://evil.example" },
    }),
  );
  assert.equal(evil.status, 403);
  assert.match((await json(evil)).error, /cross-origin/);
  const watch = await h(
    req("/watch", {
      json: { agent_id: "a", worktree_path: "/a" },
      headers: { origin: "null" },
    }),
  );
  assert.equal(watch.status, 403);
  const same = await h(
    req("/publish", {
      json: statusMsg("a"),
      headers: { origin: BASE, host: "127.0.0.1:7000" },
    }),
  );
  assert.equal(same.status, 202);
  const read = await h(
    req("/status", { headers: { origin: "http://evil.example" } }),
  );
  assert.equal(read.status, 200);
  await read.body?.cancel();
});

Deno.test("createBrokerHandler() with a token needs the header; GETs may use the cookie", async (t) => {
  await using h = await handler({ token: "s3cret" });
  const prefix = dashboardPath("s3cret");
  await t.step("no or wrong token is 401 on every route", async () => {
    for (
      const r of [
        req("/status"),
        req("/messages/a"),
        req("/publish", { json: statusMsg("a") }),
        req("/watch", { json: { agent_id: "a", worktree_path: "/a" } }),
        req("/status", { headers: { authorization: "Bearer nope" } }),
        req("/status", { headers: { authorization: "Basic czNjcmV0" } }),
        req("/nope"),
      ]
    ) {
      const res = await h(r);
      assert.equal(res.status, 401, `${r.method} ${r.url}`);
      const body = await json(res);
      assert.equal(body.git_paw, true);
      assert.match(body.error, /token/);
    }
  });
  await t.step("the header opens every route", async () => {
    const auth = { authorization: "Bearer s3cret" };
    assert.equal(
      (await h(req("/publish", { json: statusMsg("a"), headers: auth })))
        .status,
      202,
    );
    const st = await h(req("/status", { headers: auth }));
    assert.equal(st.status, 200);
    await st.body?.cancel();
  });
  await t.step("GET /?token= trades the token for the cookie", async () => {
    const wrong = await h(req("/?token=nope"));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    await wrong.body?.cancel();
    const login = await h(req("/?token=s3cret"));
    assert.equal(login.status, 303);
    assert.equal(login.headers.get("location"), `${prefix}/`);
    assert.match(prefix, /^\/s\/[0-9a-f]{32}$/);
    assert.equal(login.headers.get("cache-control"), "no-store");
    const [pair, ...attrs] = (login.headers.get("set-cookie") ?? "").split(";")
      .map((s) => s.trim());
    assert.equal(pair, "git_paw_token=s3cret");
    assert.deepEqual(attrs.map((a) => a.toLowerCase()).sort(), [
      "httponly",
      `path=${prefix}/`,
      "samesite=strict",
    ]);
    // A cookie an older version scoped to `/` is dropped at login.
    const again = await h(
      req("/?token=s3cret", { headers: { cookie: "git_paw_token=s3cret" } }),
    );
    assert.deepEqual(
      again.headers.getSetCookie().map((c) => c.split(";")[0]),
      ["git_paw_token=", "git_paw_token=s3cret"],
    );
    assert.match(again.headers.getSetCookie()[0]!, /Max-Age=0; Path=\/(;|$)/);
  });
  await t.step(
    "the cookie opens GETs only, under the dashboard path only",
    async () => {
      const cookie = { cookie: "other=1; git_paw_token=s3cret" };
      for (const path of ["/status", "/messages/a", "/log"]) {
        const res = await h(req(`${prefix}${path}`, { headers: cookie }));
        assert.equal(res.status, 200, path);
        await res.body?.cancel();
        // The same cookie outside the dashboard path is not accepted.
        const outside = await h(req(path, { headers: cookie }));
        assert.equal(outside.status, 401, `outside: ${path}`);
        await outside.body?.cancel();
      }
      const bare = await h(req(prefix, { headers: cookie }));
      assert.equal(bare.status, 308);
      assert.equal(bare.headers.get("location"), `${prefix}/`);
      for (const path of ["/publish", `${prefix}/publish`]) {
        const pub = await h(
          req(path, { json: statusMsg("a"), headers: cookie }),
        );
        assert.equal(pub.status, 401, path);
        await pub.body?.cancel();
      }
      const bad = await h(
        req(`${prefix}/status`, { headers: { cookie: "git_paw_token=nope" } }),
      );
      assert.equal(bad.status, 401);
      await bad.body?.cancel();
    },
  );
});

Deno.test("createBrokerHandler() refuses agent ids that are not branch names with 400", async () => {
  await using h = await handler();
  for (const id of ["../../etc", "a..b", "-x", "x~1", "a:b", "x.lock"]) {
    const pub = await h(req("/publish", { json: statusMsg(id) }));
    assert.equal(pub.status, 400, id);
    const body = await json(pub);
    assert.equal(body.error, "invalid agent_id");
    assert.equal(body.field, "agent_id");
    assert.equal(body.value, id);
    assert.match(body.detail, /branch name/);
    const poll = await h(req(`/messages/${encodeURIComponent(id)}`));
    assert.equal(poll.status, 400, `poll ${id}`);
    assert.equal((await json(poll)).error, "invalid agent_id");
    const watch = await h(
      req("/watch", { json: { agent_id: id, worktree_path: "/w" } }),
    );
    assert.equal(watch.status, 400, `watch ${id}`);
    assert.equal((await json(watch)).error, "invalid agent_id");
  }
  assert.equal(h.store.durableSeq, 0);
  // A branch name is still filed under its slug.
  await h(req("/publish", { json: statusMsg("other") }));
  assert.equal(
    (await h(req("/publish", { json: artifactMsg("Feat/Auth", "committed") })))
      .status,
    202,
  );
  const page = await json(await h(req("/messages/other?since=0")));
  assert.equal(page.messages[0].agent_id, "feat-auth");
});

Deno.test("createBrokerHandler() long-polls until a publish lands, and close() releases polls", async () => {
  await using h = await handler();
  await h(req("/publish", { json: statusMsg("b") }));
  const waiting = h(req("/messages/b?since=1&wait=5"));
  await h(req("/publish", { json: artifactMsg("a", "committed") }));
  const page = await json(await waiting);
  assert.equal(page.messages.length, 1);
  const held = h(req("/messages/b?since=2&wait=5"));
  h.close();
  assert.deepEqual(await json(await held), { messages: [], last_seq: 2 });
  const late = await h(req("/publish", { json: statusMsg("a") }));
  assert.equal(late.status, 503);
  await late.body?.cancel();
});

Deno.test("createBrokerHandler() mounts plugin routes before the 404 and behind the guard", async () => {
  const plugin: BrokerPlugin = {
    name: "hello",
    routes: (app, broker) =>
      app.get("/hello", (c) => c.json({ s: broker.url })),
  };
  await using h = await handler({
    token: "tok",
    plugins: [plugin],
    broker: { url: "fake" } as Broker,
  });
  const ok = await h(
    req("/hello", { headers: { authorization: "Bearer tok" } }),
  );
  assert.deepEqual(await json(ok), { s: "fake" });
  assert.equal((await h(req("/hello"))).status, 401);
});
