import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import {
  branchExists,
  createWorktree,
  createWorktrees,
  defaultBranch,
  deleteBranch,
  dirtyFiles,
  listBranches,
  removeWorktree,
  repoRoot,
  tryRepoRoot,
  unmergedCount,
  validateBranchName,
  worktreeList,
  type WorktreeProgress,
} from "../../lib/adapters/git.ts";
import { worktreePathFor } from "../../lib/core/agent_plan.ts";
import { worktreeTop } from "../../lib/adapters/git_layout.ts";
import {
  hasBinary,
  missingBinaryError,
  run,
  runOk,
} from "../../lib/adapters/runner.ts";
import { AppError, CommandFailedError } from "../../lib/core/errors.ts";
import { commitFile, makeRepo, sh, tempDir } from "../session/git_fixture.ts";

Deno.test("repoRoot() finds the top level from a subdirectory", async () => {
  await using r = await makeRepo();
  await Deno.mkdir(join(r.repo, "a", "b"), { recursive: true });
  assert.equal(await repoRoot(join(r.repo, "a", "b")), r.repo);
});

Deno.test("repoRoot() outside a repo fails with the documented message", async () => {
  await using d = await tempDir();
  await assert.rejects(() => repoRoot(d.path), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(
      e.message,
      "Not a git repository. Run git-paw from inside a git project.",
    );
    assert.equal(e.code, "not_a_repo");
    return true;
  });
  assert.equal(await tryRepoRoot(d.path), null);
});

Deno.test("defaultBranch() follows origin/HEAD when it is set", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "update-ref", "refs/remotes/origin/trunk", "HEAD");
  await sh(
    r.repo,
    "symbolic-ref",
    "refs/remotes/origin/HEAD",
    "refs/remotes/origin/trunk",
  );
  assert.equal(await defaultBranch(r.repo), "trunk");
});

Deno.test("defaultBranch() falls back to init.defaultBranch, main, master, current", async (t) => {
  await t.step("init.defaultBranch when that branch exists", async () => {
    await using r = await makeRepo({ branch: "work" });
    await sh(r.repo, "branch", "dev");
    await sh(r.repo, "branch", "main");
    await sh(r.repo, "config", "init.defaultBranch", "dev");
    assert.equal(await defaultBranch(r.repo), "dev");
  });
  await t.step(
    "main when init.defaultBranch names a missing branch",
    async () => {
      await using r = await makeRepo({ branch: "work" });
      await sh(r.repo, "branch", "main");
      await sh(r.repo, "branch", "master");
      await sh(r.repo, "config", "init.defaultBranch", "nope");
      assert.equal(await defaultBranch(r.repo), "main");
    },
  );
  await t.step("master when there is no main", async () => {
    await using r = await makeRepo({ branch: "work" });
    await sh(r.repo, "branch", "master");
    await sh(r.repo, "config", "init.defaultBranch", "nope");
    assert.equal(await defaultBranch(r.repo), "master");
  });
  await t.step("the current branch otherwise", async () => {
    await using r = await makeRepo({ branch: "work" });
    await sh(r.repo, "config", "init.defaultBranch", "nope");
    assert.equal(await defaultBranch(r.repo), "work");
  });
});

Deno.test("listBranches() merges local and remote names, drops HEAD, sorts", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "branch", "feat/b");
  await sh(r.repo, "update-ref", "refs/remotes/origin/feat/a", "HEAD");
  await sh(r.repo, "update-ref", "refs/remotes/origin/feat/b", "HEAD");
  await sh(r.repo, "update-ref", "refs/remotes/origin/main", "HEAD");
  await sh(
    r.repo,
    "symbolic-ref",
    "refs/remotes/origin/HEAD",
    "refs/remotes/origin/main",
  );
  assert.deepEqual(await listBranches(r.repo), ["feat/a", "feat/b", "main"]);
});

