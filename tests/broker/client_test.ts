import assert from "node:assert/strict";
import {
  brokerClient,
  BrokerReplyError,
  BrokerUnreachableError,
  describeProbe,
  replyText,
  tokenFromEnv,
} from "../../lib/broker/client.ts";
import { artifactMsg, statusMsg, testBroker } from "../_helpers/broker.ts";

for (const oneShot of [false, true]) {
  const via = oneShot ? " (oneShot: a socket per call)" : "";

  Deno.test(`brokerClient() publishes, long-polls, watches and reads /status with the token${via}`, async () => {
    await using b = await testBroker({ token: "tok" });
    const c = brokerClient(`${b.url}/`, { token: "tok", oneShot });
    assert.equal(c.url, b.url);
    assert.equal((await c.publish(statusMsg("feat-b"))).status, 202);
    const waiting = c.poll("feat/b", { since: 1, wait: 5 });
    const pub = await c.publish(artifactMsg("feat-a", "committed"));
    assert.equal(pub.ok, true);
    const page = await waiting;
    assert.equal(page.last_seq, 2);
    assert.equal(page.messages[0]!.type, "agent.artifact");
    const watch = await c.watch({ agent_id: "feat-w", worktree_path: "/w" });
    assert.equal(watch.status, 202);
    assert.deepEqual(b.watchTargets().map((t) => t.agent_id), ["feat-w"]);
    const log = await c.log({ since: 1, limit: 5 });
    assert.deepEqual(log.entries.map((e) => e.seq), [2]);
    assert.equal(log.last_seq, 2);
    const st = await c.status();
    assert.equal((st.json as { session: string }).session, "test");
    // Without the token: the broker's refusal comes back as a reply.
    const anon = await brokerClient(b.url, { oneShot }).status();
    assert.equal(anon.status, 401);
    assert.match(replyText(anon), /^missing or wrong bearer token \(send/);
    await assert.rejects(
      brokerClient(b.url, { oneShot }).poll("feat-b", { since: 0 }),
      (e: unknown) => e instanceof BrokerReplyError && e.reply.status === 401,
    );
  });

  Deno.test(`brokerClient() says unreachable, and timed out when the timeout ran out${via}`, async () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    // A listener that never answers: the timeout runs out.
    const conns: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of l) conns.push(conn);
    })();
    await assert.rejects(
      brokerClient(`http://127.0.0.1:${port}`, { oneShot }).status({
        timeoutMs: 100,
      }),
      (e: unknown) => e instanceof BrokerUnreachableError && e.timedOut,
    );
    l.close();
    for (const c of conns) c.close();
    await accepting.catch(() => {});
    // Nothing listens any more: refused, not timed out.
    await assert.rejects(
      brokerClient(`http://127.0.0.1:${port}`, { oneShot }).publish({}),
      (e: unknown) =>
        e instanceof BrokerUnreachableError && !e.timedOut &&
        e.message ===
          `Cannot reach the broker at http://127.0.0.1:${port}: fetch failed`,
    );
  });

  Deno.test(`brokerClient() with refusedRetryMs reaches a broker that starts listening meanwhile, and gives up after it${via}`, async () => {
    // A port nobody listens on (taken, then freed).
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const url = `http://127.0.0.1:${port}`;
    const c = brokerClient(url, { oneShot });
    // Without it a refusal is final at once.
    await assert.rejects(
      c.publish(statusMsg("feat-a")),
      (e: unknown) => e instanceof BrokerUnreachableError && !e.timedOut,
    );
    // Refused the whole time: it gives up once the retry time is spent.
    const t0 = performance.now();
    await assert.rejects(
      c.publish(statusMsg("feat-a"), { refusedRetryMs: 300 }),
      (e: unknown) => e instanceof BrokerUnreachableError && !e.timedOut,
    );
    const spent = performance.now() - t0;
    assert.ok(spent >= 100 && spent < 1500, `gave up after ${spent} ms`);
    // The broker binds 250 ms into the call: the publish lands.
    let b: Awaited<ReturnType<typeof testBroker>> | undefined;
    const binding = new Promise((r) => setTimeout(r, 250)).then(async () =>
      b = await testBroker({ port })
    );
    try {
      const reply = await c.publish(statusMsg("feat-a"), {
        refusedRetryMs: 3000,
      });
      assert.equal(reply.status, 202);
      await binding;
      assert.equal(b!.lastSeq(), 1);
    } finally {
      await binding.catch(() => {});
      await b?.[Symbol.asyncDispose]();
    }
  });
}

