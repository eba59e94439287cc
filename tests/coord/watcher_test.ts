import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decideObservation,
  isTempFileName,
  parsePorcelainEntries,
  parsePorcelainZ,
  reportablePaths,
  WorktreeWatcher,
} from "../../lib/coord/watcher.ts";
import {
  BatchDebouncer,
  type FsWatcherLike,
  type TimerId,
  type Timers,
  type WatchFactory,
} from "../../lib/coord/fs_watch.ts";
import { git, MemoryBroker, sleep, tempRepo } from "./plugins_helpers.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("parsePorcelainZ() returns sorted paths with both sides of renames", () => {
  const out = ' M b.ts\0?? dir/new file.ts\0R  new.ts\0old.ts\0A  "q".ts\0';
  assert.deepEqual(parsePorcelainZ(out), [
    '"q".ts',
    "b.ts",
    "dir/new file.ts",
    "new.ts",
    "old.ts",
  ]);
  assert.deepEqual(parsePorcelainZ(""), []);
});

Deno.test("decideObservation() applies baseline, change and committed TTL rules", () => {
  const ctx = {
    label: "working",
    committedAt: null,
    now: 100_000,
    ttlSeconds: 60,
  };
  assert.equal(decideObservation(null, [], ctx), "baseline");
  assert.equal(decideObservation(null, ["a"], ctx), "publish");
  assert.equal(decideObservation(["a"], ["a"], ctx), "unchanged");
  assert.equal(decideObservation(["a"], ["a", "b"], ctx), "publish");
  const committed = { ...ctx, label: "committed" };
  assert.equal(
    decideObservation([], ["a"], { ...committed, committedAt: 50_000 }),
    "publish",
  );
  assert.equal(
    decideObservation([], ["a"], { ...committed, committedAt: 30_000 }),
    "absorb",
  );
  assert.equal(decideObservation([], ["a"], committed), "absorb");
  assert.equal(
    decideObservation([], ["a"], {
      ...committed,
      committedAt: 99_000,
      ttlSeconds: 0,
    }),
    "absorb",
  );
  // Right after a commit, files leaving the set is not new work.
  assert.equal(
    decideObservation(["a", "b"], ["b"], {
      ...committed,
      committedAt: 99_000,
      afterCommit: true,
    }),
    "absorb",
  );
});

class FakeTimers implements Timers {
  queue = new Map<number, { at: number; fn: () => void }>();
  now = 0;
  #id = 0;
  setTimeout(fn: () => void, ms: number): number {
    this.queue.set(++this.#id, { at: this.now + ms, fn });
    return this.#id;
  }
  clearTimeout(id: TimerId): void {
    this.queue.delete(id as number);
  }
  async advance(ms: number): Promise<void> {
    this.now += ms;
    for (const [id, t] of [...this.queue]) {
      if (t.at <= this.now) {
        this.queue.delete(id);
        t.fn();
      }
    }
    await sleep(0);
  }
}

Deno.test("BatchDebouncer batches paths into one set after the window, never concurrently", async () => {
  const timers = new FakeTimers();
  const batches: string[][] = [];
  let release: () => void = () => {};
  let active = 0;
  let maxActive = 0;
  const d = new BatchDebouncer(async (s) => {
    active++;
    maxActive = Math.max(maxActive, active);
    batches.push([...s].sort());
    await new Promise<void>((r) => (release = r));
    active--;
  }, { delayMs: 30, timers });
  d.add(["a", "b"]);
  await timers.advance(20);
  d.add(["a", "c"]); // does not extend the window
  assert.deepEqual(batches, []);
  await timers.advance(10);
  assert.deepEqual(batches, [["a", "b", "c"]]);
  d.add(["d"]); // arrives while the callback runs
  await timers.advance(100);
  assert.equal(batches.length, 1);
  release();
  await sleep(0);
  await timers.advance(30);
  assert.deepEqual(batches, [["a", "b", "c"], ["d"]]);
  release();
  assert.equal(maxActive, 1);
  await d.close();
  d.add(["e"]);
  assert.equal(timers.queue.size, 0);
});

function watcherFor(ttl = 60, initialScanDelayMs = 0, git?: string) {
  const broker = new MemoryBroker(ttl);
  const lines: string[] = [];
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: ttl,
    log: (l) => lines.push(l),
    initialScanDelayMs,
    ...(git ? { git } : {}),
  });
  return { broker, w, lines };
}

