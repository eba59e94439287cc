/**
 * The supervisor's gates inside a real broker (127.0.0.1, port 0) over a
 * real git repo: a committed artifact runs `[supervisor] test_command` in a
 * scratch worktree at that commit; a pass is `agent.verified`, a failure
 * `agent.feedback` to the agent with the output's tail; the supervisor is
 * nudged (`supervisor.verify-now` in its inbox); the agent's worktree is
 * never touched and the scratch worktree is gone afterwards; a newer commit
 * wins over a running check; a hanging gate times out.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../../lib/broker/server.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { gatePlugin, type GateRunner } from "../../lib/coord/gate_plugin.ts";
import { gatesOf } from "../../lib/core/gates.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { git, type TempRepo, tempRepo } from "./plugins_helpers.ts";

type Msg = {
  type: string;
  agent_id?: string;
  branch_id?: string;
  payload?: { errors?: string[]; verified_by?: string; message?: string };
};

async function inbox(broker: Broker, agent: string): Promise<Msg[]> {
  const r = await fetch(`${broker.url}/messages/${agent}?since=0`);
  return (await r.json() as { messages: Msg[] }).messages;
}

async function log(broker: Broker): Promise<Msg[]> {
  return (await broker.logSince(0, 10_000)).map((e) => e.message as Msg);
}

/** The check the gate runs: `status.txt` must say PASS; `slow` makes it slow. */
const CHECK = `#!/bin/sh
if [ -f slow ]; then sleep 10; fi
if [ -f hang ]; then sleep 30; fi
echo "checking status.txt"
if grep -q PASS status.txt; then echo "all good"; exit 0; fi
echo "status.txt says: $(cat status.txt)"
echo "GATE-FAILED: expected PASS"
exit 3
`;

async function gateWorld(
  opts: { timeoutMs?: number } = {},
): Promise<
  {
    r: TempRepo;
    wt: string;
    broker: Broker;
    runner: GateRunner;
    stateDir: string;
  } & AsyncDisposable
> {
  const r = await tempRepo(1);
  await Deno.writeTextFile(join(r.repo, "check.sh"), CHECK, { mode: 0o755 });
  await git(r.repo, "add", "check.sh");
  await git(r.repo, "commit", "-qm", "check");
  const wt = r.worktrees[0]!.path;
  await git(wt, "merge", "-q", "--ff-only", "main");
  const stateDir = join(r.root, "state");
  const config = defaultConfig();
  config.supervisor.test_command = "sh check.sh";
  let runner: GateRunner | null = null;
  const broker = await startBroker({
    port: 0,
    dataDir: join(r.root, "broker"),
    session: "paw-gates",
    quiet: true,
    seed: [{ agent_id: "feat-a", worktree_path: wt, cli: "demo" }],
    republishWorkingTtlSeconds: 60,
    verifyOnCommitNudge: true,
    plugins: [
      gatePlugin({
        repo: r.repo,
        stateDir,
        gates: gatesOf(config).gates,
        timeoutMs: opts.timeoutMs ?? 60_000,
        log: () => {},
      }, (g) => runner = g),
    ],
  });
  return {
    r,
    wt,
    broker,
    runner: runner!,
    stateDir,
    async [Symbol.asyncDispose]() {
      await broker.close();
      await r[Symbol.asyncDispose]();
    },
  };
}

/** Commit `files` in the agent's worktree and report it as the hook does. */
async function commitAndReport(
  w: { wt: string; broker: Broker },
  files: Record<string, string | null>,
  msg: string,
): Promise<string> {
  for (const [f, text] of Object.entries(files)) {
    if (text === null) await git(w.wt, "rm", "-q", f);
    else {
      await Deno.writeTextFile(join(w.wt, f), text);
      await git(w.wt, "add", f);
    }
  }
  await git(w.wt, "commit", "-qm", msg);
  const commit = (await git(w.wt, "rev-parse", "HEAD")).trim();
  const r = await w.broker.publish({
    type: "agent.artifact",
    agent_id: "feat-a",
    payload: {
      status: "committed",
      exports: [],
      modified_files: Object.keys(files),
      commit,
    },
  });
  assert.ok(r.ok);
  return commit;
}

async function results(runner: GateRunner, n: number) {
  for (let i = 0; i < 2400 && runner.results.length < n; i++) {
    await new Promise((ok) => setTimeout(ok, 25));
  }
  await runner.settled();
  assert.ok(runner.results.length >= n, `${runner.results.length} results`);
  return runner.results;
}

