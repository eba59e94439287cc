import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  removeSessionHooks,
  setupAgentWorktree,
  teardownAgentWorktree,
} from "../../lib/coord/setup.ts";
import {
  HOOK_BLOCK_START,
  PUSH_REFUSAL,
  USER_HOOK_SUFFIX,
} from "../../lib/coord/hooks.ts";
import { type Config, defaultConfig } from "../../lib/core/config.ts";
import type { LogEntry } from "../../lib/broker/api.ts";
import {
  addWorktree,
  deadUrl,
  git,
  MAIN_TS,
  run,
  SELF,
  status,
  tempBroker,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";

function setup(
  t: TempRepo,
  wt: string,
  branch: string,
  brokerUrl: string | null,
  config: Config = defaultConfig(),
) {
  return setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: branch, worktree: wt, cli: "demo" }),
    brokerUrl,
    peers: [],
    config,
    hookSelf: SELF,
    warn: () => {},
  });
}

function artifacts(entries: LogEntry[]) {
  return entries.map((e) => e.message).filter((m) =>
    m.type === "agent.artifact"
  );
}

async function commitAll(cwd: string, msg: string) {
  await git(cwd, "add", "-A");
  return await run("git", ["commit", "-q", "-m", msg], cwd);
}

Deno.test("post-commit hook publishes hostile file names intact", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/names");
  await setup(t, wt, "feat/names", broker.url);
  const names = [
    'a "quoted".txt',
    "with space.md",
    "ünï.txt",
    "new\nline.txt",
    "back\\slash 'single'.txt",
  ];
  for (const n of names) await Deno.writeTextFile(join(wt, n), "x\n");
  const r = await commitAll(wt, "hostile names");
  assert.equal(r.code, 0, r.stderr);
  const arts = artifacts(await broker.logSince(0));
  assert.equal(arts.length, 1);
  const m = arts[0];
  assert.equal(m.type, "agent.artifact");
  if (m.type !== "agent.artifact") return;
  assert.equal(m.agent_id, "feat-names");
  assert.equal(m.payload.status, "committed");
  assert.deepEqual(m.payload.exports, []);
  assert.deepEqual([...m.payload.modified_files].sort(), [...names].sort());
  assert.equal(m.payload.commit, (await git(wt, "rev-parse", "HEAD")).trim());
  assert.equal(await status(wt), "");
});

Deno.test("post-commit hook publishes a root commit's files", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo({ empty: true });
  await setup(t, t.repo, "main", broker.url);
  await Deno.writeTextFile(join(t.repo, "first.txt"), "1\n");
  await Deno.mkdir(join(t.repo, "dir"));
  await Deno.writeTextFile(join(t.repo, "dir", "second.txt"), "2\n");
  const r = await commitAll(t.repo, "root");
  assert.equal(r.code, 0, r.stderr);
  const arts = artifacts(await broker.logSince(0));
  assert.equal(arts.length, 1);
  const m = arts[0];
  if (m.type !== "agent.artifact") throw new Error("not an artifact");
  assert.deepEqual([...m.payload.modified_files].sort(), [
    "dir/second.txt",
    "first.txt",
  ]);
});

Deno.test("hooks do nothing in the main checkout, which has no marker", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/x");
  await setup(t, wt, "feat/x", broker.url);
  await Deno.writeTextFile(join(t.repo, "main-only.txt"), "m\n");
  const r = await commitAll(t.repo, "main work");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(artifacts(await broker.logSince(0)), []);
});

Deno.test("pre-push hook refuses in an agent worktree but not in the main checkout", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const remote = join(t.root, "remote.git");
  await git(t.root, "init", "-q", "--bare", remote);
  await git(t.repo, "remote", "add", "origin", remote);
  const wt = await addWorktree(t, "feat/push");
  await setup(t, wt, "feat/push", broker.url);
  const refused = await run("git", ["push", "-q", "origin", "feat/push"], wt);
  assert.equal(refused.code, 1);
  assert.ok(refused.stderr.includes(PUSH_REFUSAL), refused.stderr);
  assert.equal((await git(remote, "branch", "--list")).trim(), "");
  const ok = await run("git", ["push", "-q", "origin", "main"], t.repo);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("pre-commit guard refuses a commit on another branch, naming both and the override", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/guard");
  await setup(t, wt, "feat/guard", broker.url);
  await git(wt, "switch", "-q", "-c", "elsewhere");
  await Deno.writeTextFile(join(wt, "g.txt"), "g\n");
  const r = await commitAll(wt, "wrong branch");
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes("'feat/guard'"), r.stderr);
  assert.ok(r.stderr.includes("'elsewhere'"), r.stderr);
  assert.ok(r.stderr.includes("strict_branch_guard = false"), r.stderr);
  assert.equal(
    (await git(wt, "log", "--oneline")).split("\n").length,
    2,
    "no commit made",
  );
  // with the guard off, the commit goes through and the agent gets branch feedback
  const relaxed = defaultConfig();
  relaxed.supervisor.strict_branch_guard = false;
  await setup(t, wt, "feat/guard", broker.url, relaxed);
  const ok = await run("git", ["commit", "-q", "-m", "allowed"], wt);
  assert.equal(ok.code, 0, ok.stderr);
  const msgs = (await broker.logSince(0)).map((e) => e.message);
  const fb = msgs.find((m) => m.type === "agent.feedback");
  assert.ok(fb && fb.type === "agent.feedback");
  assert.equal(fb.agent_id, "feat-guard");
  assert.equal(fb.payload.from, "branch-guard");
});