/**
 * A real git behind a wrapper that records each invocation as it starts and
 * as it ends: `statusRuns` counts the `git status` runs started (the
 * watcher's looks), `statusDone` those finished.
 */
async function countingGit(dir: string): Promise<{
  git: string;
  statusRuns: () => Promise<number>;
  statusDone: () => Promise<number>;
}> {
  const calls = join(dir, "git-calls.txt");
  const git = join(dir, "git-wrapper.sh");
  await Deno.writeTextFile(
    git,
    `#!/bin/sh\necho "start $*" >> '${calls}'\ngit "$@"\nrc=$?\necho "done $*" >> '${calls}'\nexit $rc\n`,
  );
  await Deno.chmod(git, 0o755);
  const count = (what: string) => async () =>
    (await Deno.readTextFile(calls).catch(() => "")).split("\n")
      .filter((l) => l.startsWith(`${what} `) && / status /.test(` ${l} `))
      .length;
  return { git, statusRuns: count("start"), statusDone: count("done") };
}

Deno.test("WorktreeWatcher publishes nothing for its first look at a clean tree", async () => {
  await using repo = await tempRepo(1);
  const { git, statusDone } = await countingGit(repo.root);
  const { broker, w, lines } = watcherFor(60, 0, git);
  const { agentId, path } = repo.worktrees[0]!;
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await waitFor("the first look", async () => await statusDone() >= 1);
  } finally {
    await w.close(); // waits for the batch that took the look
  }
  assert.deepEqual(broker.statuses(agentId), []);
  assert.deepEqual(lines, []);
});

