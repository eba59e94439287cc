/**
 * The coordination plugins inside a real broker on 127.0.0.1 (port 0), with
 * real git worktrees and real file edits, observed over HTTP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type {
  Broker,
  BrokerPlugin,
  WatchTarget,
} from "../../lib/broker/api.ts";
import {
  coordinationPluginOptions,
  coordinationPlugins,
  learningsPath,
} from "../../lib/coord/plugins.ts";
import { watcherPlugin } from "../../lib/coord/watcher.ts";
import { conflictPlugin } from "../../lib/coord/conflict_plugin.ts";
import { LearningsRecorder } from "../../lib/coord/learnings_plugin.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { DEFAULT_CONFLICT_OPTIONS } from "../../lib/core/conflict.ts";
import { git, sleep, tempRepo } from "./plugins_helpers.ts";
import { waitFor } from "../_helpers/wait.ts";
import { testBroker } from "../_helpers/broker.ts";

type Msg = {
  type: string;
  agent_id?: string;
  payload?: Record<string, unknown>;
};

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return await r.json() as T;
}

async function post(broker: Broker, path: string, body: unknown) {
  const r = await fetch(broker.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await r.body?.cancel();
  assert.equal(r.status, 202, `${path}: ${r.status}`);
}

async function logMessages(broker: Broker): Promise<Msg[]> {
  const r = await getJson<{ entries: Array<{ message: Msg }> }>(
    `${broker.url}/log?since=0`,
  );
  return r.entries.map((e) => e.message);
}

async function inbox(broker: Broker, agent: string): Promise<Msg[]> {
  const r = await getJson<{ messages: Msg[] }>(
    `${broker.url}/messages/${agent}?since=0`,
  );
  return r.messages;
}

function errorsOf(msgs: Msg[]): string[] {
  return msgs.flatMap((m) =>
    m.type === "agent.feedback" ? (m.payload!.errors as string[]) : []
  );
}

function withBroker(
  dataDir: string,
  plugins: BrokerPlugin[],
  seed: WatchTarget[] = [],
) {
  return testBroker({
    dataDir,
    session: "paw-test",
    plugins,
    seed,
    republishWorkingTtlSeconds: 60,
  });
}

Deno.test("coordinationPluginOptions() maps config defaults and switches", () => {
  const c = defaultConfig();
  const d = coordinationPluginOptions({ repo: "/r", session: "s", config: c });
  assert.deepEqual(d.watcher, {
    republishWorkingTtlSeconds: 60,
    initialScanDelayMs: 400,
  });
  assert.deepEqual(d.conflicts, {
    windowSeconds: 120,
    warnOnIntentOverlap: true,
    escalateOnViolation: true,
  });
  assert.equal(d.learnings, null);
  c.broker.conflicts.enabled = false;
  c.supervisor.learnings = true;
  c.supervisor.learnings_config.flush_interval_seconds = 7;
  c.supervisor.learnings_config.broker_publish = "force_off";
  const o = coordinationPluginOptions({ repo: "/r", session: "s", config: c });
  assert.equal(o.conflicts, null);
  assert.deepEqual(o.learnings, {
    path: "/r/.git-paw/session-learnings.md",
    flushIntervalSeconds: 7,
    brokerPublish: false,
  });
  assert.deepEqual(
    coordinationPlugins({ repo: "/r", session: "s", config: c }).map((p) =>
      p.name
    ),
    ["outbox", "watcher", "learnings", "approvals", "integration", "review"],
  );
});

Deno.test("watcher plugin publishes working for a real edit in a seeded worktree, not for .git", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  const broker = await withBroker(
    join(repo.root, "data"),
    coordinationPlugins({
      repo: repo.repo,
      session: "s",
      config: defaultConfig(),
    }),
    [{ agent_id: agentId, worktree_path: path, cli: "demo" }],
  );
  try {
    await sleep(100);
    await Deno.writeTextFile(
      join(path, ".git"),
      await Deno.readTextFile(join(path, ".git")),
    );
    await sleep(150);
    assert.deepEqual(
      (await logMessages(broker)).filter((m) => m.type === "agent.status"),
      [],
    );
    await Deno.writeTextFile(join(path, "feature.ts"), "export {};\n");
    const status = await waitFor(
      "agent.status on /log",
      async () =>
        (await logMessages(broker)).find((m) => m.type === "agent.status"),
    );
    assert.equal(status.agent_id, agentId);
    assert.equal(status.payload!.status, "working");
    assert.deepEqual(status.payload!.modified_files, ["feature.ts"]);
    const st = await getJson<
      { agents: Array<{ agent_id: string; status: string }> }
    >(
      `${broker.url}/status`,
    );
    assert.equal(
      st.agents.find((a) => a.agent_id === agentId)?.status,
      "working",
    );
  } finally {
    await broker.close();
  }
});

Deno.test("watcher plugin absorbs a real commit and flips committed back to working on a new edit", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  const broker = await withBroker(
    join(repo.root, "data"),
    [watcherPlugin({ republishWorkingTtlSeconds: 60, log: () => {} })],
    [{ agent_id: agentId, worktree_path: path, cli: null }],
  );
  const statusOf = async () =>
    (await getJson<{ agents: Array<{ agent_id: string; status: string }> }>(
      `${broker.url}/status`,
    )).agents.find((a) => a.agent_id === agentId)?.status;
  const statuses = async () =>
    (await logMessages(broker)).filter((m) => m.type === "agent.status");
  try {
    await sleep(100);
    await Deno.writeTextFile(join(path, "done.ts"), "1");
    await waitFor("working", async () => (await statuses()).length === 1);
    await git(path, "add", "done.ts");
    await git(path, "commit", "-qm", "done");
    await post(broker, "/publish", {
      type: "agent.artifact",
      agent_id: agentId,
      payload: {
        status: "committed",
        exports: [],
        modified_files: ["done.ts"],
      },
    });
    await sleep(200);
    assert.equal(await statusOf(), "committed");
    assert.equal((await statuses()).length, 1, "the commit itself is absorbed");
    await Deno.writeTextFile(join(path, "next.ts"), "1");
    await waitFor("working again", async () => (await statuses()).length === 2);
    assert.deepEqual((await statuses())[1]!.payload!.modified_files, [
      "next.ts",
    ]);
    assert.equal(await statusOf(), "working");
  } finally {
    await broker.close();
  }
});

Deno.test("POST /watch registers a worktree at runtime once, however often it is posted", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  const broker = await withBroker(join(repo.root, "data"), [
    watcherPlugin({ republishWorkingTtlSeconds: 60, log: () => {} }),
  ]);
  try {
    const body = { agent_id: "feat/a", worktree_path: path, cli: "demo" };
    await post(broker, "/watch", body);
    await post(broker, "/watch", body);
    await sleep(150);
    await Deno.writeTextFile(join(path, "x.ts"), "1");
    await waitFor(
      "status",
      async () =>
        (await logMessages(broker)).some((m) => m.type === "agent.status"),
    );
    await sleep(200);
    const statuses = (await logMessages(broker)).filter((m) =>
      m.type === "agent.status"
    );
    assert.equal(statuses.length, 1, "one watcher per path");
    assert.equal(statuses[0]!.agent_id, agentId);
  } finally {
    await broker.close();
  }
});

Deno.test("watcher plugin prunes a deleted worktree and the broker keeps serving", async () => {
  await using repo = await tempRepo(2);
  const [a, b] = repo.worktrees;
  const lines: string[] = [];
  const broker = await withBroker(
    join(repo.root, "data"),
    [watcherPlugin({
      republishWorkingTtlSeconds: 60,
      log: (l) => lines.push(l),
    })],
    repo.worktrees.map((w) => ({
      agent_id: w.agentId,
      worktree_path: w.path,
      cli: null,
    })),
  );
  try {
    await sleep(100);
    await Deno.remove(a!.path, { recursive: true });
    await waitFor("prune report", () => lines.length > 0);
    await Deno.writeTextFile(join(b!.path, "y.ts"), "1");
    await waitFor(
      "status of the surviving worktree",
      async () =>
        (await logMessages(broker)).some((m) =>
          m.type === "agent.status" && m.agent_id === b!.agentId
        ),
    );
    await getJson(`${broker.url}/status`);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /feat-a: .*stopped watching/);
  } finally {
    await broker.close();
  }
});

Deno.test("conflict plugin sends forward-conflict feedback to both agents' inboxes", async () => {
  await using repo = await tempRepo(0);
  const broker = await withBroker(join(repo.root, "data"), [
    conflictPlugin({ ...DEFAULT_CONFLICT_OPTIONS }),
  ]);
  try {
    for (const agent of ["feat-a", "feat-b"]) {
      await post(broker, "/publish", {
        type: "agent.intent",
        agent_id: agent,
        payload: {
          files: [{
            path: "src/api.ts",
            regions: [{
              kind: "range",
              start_line: agent === "feat-a" ? 1 : 20,
              end_line: 40,
            }],
          }],
          summary: "api",
          valid_for_seconds: 600,
        },
      });
    }
    for (const [me, other] of [["feat-a", "feat-b"], ["feat-b", "feat-a"]]) {
      const errs = await waitFor(
        `feedback for ${me}`,
        async () => {
          const e = errorsOf(await inbox(broker, me!));
          return e.length ? e : null;
        },
      );
      assert.deepEqual(errs, [
        `[conflict-detector] forward conflict: agent ${other} also intends to modify: src/api.ts (regions: lines 20-40)`,
      ]);
    }
    const fb = (await logMessages(broker)).filter((m) =>
      m.type === "agent.feedback"
    );
    assert.equal(fb.length, 2);
    for (const m of fb) assert.equal(m.payload!.from, "supervisor");
  } finally {
    await broker.close();
  }
});

Deno.test("conflict plugin warns both agents editing the same file and escalates after the window", async () => {
  await using repo = await tempRepo(2);
  const [a, b] = repo.worktrees;
  const broker = await withBroker(
    join(repo.root, "data"),
    [
      watcherPlugin({ republishWorkingTtlSeconds: 60, log: () => {} }),
      conflictPlugin({ ...DEFAULT_CONFLICT_OPTIONS, windowSeconds: 1 }),
    ],
    repo.worktrees.map((w) => ({
      agent_id: w.agentId,
      worktree_path: w.path,
      cli: null,
    })),
  );
  try {
    await sleep(100);
    await Deno.writeTextFile(join(a!.path, "README.md"), "a\n");
    await Deno.writeTextFile(join(b!.path, "README.md"), "b\n");
    for (const [me, other] of [[a!, b!], [b!, a!]]) {
      const errs = await waitFor(
        `in-flight feedback for ${me.agentId}`,
        async () => {
          const e = errorsOf(await inbox(broker, me.agentId));
          return e.length ? e : null;
        },
      );
      assert.deepEqual(errs, [
        `[conflict-detector] in-flight conflict: file README.md is being modified by both you and ${other.agentId}`,
      ]);
    }
    const q = await waitFor(
      "escalation question",
      async () =>
        (await inbox(broker, "supervisor")).find((m) =>
          m.type === "agent.question"
        ),
    );
    assert.equal(
      q.payload!.question,
      "[conflict-detector] in-flight conflict on README.md between feat-a and feat-b has not resolved within 1s. Human input requested.",
    );
  } finally {
    await broker.close();
  }
});

Deno.test("conflict plugin flags an edit of a file another agent's intent owns", async () => {
  await using repo = await tempRepo(2);
  const [a, b] = repo.worktrees;
  const broker = await withBroker(
    join(repo.root, "data"),
    [
      watcherPlugin({ republishWorkingTtlSeconds: 60, log: () => {} }),
      conflictPlugin(DEFAULT_CONFLICT_OPTIONS),
    ],
    repo.worktrees.map((w) => ({
      agent_id: w.agentId,
      worktree_path: w.path,
      cli: null,
    })),
  );
  try {
    await post(broker, "/publish", {
      type: "agent.intent",
      agent_id: a!.agentId,
      payload: {
        files: ["README.md"],
        summary: "docs",
        valid_for_seconds: 600,
      },
    });
    await sleep(100);
    await Deno.writeTextFile(join(b!.path, "README.md"), "mine now\n");
    const errs = await waitFor(
      "ownership feedback",
      async () => {
        const e = errorsOf(await inbox(broker, b!.agentId));
        return e.length ? e : null;
      },
    );
    assert.deepEqual(errs, [
      "[conflict-detector] ownership violation: you edited README.md but agent feat-a declared intent over it. Update your agent.intent to declare this file or back off.",
    ]);
    const q = await waitFor(
      "ownership question",
      async () =>
        (await inbox(broker, "supervisor")).find((m) =>
          m.type === "agent.question"
        ),
    );
    assert.equal(
      q.payload!.question,
      "[conflict-detector] ownership violation: feat-b edited README.md which is in feat-a's intent. Human review requested.",
    );
    assert.deepEqual(errorsOf(await inbox(broker, a!.agentId)), []);
  } finally {
    await broker.close();
  }
});

Deno.test("conflict plugin catches up on the log at start without repeating warnings", async () => {
  await using repo = await tempRepo(0);
  const dataDir = join(repo.root, "data");
  const intent = (agent: string) => ({
    type: "agent.intent",
    agent_id: agent,
    payload: { files: ["x.ts"], summary: "s", valid_for_seconds: 600 },
  });
  const first = await withBroker(dataDir, [
    conflictPlugin(DEFAULT_CONFLICT_OPTIONS),
  ]);
  await post(first, "/publish", intent("feat-a"));
  await post(first, "/publish", intent("feat-b"));
  await waitFor(
    "first warning",
    async () => errorsOf(await inbox(first, "feat-a")).length === 1,
  );
  await first.close();
  const second = await withBroker(dataDir, [
    conflictPlugin(DEFAULT_CONFLICT_OPTIONS),
  ]);
  try {
    await post(second, "/publish", intent("feat-b")); // same set: no re-warn
    await post(second, "/publish", intent("feat-c")); // new pair: warned
    await waitFor(
      "feat-c warnings",
      async () => errorsOf(await inbox(second, "feat-c")).length === 2,
    );
    await sleep(100);
    assert.equal(errorsOf(await inbox(second, "feat-a")).length, 2);
    assert.equal(errorsOf(await inbox(second, "feat-b")).length, 2);
  } finally {
    await second.close();
  }
});

Deno.test("conflict plugin is off when [broker.conflicts] enabled = false", async () => {
  await using repo = await tempRepo(0);
  const config = defaultConfig();
  config.broker.conflicts.enabled = false;
  const plugins = coordinationPlugins({
    repo: repo.repo,
    session: "s",
    config,
  });
  assert.ok(!plugins.some((p) => p.name === "conflict-detector"));
  const broker = await withBroker(join(repo.root, "data"), plugins);
  try {
    for (const agent of ["feat-a", "feat-b"]) {
      await post(broker, "/publish", {
        type: "agent.intent",
        agent_id: agent,
        payload: { files: ["x"], summary: "s", valid_for_seconds: 60 },
      });
    }
    await sleep(150);
    assert.deepEqual(errorsOf(await logMessages(broker)), []);
  } finally {
    await broker.close();
  }
});

// ---- Learnings: counterparts of the original's broker tests ----

function conflictFeedback(target: string, other: string) {
  return {
    type: "agent.feedback",
    agent_id: target,
    payload: {
      from: "supervisor",
      errors: [
        `[conflict-detector] in-flight conflict with ${other} on src/a.rs`,
      ],
    },
  };
}

async function learningsBroker(dir: string, brokerPublish: boolean) {
  const path = join(dir, ".git-paw", "session-learnings.md");
  let recorder: LearningsRecorder | null = null;
  const plugin: BrokerPlugin = {
    name: "learnings",
    start(b) {
      recorder = new LearningsRecorder(b, {
        path,
        flushIntervalSeconds: 3600,
        brokerPublish,
      });
      recorder.start();
      return () => recorder!.close();
    },
  };
  const broker = await withBroker(join(dir, "data"), [plugin], [
    { agent_id: "feat-x", worktree_path: "", cli: null },
    { agent_id: "feat-y", worktree_path: "", cli: null },
  ]);
  return { broker, path, recorder: recorder! as LearningsRecorder };
}

async function learningRecords(broker: Broker) {
  return (await logMessages(broker)).filter((m) => m.type === "agent.learning")
    .map((m) => m.payload as Record<string, string>);
}

Deno.test("learnings publish an agent.learning and write the file when broker publish is on", async () => {
  await using repo = await tempRepo(0);
  const { broker, path, recorder } = await learningsBroker(repo.root, true);
  try {
    await post(broker, "/publish", conflictFeedback("feat-x", "feat-y"));
    await recorder.flushNow();
    const md = await Deno.readTextFile(path);
    assert.match(
      md,
      /^## Session Learnings — \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/,
    );
    assert.ok(md.includes("### Conflict events"), md);
    const recs = await learningRecords(broker);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!.category, "conflict_event");
    assert.match(recs[0]!.id!, /^[0-9a-f]{16}$/);
    assert.ok(md.includes(recs[0]!.title!), recs[0]!.title);
  } finally {
    await broker.close();
  }
});

Deno.test("learnings still write the file but publish nothing when broker publish is off", async () => {
  await using repo = await tempRepo(0);
  const { broker, path, recorder } = await learningsBroker(repo.root, false);
  try {
    await post(broker, "/publish", conflictFeedback("feat-x", "feat-y"));
    await recorder.flushNow();
    assert.ok((await Deno.readTextFile(path)).includes("### Conflict events"));
    assert.deepEqual(await learningRecords(broker), []);
  } finally {
    await broker.close();
  }
});

Deno.test("learnings re-flushing does not duplicate records", async () => {
  await using repo = await tempRepo(0);
  const { broker, path, recorder } = await learningsBroker(repo.root, true);
  try {
    await post(broker, "/publish", conflictFeedback("feat-x", "feat-y"));
    await post(broker, "/publish", conflictFeedback("feat-y", "feat-x"));
    await recorder.flushNow();
    await recorder.flushNow();
    assert.equal((await learningRecords(broker)).length, 1);
    const md = await Deno.readTextFile(path);
    assert.equal(md.split("in-flight-conflict: feat-x and feat-y").length, 2);
  } finally {
    await broker.close();
  }
});

Deno.test("learnings route a branch-scoped record to that branch's inbox", async () => {
  await using repo = await tempRepo(0);
  const { broker, recorder } = await learningsBroker(repo.root, true);
  try {
    await post(broker, "/publish", {
      type: "agent.blocked",
      agent_id: "feat-x",
      payload: { needs: "types", from: "feat-y" },
    });
    await post(broker, "/publish", {
      type: "agent.artifact",
      agent_id: "feat-x",
      payload: { status: "done", exports: [], modified_files: [] },
    });
    await recorder.flushNow();
    const msgs = await inbox(broker, "feat-x");
    assert.ok(
      msgs.some((m) =>
        m.type === "agent.learning" && m.payload!.category === "stuck_duration"
      ),
      JSON.stringify(msgs),
    );
  } finally {
    await broker.close();
  }
});

Deno.test("learnings plugin writes the final flush when the broker closes", async () => {
  await using repo = await tempRepo(0);
  const config = defaultConfig();
  config.broker.learnings.enabled = true;
  const broker = await withBroker(
    join(repo.root, "data"),
    coordinationPlugins({ repo: repo.repo, session: "s", config }),
  );
  await post(broker, "/publish", {
    type: "agent.blocked",
    agent_id: "feat-y",
    payload: { needs: "schema", from: "feat-x" },
  });
  await broker.close();
  const md = await Deno.readTextFile(learningsPath(repo.repo));
  assert.match(
    md,
    /### Where agents got stuck\n- feat-y: blocked \d+s waiting on feat-x \(unresolved at session end\)\n/,
  );
});
