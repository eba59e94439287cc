/**
 * `git paw merge`: the merge queue over real repos, run as a user runs it
 * (stdin not a terminal), with a real broker where the test needs one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Broker } from "../../lib/broker/api.ts";
import {
  CALLER,
  DOCS,
  makeReviewRepo,
  RENAME,
  type ReviewRepo,
} from "./review_fixture.ts";
import { testBroker } from "../_helpers/broker.ts";

type Msg = {
  type: string;
  agent_id?: string;
  from?: string;
  merged_branch?: string;
  new_main_sha?: string;
  base?: string;
  payload?: { errors?: string[]; from?: string };
};

async function logOf(broker: Broker): Promise<Msg[]> {
  const r = await fetch(`${broker.url}/log?since=0`);
  return ((await r.json()) as { entries: Array<{ message: Msg }> }).entries
    .map((e) => e.message);
}

async function withBroker(r: ReviewRepo): Promise<Broker & AsyncDisposable> {
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
  await r.writeReceipt({ broker_port: broker.port, broker_bind: "127.0.0.1" });
  return broker;
}

const T = (n: number) => `2026-01-01T00:00:0${n}Z`;

Deno.test("git paw merge takes the green branches, leaves out the one that breaks the combination, exits 1; main stays green and the checkout clean", async () => {
  await using r = await makeReviewRepo(["docs", "rename", "caller"]);
  await r.commit(r.worktrees.docs!, DOCS, "notes", T(1));
  await r.commit(r.worktrees.rename!, RENAME, "rename greet to salute", T(2));
  const callerTip = await r.commit(
    r.worktrees.caller!,
    CALLER,
    "welcome calls greet",
    T(3),
  );
  await using broker = await withBroker(r);

  const dry = await r.paw(["merge", "--dry-run"]);
  assert.equal(dry.code, 1, dry.stderr);
  const mainBefore = await r.git(["rev-parse", "main"]);
  assert.equal(
    await r.git(["rev-parse", "HEAD"]),
    mainBefore,
    "dry run moved nothing",
  );

  const out = await r.paw(["merge"]);
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.match(
    out.stdout,
    /merge queue into main \(3 branches: docs, rename, caller\)/,
  );
  assert.match(out.stdout, /✓ docs: merged \(fast-forward\)/);
  assert.match(out.stdout, /✓ rename: merged → [0-9a-f]{12}/);
  assert.match(
    out.stdout,
    /✗ caller: the merged result fails `sh -c \.\/check\.sh` \(exit 1\)\n.*greet: not found/,
  );
  assert.match(
    out.stderr,
    /1 branch left out: caller: the merged result fails/,
  );
  assert.match(out.stdout, /the checkout in .* moved with it/);

  // main has docs and rename, not caller; it passes its tests; clean.
  const main = await r.git(["rev-parse", "main"]);
  assert.notEqual(main, mainBefore);
  assert.equal(await r.git(["rev-parse", "HEAD"]), main);
  assert.equal(await r.git(["status", "--porcelain"]), "");
  assert.ok(await Deno.stat(join(r.repo, "docs/notes.md")));
  assert.match(await Deno.readTextFile(join(r.repo, "src/lib.sh")), /salute/);
  assert.equal(
    (await r.gitOut(["merge-base", "--is-ancestor", callerTip, "main"])).code,
    1,
  );
  const check = await new Deno.Command("sh", {
    args: ["-c", "./check.sh"],
    cwd: r.repo,
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(check.code, 0, "main passes its tests");
  // No force: the old main is an ancestor of the new.
  assert.equal(
    (await r.gitOut(["merge-base", "--is-ancestor", mainBefore, main])).code,
    0,
  );

  // The agents heard: advanced-main per merge, feedback to the left-out one.
  const log = await logOf(broker);
  assert.deepEqual(
    log.filter((m) => m.type === "agent.advanced-main").map((m) => [
      m.merged_branch,
      m.base,
    ]),
    [["docs", "main"], ["rename", "main"]],
  );
  assert.equal(
    log.filter((m) => m.type === "agent.advanced-main").at(-1)!.new_main_sha,
    main,
  );
  const fb = log.filter((m) => m.type === "agent.feedback");
  assert.deepEqual(fb.map((m) => m.agent_id), ["caller"]);
  assert.match(
    fb[0]!.payload!.errors![0]!,
    /left out of the merge into main.*\n.*greet: not found/s,
  );

  // A second run: the merged ones are already in, caller still fails.
  const again = await r.paw(["merge"]);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /= docs: already in main/);

  // purge no longer warns about the merged branches, only about caller.
  const purge = await r.paw(["purge", "--force"]);
  assert.equal(purge.code, 0, purge.stderr);
  assert.match(
    purge.stderr,
    /1 branch\(es\) have unmerged commits:\n {2}caller: 1 commit/,
  );
  assert.doesNotMatch(purge.stderr, /docs:|rename:/);
  // The scratch worktrees went with the session.
  assert.equal(
    (await r.git(["worktree", "list", "--porcelain"])).match(/^worktree /gm)
      ?.length,
    1,
  );
  await assert.rejects(
    Deno.stat(join(r.repo, ".git", "paw-integration")),
    Deno.errors.NotFound,
  );
});

Deno.test("git paw merge follows blocked-on relations, and moves only the ref when the checkout is elsewhere", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  await r.commit(r.worktrees["feat-a"]!, { "a.txt": "a\n" }, "a", T(1));
  await r.commit(r.worktrees["feat-b"]!, { "b.txt": "b\n" }, "b", T(2));
  await using broker = await withBroker(r);
  // feat-a (older) needs feat-b's work: feat-b goes first.
  const p = await broker.publish({
    type: "agent.blocked",
    agent_id: "feat-a",
    payload: { needs: "the b API", from: "feat-b" },
  });
  assert.ok(p.ok);
  await r.git(["switch", "-q", "-c", "elsewhere"]);
  const out = await r.paw(["merge"]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /2 branches: feat-b, feat-a/);
  assert.match(out.stdout, /only the branch moved/);
  assert.equal(await r.git(["branch", "--show-current"]), "elsewhere");
  assert.equal(await r.git(["status", "--porcelain"]), "");
  const files = await r.git(["ls-tree", "-r", "--name-only", "main"]);
  assert.match(files, /a\.txt/);
  assert.match(files, /b\.txt/);
});

Deno.test("git paw merge leaves out a textual conflict, and never moves a dirty checkout", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  await r.commit(
    r.worktrees["feat-a"]!,
    {
      "README.md": "# proj\n\nline two by a\n",
    },
    "a",
    T(1),
  );
  await r.commit(
    r.worktrees["feat-b"]!,
    {
      "README.md": "# proj\n\nline two by b\n",
    },
    "b",
    T(2),
  );
  await Deno.writeTextFile(join(r.repo, "check.sh"), "#!/bin/sh\nexit 0\n");
  const before = await r.git(["rev-parse", "main"]);
  const out = await r.paw(["merge", "--only", "feat-a,feat-b"]);
  assert.equal(out.code, 1);
  assert.match(out.stdout, /✗ feat-b: conflicts with the target in README\.md/);
  assert.match(
    out.stdout,
    /✓ feat-a: passes \(main not moved\) \(fast-forward\)/,
  );
  assert.match(
    out.stderr,
    /main was not moved: main is checked out in .* with uncommitted changes \(check\.sh\)/,
  );
  assert.equal(await r.git(["rev-parse", "main"]), before);
  assert.equal(
    await Deno.readTextFile(join(r.repo, "check.sh")),
    "#!/bin/sh\nexit 0\n",
  );
});

Deno.test("git paw merge --only names unknown agents and exits 2", async () => {
  await using r = await makeReviewRepo(["feat-a"]);
  const out = await r.paw(["merge", "--only", "nope"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /no agent 'nope'/);
});
