/**
 * The integration lane inside a real broker (127.0.0.1, port 0) over real
 * git repos: the union of the live branches merged with merge-tree, the
 * test command run in the scratch worktree, feedback read back over HTTP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Broker } from "../../lib/broker/api.ts";
import {
  IntegrationLane,
  integrationStatusPath,
} from "../../lib/coord/integration_plugin.ts";
import { IntegrationStatus } from "../../lib/core/integration.ts";
import { scratchRoot } from "../../lib/adapters/git_merge.ts";
import {
  CALLER,
  checkScript,
  DOCS,
  makeReviewRepo,
  RENAME,
  type ReviewRepo,
} from "../session/review_fixture.ts";
import { testBroker } from "../_helpers/broker.ts";

type Msg = { type: string; agent_id?: string; payload?: { errors?: string[] } };

async function feedbackTo(broker: Broker, agent: string): Promise<string[]> {
  const r = await fetch(`${broker.url}/messages/${agent}?since=0`);
  const body = await r.json() as { messages: Msg[] };
  return body.messages.flatMap((m) =>
    m.type === "agent.feedback" ? m.payload?.errors ?? [] : []
  );
}

async function committed(broker: Broker, agent: string): Promise<void> {
  const r = await broker.publish({
    type: "agent.artifact",
    agent_id: agent,
    payload: { status: "committed", exports: [], modified_files: [] },
  });
  assert.ok(r.ok);
}

/** Wait until the lane has finished `n` checks and is idle. */
async function checked(lane: IntegrationLane, n: number): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (lane.completed >= n && !lane.busy) return await lane.settled();
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`lane did not finish ${n} checks: ${lane.completed}`);
}

async function laneOn(
  r: ReviewRepo,
  testArgv: string[] | null,
): Promise<{ broker: Broker; lane: IntegrationLane } & AsyncDisposable> {
  const broker = await testBroker({
    dataDir: join(r.root, "broker"),
    session: r.session,
    seed: Object.entries(r.worktrees).map(([b, p]) => ({
      agent_id: b,
      worktree_path: p,
      cli: "demo",
    })),
    republishWorkingTtlSeconds: 60,
  });
  const lane = new IntegrationLane(broker, {
    repo: r.repo,
    testArgv,
    timeoutMs: 30_000,
    log: () => {},
  });
  await lane.start();
  return {
    broker,
    lane,
    async [Symbol.asyncDispose]() {
      await lane.close();
      await broker.close();
    },
  };
}