Deno.test("createWorktree() creates a missing branch from HEAD, then reuses it", async () => {
  await using r = await makeRepo();
  const head = await sh(r.repo, "rev-parse", "HEAD");
  const path = worktreePathFor(r.repo, "proj", "feat/a");
  const first = await createWorktree(r.repo, {
    branch: "feat/a",
    path,
    rebase: true,
  });
  assert.equal(first.path, path);
  assert.equal(first.branch_created, true);
  assert.equal(first.reused, false);
  assert.equal(first.rebase.status, "not-requested");
  assert.equal(await sh(path, "rev-parse", "HEAD"), head);
  assert.equal(await sh(path, "symbolic-ref", "--short", "HEAD"), "feat/a");
  const again = await createWorktree(r.repo, {
    branch: "feat/a",
    path,
    rebase: true,
  });
  assert.equal(again.reused, true);
  assert.equal(again.branch_created, false);
  assert.equal(again.rebase.status, "up-to-date");
  const list = await worktreeList(r.repo);
  assert.equal(list.length, 2);
  assert.equal(list[0]!.main, true);
  assert.equal(list[1]!.branch, "feat/a");
  assert.equal(list[1]!.path, path);
});

Deno.test("createWorktree() rebases a reused agent worktree onto main, never switching the main checkout", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "branch", "feat/a");
  await commitFile(r.repo, "main.txt", "main moved\n");
  const mainHead = await sh(r.repo, "rev-parse", "HEAD");
  // The user's checkout is dirty: a switch would fail or disturb it.
  await Deno.writeTextFile(join(r.repo, "README.md"), "user edit\n");
  const path = worktreePathFor(r.repo, "proj", "feat/a");
  await createWorktree(r.repo, { branch: "feat/a", path });
  await commitFile(path, "a.txt", "agent work\n");
  await sh(path, "checkout", "-q", "--detach");
  await sh(path, "checkout", "-q", "feat/a");
  // Reuse it with rebase requested.
  const res = await createWorktree(r.repo, {
    branch: "feat/a",
    path,
    rebase: true,
  });
  assert.deepEqual(res.rebase, { status: "rebased", onto: "main" });
  await sh(r.repo, "merge-base", "--is-ancestor", mainHead, "feat/a");
  assert.equal(await sh(r.repo, "symbolic-ref", "--short", "HEAD"), "main");
  assert.equal(
    await Deno.readTextFile(join(r.repo, "README.md")),
    "user edit\n",
  );
});

Deno.test("createWorktree() rebases a branch not checked out anywhere inside its new worktree", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "checkout", "-q", "-b", "feat/b");
  await commitFile(r.repo, "b.txt", "b\n");
  await sh(r.repo, "checkout", "-q", "main");
  await commitFile(r.repo, "m.txt", "m\n");
  await Deno.writeTextFile(join(r.repo, "README.md"), "dirty user checkout\n");
  const path = worktreePathFor(r.repo, "proj", "feat/b");
  const res = await createWorktree(r.repo, {
    branch: "feat/b",
    path,
    rebase: true,
  });
  assert.equal(res.branch_created, false);
  assert.equal(res.rebase.status, "rebased");
  assert.equal(await sh(r.repo, "rev-list", "--count", "main..feat/b"), "1");
  assert.equal(await sh(r.repo, "rev-list", "--count", "feat/b..main"), "0");
  assert.equal(await sh(r.repo, "symbolic-ref", "--short", "HEAD"), "main");
  assert.equal(
    await Deno.readTextFile(join(r.repo, "README.md")),
    "dirty user checkout\n",
  );
});

Deno.test("createWorktree() aborts a conflicting rebase and leaves the branch as it was", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "checkout", "-q", "-b", "feat/c");
  const agentHead = await commitFile(r.repo, "README.md", "agent version\n");
  await sh(r.repo, "checkout", "-q", "main");
  await commitFile(r.repo, "README.md", "main version\n");
  const path = worktreePathFor(r.repo, "proj", "feat/c");
  const res = await createWorktree(r.repo, {
    branch: "feat/c",
    path,
    rebase: true,
  });
  assert.equal(res.rebase.status, "failed");
  assert.equal(await sh(r.repo, "rev-parse", "feat/c"), agentHead);
  assert.equal(await sh(path, "symbolic-ref", "--short", "HEAD"), "feat/c");
  assert.deepEqual(await dirtyFiles(path), []);
  assert.equal(
    existsSync(
      join(await sh(path, "rev-parse", "--absolute-git-dir"), "rebase-merge"),
    ),
    false,
  );
});