Deno.test("WorktreeWatcher publishes working with the modified file after an edit", async () => {
  await using repo = await tempRepo(1);
  const { git, statusDone } = await countingGit(repo.root);
  const { broker, w, lines } = watcherFor(60, 0, git);
  const { agentId, path } = repo.worktrees[0]!;
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    assert.deepEqual(w.paths(), [path]);
    await waitFor("the first look", async () => await statusDone() >= 1);
    await Deno.writeTextFile(join(path, "README.md"), "changed\n");
    await waitFor("status", () => broker.statuses(agentId).length === 1);
    const e = broker.log.at(-1)!.message;
    assert.equal(e.type, "agent.status");
    if (e.type === "agent.status") {
      assert.equal(e.payload.status, "working");
      assert.deepEqual(e.payload.modified_files, ["README.md"]);
    }
    await Deno.writeTextFile(join(path, "new file.txt"), "x");
    await waitFor(
      "second status",
      () => broker.statuses(agentId).at(-1)?.length === 2,
    );
    assert.deepEqual(broker.statuses(agentId).at(-1), [
      "README.md",
      "new file.txt",
    ]);
    assert.deepEqual(lines, []);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher ignores changes under .git and ignored paths", async () => {
  await using repo = await tempRepo(1);
  const { git: counted, statusDone } = await countingGit(repo.root);
  const { broker, w } = watcherFor(60, 0, counted);
  const { agentId, path } = repo.worktrees[0]!;
  await Deno.mkdir(join(path, "build"));
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await waitFor("the first look", async () => await statusDone() >= 1);
    await git(path, "update-ref", "refs/heads/scratch", "HEAD");
    await git(path, "tag", "t1");
    await Deno.writeTextFile(join(path, "build", "out.bin"), "x");
    await Deno.writeTextFile(join(path, "debug.log"), "x");
    await sleep(300);
    assert.deepEqual(broker.statuses(agentId), []);
    // And a real edit afterwards is still seen.
    await Deno.writeTextFile(join(path, "src.ts"), "x");
    await waitFor("status", () => broker.statuses(agentId).length === 1);
    assert.deepEqual(broker.statuses(agentId)[0], ["src.ts"]);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher publishes a dirty tree at start and registers targets idempotently", async () => {
  await using repo = await tempRepo(1);
  const { broker, w } = watcherFor();
  const { agentId, path } = repo.worktrees[0]!;
  await Deno.writeTextFile(join(path, "pending.ts"), "x");
  w.start();
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.add({ agent_id: agentId, worktree_path: path + "/", cli: null });
  try {
    await waitFor("status", () => broker.statuses(agentId).length === 1);
    assert.deepEqual(w.paths(), [path]);
    await sleep(150);
    assert.equal(broker.statuses(agentId).length, 1);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher with initialScanDelayMs looks at a dirty tree only after the delay, and close() cancels a pending look", async () => {
  await using repo = await tempRepo(2);
  const { broker, w } = watcherFor(60, 300);
  const [a, b] = repo.worktrees;
  await Deno.writeTextFile(join(a!.path, "pending.ts"), "x");
  w.start();
  broker.watch({ agent_id: a!.agentId, worktree_path: a!.path, cli: null });
  try {
    await sleep(100);
    assert.equal(broker.statuses(a!.agentId).length, 0, "looked too early");
    await waitFor("status", () => broker.statuses(a!.agentId).length === 1);
    assert.deepEqual(broker.statuses(a!.agentId)[0], ["pending.ts"]);
    // An edit before the first look is reported at once.
    broker.watch({ agent_id: b!.agentId, worktree_path: b!.path, cli: null });
    await sleep(50);
    await Deno.writeTextFile(join(b!.path, "early.ts"), "x");
    await waitFor("early", () => broker.statuses(b!.agentId).length === 1);
    assert.deepEqual(broker.statuses(b!.agentId)[0], ["early.ts"]);
  } finally {
    await w.close();
  }
  // A target added just before close(): its timer must not outlive the
  // watcher (the test sanitizer fails on a leaked timer).
  const again = watcherFor(60, 10_000);
  again.w.start();
  again.broker.watch({
    agent_id: a!.agentId,
    worktree_path: a!.path,
    cli: null,
  });
  await again.w.close();
});

Deno.test("WorktreeWatcher absorbs the commit and republishes working within the TTL", async () => {
  await using repo = await tempRepo(1);
  const { broker, w } = watcherFor(60);
  const { agentId, path } = repo.worktrees[0]!;
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await sleep(100);
    await Deno.writeTextFile(join(path, "a.ts"), "1");
    await Deno.writeTextFile(join(path, "b.ts"), "1");
    await waitFor(
      "working a+b",
      () => broker.statuses(agentId).at(-1)?.length === 2,
    );
    const before = broker.statuses(agentId).length;
    await git(path, "add", "a.ts");
    await git(path, "commit", "-qm", "a");
    await broker.publish({
      type: "agent.artifact",
      agent_id: agentId,
      payload: { status: "committed", modified_files: ["a.ts"] },
    });
    await sleep(200);
    // Post-commit set {b.ts} absorbed: no new status, label stays committed.
    assert.equal(broker.statuses(agentId).length, before);
    // No git-paw marker here: the watcher reports no commit of its own.
    assert.equal(
      broker.log.filter((e) => e.message.type === "agent.artifact").length,
      1,
    );
    assert.equal(broker.agents()[0]!.status, "committed");
    await Deno.writeTextFile(join(path, "c.ts"), "1");
    await waitFor(
      "working after commit",
      () => broker.statuses(agentId).length === before + 1,
    );
    assert.deepEqual(broker.statuses(agentId).at(-1), ["b.ts", "c.ts"]);
    assert.equal(broker.agents()[0]!.status, "working");
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher absorbs edits after the committed TTL has passed", async () => {
  await using repo = await tempRepo(1);
  let now = Date.now();
  const broker = new MemoryBroker(5);
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: 5,
    now: () => now,
    log: () => {},
  });
  const { agentId, path } = repo.worktrees[0]!;
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await sleep(100);
    await broker.publish({
      type: "agent.artifact",
      agent_id: agentId,
      payload: { status: "committed" },
    });
    await sleep(100);
    now += 6000;
    await Deno.writeTextFile(join(path, "late.ts"), "1");
    await sleep(300);
    assert.deepEqual(broker.statuses(agentId), []);
    assert.equal(broker.agents()[0]!.status, "committed");
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher prunes a deleted worktree once and keeps others running", async () => {
  await using repo = await tempRepo(2);
  const { broker, w, lines } = watcherFor();
  const [a, b] = repo.worktrees;
  broker.watch({ agent_id: a!.agentId, worktree_path: a!.path, cli: null });
  broker.watch({ agent_id: b!.agentId, worktree_path: b!.path, cli: null });
  w.start();
  try {
    await sleep(100);
    await Deno.remove(a!.path, { recursive: true });
    await waitFor("prune", () => w.paths().length === 1);
    assert.deepEqual(w.paths(), [b!.path]);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /feat-a: worktree .* vanished; stopped watching/);
    await Deno.writeTextFile(join(b!.path, "x.ts"), "1");
    await waitFor("b status", () => broker.statuses(b!.agentId).length === 1);
    // A target whose path never existed is pruned at once.
    w.add({
      agent_id: "feat-z",
      worktree_path: join(repo.root, "nope"),
      cli: null,
    });
    assert.equal(w.paths().length, 1);
    assert.equal(lines.length, 2);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher ignores .git internals of a main checkout and does not loop", async () => {
  await using repo = await tempRepo(0);
  const { git: wrapper, statusRuns } = await countingGit(repo.root);
  const broker = new MemoryBroker();
  const lines: string[] = [];
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: 60,
    git: wrapper,
    log: (l) => lines.push(l),
  });
  broker.watch({ agent_id: "supervisor", worktree_path: repo.repo, cli: null });
  w.start();
  try {
    await waitFor("initial status", async () => (await statusRuns()) === 1);
    await git(repo.repo, "tag", "t1");
    await git(repo.repo, "update-ref", "refs/heads/other", "HEAD");
    await Deno.writeTextFile(join(repo.repo, ".git", "info", "exclude"), "x\n");
    await git(repo.repo, "status"); // rewrites .git/index
    await sleep(300);
    assert.equal(await statusRuns(), 1, "no git status for .git changes");
    assert.deepEqual(broker.statuses("supervisor"), []);
    await Deno.writeTextFile(join(repo.repo, "README.md"), "edited\n");
    await waitFor("status", () => broker.statuses("supervisor").length === 1);
    await sleep(400); // a feedback loop would keep running git status
    assert.equal(await statusRuns(), 2);
    assert.deepEqual(broker.statuses("supervisor"), [["README.md"]]);
    assert.deepEqual(lines, []);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher reports a failing git once and keeps watching", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-notgit-" });
  const broker = new MemoryBroker();
  const lines: string[] = [];
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: 60,
    log: (l) => lines.push(l),
  });
  broker.watch({ agent_id: "feat-q", worktree_path: dir, cli: null });
  w.start();
  try {
    await waitFor("first report", () => lines.length === 1);
    for (let i = 0; i < 3; i++) {
      await Deno.writeTextFile(join(dir, `f${i}`), "x");
      await sleep(80);
    }
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^git-paw watcher: feat-q: git .*failed: .*not a git repository/i,
    );
    assert.deepEqual(w.paths(), [dir]);
    assert.deepEqual(broker.statuses("feat-q"), []);
  } finally {
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("isTempFileName() knows editors' and CLIs' temporary files, not ordinary names", () => {
  for (
    const n of [
      "app.ts.tmp.12345.1f2e3d",
      "notes.tmp",
      ".app.ts.swp",
      ".app.ts.swo",
      "app.ts~",
      "4913",
      ".#app.ts",
      "#app.ts#",
      ".app.ts.kate-swp",
      "app.ts___jb_tmp___",
      "app.ts___jb_old___",
      ".goutputstream-AB12CD",
      ".~lock.report.odt#",
    ]
  ) assert.ok(isTempFileName(n), n);
  for (
    const n of ["app.ts", "tmp", "tmp.ts", "4913.ts", "a#b", "swp.ts", "x.tmpl"]
  ) assert.ok(!isTempFileName(n), n);
});

Deno.test("reportablePaths() drops gone paths and untracked temp files, keeps deletions and renames", async () => {
  await using repo = await tempRepo(0);
  await Deno.writeTextFile(join(repo.repo, "here.ts"), "x");
  await Deno.writeTextFile(join(repo.repo, "b.tmp"), "x");
  const entries = parsePorcelainEntries(
    " M README.md\0?? here.ts\0?? gone.ts\0 D deleted.ts\0D  staged.ts\0" +
      "R  new.ts\0old.ts\0?? b.tmp\0 M tracked.tmp\0",
  );
  await Deno.writeTextFile(join(repo.repo, "tracked.tmp"), "x");
  assert.deepEqual(await reportablePaths(repo.repo, entries), [
    "README.md",
    "deleted.ts",
    "here.ts",
    "old.ts", // new.ts does not exist here: only its old side is reported
    "staged.ts",
    "tracked.tmp",
  ]);
});

Deno.test("WorktreeWatcher reports the file an atomic write lands in, a deleted tracked file, and no temp files", async () => {
  await using repo = await tempRepo(1);
  const { broker, w, lines } = watcherFor();
  const { agentId, path } = repo.worktrees[0]!;
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await sleep(100);
    // Claude Code's atomic write: a temp file renamed over the target.
    const tmp = join(path, "app.ts.tmp.4242.9c0ffee");
    await Deno.writeTextFile(tmp, "x");
    await Deno.rename(tmp, join(path, "app.ts"));
    await Deno.writeTextFile(join(path, ".app.ts.swp"), "x");
    await Deno.writeTextFile(join(path, "4913"), "x");
    await waitFor("status", () => broker.statuses(agentId).length === 1);
    assert.deepEqual(broker.statuses(agentId)[0], ["app.ts"]);
    // A temp file that stays is never reported; a deleted tracked file is.
    await Deno.writeTextFile(join(path, "app.ts.tmp.4242.abc"), "x");
    await Deno.remove(join(path, "README.md"));
    await waitFor("deletion", () => broker.statuses(agentId).length === 2);
    assert.deepEqual(broker.statuses(agentId)[1], ["README.md", "app.ts"]);
    assert.deepEqual(lines, []);
  } finally {
    await w.close();
  }
});

