/**
 * Every git-paw sender speaks with the agent's key file against a broker
 * that checks credentials (real git, real HTTP): the helper with no env,
 * its outbox replay after the broker was down, the post-commit hook,
 * `__cli-event`, the supervisor's helper through `GIT_PAW_AGENT_KEY_FILE`;
 * and the broker-side outbox ingestion takes only the worktree's own
 * agent's messages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../../lib/broker/server.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { setupAgentWorktree } from "../../lib/coord/setup.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";
import {
  agentKeyPath,
  keyRegistry,
  supervisorCredential,
  supervisorKeyPath,
} from "../../lib/coord/credentials.ts";
import { OUTBOX_FILE } from "../../lib/coord/outbox.ts";
import { outboxPlugin } from "../../lib/coord/outbox_plugin.ts";
import { runCliEvent } from "../../lib/coord/cli_event.ts";
import {
  addWorktree,
  deadUrl,
  git,
  run,
  SELF,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";

/** git-paw in `cwd` with no GIT_PAW_* in the env unless given. */
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
    agent: agentPlan({ branch, worktree: wt, cli: "demo" }),
    brokerUrl: url,
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: () => {},
  });
}

async function gitDirOf(wt: string): Promise<string> {
  return (await git(wt, "rev-parse", "--absolute-git-dir")).trim();
}

async function stored(b: Broker) {
  return (await b.logSince(0)).map((e) => e.message as Record<string, unknown>);
}

/** A broker that checks the keys of `agents` (id → worktree) and the supervisor's. */
async function credBroker(
  dataDir: string,
  agents: Record<string, string>,
  extra: { port?: number; outbox?: boolean } = {},
) {
  const dirs = new Map<string, string>();
  for (const [id, wt] of Object.entries(agents)) {
    dirs.set(id, await gitDirOf(wt));
  }
  await supervisorCredential(dataDir);
  return await startBroker({
    port: extra.port ?? 0,
    dataDir,
    session: "paw-cred",
    quiet: true,
    credentials: keyRegistry({
      stateDir: dataDir,
      agents: () => Promise.resolve(dirs),
    }),
    ...(extra.outbox
      ? {
        plugins: [outboxPlugin()],
        seed: Object.entries(agents).map(([agent_id, worktree_path]) => ({
          agent_id,
          worktree_path,
          cli: "demo",
        })),
      }
      : {}),
  });
}

Deno.test("the helper, its outbox replay and the post-commit hook send the agent's key", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/a");
  const dataDir = await Deno.makeTempDir({ prefix: "paw-cred-send-" });
  try {
    // Set up against a broker that then goes away.
    const first = await credBroker(dataDir, { "feat-a": wt });
    const port = first.port;
    await setup(t, wt, "feat/a", first.url);
    const ok = await paw(wt, ["publish", "status", "working"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await stored(first)).length, 1);
    // A forged one with the URL alone is refused.
    const forged = await fetch(`${first.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "agent.status",
        agent_id: "feat-a",
        payload: { status: "done" },
      }),
    });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    await first.close();

    const queued = await paw(wt, ["publish", "status", "testing"]);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stderr, /outbox/);
    await Deno.writeTextFile(join(wt, "f.txt"), "f\n");
    await git(wt, "add", "-A");
    const commit = await run("git", ["commit", "-q", "-m", "offline"], wt);
    assert.equal(commit.code, 0, commit.stderr);

    const back = await credBroker(dataDir, { "feat-a": wt }, { port });
    try {
      const next = await paw(wt, ["inbox"]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /delivered 2 earlier message\(s\)/);
      await Deno.writeTextFile(join(wt, "g.txt"), "g\n");
      await git(wt, "add", "-A");
      const online = await run("git", ["commit", "-q", "-m", "online"], wt);
      assert.equal(online.code, 0, online.stderr);
      assert.equal(online.stderr, "", "the hook was not refused");
      assert.deepEqual(
        (await stored(back)).map((m) =>
          `${m.agent_id}:${(m.payload as { status: string }).status}`
        ),
        [
          "feat-a:working", // before the restart (same log)
          "feat-a:testing",
          "feat-a:committed",
          "feat-a:committed",
        ],
      );
    } finally {
      await back.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("__cli-event publishes with the agent's key", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/c");
  const dataDir = await Deno.makeTempDir({ prefix: "paw-cred-send-" });
  const b = await credBroker(dataDir, { "feat-c": wt });
  try {
    await setup(t, wt, "feat/c", b.url);
    const warnings: string[] = [];
    const code = await runCliEvent({
      cli: "claude",
      event: "UserPromptSubmit",
      payloadArg: JSON.stringify({ prompt: "go" }),
      cwd: wt,
      env: () => undefined,
      warn: (l) => warnings.push(l),
    });
    assert.equal(code, 0, warnings.join("\n"));
    assert.deepEqual(
      (await stored(b)).map((m) => [m.agent_id, m.type]),
      [["feat-c", "agent.status"]],
    );
  } finally {
    await b.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the supervisor's helper sends the key file GIT_PAW_AGENT_KEY_FILE names", async () => {
  await using t = await tempRepo();
  const dataDir = await Deno.makeTempDir({ prefix: "paw-cred-send-" });
  const b = await credBroker(dataDir, {});
  try {
    const env = {
      GIT_PAW_AGENT_ID: "supervisor",
      GIT_PAW_BROKER_URL: b.url,
    };
    const refused = await paw(t.repo, ["publish", "status", "watching"], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /403: agent credential required/);
    const ok = await paw(t.repo, ["publish", "status", "watching"], {
      ...env,
      GIT_PAW_AGENT_KEY_FILE: supervisorKeyPath(dataDir),
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      (await stored(b)).map((m) => m.agent_id),
      ["supervisor"],
    );
    const bad = await paw(t.repo, ["publish", "status", "x"], {
      ...env,
      GIT_PAW_AGENT_KEY_FILE: join(dataDir, "nope"),
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /GIT_PAW_AGENT_KEY_FILE names .* no agent key/);
  } finally {
    await b.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the broker's outbox ingestion takes only the worktree's own agent's messages", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/d");
  await setup(t, wt, "feat/d", deadUrl());
  const gd = await gitDirOf(wt);
  // What a rogue process left in feat-d's outbox: one of its own, one
  // speaking for another agent.
  const line = (agent: string, id: string) =>
    JSON.stringify({
      type: "agent.status",
      agent_id: agent,
      payload: { status: "working" },
      msg_id: id,
    });
  await Deno.writeTextFile(
    join(gd, OUTBOX_FILE),
    `${line("feat-d", "m1")}\n${line("feat-x", "m2")}\n`,
    { mode: 0o600 },
  );
  const dataDir = await Deno.makeTempDir({ prefix: "paw-cred-send-" });
  try {
    const b = await credBroker(dataDir, { "feat-d": wt }, { outbox: true });
    try {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const left = await Deno.readTextFile(join(gd, OUTBOX_FILE)).catch(
          () => "",
        );
        if (left === "") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(
        (await stored(b)).map((m) => m.agent_id),
        ["feat-d"],
      );
    } finally {
      await b.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
  assert.ok((await Deno.stat(agentKeyPath(gd))).isFile);
});
