/**
 * The web dashboard mounted on the REAL broker (lib/broker/server.ts): its
 * guard covers `/` and `/events`, entries stream once durable, and a broker
 * restart on the same port and data dir resumes the stream with no gap.
 */
import assert from "node:assert/strict";
import { type RunningBroker, startBroker } from "../../lib/broker/server.ts";
import { dashboardPath } from "../../lib/broker/handler.ts";
import { dashboardPlugins } from "../../lib/dashboard/plugins.ts";
import { type WebPlugin, webPlugin } from "../../lib/dashboard/web.ts";
import { openSse } from "./_sse_client.ts";
import { mergeConfig } from "../../lib/core/config.ts";
import { waitFor } from "../_helpers/wait.ts";

function status(agent: string, s: string, message?: string) {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: s, modified_files: [], ...(message ? { message } : {}) },
  };
}

async function post(url: string, body: unknown) {
  const r = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
}

/** Raw HTTP/1.1 GET with an arbitrary Host (fetch will not forge it). */
async function rawGet(port: number, path: string, host: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  } finally {
    conn.close();
  }
}

async function start(
  dataDir: string,
  port = 0,
): Promise<{ broker: RunningBroker; web: WebPlugin }> {
  const web = webPlugin({ sse: { heartbeatMs: 60_000 } });
  const broker = await startBroker({
    port,
    dataDir,
    session: "paw-web",
    quiet: true,
    plugins: [web],
  });
  return { broker, web };
}