Deno.test("WorktreeWatcher sees edits in subdirectories, also in a directory made after the start", async () => {
  await using repo = await tempRepo(1);
  const { broker, w } = watcherFor();
  const { agentId, path } = repo.worktrees[0]!;
  await Deno.mkdir(join(path, "lib", "deep"), { recursive: true });
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await sleep(100);
    await Deno.writeTextFile(join(path, "lib", "deep", "a.ts"), "x");
    await waitFor("deep edit", () => broker.statuses(agentId).length === 1);
    await Deno.mkdir(join(path, "src"));
    await sleep(100); // the new directory gets its watch
    await Deno.writeTextFile(join(path, "src", "b.ts"), "x");
    await waitFor(
      "edit in a new directory",
      () => broker.statuses(agentId).at(-1)?.includes("src/b.ts"),
    );
    assert.deepEqual(broker.statuses(agentId).at(-1), [
      "lib/deep/a.ts",
      "src/b.ts",
    ]);
  } finally {
    await w.close();
  }
});

/** inotify watches this process holds (Linux: /proc/self/fdinfo). */
async function inotifyWatches(): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir("/proc/self/fdinfo")) {
    const text = await Deno.readTextFile(`/proc/self/fdinfo/${e.name}`)
      .catch(() => "");
    n += text.split("\n").filter((l) => l.startsWith("inotify wd:")).length;
  }
  return n;
}