Deno.test("a user's existing hook still runs, and purge puts it back unchanged", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const hooks = join(t.repo, ".git", "hooks");
  const userHook =
    '#!/bin/sh\necho "user hook ran $(basename "$PWD")" >> "$(git rev-parse --git-common-dir)/user-hook.log"\nexit 0\n';
  await Deno.writeTextFile(join(hooks, "post-commit"), userHook);
  await Deno.chmod(join(hooks, "post-commit"), 0o755);
  const wt = await addWorktree(t, "feat/chain");
  await setup(t, wt, "feat/chain", broker.url);
  await setup(t, wt, "feat/chain", broker.url); // idempotent: never moves ours aside
  assert.equal(
    await Deno.readTextFile(join(hooks, "post-commit" + USER_HOOK_SUFFIX)),
    userHook,
  );
  await Deno.writeTextFile(join(wt, "c.txt"), "c\n");
  assert.equal((await commitAll(wt, "agent")).code, 0);
  await Deno.writeTextFile(join(t.repo, "m.txt"), "m\n");
  assert.equal((await commitAll(t.repo, "main")).code, 0);
  const log = await Deno.readTextFile(join(t.repo, ".git", "user-hook.log"));
  assert.equal(log, "user hook ran feat-chain\nuser hook ran repo\n");
  assert.equal(artifacts(await broker.logSince(0)).length, 1);
  await removeSessionHooks(t.repo);
  assert.equal(await Deno.readTextFile(join(hooks, "post-commit")), userHook);
  for (const name of ["pre-commit", "pre-push"]) {
    await assert.rejects(Deno.stat(join(hooks, name)), Deno.errors.NotFound);
  }
  await assert.rejects(
    Deno.stat(join(hooks, "post-commit" + USER_HOOK_SUFFIX)),
    Deno.errors.NotFound,
  );
});

Deno.test("hooks go to an absolute core.hooksPath when set", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const dir = join(t.root, "shared-hooks");
  await git(t.repo, "config", "core.hooksPath", dir);
  const wt = await addWorktree(t, "feat/hp");
  await setup(t, wt, "feat/hp", broker.url);
  assert.ok(
    (await Deno.readTextFile(join(dir, "post-commit"))).includes(
      HOOK_BLOCK_START,
    ),
  );
  await assert.rejects(
    Deno.stat(join(t.repo, ".git", "hooks", "post-commit")),
    Deno.errors.NotFound,
  );
  await Deno.writeTextFile(join(wt, "h.txt"), "h\n");
  assert.equal((await commitAll(wt, "hp")).code, 0);
  assert.equal(artifacts(await broker.logSince(0)).length, 1);
  await removeSessionHooks(t.repo);
  await assert.rejects(
    Deno.stat(join(dir, "post-commit")),
    Deno.errors.NotFound,
  );
});

