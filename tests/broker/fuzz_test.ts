import assert from "node:assert/strict";
import { rawRequest, testBroker } from "../_helpers/broker.ts";
import type { TestBroker } from "../_helpers/broker.ts";

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const STRINGS = [
  "",
  " ",
  "feat/x",
  "feat-x",
  "supervisor",
  "<agent_id>",
  "<question>",
  "a\nb",
  "\u0000",
  "🐾",
  "x".repeat(300),
  "../../etc/passwd",
  "%2F",
  "2026-01-01T00:00:00Z",
  "not a date",
  "committed",
  "working",
];
const TYPES = [
  "agent.status",
  "agent.artifact",
  "agent.blocked",
  "agent.verified",
  "agent.feedback",
  "agent.question",
  "agent.intent",
  "supervisor.verify-now",
  "agent.advanced-main",
  "agent.learning",
  "agent.unknown",
  "",
];
const FIELDS = [
  "type",
  "agent_id",
  "payload",
  "status",
  "modified_files",
  "exports",
  "needs",
  "from",
  "verified_by",
  "errors",
  "question",
  "files",
  "summary",
  "valid_for_seconds",
  "merged_branch",
  "new_main_sha",
  "base",
  "merged_at",
  "branch_id",
  "id",
  "category",
  "title",
  "body",
  "timestamp",
  "worktree_path",
  "cli",
  "phase",
  "regions",
  "kind",
  "__proto__",
  "constructor",
];

function randomValue(r: ReturnType<typeof rng>, depth: number): unknown {
  switch (r.int(depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 900]);
    case 3:
    case 4:
      return r.pick(STRINGS);
    case 5:
      return r.pick(TYPES);
    case 6:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--) {
        o[r.pick(FIELDS)] = randomValue(r, depth + 1);
      }
      if (r.next() < 0.6) o.type = r.pick(TYPES);
      return o;
    }
  }
}

const VALID: unknown[] = [
  { type: "agent.status", agent_id: "feat/x", payload: { status: "working" } },
  {
    type: "agent.artifact",
    agent_id: "feat-y",
    payload: { status: "committed", exports: [], modified_files: ["a"] },
  },
  { type: "agent.blocked", agent_id: "a", payload: { needs: "n", from: "b" } },
  { type: "agent.question", agent_id: "a", payload: { question: "q?" } },
  { type: "supervisor.verify-now", branch_id: "feat/x" },
  { agent_id: "feat/x", worktree_path: "/tmp/x", cli: "claude" },
];

/** A valid message (or watch body) with one field possibly broken. */
function mutated(r: ReturnType<typeof rng>): unknown {
  const base = structuredClone(r.pick(VALID)) as Record<string, unknown>;
  if (r.next() < 0.5) return base;
  const target = r.next() < 0.5 && typeof base.payload === "object"
    ? base.payload as Record<string, unknown>
    : base;
  const keys = Object.keys(target);
  target[r.next() < 0.7 ? r.pick(keys) : r.pick(FIELDS)] = randomValue(r, 1);
  return base;
}

function randomBody(r: ReturnType<typeof rng>): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  switch (r.int(6)) {
    case 4:
    case 5:
      return enc.encode(JSON.stringify(mutated(r)));
    case 0: // random bytes
      return crypto.getRandomValues(new Uint8Array(r.int(200)));
    case 1: // truncated JSON
    {
      const s = JSON.stringify(randomValue(r, 0)) ?? "null";
      return enc.encode(s.slice(0, r.int(s.length + 1)));
    }
    default:
      return enc.encode(JSON.stringify(randomValue(r, 0)) ?? "null");
  }
}

type Snapshot = string;
async function snap(b: TestBroker): Promise<Snapshot> {
  return JSON.stringify({
    seq: b.lastSeq(),
    agents: b.agents().map((a) => ({ ...a, last_seen_seconds: 0 })),
    watch: b.watchTargets(),
    log: (await b.logSince(0)).length,
  });
}