Deno.test({
  name:
    "WorktreeWatcher does not watch an ignored node_modules tree, at any depth",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using repo = await tempRepo(1);
    const { agentId, path } = repo.worktrees[0]!;
    await Deno.writeTextFile(join(path, ".gitignore"), "node_modules/\n");
    await git(path, "add", ".gitignore");
    await git(path, "commit", "-qm", "ignore node_modules");
    for (const top of ["node_modules", join("pkg", "node_modules")]) {
      for (let i = 0; i < 60; i++) {
        await Deno.mkdir(join(path, top, `dep${i}`, "lib"), {
          recursive: true,
        });
      }
    }
    await Deno.mkdir(join(path, "pkg", "src"), { recursive: true });
    const before = await inotifyWatches();
    const { broker, w, lines } = watcherFor();
    broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
    w.start();
    try {
      await waitFor(
        "the full plan",
        () => w.watchPlan(path)!.recursive.length > 0,
      );
      const plan = w.watchPlan(path)!;
      assert.deepEqual(plan.flat, [path, join(path, "pkg")]);
      assert.deepEqual(plan.recursive, [join(path, "pkg", "src")]);
      // root, pkg, pkg/src: 240 node_modules dirs would be 240 more.
      const used = (await inotifyWatches()) - before;
      assert.ok(used >= 3 && used <= 6, `inotify watches in use: ${used}`);
      await Deno.writeTextFile(
        join(path, "node_modules", "dep1", "lib", "x.js"),
        "x",
      );
      await Deno.mkdir(join(path, "node_modules", "fresh"));
      await sleep(300);
      assert.deepEqual(broker.statuses(agentId), []);
      assert.deepEqual(w.watchPlan(path), plan, "no watch for ignored dirs");
      await Deno.writeTextFile(join(path, "pkg", "src", "y.ts"), "x");
      await waitFor("status", () => broker.statuses(agentId).length === 1);
      assert.deepEqual(broker.statuses(agentId)[0], ["pkg/src/y.ts"]);
      assert.deepEqual(lines, []);
    } finally {
      await w.close();
    }
  },
});

