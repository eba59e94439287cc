/**
 * Per-agent credentials at the handler (`new Request` in, `Response` out):
 * a session broker takes an agent's messages only with that agent's key
 * (`X-Git-Paw-Agent-Key`), `supervisor` only with the supervisor's; the
 * bearer token alone is not enough; nothing refused is stored; the web
 * page's own writes (cookie + CSRF header) are unaffected; reads need no
 * key. The keys are real files (lib/coord/credentials.ts) behind a real
 * key registry.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type BrokerHandler,
  createBrokerHandler,
} from "../../lib/broker/handler.ts";
import { openStore } from "../../lib/broker/store.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { watchTargets } from "../../lib/core/broker_state.ts";
import { approvalsPlugin } from "../../lib/coord/approvals_plugin.ts";
import {
  agentKeyPath,
  ensureAgentKey,
  keyRegistry,
  readAgentKey,
  removeAgentKey,
  supervisorCredential,
  supervisorKeyPath,
} from "../../lib/coord/credentials.ts";
import {
  AGENT_KEY_HEADER,
  authorsOf,
  parseAgentKeyFile,
} from "../../lib/core/agent_key.ts";
import { parseMessage } from "../../lib/core/messages.ts";

const TOKEN = "tok";
const ORIGIN = "http://127.0.0.1:9119";

type Session = {
  h: BrokerHandler;
  keys: Record<string, string>;
  /** Agent id → its git dir, as the session lists it (tests edit it). */
  agents: Map<string, string>;
  root: string;
  stored(): number;
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * A token-guarded broker with credentials for agents `feat-a`, `feat-b` and
 * the supervisor, plus the approvals plugin (a plugin route that acts for
 * an agent, and the web page's decisions).
 */
async function session(opts: { credentials?: boolean } = {}): Promise<
  Session
> {
  const root = await Deno.makeTempDir({ prefix: "paw-cred-" });
  const state = join(root, "state");
  const agents = new Map<string, string>();
  const keys: Record<string, string> = {};
  for (const id of ["feat-a", "feat-b"]) {
    const dir = join(root, id);
    await Deno.mkdir(dir);
    keys[id] = await ensureAgentKey(dir);
    agents.set(id, dir);
  }
  keys.supervisor = await supervisorCredential(state);
  const credentials = keyRegistry({
    stateDir: state,
    agents: () => Promise.resolve(new Map(agents)),
    // Like the receipt's stat: changes whenever the listing does.
    stamp: () => JSON.stringify([...agents]),
  });
  const store = await openStore({ dataDir: root, session: "t" });
  const plugin = approvalsPlugin({
    mode: "queue",
    policy: { allow: [], deny: [], worktree_writes: "allow" },
    timeoutSeconds: 600,
  });
  const broker: Broker = {
    url: ORIGIN,
    port: 9119,
    session: "t",
    publish: (i) => h.publish(i),
    lastSeq: () => store.durableSeq,
    logSince: () => Promise.resolve([]),
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
    ...(opts.credentials === false ? {} : { credentials }),
  });
  const stop = await plugin.start!(broker);
  return {
    h,
    keys,
    agents,
    root,
    stored: () => store.durableSeq,
    async [Symbol.asyncDispose]() {
      await stop();
      h.close();
      await store.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

function req(
  path: string,
  init: {
    json?: unknown;
    key?: string;
    method?: string;
    headers?: Record<string, string>;
  } = {},
): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: {
      host: "127.0.0.1:9119",
      authorization: `Bearer ${TOKEN}`,
      ...(init.json === undefined
        ? {}
        : { "content-type": "application/json" }),
      ...(init.key === undefined ? {} : { [AGENT_KEY_HEADER]: init.key }),
      ...init.headers,
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}

const status = (id: string) => ({
  type: "agent.status",
  agent_id: id,
  payload: { status: "working", modified_files: [] },
});
const blocked = (id: string) => ({
  type: "agent.blocked",
  agent_id: id,
  payload: { needs: "the parser", from: "feat-b" },
});

// deno-lint-ignore no-explicit-any
async function body(res: Response): Promise<any> {
  const t = await res.text();
  return t === "" ? null : JSON.parse(t);
}

Deno.test("createBrokerHandler({credentials}) takes an agent's message only with its own key", async (t) => {
  await using s = await session();
  await t.step("its own key: 202, stored", async () => {
    const res = await s.h(
      req("/publish", { json: status("feat-a"), key: s.keys["feat-a"] }),
    );
    assert.equal(res.status, 202);
    await res.body?.cancel();
    assert.equal(s.stored(), 1);
  });
  await t.step("another agent's key: 403, nothing stored", async () => {
    const res = await s.h(
      req("/publish", { json: blocked("feat-a"), key: s.keys["feat-b"] }),
    );
    assert.equal(res.status, 403);
    const b = await body(res);
    assert.equal(b.error, "wrong agent credential");
    assert.equal(b.agent_id, "feat-a");
    assert.equal(s.stored(), 1);
  });
  await t.step("the session token alone: 403 naming the header", async () => {
    const res = await s.h(req("/publish", { json: blocked("feat-a") }));
    assert.equal(res.status, 403);
    const b = await body(res);
    assert.equal(b.error, "agent credential required");
    assert.match(b.detail, /X-Git-Paw-Agent-Key/);
    assert.match(b.detail, /session token alone is not enough/);
    assert.equal(s.stored(), 1);
  });
  await t.step("a branch name is the same agent as its slug", async () => {
    const res = await s.h(
      req("/publish", { json: status("feat/a"), key: s.keys["feat-a"] }),
    );
    assert.equal(res.status, 202);
    await res.body?.cancel();
  });
  await t.step("an agent the session does not list: 403", async () => {
    const res = await s.h(
      req("/publish", { json: status("ghost"), key: s.keys["feat-a"] }),
    );
    assert.equal(res.status, 403);
    await res.body?.cancel();
  });
  await t.step("a wrong key that is not even well-formed: 403", async () => {
    const res = await s.h(
      req("/publish", { json: status("feat-a"), key: "x" }),
    );
    assert.equal(res.status, 403);
    await res.body?.cancel();
  });
  await t.step("an invalid message is still a 400 first", async () => {
    const res = await s.h(
      req("/publish", { json: { type: "agent.status", agent_id: "feat-a" } }),
    );
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });
  await t.step("reads need no key (polls change nothing)", async () => {
    const res = await s.h(req("/messages/feat-b?since=0"));
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("createBrokerHandler({credentials}) takes supervisor only with the supervisor's key", async () => {
  await using s = await session();
  const fromSupervisor = {
    type: "agent.feedback",
    agent_id: "feat-a",
    payload: { from: "supervisor", errors: ["tests fail"] },
  };
  const agentKey = await s.h(
    req("/publish", { json: fromSupervisor, key: s.keys["feat-a"] }),
  );
  assert.equal(agentKey.status, 403);
  assert.match((await body(agentKey)).detail, /supervisor-key/);
  const asSupervisor = await s.h(
    req("/publish", { json: status("supervisor"), key: s.keys["feat-a"] }),
  );
  assert.equal(asSupervisor.status, 403);
  await asSupervisor.body?.cancel();
  assert.equal(s.stored(), 0);
  const ok = await s.h(
    req("/publish", { json: fromSupervisor, key: s.keys.supervisor }),
  );
  assert.equal(ok.status, 202);
  await ok.body?.cancel();
  // The supervisor's key speaks for the supervisor, not for an agent.
  const forged = await s.h(
    req("/publish", { json: status("feat-a"), key: s.keys.supervisor }),
  );
  assert.equal(forged.status, 403);
  await forged.body?.cancel();
  // The user's merge queue (a tool's name) files feedback with it.
  const queue = await s.h(req("/publish", {
    json: {
      type: "agent.feedback",
      agent_id: "feat-b",
      payload: { from: "merge-queue", errors: ["left out"] },
    },
    key: s.keys.supervisor,
  }));
  assert.equal(queue.status, 202);
  await queue.body?.cancel();
  assert.equal(s.stored(), 2);
});

Deno.test("createBrokerHandler({credentials}) checks who speaks, not whose inbox", async () => {
  await using s = await session();
  // feat-a reviews feat-b: the envelope names feat-b, the speaker is feat-a.
  const verified = {
    type: "agent.verified",
    agent_id: "feat-b",
    payload: { verified_by: "feat-a" },
  };
  const byB = await s.h(
    req("/publish", { json: verified, key: s.keys["feat-b"] }),
  );
  assert.equal(byB.status, 403);
  await byB.body?.cancel();
  const byA = await s.h(
    req("/publish", { json: verified, key: s.keys["feat-a"] }),
  );
  assert.equal(byA.status, 202);
  await byA.body?.cancel();
  // The post-commit hook's branch-guard feedback goes to the agent itself.
  const guard = await s.h(req("/publish", {
    json: {
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "branch-guard", errors: ["wrong branch"] },
    },
    key: s.keys["feat-a"],
  }));
  assert.equal(guard.status, 202);
  await guard.body?.cancel();
  const forgedFeedback = await s.h(req("/publish", {
    json: {
      type: "agent.feedback",
      agent_id: "feat-b",
      payload: { from: "feat-c", errors: ["x"] },
    },
    key: s.keys["feat-a"],
  }));
  assert.equal(forgedFeedback.status, 403);
  await forgedFeedback.body?.cancel();
});

Deno.test("createBrokerHandler({credentials}) guards /watch and /approvals, not the web page's decisions", async () => {
  await using s = await session();
  const watch = {
    agent_id: "feat-a",
    worktree_path: "/tmp/elsewhere",
    cli: "demo",
  };
  const anon = await s.h(req("/watch", { json: watch }));
  assert.equal(anon.status, 403);
  await anon.body?.cancel();
  const wrong = await s.h(
    req("/watch", { json: watch, key: s.keys["feat-b"] }),
  );
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const own = await s.h(req("/watch", { json: watch, key: s.keys["feat-a"] }));
  assert.equal(own.status, 202);
  await own.body?.cancel();

  const filing = {
    agent_id: "feat-a",
    tool: "Bash",
    input: { command: "make deploy" },
    cwd: "/tmp",
  };
  const forged = await s.h(req("/approvals", { json: filing }));
  assert.equal(forged.status, 403);
  assert.equal((await body(forged)).error, "agent credential required");
  const filed = await s.h(
    req("/approvals", { json: filing, key: s.keys["feat-a"] }),
  );
  assert.equal(filed.status, 200);
  const { id, decision } = await body(filed);
  assert.equal(decision, "pending");
  // The web page: cookie + CSRF header, no bearer header and no agent key.
  const page = await s.h(
    new Request(`${ORIGIN}/approvals/${id}/deny`, {
      method: "POST",
      headers: {
        host: "127.0.0.1:9119",
        origin: ORIGIN,
        cookie: `git_paw_token=${TOKEN}`,
        "x-git-paw-csrf": "1",
        "content-type": "application/json",
      },
      body: JSON.stringify({ by: "web", reason: "not now" }),
    }),
  );
  assert.equal(page.status, 200);
  assert.equal((await body(page)).decision.by, "web");
});

Deno.test("keyRegistry() follows the session: an added agent at once, a removed one refused", async () => {
  await using s = await session();
  const dir = join(s.root, "feat-c");
  await Deno.mkdir(dir);
  const key = await ensureAgentKey(dir);
  const before = await s.h(req("/publish", { json: status("feat-c"), key }));
  assert.equal(before.status, 403);
  await before.body?.cancel();
  s.agents.set("feat-c", dir); // `git paw add` lists it in the receipt
  const added = await s.h(req("/publish", { json: status("feat-c"), key }));
  assert.equal(added.status, 202);
  await added.body?.cancel();
  // `git paw remove --keep-worktree`: torn down and out of the receipt.
  await removeAgentKey(dir);
  s.agents.delete("feat-c");
  const removed = await s.h(req("/publish", { json: status("feat-c"), key }));
  assert.equal(removed.status, 403);
  await removed.body?.cancel();
  s.agents.delete("feat-b"); // out of the receipt, key file still there
  const unlisted = await s.h(
    req("/publish", { json: status("feat-b"), key: s.keys["feat-b"] }),
  );
  assert.equal(unlisted.status, 403);
  await unlisted.body?.cancel();
});

Deno.test("createBrokerHandler() without credentials stays open (the original's plain curl)", async () => {
  await using s = await session({ credentials: false });
  const res = await s.h(req("/publish", { json: status("anyone") }));
  assert.equal(res.status, 202);
  await res.body?.cancel();
  const watch = await s.h(req("/watch", {
    json: { agent_id: "anyone", worktree_path: "/tmp/x" },
  }));
  assert.equal(watch.status, 202);
  await watch.body?.cancel();
});

Deno.test("ensureAgentKey() and supervisorCredential() keep one owner-only key", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-cred-" });
  try {
    const k1 = await ensureAgentKey(root);
    assert.match(k1, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await Deno.stat(agentKeyPath(root))).mode! & 0o777, 0o600);
    // Set up again (recover, a moved broker): the same key, the token follows.
    assert.equal(await ensureAgentKey(root, { token: "t0k" }), k1);
    assert.deepEqual(await readAgentKey(root), { key: k1, token: "t0k" });
    assert.deepEqual(
      parseAgentKeyFile(await Deno.readTextFile(agentKeyPath(root))),
      { key: k1, token: "t0k" },
    );
    assert.equal(await ensureAgentKey(root), k1);
    assert.deepEqual(await readAgentKey(root), { key: k1 });
    assert.notEqual(await ensureAgentKey(join(root, "..", "x-" + k1)), k1);
    await Deno.remove(join(root, "..", "x-" + k1), { recursive: true });

    const state = join(root, "state");
    const [s1, s2] = await Promise.all([
      supervisorCredential(state),
      supervisorCredential(state),
    ]);
    assert.equal(s1, s2);
    assert.notEqual(s1, k1);
    assert.equal(await supervisorCredential(state), s1);
    assert.equal(
      (await Deno.stat(supervisorKeyPath(state))).mode! & 0o777,
      0o600,
    );
    assert.equal((await Deno.stat(state)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("authorsOf() names the speaker of each message type", () => {
  const of = (m: unknown) => {
    const p = parseMessage(m);
    assert.ok(p.ok);
    return authorsOf(p.message);
  };
  assert.deepEqual(of(status("feat/a")), ["feat-a"]);
  assert.deepEqual(
    of({
      type: "agent.advanced-main",
      from: "supervisor",
      merged_branch: "a",
      new_main_sha: "abc",
      base: "main",
      merged_at: "2026-01-01T00:00:00Z",
    }),
    ["supervisor"],
  );
  assert.deepEqual(
    of({ type: "supervisor.verify-now", branch_id: "feat-a" }),
    ["feat-a", "supervisor"],
  );
  assert.deepEqual(
    of({
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "Supervisor", errors: ["x"] },
    }),
    ["supervisor"],
  );
});