Deno.test("createWorktree() skips the rebase when the agent worktree has uncommitted changes", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "feat/d");
  await createWorktree(r.repo, { branch: "feat/d", path });
  await commitFile(r.repo, "m.txt", "m\n");
  await Deno.writeTextFile(join(path, "README.md"), "wip\n");
  const before = await sh(r.repo, "rev-parse", "feat/d");
  const res = await createWorktree(r.repo, {
    branch: "feat/d",
    path,
    rebase: true,
  });
  assert.equal(res.rebase.status, "skipped");
  assert.equal(await sh(r.repo, "rev-parse", "feat/d"), before);
  assert.equal(await Deno.readTextFile(join(path, "README.md")), "wip\n");
});

Deno.test("createWorktree() refuses a branch that is the user's main checkout", async () => {
  await using r = await makeRepo();
  await assert.rejects(
    () =>
      createWorktree(r.repo, {
        branch: "main",
        path: worktreePathFor(r.repo, "proj", "main"),
      }),
    /Worktree error: branch 'main' is checked out in your main worktree/,
  );
});

Deno.test("createWorktree() refuses an occupied path and a repo without commits", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "feat/x");
  await Deno.mkdir(path);
  await Deno.writeTextFile(join(path, "keep.txt"), "mine");
  await assert.rejects(
    () => createWorktree(r.repo, { branch: "feat/x", path }),
    /already exists and is not its worktree/,
  );
  assert.equal(await Deno.readTextFile(join(path, "keep.txt")), "mine");
  assert.equal(await branchExists(r.repo, "feat/x"), false);
  await using e = await makeRepo({ empty: true });
  await assert.rejects(
    () => createWorktree(e.repo, { branch: "a", path: join(e.path, "wt") }),
    /no commits yet/,
  );
});

Deno.test("createWorktree() with child placement keeps the worktree out of git status", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "feat/kid", "child");
  const res = await createWorktree(r.repo, { branch: "feat/kid", path });
  assert.equal(res.path, path);
  assert.equal(await sh(r.repo, "status", "--porcelain"), "");
  const exclude = await Deno.readTextFile(
    join(r.repo, ".git", "info", "exclude"),
  );
  assert.match(exclude, /^\/\.git-paw\/worktrees\/$/m);
});

Deno.test("createWorktrees() creates several concurrently with progress", async () => {
  await using r = await makeRepo();
  const branches = ["a1", "a2", "a3", "a4", "a5"];
  const events: WorktreeProgress[] = [];
  const res = await createWorktrees(
    r.repo,
    branches.map((b) => ({
      branch: b,
      path: worktreePathFor(r.repo, "proj", b),
    })),
    { concurrency: 3, onProgress: (e) => events.push(e) },
  );
  assert.deepEqual(res.map((x) => x.branch), branches);
  assert.ok(res.every((x) => x.branch_created && existsSync(x.path)));
  assert.equal(events.filter((e) => e.kind === "done").length, 5);
  assert.equal((await worktreeList(r.repo)).length, 6);
});

Deno.test("createWorktrees() refuses two branches that map to one path", async () => {
  await using r = await makeRepo();
  await assert.rejects(
    () =>
      createWorktrees(
        r.repo,
        ["feat/a", "feat-a"].map((b) => ({
          branch: b,
          path: worktreePathFor(r.repo, "proj", b),
        })),
      ),
    /would share the worktree/,
  );
  assert.equal(await branchExists(r.repo, "feat/a"), false);
});

Deno.test("createWorktrees() refuses an occupied path before creating any branch", async () => {
  await using r = await makeRepo();
  const bad = worktreePathFor(r.repo, "proj", "o3");
  await Deno.mkdir(bad);
  await Deno.writeTextFile(join(bad, "x"), "occupied");
  const events: WorktreeProgress[] = [];
  await assert.rejects(
    () =>
      createWorktrees(
        r.repo,
        ["o1", "o2", "o3"].map((b) => ({
          branch: b,
          path: worktreePathFor(r.repo, "proj", b),
        })),
        { onProgress: (e) => events.push(e) },
      ),
    /Worktree error: cannot create the worktree for 'o3': .* already exists and is not its worktree; move it away/,
  );
  assert.deepEqual(events.map((e) => `${e.kind} ${e.branch}`), [
    "start o3",
    "failed o3",
  ]);
  assert.equal(
    await sh(r.repo, "for-each-ref", "refs/heads"),
    await sh(
      r.repo,
      "for-each-ref",
      "refs/heads/main",
    ),
  );
  assert.equal(await Deno.readTextFile(join(bad, "x")), "occupied");
});