Deno.test("gates: a passing commit is agent.verified, a failing one agent.feedback with the output; the supervisor is nudged", async () => {
  await using w = await gateWorld();
  // The agent's own uncommitted work, which the gate must never touch.
  await Deno.writeTextFile(join(w.wt, "scratch-notes.txt"), "mine\n");
  await Deno.writeTextFile(join(w.wt, "README.md"), "edited, not staged\n");
  const before = await git(w.wt, "status", "--porcelain");

  const good = await commitAndReport(w, { "status.txt": "PASS\n" }, "pass");
  const [first] = await results(w.runner, 1);
  assert.equal(first!.outcome, "verified", first!.detail);
  const verified = (await log(w.broker)).filter((m) =>
    m.type === "agent.verified"
  );
  assert.equal(verified.length, 1);
  assert.equal(verified[0]!.agent_id, "feat-a");
  assert.equal(verified[0]!.payload!.verified_by, "git-paw-gate");
  assert.match(verified[0]!.payload!.message!, /test_command passed/);
  assert.ok(verified[0]!.payload!.message!.includes(good.slice(0, 12)));
  // The supervisor heard about the commit and about the verdict.
  const sup = await inbox(w.broker, "supervisor");
  assert.ok(
    sup.some((m) =>
      m.type === "supervisor.verify-now" &&
      m.branch_id === "feat-a"
    ),
    JSON.stringify(sup),
  );
  assert.ok(sup.some((m) => m.type === "agent.verified"));

  const bad = await commitAndReport(w, { "status.txt": "FAIL\n" }, "fail");
  const all = await results(w.runner, 2);
  assert.equal(all[1]!.outcome, "feedback");
  const fb = (await inbox(w.broker, "feat-a")).filter((m) =>
    m.type === "agent.feedback"
  );
  assert.equal(fb.length, 1);
  const text = fb[0]!.payload!.errors![0]!;
  assert.match(
    text,
    /^\[git-paw-gate\] test_command `sh check\.sh` failed \(exit 3\)/,
  );
  assert.ok(text.includes(bad.slice(0, 12)), text);
  assert.match(text, /status\.txt says: FAIL\nGATE-FAILED: expected PASS/);

  // Nothing of the agent's changed; the scratch worktrees are gone.
  assert.equal(await git(w.wt, "status", "--porcelain"), before);
  assert.equal(
    await Deno.readTextFile(join(w.wt, "scratch-notes.txt")),
    "mine\n",
  );
  const list = await git(w.r.repo, "worktree", "list", "--porcelain");
  assert.ok(!list.includes(w.stateDir), list);
  const left = [];
  for await (const e of Deno.readDir(join(w.stateDir, "gates"))) left.push(e);
  assert.deepEqual(left, []);
});

Deno.test("gates: a newer commit aborts the running check and wins; a commit is gated once", async () => {
  await using w = await gateWorld();
  const slow = await commitAndReport(
    w,
    { "status.txt": "PASS\n", "slow": "1\n" },
    "slow",
  );
  // Reported twice (hook and watcher): one run.
  await w.broker.publish({
    type: "supervisor.verify-now",
    branch_id: "feat-a",
  });
  await new Promise((ok) => setTimeout(ok, 300));
  const fast = await commitAndReport(w, { "slow": null }, "fast");
  const all = await results(w.runner, 2);
  assert.deepEqual(
    all.map((r) => [r.outcome, r.commit]),
    [["aborted", slow], ["verified", fast]],
  );
  const verified = (await log(w.broker)).filter((m) =>
    m.type === "agent.verified"
  );
  assert.equal(verified.length, 1);
  assert.ok(verified[0]!.payload!.message!.includes(fast.slice(0, 12)));
});

Deno.test("gates: scratch worktrees left by a crashed broker are removed when the gates start", async () => {
  await using w0 = await gateWorld();
  await w0.broker.close();
  // A crash mid-run: a registered scratch worktree under gates/.
  const stale = join(w0.stateDir, "gates", "feat-a-1-deadbeef");
  await git(w0.r.repo, "worktree", "add", "-q", "--detach", stale, "main");
  const config = defaultConfig();
  config.supervisor.test_command = "sh check.sh";
  let runner: GateRunner | null = null;
  const broker = await startBroker({
    port: 0,
    dataDir: join(w0.r.root, "broker2"),
    session: "paw-gates",
    quiet: true,
    plugins: [gatePlugin({
      repo: w0.r.repo,
      stateDir: w0.stateDir,
      gates: gatesOf(config).gates,
      timeoutMs: 60_000,
      log: () => {},
    }, (g) => runner = g)],
  });
  try {
    await runner!.settled();
    const list = await git(w0.r.repo, "worktree", "list", "--porcelain");
    assert.ok(!list.includes(stale), list);
    assert.equal(
      await Deno.stat(stale).then(() => true, () => false),
      false,
    );
  } finally {
    await broker.close();
  }
});

Deno.test("gates: a gate that hangs is stopped at the timeout and reported", async () => {
  await using w = await gateWorld({ timeoutMs: 1500 });
  await commitAndReport(w, { "status.txt": "PASS\n", "hang": "1\n" }, "hang");
  const [r] = await results(w.runner, 1);
  assert.equal(r!.outcome, "feedback");
  assert.match(r!.detail, /test_command `sh check\.sh` timed out/);
});
