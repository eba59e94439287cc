import assert from "node:assert/strict";
import { join } from "node:path";
import {
  artifactMsg,
  get,
  post,
  rawRequest,
  statusMsg,
  tempDir,
  testBroker,
} from "../_helpers/broker.ts";
import type { BrokerEvent } from "../../lib/broker/api.ts";
import { BrokerPortError, startBroker } from "../../lib/broker/server.ts";

Deno.test("POST /publish answers 202 with an empty body and files raw branches under their slug", async () => {
  await using b = await testBroker();
  const r = await post(`${b.url}/publish`, statusMsg("feat/x"));
  assert.equal(r.status, 202);
  assert.equal(r.text, "");
  const s = await get(`${b.url}/status`);
  assert.equal(s.json.agents[0].agent_id, "feat-x");
  assert.equal(b.lastSeq(), 1);
});

Deno.test("GET /messages returns inbox messages with seq and the cursor", async () => {
  await using b = await testBroker();
  await post(`${b.url}/publish`, statusMsg("feat-a"));
  await post(`${b.url}/publish`, statusMsg("feat-b"));
  await post(`${b.url}/publish`, artifactMsg("feat-b", "committed"));
  const r = await get(`${b.url}/messages/feat-a?since=0`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.equal(r.json.last_seq, 3);
  assert.equal(r.json.messages.length, 1);
  assert.equal(r.json.messages[0].seq, 3);
  assert.equal(r.json.messages[0].type, "agent.artifact");
  assert.equal(r.json.messages[0].payload.status, "committed");
  // Empty poll keeps the cursor; raw branch names poll the slug's inbox.
  const empty = await get(`${b.url}/messages/feat%2Fa?since=3`);
  assert.deepEqual(empty.json, { messages: [], last_seq: 3 });
  const twoSegments = await get(`${b.url}/messages/feat/a?since=0`);
  assert.equal(twoSegments.json.last_seq, 3);
  // since defaults to 0; unknown agents answer nothing.
  assert.equal((await get(`${b.url}/messages/feat-a`)).json.messages.length, 1);
  assert.deepEqual((await get(`${b.url}/messages/nobody?since=7`)).json, {
    messages: [],
    last_seq: 7,
  });
});

Deno.test("GET /messages limit caps the count and the cursor pages through", async () => {
  await using b = await testBroker();
  await post(`${b.url}/publish`, statusMsg("reader"));
  for (let i = 0; i < 7; i++) {
    await post(`${b.url}/publish`, artifactMsg("writer", `s${i}`));
  }
  const seen: number[] = [];
  let since = 0;
  for (;;) {
    const r = await get(`${b.url}/messages/reader?since=${since}&limit=3`);
    assert.ok(r.json.messages.length <= 3);
    if (!r.json.messages.length) break;
    seen.push(...r.json.messages.map((m: { seq: number }) => m.seq));
    since = r.json.last_seq;
  }
  assert.deepEqual(seen, [2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("GET /messages?wait long-polls until a message arrives", async () => {
  await using b = await testBroker();
  await post(`${b.url}/publish`, statusMsg("feat-a"));
  const started = Date.now();
  const pending = get(`${b.url}/messages/feat-a?since=1&wait=30`);
  // Publish only once the poll is parked (no sleeps: poll the broker).
  const events: BrokerEvent[] = [];
  b.subscribe((e) => events.push(e));
  await new Promise((r) => setTimeout(r, 50));
  await post(`${b.url}/publish`, artifactMsg("feat-b"));
  const r = await pending;
  assert.equal(r.json.messages.length, 1);
  assert.equal(r.json.last_seq, 2);
  assert.ok(Date.now() - started < 10_000);
  assert.equal(events[0]?.kind, "entry");
});

Deno.test("GET /messages?wait answers an empty poll when the wait passes", async () => {
  await using b = await testBroker();
  const r = await get(`${b.url}/messages/feat-a?since=4&wait=0.2`);
  assert.deepEqual(r.json, { messages: [], last_seq: 4 });
});

Deno.test("GET /messages?wait is released when the broker closes", async () => {
  const b = await testBroker();
  const pending = get(`${b.url}/messages/feat-a?since=0&wait=60`);
  await new Promise((r) => setTimeout(r, 50));
  await b[Symbol.asyncDispose]();
  const r = await pending;
  assert.deepEqual(r.json, { messages: [], last_seq: 0 });
});

Deno.test("GET /status reports git_paw, version, session, uptime and sorted agents", async () => {
  await using b = await testBroker({
    session: "paw-demo",
    seed: [{ agent_id: "feat/z", worktree_path: "/tmp/z", cli: "claude" }],
  });
  await post(`${b.url}/publish`, statusMsg("feat-z"));
  await post(`${b.url}/publish`, {
    type: "agent.status",
    agent_id: "feat-a",
    payload: { status: "working", cli: "codex", phase: "testing" },
  });
  const r = await get(`${b.url}/status`);
  assert.equal(r.json.git_paw, true);
  assert.equal(typeof r.json.version, "string");
  assert.equal(r.json.session, "paw-demo");
  assert.equal(typeof r.json.uptime_seconds, "number");
  assert.equal(r.json.last_seq, 2);
  assert.deepEqual(r.json.agents, [
    {
      agent_id: "feat-a",
      cli: "codex",
      status: "working",
      last_seen_seconds: 0,
      summary: "",
      phase: "testing",
    },
    {
      agent_id: "feat-z",
      cli: "claude",
      status: "working",
      last_seen_seconds: 0,
      summary: "",
    },
  ]);
  assert.deepEqual(b.watchTargets(), [
    { agent_id: "feat-z", worktree_path: "/tmp/z", cli: "claude" },
  ]);
});

Deno.test("GET /log returns entries after since, oldest first, limit caps", async () => {
  await using b = await testBroker();
  for (const id of ["a", "b", "c", "d"]) {
    await post(`${b.url}/publish`, statusMsg(id));
  }
  const all = await get(`${b.url}/log?since=1`);
  assert.deepEqual(all.json.entries.map((e: { seq: number }) => e.seq), [
    2,
    3,
    4,
  ]);
  assert.equal(all.json.last_seq, 4);
  const e = all.json.entries[0];
  assert.deepEqual(Object.keys(e), ["seq", "timestamp_unix_secs", "message"]);
  assert.equal(e.message.agent_id, "b");
  const some = await get(`${b.url}/log?since=0&limit=2`);
  assert.deepEqual(some.json.entries.map((e: { seq: number }) => e.seq), [
    1,
    2,
  ]);
  assert.equal(some.json.last_seq, 2);
  assert.deepEqual((await get(`${b.url}/log?since=9`)).json, {
    entries: [],
    last_seq: 9,
  });
  assert.equal((await get(`${b.url}/log`)).json.entries.length, 4);
  const api = await b.logSince(2, 1);
  assert.deepEqual(api.map((e) => e.seq), [3]);
});

Deno.test("POST /watch registers once per path and announces it", async () => {
  await using b = await testBroker();
  const events: BrokerEvent[] = [];
  b.subscribe((e) => events.push(e));
  const body = { agent_id: "feat/w", worktree_path: "/tmp/w", cli: "claude" };
  assert.equal((await post(`${b.url}/watch`, body)).status, 202);
  assert.equal((await post(`${b.url}/watch`, body)).status, 202);
  assert.deepEqual(events, [{
    kind: "watch",
    target: { agent_id: "feat-w", worktree_path: "/tmp/w", cli: "claude" },
  }]);
  // The inbox exists: a peer artifact reaches it.
  await post(`${b.url}/publish`, artifactMsg("feat-x"));
  assert.equal((await get(`${b.url}/messages/feat-w`)).json.messages.length, 1);
  const empty = await post(`${b.url}/watch`, {
    agent_id: "a",
    worktree_path: " ",
  });
  assert.equal(empty.status, 400);
  assert.match((empty.json as { error: string }).error, /worktree_path/);
});

Deno.test("subscribe() sees entries in seq order and roster changes", async () => {
  await using b = await testBroker();
  const events: BrokerEvent[] = [];
  const off = b.subscribe((e) => events.push(e));
  await Promise.all([
    b.publish(statusMsg("a")),
    b.publish(statusMsg("b")),
    b.publish(statusMsg("a", "working")),
  ]);
  const entries = events.filter((e) => e.kind === "entry").map((e) =>
    e.kind === "entry" ? e.entry.seq : 0
  );
  assert.deepEqual(entries, [1, 2, 3]);
  assert.ok(events.some((e) => e.kind === "roster"));
  off();
  await b.publish(statusMsg("c"));
  assert.equal(events.filter((e) => e.kind === "entry").length, 3);
  const bad = await b.publish({ type: "agent.status" });
  assert.equal(bad.ok, false);
});

Deno.test("subscribe() with types gets only those entries, every roster and watch event, in order", async () => {
  await using b = await testBroker();
  const all: BrokerEvent[] = [];
  const some: BrokerEvent[] = [];
  const none: BrokerEvent[] = [];
  b.subscribe((e) => all.push(e));
  b.subscribe((e) => some.push(e), { types: ["agent.artifact"] });
  b.subscribe((e) => none.push(e), { types: [] });
  await Promise.all([
    b.publish(statusMsg("a")),
    b.publish(artifactMsg("a")),
    b.publish(statusMsg("b")),
    b.publish(artifactMsg("b", "committed")),
  ]);
  await b.watch({ agent_id: "c", worktree_path: "/tmp/nowhere-c", cli: null });
  const seqs = (evs: BrokerEvent[]) =>
    evs.flatMap((e) => e.kind === "entry" ? [e.entry.seq] : []);
  assert.deepEqual(seqs(all), [1, 2, 3, 4]);
  assert.deepEqual(seqs(some), [2, 4]);
  assert.ok(
    some.every((e) =>
      e.kind !== "entry" || e.entry.message.type === "agent.artifact"
    ),
  );
  assert.deepEqual(seqs(none), []);
  // What is not an entry reaches everyone, in the same order.
  const rest = (evs: BrokerEvent[]) =>
    evs.filter((e) => e.kind !== "entry").map((e) => e.kind);
  assert.ok(rest(all).includes("roster") && rest(all).includes("watch"));
  assert.deepEqual(rest(some), rest(all));
  assert.deepEqual(rest(none), rest(all));
  // The same entry event (one object) for every subscriber that takes it.
  const e4 = (evs: BrokerEvent[]) =>
    evs.find((e) => e.kind === "entry" && e.entry.seq === 4);
  assert.equal(e4(some), e4(all));
});

Deno.test("subscribe() changed while an entry goes round: one that left is not told, one that came is told from the next entry, types still apply", async () => {
  await using b = await testBroker();
  const seen: Record<string, number[]> = { first: [], second: [], late: [] };
  const seqOf = (e: BrokerEvent) => e.kind === "entry" ? e.entry.seq : null;
  let offSecond = () => {};
  let lateAdded = false;
  b.subscribe((e) => {
    const s = seqOf(e);
    if (s === null) return;
    seen.first!.push(s);
    if (s === 1) offSecond();
    if (s === 1 && !lateAdded) {
      lateAdded = true;
      b.subscribe((e2) => {
        const s2 = seqOf(e2);
        if (s2 !== null) seen.late!.push(s2);
      }, { types: ["agent.artifact"] });
    }
  });
  offSecond = b.subscribe((e) => {
    const s = seqOf(e);
    if (s !== null) seen.second!.push(s);
  });
  await b.publish(statusMsg("a"));
  await b.publish(artifactMsg("a"));
  await b.publish(statusMsg("b"));
  assert.deepEqual(seen.first, [1, 2, 3]);
  assert.deepEqual(seen.second, []);
  assert.deepEqual(seen.late, [2]);
});

Deno.test("errors: 415, 400 empty/malformed/invalid/placeholder, 404, 405 as JSON", async () => {
  await using b = await testBroker();
  const cases: Array<
    [Promise<{ status: number; json: unknown }>, number, RegExp]
  > = [
    [
      post(`${b.url}/publish`, "{}", { "content-type": "text/plain" }),
      415,
      /Content-Type/,
    ],
    [post(`${b.url}/publish`, ""), 400, /must not be empty/],
    [post(`${b.url}/publish`, "{nope"), 400, /invalid message JSON/],
    [
      post(`${b.url}/publish`, { type: "agent.nope", agent_id: "a" }),
      400,
      /unknown message type/,
    ],
    [
      post(`${b.url}/publish`, {
        type: "agent.status",
        agent_id: "a",
        payload: { status: 3 },
      }),
      400,
      /status/,
    ],
    [
      post(`${b.url}/publish`, {
        type: "agent.status",
        agent_id: "a",
        payload: { status: " " },
      }),
      400,
      /blank/,
    ],
    [
      post(`${b.url}/publish`, {
        type: "agent.question",
        agent_id: "a",
        payload: { question: "<question>" },
      }),
      400,
      /placeholder/,
    ],
    [
      post(`${b.url}/publish`, {
        type: "agent.status",
        agent_id: "<agent_id>",
        payload: { status: "x" },
      }),
      400,
      /placeholder/,
    ],
    [post(`${b.url}/publish`, statusMsg("has space")), 400, /invalid agent_id/],
    [post(`${b.url}/watch`, "[]"), 400, /invalid watch JSON/],
    [get(`${b.url}/messages/a?since=-1`), 400, /since/],
    [get(`${b.url}/messages/a?since=abc`), 400, /since/],
    [get(`${b.url}/messages/a?since=99999999999999999999`), 400, /since/],
    [get(`${b.url}/messages/a?wait=61`), 400, /wait/],
    [get(`${b.url}/messages/a?wait=x`), 400, /wait/],
    [get(`${b.url}/messages/a?limit=0`), 400, /limit/],
    [get(`${b.url}/messages/a?limit=2.5`), 400, /limit/],
    [get(`${b.url}/messages/%20`), 400, /invalid agent_id/],
    [get(`${b.url}/messages/%E0%A4%A`), 400, /invalid agent_id/],
    [get(`${b.url}/messages/---`), 400, /invalid agent_id/],
    [get(`${b.url}/log?since=x`), 400, /since/],
    [get(`${b.url}/log?limit=-3`), 400, /limit/],
    [get(`${b.url}/nope`), 404, /not found/],
    [get(`${b.url}/messages`), 404, /not found/],
    [get(`${b.url}/publish`), 405, /method/],
    [post(`${b.url}/status`, "{}"), 405, /method/],
    [post(`${b.url}/log`, "{}"), 405, /method/],
    [get(`${b.url}/watch`), 405, /method/],
    [post(`${b.url}/messages/a`, "{}"), 405, /method/],
  ];
  for (const [p, status, re] of cases) {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.json));
    const err = (r.json as { error?: string }).error;
    assert.equal(typeof err, "string");
    assert.match(err!, re);
  }
  assert.equal(b.lastSeq(), 0, "no 4xx changed state");
  assert.deepEqual(b.agents(), []);
});

Deno.test("POST /publish over 1 MiB gets 413, declared or streamed", async () => {
  await using b = await testBroker();
  const big = JSON.stringify({
    type: "agent.status",
    agent_id: "a",
    payload: { status: "x".repeat(1024 * 1024 + 10) },
  });
  const declared = await post(`${b.url}/publish`, big);
  assert.equal(declared.status, 413);
  // Chunked (no Content-Length): the limit holds while reading.
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      const chunk = new TextEncoder().encode("x".repeat(256 * 1024));
      for (let i = 0; i < 6; i++) c.enqueue(chunk);
      c.close();
    },
  });
  const res = await fetch(`${b.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  });
  assert.equal(res.status, 413);
  assert.match((await res.json()).error, /exceeds/);
  // Just under the limit is fine.
  const ok = JSON.stringify({
    type: "agent.status",
    agent_id: "a",
    payload: { status: "x".repeat(1000 * 1000) },
  });
  assert.equal((await post(`${b.url}/publish`, ok)).status, 202);
  assert.equal(b.lastSeq(), 1);
});

Deno.test("guard refuses foreign Host headers (DNS rebinding) with 421", async () => {
  await using b = await testBroker();
  const bad = await rawRequest(
    b.port,
    `GET /status HTTP/1.1\r\nHost: evil.example:${b.port}\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(bad.status, 421);
  assert.match(bad.body, /Host/);
  for (
    const host of [
      `localhost:${b.port}`,
      `127.0.0.1:${b.port}`,
      `[::1]:${b.port}`,
      "localhost",
    ]
  ) {
    const ok = await rawRequest(
      b.port,
      `GET /status HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(ok.status, 200, host);
  }
  const body = JSON.stringify(statusMsg("a"));
  const write = await rawRequest(
    b.port,
    `POST /publish HTTP/1.1\r\nHost: attacker.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    body,
  );
  assert.equal(write.status, 421);
  assert.equal(b.lastSeq(), 0);
});

Deno.test("guard refuses cross-origin browser writes with 403, allows same-origin", async () => {
  await using b = await testBroker();
  const evil = await post(`${b.url}/publish`, statusMsg("a"), {
    origin: "http://evil.example",
  });
  assert.equal(evil.status, 403);
  assert.equal(
    (await post(`${b.url}/watch`, { agent_id: "a", worktree_path: "/a" }, {
      origin: "null",
    })).status,
    403,
  );
  assert.equal(b.lastSeq(), 0);
  const same = await post(`${b.url}/publish`, statusMsg("a"), {
    origin: b.url,
  });
  assert.equal(same.status, 202);
  // Cross-origin reads are left to the browser's CORS rules (no ACAO header).
  const read = await get(`${b.url}/status`, { origin: "http://evil.example" });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("access-control-allow-origin"), null);
});

Deno.test("guard requires the bearer token when one is set", async () => {
  await using b = await testBroker({ token: "s3cret" });
  const none = await get(`${b.url}/status`);
  assert.equal(none.status, 401);
  assert.match(none.json.error, /token/);
  const wrong = await post(`${b.url}/publish`, statusMsg("a"), {
    authorization: "Bearer nope",
  });
  assert.equal(wrong.status, 401);
  const ok = await post(`${b.url}/publish`, statusMsg("a"), {
    authorization: "Bearer s3cret",
  });
  assert.equal(ok.status, 202);
  assert.equal(b.lastSeq(), 1);
});

Deno.test("startBroker() beyond loopback generates a token and requires it", async () => {
  await using b = await testBroker({ bind: "0.0.0.0" });
  assert.ok(b.token && b.token.length >= 20);
  const url = `http://127.0.0.1:${b.port}`;
  assert.equal((await get(`${url}/status`)).status, 401);
  const ok = await get(`${url}/status`, { authorization: `Bearer ${b.token}` });
  assert.equal(ok.status, 200);
  // Any Host is fine there (the token defends), writes still need same origin.
  const r = await rawRequest(
    b.port,
    `GET /status HTTP/1.1\r\nHost: my-box.lan:${b.port}\r\nAuthorization: Bearer ${b.token}\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(r.status, 200);
});

Deno.test("startBroker() on the same data dir replays: seq continues, inboxes and roster back", async () => {
  await using dir = await tempDir();
  {
    await using b = await testBroker({ dataDir: dir.path, session: "s" });
    await post(`${b.url}/publish`, statusMsg("feat-a"));
    await post(`${b.url}/watch`, { agent_id: "feat-w", worktree_path: "/w" });
    await post(`${b.url}/publish`, artifactMsg("feat-b", "committed"));
  }
  await using b = await testBroker({ dataDir: dir.path, session: "s" });
  assert.equal(b.lastSeq(), 2);
  await post(`${b.url}/publish`, artifactMsg("feat-c"));
  assert.equal(b.lastSeq(), 3);
  const a = await get(`${b.url}/messages/feat-a?since=0`);
  assert.deepEqual(a.json.messages.map((m: { seq: number }) => m.seq), [2, 3]);
  const w = await get(`${b.url}/messages/feat-w?since=0`);
  assert.deepEqual(w.json.messages.map((m: { seq: number }) => m.seq), [2, 3]);
  const st = await get(`${b.url}/status`);
  assert.deepEqual(
    st.json.agents.map((
      r: { agent_id: string; status: string },
    ) => [r.agent_id, r.status]),
    [["feat-a", "working"], ["feat-b", "committed"], ["feat-c", "done"]],
  );
  assert.equal(b.watchTargets().length, 1);
  // Appends within a few ms of the last one are coalesced into one write.
  const seqs = async () =>
    (await Deno.readTextFile(join(dir.path, "s.broker.log"))).trim()
      .split("\n").map((l) => l.split(" ")[0]);
  for (let i = 0; i < 100 && (await seqs()).length < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(
    await seqs(),
    ["[1]", "[2]", "[3]"],
    "human log gets each line, no repeats after restart",
  );
});

Deno.test("startBroker() survives a torn last line in the session log", async () => {
  await using dir = await tempDir();
  {
    await using b = await testBroker({ dataDir: dir.path, session: "s" });
    await post(`${b.url}/publish`, statusMsg("feat-a"));
  }
  await Deno.writeTextFile(join(dir.path, "s.jsonl"), '{"seq":2,"timesta', {
    append: true,
  });
  await using b = await testBroker({ dataDir: dir.path, session: "s" });
  assert.equal(b.lastSeq(), 1);
  assert.equal(
    (await post(`${b.url}/publish`, statusMsg("feat-b"))).status,
    202,
  );
  const log = await get(`${b.url}/log?since=0`);
  assert.deepEqual(log.json.entries.map((e: { seq: number }) => e.seq), [1, 2]);
  assert.equal(log.json.entries[1].message.agent_id, "feat-b");
});

Deno.test("old cursors get every message after the memory window, read back from disk", async () => {
  await using b = await testBroker({ windowBytes: 4096 });
  await b.publish(statusMsg("reader"));
  const total = 300;
  await Promise.all(
    Array.from(
      { length: total },
      (_, i) => b.publish(artifactMsg("writer", `n${i}`)),
    ),
  );
  const r = await get(`${b.url}/messages/reader?since=0`);
  assert.equal(r.json.messages.length, total);
  assert.deepEqual(
    r.json.messages.map((m: { payload: { status: string } }) =>
      m.payload.status
    ),
    Array.from({ length: total }, (_, i) => `n${i}`),
  );
  const mid = await get(`${b.url}/messages/reader?since=100&limit=5`);
  assert.deepEqual(mid.json.messages.map((m: { seq: number }) => m.seq), [
    101,
    102,
    103,
    104,
    105,
  ]);
  const log = await get(`${b.url}/log?since=0`);
  assert.equal(log.json.entries.length, total + 1);
  assert.equal(log.json.last_seq, total + 1);
});

Deno.test("GET /log streams very large answers in pages", async () => {
  await using b = await testBroker({ windowBytes: 4096 });
  const n = 4500;
  await Promise.all(
    Array.from({ length: n }, (_, i) => b.publish(statusMsg(`a${i % 7}`))),
  );
  const r = await get(`${b.url}/log?since=0`);
  assert.equal(r.json.entries.length, n);
  assert.deepEqual(
    r.json.entries.slice(-2).map((e: { seq: number }) => e.seq),
    [n - 1, n],
  );
  assert.equal(r.json.last_seq, n);
});

Deno.test("startBroker() with plugins mounts routes before the 404 and starts/stops them", async () => {
  const calls: string[] = [];
  await using b = await testBroker({
    plugins: [{
      name: "p",
      routes: (app, broker) => {
        app.get("/hello", (c) => c.json({ hi: broker.session }));
      },
      start: (broker) => {
        calls.push(`start ${broker.port > 0}`);
        return () => {
          calls.push("stop");
          return Promise.resolve();
        };
      },
    }],
  });
  assert.deepEqual((await get(`${b.url}/hello`)).json, { hi: "test" });
  assert.equal((await get(`${b.url}/nope`)).status, 404);
  await b.close();
  assert.deepEqual(calls, ["start true", "stop"]);
});

Deno.test("startBroker() on a busy port says whose it is", async () => {
  await using dir = await tempDir();
  await using a = await testBroker({ session: "one" });
  await assert.rejects(
    startBroker({
      port: a.port,
      dataDir: dir.path,
      session: "two",
      quiet: true,
    }),
    (e: unknown) =>
      e instanceof BrokerPortError && e.probe === "other-session" &&
      /another git-paw session/.test(e.message) && /--port/.test(e.message),
  );
  await assert.rejects(
    startBroker({
      port: a.port,
      dataDir: dir.path,
      session: "one",
      quiet: true,
    }),
    (e: unknown) =>
      e instanceof BrokerPortError && e.probe === "ours" && e.url === a.url,
  );
  const foreign = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("hi"),
  );
  try {
    await assert.rejects(
      startBroker({
        port: foreign.addr.port,
        dataDir: dir.path,
        session: "x",
        quiet: true,
      }),
      (e: unknown) =>
        e instanceof BrokerPortError && e.probe === "foreign" &&
        /another program/.test(e.message),
    );
  } finally {
    await foreign.shutdown();
  }
});

Deno.test("close() is idempotent and the in-process publish refuses afterwards", async () => {
  const b = await testBroker();
  await b.publish(statusMsg("a"));
  await b.close();
  await b[Symbol.asyncDispose]();
  await assert.rejects(b.publish(statusMsg("a")), /closed/);
});

Deno.test("startBroker() with verifyOnCommitNudge asks the supervisor to verify each commit", async () => {
  await using b = await testBroker({ verifyOnCommitNudge: true });
  await post(`${b.url}/publish`, artifactMsg("feat/a", "done"));
  await post(`${b.url}/publish`, artifactMsg("feat/a", "committed"));
  const r = await get(`${b.url}/messages/supervisor?since=0`);
  assert.deepEqual(r.json.messages, [
    { type: "supervisor.verify-now", branch_id: "feat-a", seq: 3 },
  ]);
  await using off = await testBroker();
  await post(`${off.url}/publish`, artifactMsg("feat-a", "committed"));
  assert.equal(off.lastSeq(), 1, "no nudge unless asked");
});

Deno.test("startBroker() for a session whose broker already runs on that port reports it as ours", async () => {
  await using a = await testBroker({ session: "same" });
  await assert.rejects(
    startBroker({
      port: a.port,
      dataDir: a.dir,
      session: "same",
      quiet: true,
    }),
    (e: unknown) =>
      e instanceof BrokerPortError && e.probe === "ours" &&
      /already running/.test(e.message),
  );
  // On another port the busy log is the clear error.
  await assert.rejects(
    startBroker({ port: 0, dataDir: a.dir, session: "same", quiet: true }),
    /another broker in this process/,
  );
  assert.equal((await post(`${a.url}/publish`, statusMsg("a"))).status, 202);
});