/** The error `Deno.watchFs` throws when inotify has no watches left. */
const watchLimit = () => new Error("OS file watch limit reached.");

Deno.test("WorktreeWatcher falls back to a git status poll at the inotify limit, says so once, and watches again later", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  await Deno.mkdir(join(path, "src"));
  const counting = await countingGit(repo.root);
  let exhausted = true;
  const factory: WatchFactory = (paths, opts) => {
    if (exhausted && opts.recursive) throw watchLimit();
    return Deno.watchFs(paths, opts);
  };
  const broker = new MemoryBroker();
  const lines: string[] = [];
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: 60,
    log: (l) => lines.push(l),
    git: counting.git,
    watchFactory: factory,
    pollIntervalMs: 100,
    rewatchIntervalMs: 500,
  });
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await waitFor("degraded", () => w.warnings().length === 1);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^git-paw watcher: feat-a: cannot watch .*: OS file watch limit reached\. \(inotify limit reached: .*\); polling git status every 0\.1 s/,
    );
    assert.deepEqual(
      w.warnings()[0]!.text,
      lines[0]!.split(": ").slice(2).join(": "),
    );
    // src/ has no watch: only the poll can see this edit.
    await Deno.writeTextFile(join(path, "src", "a.ts"), "x");
    await waitFor("polled", () => broker.statuses(agentId).length === 1);
    assert.deepEqual(broker.statuses(agentId)[0], ["src/a.ts"]);
    await sleep(700); // a failed retry is not reported again
    assert.equal(lines.length, 1);
    exhausted = false;
    await waitFor("watching again", () => w.warnings().length === 0, 3000);
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^git-paw watcher: feat-a: watching .* again$/);
    const runs = await counting.statusRuns();
    await sleep(400); // the poll has stopped
    assert.equal(await counting.statusRuns(), runs);
    await Deno.writeTextFile(join(path, "src", "b.ts"), "x");
    await waitFor("watched", () => broker.statuses(agentId).length === 2);
  } finally {
    await w.close();
  }
});

/** A watch that delivers nothing and fails when told to. */
class BreakableWatcher implements FsWatcherLike {
  readonly #end = Promise.withResolvers<void>();
  fail(err: Error): void {
    this.#end.reject(err);
  }
  close(): void {
    this.#end.resolve();
  }
  [Symbol.asyncIterator](): AsyncIterator<{ paths: string[] }> {
    return {
      next: async () => {
        await this.#end.promise;
        return { done: true, value: undefined };
      },
    };
  }
}