Deno.test("integration lane warns exactly the two branches that fail together, naming each other; the cache skips a second run", async () => {
  await using r = await makeReviewRepo(["rename", "caller", "docs"]);
  await r.commit(r.worktrees.rename!, RENAME, "rename greet to salute");
  await r.commit(r.worktrees.caller!, CALLER, "welcome calls greet");
  await r.commit(r.worktrees.docs!, DOCS, "notes");
  const before = await r.git(["status", "--porcelain"]);
  const head = await r.git(["rev-parse", "HEAD"]);
  await using l = await laneOn(r, ["sh", "-c", "./check.sh"]);
  await committed(l.broker, "caller");
  await checked(l.lane, 1);

  const st = l.lane.status;
  assert.equal(st.state, "failing");
  assert.deepEqual(
    st.findings.map((f) => [f.kind, f.agents]),
    [["test", ["caller", "rename"]]],
  );
  const toRename = await feedbackTo(l.broker, "rename");
  const toCaller = await feedbackTo(l.broker, "caller");
  assert.equal(toRename.length, 1);
  assert.equal(toCaller.length, 1);
  assert.match(toRename[0]!, /^\[integration\] combined test failure/);
  assert.match(toRename[0]!, /caller \(caller\)/);
  assert.match(toCaller[0]!, /rename \(rename\)/);
  assert.match(toCaller[0]!, /greet: not found/);
  assert.deepEqual(await feedbackTo(l.broker, "docs"), []);
  // union, each alone (3), the three pairs.
  assert.equal(await r.runs(), 7);
  assert.equal(st.test_runs, 7);

  // The same trees again: every result from the cache, nothing re-told.
  await committed(l.broker, "docs");
  await checked(l.lane, 2);
  assert.equal(await r.runs(), 7);
  assert.ok(l.lane.status.cache_hits >= 7, `${l.lane.status.cache_hits}`);
  assert.equal((await feedbackTo(l.broker, "rename")).length, 1);

  // The status file is what `integrate --status` reads; owner-only.
  const file = integrationStatusPath(await scratchRoot(r.repo));
  const onDisk = IntegrationStatus.parse(
    JSON.parse(await Deno.readTextFile(file)),
  );
  assert.equal(onDisk.state, "failing");
  assert.equal((await Deno.stat(file)).mode! & 0o077, 0);
  const text = await r.paw(["integrate", "--status"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /integration: ✗ caller\+rename fail/);
  assert.match(
    text.stdout,
    /✗ caller \+ rename: fail together\n.*greet: not found/,
  );
  const json = await r.paw(["integrate", "--json"]);
  assert.equal(JSON.parse(json.stdout).state, "failing");
  // The user's checkout is untouched.
  assert.equal(await r.git(["status", "--porcelain"]), before);
  assert.equal(await r.git(["rev-parse", "HEAD"]), head);
});

Deno.test("integration lane reports a textual conflict to both agents with the files", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b", "feat-c"]);
  await r.commit(r.worktrees["feat-a"]!, {
    "README.md": "# proj\n\nline two by a\n",
  }, "a");
  await r.commit(r.worktrees["feat-b"]!, {
    "README.md": "# proj\n\nline two by b\n",
  }, "b");
  await r.commit(r.worktrees["feat-c"]!, DOCS, "c");
  await using l = await laneOn(r, null);
  await committed(l.broker, "feat-b");
  await checked(l.lane, 1);
  assert.equal(l.lane.status.state, "conflict");
  assert.deepEqual(l.lane.status.findings, [{
    kind: "conflict",
    agents: ["feat-a", "feat-b"],
    files: ["README.md"],
    lines: [],
  }]);
  const a = await feedbackTo(l.broker, "feat-a");
  const b = await feedbackTo(l.broker, "feat-b");
  assert.equal(a.length, 1);
  assert.match(
    a[0]!,
    /textual conflict: your branch feat-a and agent feat-b's branch feat-b do not merge: README\.md/,
  );
  assert.match(b[0]!, /agent feat-a's branch feat-a/);
  assert.deepEqual(await feedbackTo(l.broker, "feat-c"), []);
});

Deno.test("integration lane: a commit during a running check supersedes it (its test is killed)", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  // A slow test while slow.flag is in the tree.
  const slow = checkScript(
    r.runsLog,
    "if [ -f slow.flag ]; then sleep 20; fi",
  );
  await r.commit(r.repo, { "check.sh": slow }, "slow mode");
  for (const w of Object.values(r.worktrees)) {
    await r.git(["merge", "-q", "--ff-only", "main"], w);
  }
  await r.commit(r.worktrees["feat-a"]!, { "slow.flag": "1\n" }, "slow");
  await r.commit(r.worktrees["feat-b"]!, DOCS, "docs");
  await using l = await laneOn(r, ["sh", "-c", "./check.sh"]);
  const t0 = Date.now();
  await committed(l.broker, "feat-a");
  for (let i = 0; i < 200 && await r.runs() === 0; i++) {
    await new Promise((ok) => setTimeout(ok, 25));
  }
  assert.equal(await r.runs(), 1, "the slow check started");
  assert.equal(l.lane.status.state, "running");
  const fixed = await r.commit(
    r.worktrees["feat-a"]!,
    { "slow.flag": null, "a.txt": "a\n" },
    "fast again",
  );
  await committed(l.broker, "feat-a");
  await checked(l.lane, 1);
  assert.ok(Date.now() - t0 < 15_000, "the slow test was not waited for");
  const st = l.lane.status;
  assert.equal(st.superseded, 1);
  assert.equal(st.state, "green");
  assert.equal(
    st.agents.find((a) => a.agent === "feat-a")?.commit,
    fixed,
  );
  assert.equal(st.union_tree !== null, true);
  assert.equal(st.test_runs, 2);
});

