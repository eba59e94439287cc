import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../../lib/broker/server.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { setupAgentWorktree } from "../../lib/coord/setup.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import {
  deliverThroughOutbox,
  OUTBOX_FILE,
  OUTBOX_LIMITS,
  type OutboxMessage,
} from "../../lib/coord/outbox.ts";
import { outboxPlugin } from "../../lib/coord/outbox_plugin.ts";
import {
  addWorktree,
  deadUrl,
  git,
  run,
  SELF,
  tempBroker,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Run git-paw in `cwd` with no GIT_PAW_* in the env unless given. */
function paw(cwd: string, args: string[], env: Record<string, string> = {}) {
  return run(SELF[0], [...SELF.slice(1), ...args], cwd, {
    GIT_PAW_AGENT_ID: "",
    GIT_PAW_BROKER_URL: "",
    GIT_PAW_BROKER_TOKEN: "",
    ...env,
  });
}

function setup(t: TempRepo, wt: string, branch: string, url: string) {
  return setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: branch, worktree: wt, cli: "demo" }),
    brokerUrl: url,
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: () => {},
  });
}

async function stored(b: Broker) {
  return (await b.logSince(0)).map((e) => e.message as Record<string, unknown>);
}

async function outboxOf(wt: string): Promise<string | null> {
  const dir = (await git(wt, "rev-parse", "--absolute-git-dir")).trim();
  try {
    return await Deno.readTextFile(join(dir, OUTBOX_FILE));
  } catch {
    return null;
  }
}

async function outboxPathOf(wt: string): Promise<string> {
  const dir = (await git(wt, "rev-parse", "--absolute-git-dir")).trim();
  return join(dir, OUTBOX_FILE);
}

Deno.test("publish in a worktree takes its id from the marker; another id in the env is an error and publishes nothing", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/a");
  await setup(t, wt, "feat/a", b.url);
  const bad = await paw(wt, ["publish", "status", "working"], {
    GIT_PAW_AGENT_ID: "feat-b",
    GIT_PAW_BROKER_URL: b.url,
  });
  assert.equal(bad.code, 1, bad.stderr);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.match(
    bad.stderr,
    /^error: this worktree belongs to agent 'feat-a' but GIT_PAW_AGENT_ID says 'feat-b'/,
  );
  const flag = await paw(wt, ["publish", "status", "working", "--agent", "x"]);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /but --agent says 'x'/);
  assert.deepEqual(await stored(b), [], "nothing published");
  assert.equal(await outboxOf(wt), null, "nothing queued either");
  // The same id, raw or slugged, is fine.
  const ok = await paw(wt, ["publish", "status", "working"], {
    GIT_PAW_AGENT_ID: "feat/a",
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((await stored(b)).map((m) => m.agent_id), ["feat-a"]);
});

Deno.test("publish in a worktree needs no GIT_PAW_* env, and a stale env URL cannot reach an old broker", async () => {
  await using current = await tempBroker();
  await using old = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/url");
  await setup(t, wt, "feat/url", current.url);
  const bare = await paw(wt, ["publish", "status", "working"]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /^published agent\.status as feat-url/);
  const stale = await paw(wt, ["publish", "question", "which?"], {
    GIT_PAW_AGENT_ID: "feat-url",
    GIT_PAW_BROKER_URL: old.url,
  });
  assert.equal(stale.code, 0, stale.stderr);
  assert.deepEqual((await stored(current)).map((m) => m.type), [
    "agent.status",
    "agent.question",
  ]);
  assert.deepEqual(await stored(old), []);
});