Deno.test("createWorktrees() deletes the branches it created when a worktree add fails late", async () => {
  await using r = await makeRepo();
  // A regular file where a parent directory should be: git cannot create
  // the worktree there, but only `git worktree add` itself finds out.
  const blocker = join(r.path, "blocker");
  await Deno.writeTextFile(blocker, "not a dir");
  const items = [
    { branch: "l1", path: worktreePathFor(r.repo, "proj", "l1") },
    { branch: "l2", path: join(blocker, "l2") },
    { branch: "l3", path: worktreePathFor(r.repo, "proj", "l3") },
  ];
  const events: WorktreeProgress[] = [];
  await assert.rejects(
    () =>
      createWorktrees(r.repo, items, {
        concurrency: 1,
        onProgress: (e) => events.push(e),
      }),
    /Worktree error: git worktree add failed for branch 'l2': /,
  );
  assert.deepEqual(events.map((e) => `${e.kind} ${e.branch}`), [
    "start l1",
    "done l1",
    "start l2",
    "failed l2",
  ]);
  assert.equal((await worktreeList(r.repo)).length, 1);
  for (const b of ["l1", "l2", "l3"]) {
    assert.equal(await branchExists(r.repo, b), false, b);
  }
  assert.equal(existsSync(items[0]!.path), false);
  assert.equal(await Deno.readTextFile(blocker), "not a dir");
});

Deno.test("createWorktrees() keeps what it made when rollbackOnError is false", async () => {
  await using r = await makeRepo();
  const blocker = join(r.path, "blocker");
  await Deno.writeTextFile(blocker, "not a dir");
  await assert.rejects(
    () =>
      createWorktrees(r.repo, [
        { branch: "k1", path: worktreePathFor(r.repo, "proj", "k1") },
        { branch: "k2", path: join(blocker, "k2") },
      ], { concurrency: 1, rollbackOnError: false }),
    /git worktree add failed for branch 'k2'/,
  );
  assert.equal(await branchExists(r.repo, "k1"), true);
  assert.equal(await branchExists(r.repo, "k2"), true);
  assert.equal((await worktreeList(r.repo)).length, 2);
});

Deno.test("createWorktrees() creates eight branches from HEAD at once, each checked out in its own worktree", async () => {
  for (let round = 0; round < 3; round++) {
    await using r = await makeRepo();
    await commitFile(r.repo, "src.txt", `round ${round}\n`);
    const head = await sh(r.repo, "rev-parse", "HEAD");
    const branches = Array.from({ length: 8 }, (_, i) => `feat/w${i}`);
    const res = await createWorktrees(
      r.repo,
      branches.map((b) => ({
        branch: b,
        path: worktreePathFor(r.repo, "proj", b),
        rebase: true,
      })),
      { concurrency: 8 },
    );
    for (const [i, c] of res.entries()) {
      assert.equal(c.branch, branches[i]);
      assert.equal(c.branch_created, true);
      assert.equal(c.rebase.status, "not-requested");
      assert.equal(
        await sh(c.path, "symbolic-ref", "--short", "HEAD"),
        c.branch,
      );
      assert.equal(await sh(c.path, "rev-parse", "HEAD"), head);
      assert.equal(
        await Deno.readTextFile(join(c.path, "src.txt")),
        `round ${round}\n`,
      );
      assert.deepEqual(await dirtyFiles(c.path), []);
      assert.match(
        await sh(r.repo, "reflog", "-1", "--format=%gs", c.branch),
        /^branch: Created from HEAD$/,
      );
    }
    const listed = await worktreeList(r.repo);
    assert.deepEqual(
      listed.slice(1).map((w) => w.branch).sort(),
      [...branches].sort(),
    );
    assert.equal(await sh(r.repo, "symbolic-ref", "--short", "HEAD"), "main");
  }
});