Deno.test("dashboardPlugins() mounts the web dashboard on the real broker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-broker-" });
  const broker = await startBroker({
    port: 0,
    dataDir: dir,
    session: "paw-web",
    quiet: true,
    plugins: dashboardPlugins({
      repo: dir,
      session: "paw-web",
      config: mergeConfig({}, { notify: { stall_threshold_seconds: 77 } }),
    }),
  });
  try {
    const r = await fetch(`${broker.url}/`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<title>git-paw — paw-web<\/title>/);
    assert.match(html, /"stallThresholdSeconds":77/);
    // The broker's own routes are untouched.
    const s = await fetch(`${broker.url}/status`);
    assert.equal((await s.json()).git_paw, true);
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the real broker's guard covers GET / and GET /events (Host, Origin)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-broker-" });
  const { broker, web } = await start(dir);
  try {
    // DNS rebinding: a foreign Host is refused by the broker guard.
    assert.equal(await rawGet(broker.port, "/", "evil.example"), 421);
    assert.equal(await rawGet(broker.port, "/events", "evil.example"), 421);
    assert.equal(
      await rawGet(broker.port, "/", `localhost:${broker.port}`),
      200,
    );
    // A foreign page may not read the event stream.
    const r = await fetch(`${broker.url}/events`, {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(r.status, 403);
    await r.body?.cancel();
    assert.equal(web.sseClients(), 0);
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /events on the real broker streams, resumes across a restart, and cleans up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-broker-" });
  let { broker, web } = await start(dir);
  try {
    const sse = await openSse(`${broker.url}/events`);
    await sse.nextNamed("roster");
    await post(broker.url, status("feat/a", "working", "one"));
    await post(broker.url, status("feat/a", "working", "two"));
    // Entries and the roster snapshot, in whatever batch order they come.
    const entries = [];
    let roster: Array<{ agent_id: string }> = [];
    while (entries.length < 2 || roster.length === 0) {
      const ev = await sse.next();
      if (ev.event === "entry") entries.push(ev);
      if (ev.event === "roster") roster = JSON.parse(ev.data!);
    }
    assert.deepEqual(entries.map((e) => e.id), ["1", "2"]);
    assert.equal(JSON.parse(entries[1]!.data!).message.agent_id, "feat-a");
    assert.equal(roster[0]!.agent_id, "feat-a");

    // close() ends the stream (the plugin stops before the server).
    const port = broker.port;
    await broker.close();
    assert.equal(await sse.ended(), true);
    await sse.close();
    assert.equal(web.sseClients(), 0);

    // Same port and data dir: the log continues; resume after id 1.
    ({ broker, web } = await start(dir, port));
    await post(broker.url, status("feat/b", "working", "three"));
    const again = await openSse(`${broker.url}/events`, {
      "last-event-id": "1",
    });
    try {
      const ids = [];
      for (let i = 0; i < 2; i++) ids.push((await again.nextNamed("entry")).id);
      assert.deepEqual(ids, ["2", "3"]);
      assert.equal(web.sseClients(), 1);
    } finally {
      await again.close();
    }
    await waitFor("no SSE client", () => web.sseClients() === 0);
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /?token= beyond loopback trades the token for a cookie that opens / and /events but not /publish", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-broker-" });
  const web = webPlugin({ sse: { heartbeatMs: 60_000 } });
  // Bound wide (a generated token is required); the test talks to 127.0.0.1.
  const broker = await startBroker({
    port: 0,
    bind: "0.0.0.0",
    dataDir: dir,
    session: "paw-web",
    quiet: true,
    plugins: [web],
  });
  const base = `http://127.0.0.1:${broker.port}`;
  const req = async (
    path: string,
    init: RequestInit = {},
  ): Promise<Response> => {
    const r = await fetch(`${base}${path}`, { redirect: "manual", ...init });
    return r;
  };
  const statusOf = async (path: string, init: RequestInit = {}) => {
    const r = await req(path, init);
    await r.body?.cancel();
    return r.status;
  };
  try {
    const token = broker.token;
    assert.ok(token && token.length >= 20);
    // No token, wrong token: refused, no cookie.
    assert.equal(await statusOf("/"), 401);
    assert.equal(await statusOf("/events"), 401);
    const wrong = await req(`/?token=${encodeURIComponent(token + "x")}`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    await wrong.body?.cancel();
    assert.equal(await statusOf("/?token="), 401);
    // Right token: 303 to the dashboard's own path with a cookie scoped to it.
    const login = await req(`/?token=${encodeURIComponent(token)}`);
    assert.equal(login.status, 303);
    const home = dashboardPath(token);
    assert.equal(login.headers.get("location"), `${home}/`);
    await login.body?.cancel();
    const setCookie = login.headers.get("set-cookie") ?? "";
    const [pair, ...attrs] = setCookie.split(";").map((s) => s.trim());
    assert.equal(pair, `git_paw_token=${encodeURIComponent(token)}`);
    assert.deepEqual(
      attrs.map((a) => a.toLowerCase()).sort(),
      ["httponly", `path=${home}/`, "samesite=strict"],
    );
    const cookie = { cookie: `other=1; ${pair}` };
    // The cookie opens the page and the event stream (GET) under that path.
    const page = await req(`${home}/`, { headers: cookie });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>git-paw — paw-web<\/title>/);
    assert.equal(await statusOf("/", { headers: cookie }), 401);
    const events = await req(`${home}/events`, { headers: cookie });
    assert.equal(events.status, 200);
    assert.match(
      events.headers.get("content-type") ?? "",
      /text\/event-stream/,
    );
    await events.body?.cancel();
    assert.equal(await statusOf(`${home}/status`, { headers: cookie }), 200);
    // A wrong cookie value is refused.
    assert.equal(
      await statusOf(`${home}/`, { headers: { cookie: "git_paw_token=nope" } }),
      401,
    );
    // Writes never accept the cookie: the header stays required.
    const publish = {
      method: "POST",
      headers: { "content-type": "application/json", ...cookie },
      body: JSON.stringify(status("feat-a", "working")),
    };
    assert.equal(await statusOf("/publish", publish), 401);
    assert.equal(
      await statusOf("/watch", {
        method: "POST",
        headers: { "content-type": "application/json", ...cookie },
        body: JSON.stringify({ agent_id: "feat-w", worktree_path: "/w" }),
      }),
      401,
    );
    assert.equal(
      await statusOf("/publish", {
        ...publish,
        headers: { ...publish.headers, authorization: `Bearer ${token}` },
      }),
      202,
    );
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