Deno.test("a relative core.hooksPath gets hooks inside the worktree without dirtying it", async () => {
  await using broker = await tempBroker();
  const userHook = "#!/bin/sh\ntouch user-pre-commit-ran\n";
  await using t = await tempRepo({
    files: { ".githooks/pre-commit": userHook, "README.md": "r\n" },
  });
  await Deno.chmod(join(t.repo, ".githooks", "pre-commit"), 0o755);
  await git(t.repo, "config", "core.hooksPath", ".githooks");
  await git(t.repo, "update-index", "--chmod=+x", ".githooks/pre-commit");
  await git(t.repo, "commit", "-q", "-m", "exec bit");
  const wt = await addWorktree(t, "feat/rel");
  await setup(t, wt, "feat/rel", broker.url);
  assert.ok(
    (await Deno.readTextFile(join(wt, ".githooks", "post-commit"))).includes(
      HOOK_BLOCK_START,
    ),
  );
  assert.equal(await status(wt), "", "hook files hidden from git");
  await Deno.writeTextFile(join(wt, "r.txt"), "r\n");
  assert.equal((await commitAll(wt, "rel")).code, 0);
  await Deno.stat(join(wt, "user-pre-commit-ran")); // the user's hook ran
  await Deno.remove(join(wt, "user-pre-commit-ran"));
  const arts = artifacts(await broker.logSince(0));
  assert.equal(arts.length, 1);
  assert.equal(
    await git(wt, "show", "--name-only", "--format=", "HEAD"),
    "r.txt\n",
    "hook files not committed",
  );
  assert.equal(
    await Deno.readTextFile(join(t.repo, ".githooks", "pre-commit")),
    userHook,
  );
  // teardown puts the worktree's own hook back and leaves nothing behind
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(
    await Deno.readTextFile(join(wt, ".githooks", "pre-commit")),
    userHook,
  );
  await assert.rejects(
    Deno.stat(join(wt, ".githooks", "post-commit")),
    Deno.errors.NotFound,
  );
  assert.equal(await status(wt), "");
  assert.match(
    await git(wt, "ls-files", "-v", ".githooks/pre-commit"),
    /^H /,
    "skip-worktree cleared",
  );
  const exclude = await Deno.readTextFile(
    join(t.repo, ".git", "info", "exclude"),
  );
  assert.ok(!exclude.includes("git-paw"));
});

Deno.test("a broker that is down never blocks a commit", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/down");
  await setup(t, wt, "feat/down", deadUrl());
  await Deno.writeTextFile(join(wt, "d.txt"), "d\n");
  const r = await commitAll(wt, "offline");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /commit not published — broker at http:\/\/127\.0\.0\.1:\d+ not reachable/,
  );
  assert.equal((await git(wt, "log", "-1", "--format=%s")).trim(), "offline");
});

Deno.test("hooks run git-paw from the baked argv when it is not on PATH, even from a quoted path", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  // A checkout path with a space and a quote (a symlink to this checkout).
  const odd = join(t.root, "it's a checkout");
  await Deno.symlink(dirname(MAIN_TS), odd);
  const self = [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--config",
    join(odd, "deno.json"),
    join(odd, "main.ts"),
  ];
  const wt = await addWorktree(t, "feat/path");
  await setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: "feat/path", worktree: wt, cli: "demo" }),
    brokerUrl: broker.url,
    peers: [],
    config: defaultConfig(),
    hookSelf: self,
    warn: () => {},
  });
  await Deno.writeTextFile(join(wt, "p.txt"), "p\n");
  await git(wt, "add", "-A");
  const r = await run("git", ["commit", "-q", "-m", "no PATH"], wt, {
    PATH: "/usr/bin:/bin", // git and sh only: neither deno nor git-paw
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const arts = artifacts(await broker.logSince(0));
  assert.equal(arts.length, 1);
});

Deno.test("post-commit hook publishes what a merge commit brought in, against its first parent", async () => {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/merge");
  await setup(t, wt, "feat/merge", broker.url);
  await Deno.writeTextFile(join(wt, "mine.txt"), "mine\n");
  assert.equal((await commitAll(wt, "mine")).code, 0);
  await Deno.writeTextFile(join(t.repo, "from-main.txt"), "main\n");
  assert.equal((await commitAll(t.repo, "main moves")).code, 0);
  await git(wt, "merge", "--no-ff", "--no-commit", "main");
  const r = await run("git", ["commit", "-q", "--no-edit"], wt);
  assert.equal(r.code, 0, r.stderr);
  const arts = artifacts(await broker.logSince(0));
  assert.equal(arts.length, 2);
  const last = arts[1];
  if (last.type !== "agent.artifact") throw new Error("not an artifact");
  assert.deepEqual(last.payload.modified_files, ["from-main.txt"]);
});

Deno.test("a broker that accepts but never answers delays a commit by the hook timeout at most", async () => {
  // A listener that takes connections and never replies.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of listener) conns.push(c);
    } catch { /* closed */ }
  })();
  try {
    await using t = await tempRepo();
    const wt = await addWorktree(t, "feat/hung");
    const port = (listener.addr as Deno.NetAddr).port;
    await setup(t, wt, "feat/hung", `http://127.0.0.1:${port}`);
    await Deno.writeTextFile(join(wt, "h.txt"), "h\n");
    const r = await commitAll(wt, "hung broker");
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /commit not published — broker at .* no answer within 1500 ms/,
    );
    assert.equal(
      (await git(wt, "log", "-1", "--format=%s")).trim(),
      "hung broker",
    );
  } finally {
    listener.close();
    await accepting;
    for (const c of conns) c.close();
  }
});