Deno.test("createWorktrees() tracks origin/<branch> when only the remote has it", async () => {
  await using up = await makeRepo({ name: "upstream" });
  await sh(up.repo, "checkout", "-q", "-b", "feat/remote");
  const remoteHead = await commitFile(up.repo, "r.txt", "remote work\n");
  await sh(up.repo, "checkout", "-q", "main");
  await using r = await tempDir();
  const repo = join(r.path, "proj");
  await sh(r.path, "clone", "-q", up.repo, repo);
  const res = await createWorktrees(repo, [
    {
      branch: "feat/remote",
      path: worktreePathFor(repo, "proj", "feat/remote"),
      rebase: true,
    },
    { branch: "feat/new", path: worktreePathFor(repo, "proj", "feat/new") },
  ]);
  assert.equal(res[0]!.branch_created, false);
  assert.equal(res[0]!.rebase.status, "not-requested");
  assert.equal(await sh(res[0]!.path, "rev-parse", "HEAD"), remoteHead);
  assert.equal(
    await sh(repo, "rev-parse", "--abbrev-ref", "feat/remote@{upstream}"),
    "origin/feat/remote",
  );
  assert.equal(res[1]!.branch_created, true);
  assert.equal(
    await sh(res[1]!.path, "rev-parse", "HEAD"),
    await sh(repo, "rev-parse", "main"),
  );
});

Deno.test("createWorktrees() rolls back a tracking branch it created when another fails", async () => {
  await using up = await makeRepo({ name: "upstream" });
  await sh(up.repo, "branch", "feat/remote");
  await using r = await tempDir();
  const repo = join(r.path, "proj");
  await sh(r.path, "clone", "-q", up.repo, repo);
  const blocker = join(r.path, "blocker");
  await Deno.writeTextFile(blocker, "x");
  await assert.rejects(
    () =>
      createWorktrees(repo, [
        { branch: "feat/remote", path: worktreePathFor(repo, "proj", "t1") },
        { branch: "t2", path: join(blocker, "t2") },
      ], { concurrency: 1 }),
    /git worktree add failed for branch 't2'/,
  );
  assert.equal(await branchExists(repo, "feat/remote"), false);
  assert.equal(await branchExists(repo, "t2"), false);
  assert.equal(
    (await run("git", ["config", "--get", "branch.feat/remote.remote"], {
      cwd: repo,
    })).stdout,
    "",
  );
  assert.equal((await worktreeList(repo)).length, 1);
});

Deno.test("createWorktrees() rebases existing branches onto origin/HEAD's target", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "branch", "feat/old");
  const trunk = await commitFile(r.repo, "t.txt", "trunk\n");
  await sh(r.repo, "update-ref", "refs/remotes/origin/trunk", trunk);
  await sh(
    r.repo,
    "symbolic-ref",
    "refs/remotes/origin/HEAD",
    "refs/remotes/origin/trunk",
  );
  const res = await createWorktrees(r.repo, [
    {
      branch: "feat/old",
      path: worktreePathFor(r.repo, "proj", "feat/old"),
      rebase: true,
    },
    {
      branch: "feat/fresh",
      path: worktreePathFor(r.repo, "proj", "feat/fresh"),
      rebase: true,
    },
  ]);
  assert.deepEqual(res[0]!.rebase, { status: "rebased", onto: "trunk" });
  assert.equal(await sh(r.repo, "rev-parse", "feat/old"), trunk);
  assert.equal(res[1]!.rebase.status, "not-requested");
});

Deno.test("createWorktrees() prunes a vanished worktree and recreates it at its path", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "gone");
  await createWorktree(r.repo, { branch: "gone", path });
  await Deno.remove(path, { recursive: true });
  assert.equal((await worktreeList(r.repo))[1]!.prunable, true);
  const [res] = await createWorktrees(r.repo, [{ branch: "gone", path }]);
  assert.equal(res!.reused, false);
  assert.equal(res!.branch_created, false);
  assert.equal(await sh(path, "symbolic-ref", "--short", "HEAD"), "gone");
  const list = await worktreeList(r.repo);
  assert.equal(list.length, 2);
  assert.equal(list[1]!.prunable, false);
});

Deno.test("createWorktrees() refuses a path registered to another worktree and a branch listed twice", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "one");
  await createWorktree(r.repo, { branch: "one", path });
  await assert.rejects(
    () => createWorktrees(r.repo, [{ branch: "two", path }]),
    /cannot create the worktree for 'two': .* already exists and is not its worktree/,
  );
  await assert.rejects(
    () =>
      createWorktrees(r.repo, [
        { branch: "dup", path: join(r.path, "d1") },
        { branch: "dup", path: join(r.path, "d2") },
      ]),
    /branch 'dup' is listed twice/,
  );
  assert.equal(await branchExists(r.repo, "two"), false);
  assert.equal(await branchExists(r.repo, "dup"), false);
});