Deno.test("broker never answers 5xx and 4xx never changes state under random input", async () => {
  await using b = await testBroker();
  const r = rng(0xC0FFEE);
  const paths = [
    "/publish",
    "/watch",
    "/status",
    "/log",
    "/messages/",
    "/messages/feat-x",
    "/nope",
    "/",
  ];
  const queries = [
    "",
    "?since=0",
    "?since=-1",
    "?since=1e3",
    "?since=abc&wait=0",
    "?limit=0",
    "?limit=5&since=2",
    "?wait=0.01",
    "?wait=100",
    "?since=%ZZ",
  ];
  let fourxx = 0;
  let accepted = 0;
  for (let i = 0; i < 1500; i++) {
    const before = await snap(b);
    const method = r.pick(["POST", "POST", "POST", "GET", "PUT", "DELETE"]);
    let path = r.pick(paths);
    if (path === "/messages/") {
      path += encodeURIComponent(String(r.pick(STRINGS)));
    }
    const url = b.url + path + r.pick(queries);
    const headers: Record<string, string> = {};
    if (r.next() < 0.85) {
      headers["content-type"] = r.pick([
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
      ]);
    }
    const body = method === "GET" ? undefined : randomBody(r);
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    assert.ok(res.status < 500, `${method} ${url} -> ${res.status} ${text}`);
    if (res.status >= 400) {
      fourxx++;
      assert.equal(typeof JSON.parse(text).error, "string", text);
      assert.equal(await snap(b), before, `${method} ${url} changed state`);
    } else if (res.status === 202 && path === "/publish") accepted++;
  }
  assert.ok(fourxx > 800, `mostly rejected (${fourxx})`);
  assert.ok(accepted >= 5, `some accepted (${accepted})`);
  // Raw garbage on the socket must not take the broker down.
  for (let i = 0; i < 20; i++) {
    const garbage = crypto.getRandomValues(new Uint8Array(1 + r.int(300)));
    await rawRequest(b.port, "", garbage, { halfClose: true, timeoutMs: 1000 })
      .catch(() => {});
  }
  await rawRequest(
    b.port,
    "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
    "{",
    { halfClose: true, timeoutMs: 1000 }, // body shorter than declared
  ).catch(() => {});
  const alive = await fetch(`${b.url}/status`);
  assert.equal(alive.status, 200);
  assert.equal((await alive.json()).git_paw, true);
  // Whatever was accepted is exactly what the log holds.
  assert.equal(b.lastSeq(), accepted);
  assert.equal((await b.logSince(0)).length, accepted);
});

Deno.test("broker rejects every placeholder and blank-field variant of each type with 400", async () => {
  await using b = await testBroker();
  const bad: unknown[] = [
    { type: "agent.status", agent_id: "a", payload: {} },
    { type: "agent.artifact", agent_id: "a", payload: { status: "" } },
    {
      type: "agent.blocked",
      agent_id: "a",
      payload: { needs: "<x>", from: "b" },
    },
    {
      type: "agent.blocked",
      agent_id: "a",
      payload: { needs: "x", from: " " },
    },
    { type: "agent.verified", agent_id: "a", payload: { verified_by: "" } },
    {
      type: "agent.feedback",
      agent_id: "a",
      payload: { from: "s", errors: [] },
    },
    {
      type: "agent.feedback",
      agent_id: "a",
      payload: { from: "s", errors: ["<e>"] },
    },
    { type: "agent.question", agent_id: "a", payload: { question: "" } },
    {
      type: "agent.intent",
      agent_id: "a",
      payload: { files: [], summary: "s" },
    },
    {
      type: "agent.intent",
      agent_id: "a",
      payload: { files: [" "], summary: "s" },
    },
    {
      type: "agent.intent",
      agent_id: "a",
      payload: { files: ["f"], summary: "s", valid_for_seconds: 0 },
    },
    {
      type: "agent.advanced-main",
      from: "supervisor",
      merged_branch: "b",
      new_main_sha: "s",
      base: "main",
      merged_at: "yesterday",
    },
    {
      type: "agent.learning",
      payload: {
        id: "i",
        agent_id: "a",
        category: "",
        title: "t",
        body: "",
        timestamp: "t",
      },
    },
    { type: "supervisor.verify-now", branch_id: "<branch>" },
    { type: "supervisor.verify-now" },
  ];
  for (const m of bad) {
    const res = await fetch(`${b.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(m),
    });
    const body = await res.json();
    assert.equal(res.status, 400, JSON.stringify(m));
    assert.equal(typeof body.error, "string");
  }
  assert.equal(b.lastSeq(), 0);
});