Deno.test("coordinationPlugins() runs the lane with [integration] test_command; GET /integration shows its line", async () => {
  const { coordinationPlugins } = await import("../../lib/coord/plugins.ts");
  const { ConfigSchema } = await import("../../lib/core/config.ts");
  await using r = await makeReviewRepo(["rename", "caller"]);
  await r.commit(r.worktrees.rename!, RENAME, "rename");
  await r.commit(r.worktrees.caller!, CALLER, "caller");
  const config = ConfigSchema.parse({
    integration: { test_command: "sh -c ./check.sh" },
  });
  const broker = await testBroker({
    dataDir: join(r.root, "broker"),
    session: r.session,
    seed: Object.entries(r.worktrees).map(([b, p]) => ({
      agent_id: b,
      worktree_path: p,
      cli: "demo",
    })),
    republishWorkingTtlSeconds: 60,
    plugins: coordinationPlugins({ repo: r.repo, session: r.session, config }),
  });
  try {
    await committed(broker, "rename");
    let body: { state?: string; line?: string } = {};
    for (let i = 0; i < 1200 && body.state !== "failing"; i++) {
      await new Promise((ok) => setTimeout(ok, 25));
      body = await (await fetch(`${broker.url}/integration`)).json();
    }
    assert.equal(body.state, "failing");
    assert.equal(body.line, "integration: ✗ caller+rename fail");
    const fb = await feedbackTo(broker, "caller");
    assert.equal(fb.length, 1);
    assert.match(fb[0]!, /\[integration\] combined test failure.*rename/);
  } finally {
    await broker.close();
  }
});

Deno.test("integration lane: what a test leaves in the scratch worktree is gone before the next run", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  const messy = checkScript(
    r.runsLog,
    [
      'grep -q polluted README.md && { echo "FAIL: tracked file left changed"; exit 1; }',
      '[ -e left.tmp ] && { echo "FAIL: untracked file left"; exit 1; }',
      "echo polluted >> README.md; touch left.tmp",
    ].join("\n"),
  );
  await r.commit(r.repo, { "check.sh": messy }, "messy tests");
  for (const w of Object.values(r.worktrees)) {
    await r.git(["merge", "-q", "--ff-only", "main"], w);
  }
  await r.commit(r.worktrees["feat-a"]!, DOCS, "docs");
  await using l = await laneOn(r, ["sh", "-c", "./check.sh"]);
  await committed(l.broker, "feat-a");
  await checked(l.lane, 1);
  assert.equal(l.lane.status.state, "green");
  await r.commit(r.worktrees["feat-b"]!, { "b.txt": "b\n" }, "b");
  await committed(l.broker, "feat-b");
  await checked(l.lane, 2);
  assert.equal(l.lane.status.state, "green", JSON.stringify(l.lane.status));
  assert.equal(l.lane.status.test_runs, 2);
});

Deno.test("integration lane follows an agent that switches its worktree to another branch (from the next check on)", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  await r.commit(r.worktrees["feat-a"]!, {
    "README.md": "# proj\n\nline two by a\n",
  }, "a");
  await r.commit(r.worktrees["feat-b"]!, DOCS, "b");
  await using l = await laneOn(r, null);
  await committed(l.broker, "feat-b");
  await checked(l.lane, 1);
  assert.equal(l.lane.status.state, "green");
  // feat-b's worktree moves to a branch that conflicts with feat-a.
  await r.git(["switch", "-q", "-c", "feat-b2", "main"], r.worktrees["feat-b"]);
  await r.commit(r.worktrees["feat-b"]!, {
    "README.md": "# proj\n\nline two by b2\n",
  }, "b2");
  await committed(l.broker, "feat-b");
  await checked(l.lane, 2);
  await committed(l.broker, "feat-b");
  await checked(l.lane, 3);
  assert.equal(l.lane.status.state, "conflict");
  assert.deepEqual(
    l.lane.status.agents.map((a) => [a.agent, a.branch]),
    [["feat-a", "feat-a"], ["feat-b", "feat-b2"]],
  );
});