/**
 * A server that answers what it got (method, path, the headers the broker
 * reads, the body) in the shape the path asks for: a chunked stream, a
 * large body, text, an empty 204, a refusal.
 */
function echoServer() {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const u = new URL(req.url);
      const got = JSON.stringify({
        method: req.method,
        path: `${u.pathname}${u.search}`,
        host: req.headers.get("host"),
        authorization: req.headers.get("authorization"),
        key: req.headers.get("x-git-paw-agent-key"),
        type: req.headers.get("content-type"),
        length: req.headers.get("content-length"),
        body: await req.text(),
      });
      switch (u.pathname) {
        case "/chunked": {
          const enc = new TextEncoder().encode(`{"échos":${got}}`);
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              // Split inside a multi-byte character.
              for (let i = 0; i < enc.length; i += 7) {
                c.enqueue(enc.subarray(i, i + 7));
              }
              c.close();
            },
          });
          return new Response(body, {
            headers: { "content-type": "application/json" },
          });
        }
        case "/large":
          return Response.json({ pad: "ü".repeat(100_000), got });
        case "/text":
          return new Response("not json ✓", { status: 503 });
        case "/empty":
          return new Response(null, { status: 204 });
        default:
          return Response.json({ error: "nope", detail: got }, { status: 400 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("brokerClient({ oneShot }) sends and reads what fetch sends and reads", async () => {
  await using s = echoServer();
  const opts = { token: "tok", agentKey: "k".repeat(43) };
  const fetchC = brokerClient(s.url, opts);
  const sockC = brokerClient(s.url, { ...opts, oneShot: true });
  const calls: Array<(c: ReturnType<typeof brokerClient>) => Promise<unknown>> =
    [
      (c) => c.publish({ type: "agent.status", text: "é ✓" }),
      (c) => c.request("POST", "/chunked?x=1&y=%20", { a: [1, 2] }),
      (c) => c.request("GET", "/large"),
      (c) => c.request("DELETE", "/text"),
      (c) => c.request("GET", "/empty"),
      (c) => c.status(),
      (c) => c.poll("feat/x", { since: 3, wait: 1 }).catch((e) => e.reply),
    ];
  for (const call of calls) {
    assert.deepEqual(await call(sockC), await call(fetchC), call.toString());
  }
});

Deno.test("brokerClient({ oneShot }) stops at the caller's signal", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of l) conns.push(conn);
  })();
  const ac = new AbortController();
  const c = brokerClient(`http://127.0.0.1:${l.addr.port}`, { oneShot: true });
  const call = c.status({ timeoutMs: 10_000, signal: ac.signal });
  ac.abort();
  await assert.rejects(
    call,
    (e: unknown) =>
      e instanceof BrokerUnreachableError && e.aborted && !e.timedOut,
  );
  l.close();
  for (const conn of conns) conn.close();
  await accepting.catch(() => {});
});

Deno.test("describeProbe() words every probe result once", () => {
  assert.equal(
    describeProbe("other-session"),
    "another git-paw session's broker",
  );
  assert.equal(describeProbe("foreign"), "another program");
  assert.equal(describeProbe("timeout"), "a process that does not answer");
  assert.equal(describeProbe("ours"), "this session's broker");
  assert.equal(tokenFromEnv(() => ""), undefined);
  assert.equal(tokenFromEnv(() => "t"), "t");
});
