import assert from "node:assert/strict";
import {
  formatSseEvent,
  resumeCursor,
  SseHub,
} from "../../lib/dashboard/sse.ts";
import { webPlugin } from "../../lib/dashboard/web.ts";
import { type FakeBroker, startFakeBroker } from "./_fake_broker.ts";
import { openSse, parseBlock } from "./_sse_client.ts";
import { waitFor } from "../_helpers/wait.ts";

function status(agent: string, s: string, message?: string) {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: s, modified_files: [], ...(message ? { message } : {}) },
  };
}

async function post(b: FakeBroker, body: unknown) {
  const r = await fetch(`${b.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await r.body?.cancel();
  assert.equal(r.status, 202);
}

async function withBroker(
  fn: (b: FakeBroker, plugin: ReturnType<typeof webPlugin>) => Promise<void>,
  opts: Parameters<typeof webPlugin>[0] = {},
) {
  const plugin = webPlugin(opts);
  const b = await startFakeBroker({ plugins: [plugin] });
  try {
    await fn(b, plugin);
  } finally {
    await b.close();
  }
}

Deno.test("formatSseEvent() keeps every value on its own field lines", () => {
  const text = formatSseEvent({
    event: "entry\nid: 999",
    id: "5\r\nevent: evil",
    data: "a\nb",
    comment: "hi\nthere",
  });
  const ev = parseBlock(text.replace(/\n\n$/, ""));
  assert.equal(ev.event, "entry id: 999");
  assert.equal(ev.id, "5 event: evil");
  assert.equal(ev.data, "a\nb");
  assert.ok(text.endsWith("\n\n"));
  assert.equal(text.split("\n\n").length, 2, "exactly one event block");
});

Deno.test("resumeCursor() prefers Last-Event-ID over ?since and rejects junk", () => {
  const u = "http://127.0.0.1/events";
  assert.deepEqual(resumeCursor(new Request(u)), { ok: true, since: null });
  assert.deepEqual(resumeCursor(new Request(`${u}?since=4`)), {
    ok: true,
    since: 4,
  });
  assert.deepEqual(
    resumeCursor(
      new Request(`${u}?since=4`, { headers: { "last-event-id": "9" } }),
    ),
    { ok: true, since: 9 },
  );
  assert.equal(resumeCursor(new Request(`${u}?since=-1`)).ok, false);
  assert.equal(
    resumeCursor(new Request(u, { headers: { "last-event-id": "x1" } })).ok,
    false,
  );
});

Deno.test("GET /events streams new entries in order with their seq as id", async () => {
  await withBroker(async (b) => {
    const sse = await openSse(`${b.url}/events`);
    try {
      assert.match(
        sse.response.headers.get("content-type") ?? "",
        /^text\/event-stream/,
      );
      const hello = await sse.next();
      assert.equal(hello.event, "hello");
      assert.deepEqual(JSON.parse(hello.data!), {
        session: "paw-fake",
        last_seq: 0,
      });
      const roster = await sse.nextNamed("roster");
      assert.deepEqual(JSON.parse(roster.data!), []);
      for (let i = 1; i <= 5; i++) {
        await post(b, status("feat-a", "working", `step ${i}`));
      }
      for (let i = 1; i <= 5; i++) {
        const ev = await sse.nextNamed("entry");
        assert.equal(ev.id, String(i));
        const entry = JSON.parse(ev.data!);
        assert.equal(entry.seq, i);
        assert.equal(entry.message.payload.message, `step ${i}`);
      }
    } finally {
      await sse.close();
    }
  });
});

Deno.test("GET /events sends a roster snapshot when the roster changes", async () => {
  await withBroker(async (b) => {
    const sse = await openSse(`${b.url}/events`);
    try {
      await sse.nextNamed("roster");
      await post(b, status("feat/x", "working"));
      const roster = JSON.parse((await sse.nextNamed("roster")).data!);
      assert.equal(roster.length, 1);
      assert.equal(roster[0].agent_id, "feat-x");
      assert.equal(roster[0].status, "working");
    } finally {
      await sse.close();
    }
  });
});

Deno.test("GET /events resumes after Last-Event-ID with no gap and no duplicate", async () => {
  await withBroker(async (b) => {
    for (let i = 1; i <= 6; i++) {
      await post(b, status("feat-a", "working", `m${i}`));
    }
    b.logDelayMs = 30; // live entries arrive while the backlog is replayed
    const sse = await openSse(`${b.url}/events?since=0`, {
      "last-event-id": "2",
    });
    try {
      await Promise.all([
        post(b, status("feat-b", "working", "m7")),
        post(b, status("feat-b", "working", "m8")),
      ]);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await sse.nextNamed("entry")).id!);
      assert.deepEqual(ids, ["3", "4", "5", "6", "7", "8"]);
      await post(b, status("feat-a", "done"));
      assert.equal((await sse.nextNamed("entry")).id, "9");
    } finally {
      await sse.close();
    }
  }, { sse: { replayPageSize: 2 } });
});

Deno.test("GET /events?since=N replays from N when there is no Last-Event-ID", async () => {
  await withBroker(async (b) => {
    for (let i = 1; i <= 3; i++) await post(b, status("feat-a", "working"));
    const sse = await openSse(`${b.url}/events?since=1`);
    try {
      assert.equal((await sse.nextNamed("entry")).id, "2");
      assert.equal((await sse.nextNamed("entry")).id, "3");
    } finally {
      await sse.close();
    }
  });
});

Deno.test("GET /events tells a client whose cursor is ahead to reset, then replays from 1", async () => {
  await withBroker(async (b) => {
    await post(b, status("feat-a", "working"));
    const sse = await openSse(`${b.url}/events`, { "last-event-id": "50" });
    try {
      assert.equal((await sse.nextNamed("reset")).event, "reset");
      assert.equal((await sse.nextNamed("entry")).id, "1");
    } finally {
      await sse.close();
    }
  });
});

Deno.test("GET /events answers 400 for a malformed cursor", async () => {
  await withBroker(async (b) => {
    const r = await fetch(`${b.url}/events?since=abc`);
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /since/);
  });
});

Deno.test("GET /events refuses a foreign Origin and cross-site fetches, accepts its own origin", async () => {
  await withBroker(async (b, plugin) => {
    const cases: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { origin: "null" },
      { origin: b.url.replace("127.0.0.1", "localhost") },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of cases) {
      const r = await fetch(`${b.url}/events`, { headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal((await r.json()).error, "cross-origin request refused");
      assert.equal(r.headers.get("access-control-allow-origin"), null);
    }
    assert.equal(plugin.sseClients(), 0);
    const ok = await openSse(`${b.url}/events`, {
      origin: b.url,
      "sec-fetch-site": "same-origin",
    });
    try {
      assert.equal((await ok.nextNamed("roster")).event, "roster");
    } finally {
      await ok.close();
    }
  });
});

Deno.test("GET /events drops disconnected clients and the broker subscription", async () => {
  await withBroker(async (b, plugin) => {
    // The page's view (agent table, attention) follows the broker for the
    // plugin's lifetime; the event stream adds one subscription at most.
    const base = b.subscriberCount();
    const conns = await Promise.all(
      [1, 2, 3].map(() => openSse(`${b.url}/events`)),
    );
    for (const c of conns) await c.nextNamed("roster");
    assert.equal(plugin.sseClients(), 3);
    assert.equal(b.subscriberCount(), base + 1, "one shared subscription");
    await conns[0]!.close();
    await waitFor("two SSE clients", () => plugin.sseClients() === 2);
    await post(b, status("feat-a", "working")); // fan-out skips the gone one
    assert.equal((await conns[1]!.nextNamed("entry")).id, "1");
    await conns[1]!.close();
    await conns[2]!.close();
    await waitFor("no SSE client", () => plugin.sseClients() === 0);
    assert.equal(b.subscriberCount(), base);
  });
});

Deno.test("GET /events sends heartbeat comments", async () => {
  await withBroker(async (b) => {
    const sse = await openSse(`${b.url}/events`);
    try {
      let ev;
      do ev = await sse.next({ withComments: true }); while (
        ev.comment !== "ping"
      );
      assert.equal(ev.comment, "ping");
    } finally {
      await sse.close();
    }
  }, { sse: { heartbeatMs: 30 } });
});

Deno.test("webPlugin() ends open event streams when the broker stops", async () => {
  const plugin = webPlugin();
  const b = await startFakeBroker({ plugins: [plugin] });
  const sse = await openSse(`${b.url}/events`);
  await sse.nextNamed("roster");
  await b.close(); // runs the plugin disposer, then shuts the server down
  assert.equal(await sse.ended(), true);
  assert.equal(plugin.sseClients(), 0);
  assert.equal(b.subscriberCount(), 0);
  await sse.close();
});

Deno.test("SseHub disconnects a client that stops reading once its queue is full", async () => {
  const b = await startFakeBroker();
  const hub = new SseHub(b, { maxQueued: 5 });
  try {
    const res = hub.handle(new Request(`${b.url}/events`));
    assert.equal(hub.clientCount, 1);
    for (let i = 0; i < 20; i++) await b.publish(status("feat-a", "working"));
    assert.equal(hub.clientCount, 0);
    assert.equal(b.subscriberCount(), 0);
    await res.body?.cancel();
  } finally {
    hub.close();
    await b.close();
  }
});

Deno.test("GET /events gives each entry its row text and sends the view on connect and on change", async () => {
  await withBroker(async (b) => {
    const sse = await openSse(`${b.url}/events`);
    try {
      const first = JSON.parse((await sse.nextNamed("view")).data!);
      assert.deepEqual(first.agents, []);
      assert.deepEqual(first.attention, []);
      await post(b, {
        type: "agent.blocked",
        agent_id: "feat-a",
        payload: { needs: "the schema", from: "feat-b" },
      });
      const entry = JSON.parse((await sse.nextNamed("entry")).data!);
      assert.equal(entry.line.id, "feat-a");
      assert.equal(entry.line.type, "agent.blocked");
      assert.equal(entry.line.text, "blocked: needs the schema from feat-b");
      assert.match(entry.line.time, /^\d\d:\d\d:\d\d$/);
      let view = JSON.parse((await sse.nextNamed("view")).data!);
      while (view.attention.length === 0 || view.agents.length === 0) {
        view = JSON.parse((await sse.nextNamed("view")).data!);
      }
      assert.deepEqual(
        view.attention.map((a: { id: string; reason: string }) => [
          a.id,
          a.reason,
        ]),
        [["feat-a", "blocked"]],
      );
      assert.equal(view.agents[0].summary, entry.line.text);
      assert.match(view.agents[0].age, /^\ds ago$/);
      assert.match(view.counts, /^1 agent: /);
      // The same view answers GET /view, with the log's last seq.
      const r = await fetch(`${b.url}/view`);
      const snap = await r.json();
      assert.equal(snap.last_seq, 1);
      assert.deepEqual(snap.attention, view.attention);
    } finally {
      await sse.close();
    }
  });
});