Deno.test("with the broker down, publish and a commit wait in the outbox; the next publish delivers them in order, once", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/box");
  const dataDir = await Deno.makeTempDir({ prefix: "paw-outbox-broker-" });
  try {
    const first = await startBroker({
      port: 0,
      dataDir,
      session: "paw-test",
      quiet: true,
    });
    const port = first.port;
    await setup(t, wt, "feat/box", first.url);
    await first.close();

    const queued = await paw(wt, ["publish", "status", "working"]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.equal(queued.stdout, "");
    assert.equal(queued.stderr.trim().split("\n").length, 1, queued.stderr);
    assert.match(queued.stderr, /^note: .*outbox/);
    await Deno.writeTextFile(join(wt, "f.txt"), "f\n");
    await git(wt, "add", "-A");
    const t0 = performance.now();
    const commit = await run("git", ["commit", "-q", "-m", "offline"], wt);
    assert.equal(commit.code, 0, commit.stderr);
    assert.ok(performance.now() - t0 < 5000, "the commit did not wait long");
    assert.match(commit.stderr, /kept in the outbox \(2 waiting/);
    const path = await outboxPathOf(wt);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const saved = await Deno.readTextFile(path);
    assert.equal(saved.trim().split("\n").length, 2);

    const back = await startBroker({
      port,
      dataDir,
      session: "paw-test",
      quiet: true,
    });
    try {
      const next = await paw(wt, ["publish", "question", "still there?"]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /delivered 2 earlier message\(s\)/);
      const types = (await stored(back)).map((m) =>
        `${m.type}:${(m.payload as { status?: string }).status ?? ""}`
      );
      assert.deepEqual(types, [
        "agent.status:working",
        "agent.artifact:committed",
        "agent.question:",
      ]);
      assert.equal(await outboxOf(wt), null, "the outbox is empty");
      // The same outbox flushed a second time (the hook and the broker at
      // once, or an answer lost on the way): no duplicates.
      await Deno.writeTextFile(path, saved, { mode: 0o600 });
      const again = await paw(wt, ["inbox"]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await stored(back)).length, 3, "nothing stored twice");
      assert.equal(await outboxOf(wt), null);
    } finally {
      await back.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the session broker ingests a registered worktree's outbox when it starts", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/late");
  await setup(t, wt, "feat/late", deadUrl());
  for (const s of ["working", "testing"]) {
    const r = await paw(wt, ["publish", "status", s]);
    assert.equal(r.code, 0, r.stderr);
  }
  const dataDir = await Deno.makeTempDir({ prefix: "paw-outbox-broker-" });
  try {
    const b = await startBroker({
      port: 0,
      dataDir,
      session: "paw-test",
      quiet: true,
      plugins: [outboxPlugin()],
      seed: [{ agent_id: "feat-late", cli: "demo", worktree_path: wt }],
    });
    try {
      await waitFor("both messages", async () => (await stored(b)).length >= 2);
      assert.deepEqual(
        (await stored(b)).map((m) => (m.payload as { status: string }).status),
        ["working", "testing"],
      );
      assert.equal(await outboxOf(wt), null);
    } finally {
      await b.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deliverThroughOutbox() keeps the oldest at its bound and refuses to queue more", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-outbox-" });
  try {
    const down = () =>
      Promise.resolve({ kind: "retry", detail: "down" } as const);
    const msg = (i: number): OutboxMessage => ({
      type: "agent.status",
      agent_id: "a",
      payload: { status: `s${i}` },
      msg_id: `m${i}`,
    });
    const lines = [];
    for (let i = 0; i < OUTBOX_LIMITS.entries; i++) {
      lines.push(JSON.stringify(msg(i)));
    }
    await Deno.writeTextFile(join(dir, OUTBOX_FILE), lines.join("\n") + "\n");
    const r = await deliverThroughOutbox(dir, msg(9999), {
      send: down,
      budgetMs: 1000,
      sendTimeoutMs: 100,
    });
    assert.equal(r.message.kind, "lost");
    assert.equal(r.waiting, OUTBOX_LIMITS.entries);
    const kept = (await Deno.readTextFile(join(dir, OUTBOX_FILE))).trim()
      .split("\n");
    assert.equal(kept.length, OUTBOX_LIMITS.entries);
    assert.equal(JSON.parse(kept[0]!).msg_id, "m0");
    // Delivery resumes in order once the broker answers.
    const seen: string[] = [];
    const up = (m: OutboxMessage) => {
      seen.push(m.msg_id);
      return Promise.resolve({ kind: "delivered" } as const);
    };
    const ok = await deliverThroughOutbox(dir, msg(10000), {
      send: up,
      budgetMs: 10_000,
      sendTimeoutMs: 100,
    });
    assert.equal(ok.message.kind, "delivered");
    assert.equal(ok.flushed, OUTBOX_LIMITS.entries);
    assert.deepEqual(seen.slice(0, 2), ["m0", "m1"]);
    assert.equal(seen.at(-1), "m10000");
    await assert.rejects(
      Deno.stat(join(dir, OUTBOX_FILE)),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deliverThroughOutbox() run twice at once in one process loses and repeats nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-outbox-" });
  try {
    const msg = (i: number): OutboxMessage => ({
      type: "agent.status",
      agent_id: "a",
      payload: { status: `s${i}` },
      msg_id: `m${i}`,
    });
    await Deno.writeTextFile(
      join(dir, OUTBOX_FILE),
      [0, 1, 2, 3, 4].map((i) => JSON.stringify(msg(i))).join("\n") + "\n",
    );
    const seen: string[] = [];
    const slow = async (m: OutboxMessage) => {
      await new Promise((r) => setTimeout(r, 10));
      seen.push(m.msg_id);
      return { kind: "delivered" } as const;
    };
    const down = () =>
      Promise.resolve({ kind: "retry", detail: "down" } as const);
    const opts = { budgetMs: 5000, sendTimeoutMs: 100 };
    const [a, b, c] = await Promise.all([
      deliverThroughOutbox(dir, null, { ...opts, send: slow }),
      deliverThroughOutbox(dir, null, { ...opts, send: slow }),
      deliverThroughOutbox(dir, msg(5), { ...opts, send: down }),
    ]);
    assert.deepEqual(seen, ["m0", "m1", "m2", "m3", "m4"]);
    assert.equal(a.flushed + b.flushed, 5);
    assert.equal(c.message.kind, "queued");
    const left = (await Deno.readTextFile(join(dir, OUTBOX_FILE))).trim();
    assert.equal(JSON.parse(left).msg_id, "m5");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