Deno.test("createWorktrees() creates no branch at all when one new name clashes with an existing ref", async () => {
  await using r = await makeRepo();
  await sh(r.repo, "branch", "x");
  await assert.rejects(
    () =>
      createWorktrees(r.repo, [
        { branch: "y", path: worktreePathFor(r.repo, "proj", "y") },
        { branch: "x/z", path: worktreePathFor(r.repo, "proj", "x/z") },
      ]),
    /Worktree error: cannot create branches 'y', 'x\/z' from HEAD: /,
  );
  assert.equal(await branchExists(r.repo, "y"), false);
  assert.equal((await worktreeList(r.repo)).length, 1);
});

Deno.test("createWorktrees() does not run the user's post-checkout hook", async () => {
  await using r = await makeRepo();
  const hook = join(r.repo, ".git", "hooks", "post-checkout");
  const marker = join(r.path, "hook-ran");
  await Deno.writeTextFile(hook, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
  await Deno.chmod(hook, 0o755);
  const [res] = await createWorktrees(r.repo, [
    { branch: "h", path: worktreePathFor(r.repo, "proj", "h") },
  ]);
  assert.equal(existsSync(join(res!.path, "README.md")), true);
  assert.equal(existsSync(marker), false);
});

Deno.test("dirtyFiles() lists modified, untracked and renamed (destination) paths", async () => {
  await using r = await makeRepo();
  await commitFile(r.repo, "old name.txt", "x\n");
  await sh(r.repo, "mv", "old name.txt", "new name.txt");
  await Deno.writeTextFile(join(r.repo, "README.md"), "changed\n");
  await Deno.writeTextFile(join(r.repo, 'ünï "q".txt'), "u\n");
  const files = (await dirtyFiles(r.repo)).sort();
  assert.deepEqual(files, ["README.md", "new name.txt", 'ünï "q".txt']);
});

Deno.test("removeWorktree() refuses uncommitted work unless forced", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "feat/r");
  await createWorktree(r.repo, { branch: "feat/r", path });
  await Deno.writeTextFile(join(path, "wip.txt"), "unsaved\n");
  await assert.rejects(() => removeWorktree(r.repo, path), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, "dirty_worktree");
    assert.match(e.message, /wip\.txt/);
    assert.match(e.message, /--force/);
    return true;
  });
  assert.equal(await Deno.readTextFile(join(path, "wip.txt")), "unsaved\n");
  await removeWorktree(r.repo, path, { force: true });
  assert.equal(existsSync(path), false);
  await deleteBranch(r.repo, "feat/r");
  assert.equal(await branchExists(r.repo, "feat/r"), false);
});

Deno.test("removeWorktree() removes a clean worktree and prunes a vanished one", async () => {
  await using r = await makeRepo();
  const p1 = worktreePathFor(r.repo, "proj", "c1");
  const p2 = worktreePathFor(r.repo, "proj", "c2");
  await createWorktrees(r.repo, [{ branch: "c1", path: p1 }, {
    branch: "c2",
    path: p2,
  }]);
  await removeWorktree(r.repo, p1);
  await Deno.remove(p2, { recursive: true });
  await removeWorktree(r.repo, p2);
  assert.equal((await worktreeList(r.repo)).length, 1);
});

Deno.test("unmergedCount() counts commits on the branch that are not on the base", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "u");
  await createWorktree(r.repo, { branch: "u", path });
  assert.equal(await unmergedCount(r.repo, "u", "main"), 0);
  await commitFile(path, "1.txt", "1");
  await commitFile(path, "2.txt", "2");
  assert.equal(await unmergedCount(r.repo, "u", "main"), 2);
  assert.equal(await unmergedCount(r.repo, "missing", "main"), 0);
});