Deno.test("WorktreeWatcher degrades to polling when a running watch hits the limit", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  await Deno.mkdir(join(path, "src"));
  const trees: BreakableWatcher[] = [];
  const factory: WatchFactory = (paths, opts) => {
    if (!opts.recursive) return Deno.watchFs(paths, opts);
    const b = new BreakableWatcher();
    trees.push(b);
    return b;
  };
  const broker = new MemoryBroker();
  const lines: string[] = [];
  const w = new WorktreeWatcher(broker, {
    republishWorkingTtlSeconds: 60,
    log: (l) => lines.push(l),
    watchFactory: factory,
    pollIntervalMs: 100,
  });
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    await waitFor("tree watch", () => trees.length === 1);
    await sleep(100);
    await Deno.writeTextFile(join(path, "src", "a.ts"), "x");
    await sleep(300);
    assert.deepEqual(broker.statuses(agentId), [], "the fake tree is blind");
    trees[0]!.fail(watchLimit());
    await waitFor("polled", () => broker.statuses(agentId).length === 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /OS file watch limit reached.*polling git status/);
    assert.equal(w.warnings().length, 1);
  } finally {
    await w.close();
  }
});

/** Give the worktree at `path` a git-paw marker for `branch`. */
async function writeMarker(path: string, agentId: string, branch: string) {
  const gitDir = (await git(path, "rev-parse", "--absolute-git-dir")).trim();
  await Deno.writeTextFile(
    join(gitDir, "paw-agent-id"),
    JSON.stringify({
      version: 1,
      agent_id: agentId,
      expected_branch: branch,
      broker_url: null,
      strict_branch_guard: false,
      timestamp: new Date().toISOString(),
      repo: path,
      agents_md: { mode: "none", created: false },
    }),
  );
}

Deno.test("WorktreeWatcher publishes the hook's committed artifact when the agent's branch gets a commit, not for resets or fast-forwards", async () => {
  await using repo = await tempRepo(1);
  const { agentId, path } = repo.worktrees[0]!;
  await writeMarker(path, agentId, "feat/a");
  const { git: counted, statusDone } = await countingGit(repo.root);
  const { broker, w, lines } = watcherFor(60, 0, counted);
  const artifacts = () =>
    broker.log.flatMap((e) =>
      e.message.type === "agent.artifact" ? [e.message.payload] : []
    );
  const noHooks = ["-c", "core.hooksPath=/dev/null"];
  broker.watch({ agent_id: agentId, worktree_path: path, cli: null });
  w.start();
  try {
    // The first look reads the refs before it runs git status.
    await waitFor("the first look", async () => await statusDone() >= 1);
    assert.deepEqual(artifacts(), [], "the current tip is a baseline");
    await Deno.writeTextFile(join(path, "a.ts"), "1");
    await Deno.writeTextFile(join(path, "b.ts"), "1");
    await waitFor("working", () => broker.statuses(agentId).length === 1);
    await git(path, "add", "a.ts");
    await git(path, ...noHooks, "commit", "-qm", "a");
    await waitFor("artifact", () => artifacts().length === 1);
    const head = (await git(path, "rev-parse", "HEAD")).trim();
    assert.deepEqual(artifacts()[0], {
      status: "committed",
      exports: [],
      modified_files: ["a.ts"],
      commit: head,
    });
    assert.equal(broker.agents()[0]!.status, "committed");
    await sleep(200);
    assert.equal(broker.statuses(agentId).length, 1, "the commit is absorbed");
    // An amend is a new commit (the hook runs for it too).
    await git(path, ...noHooks, "commit", "-q", "--amend", "-m", "a2");
    await waitFor("amend", () => artifacts().length === 2);
    assert.equal(
      artifacts()[1]!.commit,
      (await git(path, "rev-parse", "HEAD")).trim(),
    );
    // Going back is not a commit; neither is a fast-forward to other work.
    await git(path, "reset", "-q", "--hard", "HEAD~1");
    await git(repo.repo, "branch", "-q", "other", "feat/a");
    await git(repo.repo, "switch", "-q", "other");
    await Deno.writeTextFile(join(repo.repo, "o.ts"), "1");
    await git(repo.repo, "add", "o.ts");
    await git(repo.repo, ...noHooks, "commit", "-qm", "other work");
    await git(path, "merge", "-q", "--ff-only", "other");
    await sleep(300);
    assert.equal(artifacts().length, 2);
    assert.deepEqual(lines, []);
  } finally {
    await w.close();
  }
});