Deno.test("validateBranchName() and createWorktree() never run hostile branch names through a shell", async () => {
  await using r = await makeRepo();
  const canaryDirs = [r.path, r.repo, Deno.cwd()];
  const refused = [
    "$(touch canary)",
    "`touch canary`",
    "a b",
    "-rf",
    "--help",
    "a..b",
    "@{-1}",
    "x\ny",
    "",
    "end.lock",
    "a~1",
    "a:b",
  ];
  for (const b of refused) {
    await assert.rejects(() => validateBranchName(b, r.repo), (e: unknown) => {
      assert.ok(
        e instanceof AppError,
        `expected AppError for ${JSON.stringify(b)}`,
      );
      assert.match(e.message, /^Branch error: invalid branch name /);
      return true;
    });
    await assert.rejects(
      () =>
        createWorktree(r.repo, { branch: b, path: join(r.path, "wt-refused") }),
      /Branch error/,
    );
  }
  const accepted = [
    "a/$(touch${IFS}canary)",
    "b/`touch${IFS}canary`",
    "c;touch${IFS}canary",
    "d|touch${IFS}canary",
    "e/'quoted'\"double\"",
    "f/#(touch${IFS}canary)",
    "g/ünïcødé-枝",
    "h/&&touch${IFS}canary&",
  ];
  for (const b of accepted) {
    const path = worktreePathFor(r.repo, "proj", b);
    const res = await createWorktree(r.repo, { branch: b, path, rebase: true });
    assert.equal(res.branch, b);
    assert.equal(await branchExists(r.repo, b), true);
    assert.equal(await sh(path, "symbolic-ref", "--short", "HEAD"), b);
    assert.ok(path.startsWith(r.path + "/proj-"), path);
  }
  const listed = (await worktreeList(r.repo)).map((w) => w.branch);
  for (const b of accepted) assert.ok(listed.includes(b), b);
  for (const b of accepted) {
    await removeWorktree(r.repo, worktreePathFor(r.repo, "proj", b));
    await deleteBranch(r.repo, b);
  }
  for (const d of canaryDirs) {
    assert.equal(existsSync(join(d, "canary")), false, `canary in ${d}`);
  }
  assert.equal((await worktreeList(r.repo)).length, 1);
});

Deno.test("repoRoot() from inside a linked worktree returns the main worktree's root", async () => {
  await using r = await makeRepo();
  const sib = worktreePathFor(r.repo, "proj", "feat/in");
  const kid = worktreePathFor(r.repo, "proj", "feat/kid", "child");
  await createWorktrees(r.repo, [{ branch: "feat/in", path: sib }, {
    branch: "feat/kid",
    path: kid,
  }]);
  await Deno.mkdir(join(sib, "deep"));
  assert.equal(await repoRoot(join(sib, "deep")), r.repo);
  assert.equal(await repoRoot(kid), r.repo);
  assert.equal(await worktreeTop(join(sib, "deep")), sib);
  assert.equal(await worktreeTop(r.repo), r.repo);
});

Deno.test("run() returns code and output, feeds stdin, and runOk() throws CommandFailedError", async () => {
  await using r = await makeRepo();
  const ok = await run("git", ["hash-object", "--stdin"], {
    cwd: r.repo,
    stdin: "hello\n",
  });
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout.trim(), "ce013625030ba8dba906f756967f9e9ca394464a");
  const bad = await run("git", ["rev-parse", "--verify", "nope"], {
    cwd: r.repo,
  });
  assert.notEqual(bad.code, 0);
  await assert.rejects(
    () => runOk("git", ["rev-parse", "--verify", "nope"], { cwd: r.repo }),
    (e: unknown) => {
      assert.ok(e instanceof CommandFailedError);
      assert.deepEqual(e.argv, ["git", "rev-parse", "--verify", "nope"]);
      assert.match(
        e.message,
        /^Cannot run git rev-parse --verify nope: exit 128/,
      );
      return true;
    },
  );
  const env = await run("sh", ["-c", 'printf %s "$PAW_X"'], {
    env: { PAW_X: "$(nothing)" },
  });
  assert.equal(env.stdout, "$(nothing)");
});

Deno.test("run() turns a missing program into a clear install hint", async () => {
  await assert.rejects(
    () => run("git-paw-no-such-program", []),
    (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, "missing_binary");
      assert.match(e.message, /'git-paw-no-such-program': not found on PATH/);
      return true;
    },
  );
  assert.equal(
    missingBinaryError("tmux").message,
    "tmux is required but not installed. Install with: brew install tmux (macOS) or apt install tmux (Linux)",
  );
  assert.equal(await hasBinary("git"), true);
  assert.equal(await hasBinary("git-paw-no-such-program"), false);
});

Deno.test("run() in a missing directory says so, not that git is missing", async () => {
  await assert.rejects(
    () => run("git", ["status"], { cwd: "/nonexistent/git-paw-dir" }),
    (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, "missing_dir");
      assert.equal(
        e.message,
        "Cannot run 'git' in /nonexistent/git-paw-dir: no such directory",
      );
      return true;
    },
  );
});
