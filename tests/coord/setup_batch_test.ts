import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type AgentSetup,
  setupAgentWorktree,
  setupAgentWorktrees,
} from "../../lib/coord/setup.ts";
import { addSharedExcludes, sharedExcludes } from "../../lib/coord/_exclude.ts";
import { HOOK_BLOCK_START, USER_HOOK_SUFFIX } from "../../lib/coord/hooks.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import {
  addWorktree,
  git,
  SELF,
  status,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";
import { AppError } from "../../lib/core/errors.ts";

const BRANCHES = ["feat/a", "feat/b", "fix/c", "d"];

/** What one repo should look like after setup; the case's own files. */
type Case = {
  files?: Record<string, string>;
  brokerUrl: string | null;
  /** Runs in the fresh repo before the worktrees are added. */
  prepare?: (t: TempRepo) => Promise<void>;
};

function agents(
  t: TempRepo,
  wts: string[],
  brokerUrl: string | null,
  warnings: string[],
): AgentSetup[] {
  const ids = BRANCHES.map((b) => b.replaceAll("/", "-"));
  return wts.map((wt, i) => ({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: BRANCHES[i], worktree: wt, cli: "demo" }),
    brokerUrl,
    peers: ids.filter((id) => id !== ids[i]),
    config: defaultConfig(),
    hookSelf: SELF,
    warn: (l) => warnings.push(l),
  }));
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

/** Names, modes and contents of the files in `dir` (not recursive). */
async function dirState(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const p = join(dir, e.name);
      const mode = ((await Deno.stat(p)).mode ?? 0) & 0o777;
      out.push(`${e.name} ${mode.toString(8)}\n${await Deno.readTextFile(p)}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Everything setup writes, with the temp root replaced by `<root>`. */
async function snapshot(t: TempRepo, wts: string[]): Promise<string> {
  const gitDir = join(t.repo, ".git");
  const state: Record<string, unknown> = {
    exclude: await readOrNull(join(gitDir, "info", "exclude")),
    hooks: await dirState(join(gitDir, "hooks")),
    repoStatus: await git(t.repo, "status", "--porcelain", "--ignored"),
  };
  for (const [i, wt] of wts.entries()) {
    const own = join(
      gitDir,
      "worktrees",
      (await Deno.readTextFile(
        join(wt, ".git"),
      )).trim().split("/").pop()!,
    );
    const marker = JSON.parse(
      (await readOrNull(join(own, "paw-agent-id"))) ?? "null",
    );
    if (marker) delete marker.timestamp;
    state[`wt${i}`] = {
      agentsMd: await readOrNull(join(wt, "AGENTS.md")),
      marker,
      expectedRef: await readOrNull(join(own, "paw-expected-ref")),
      index: await git(wt, "ls-files", "-v"),
      status: await git(
        wt,
        "status",
        "--porcelain",
        "--ignored",
        "--untracked-files=all",
      ),
      inWorktreeHooks: await dirState(join(wt, ".githooks")),
    };
  }
  return JSON.stringify(state, null, 2).replaceAll(t.root, "<root>");
}

/**
 * Set up the case's worktrees one by one in one repo and as a batch in an
 * identical one, `passes` times each; return both snapshots and warnings.
 */
async function compare(c: Case, passes = 1) {
  const sides = [];
  for (const batch of [false, true]) {
    const t = await tempRepo({ files: c.files });
    try {
      await c.prepare?.(t);
      const wts: string[] = [];
      for (const b of BRANCHES) wts.push(await addWorktree(t, b));
      const warnings: string[] = [];
      const list = agents(t, wts, c.brokerUrl, warnings);
      for (let p = 0; p < passes; p++) {
        if (batch) await setupAgentWorktrees(list);
        else for (const a of list) await setupAgentWorktree(a);
      }
      sides.push({
        snap: await snapshot(t, wts),
        warnings: warnings.map((w) => w.replaceAll(t.root, "<root>")),
        statuses: await Promise.all(wts.map(status)),
      });
    } finally {
      await t[Symbol.asyncDispose]();
    }
  }
  return { serial: sides[0], batch: sides[1] };
}

Deno.test("setupAgentWorktrees() leaves the same files as one-by-one setups when the broker is off and the repo has an untracked AGENTS.md", async () => {
  const { serial, batch } = await compare({
    brokerUrl: null,
    prepare: (t) =>
      Deno.writeTextFile(join(t.repo, "AGENTS.md"), "# Local notes\n"),
  });
  assert.equal(batch.snap, serial.snap);
  assert.deepEqual(batch.warnings, serial.warnings);
  assert.equal(batch.warnings.length, 1, "the note comes once, not per agent");
  assert.match(batch.warnings[0], /AGENTS\.md is untracked/);
  assert.ok(batch.snap.includes("/AGENTS.md"), "AGENTS.md excluded");
  assert.ok(batch.snap.includes("# Local notes"), "root text copied");
  assert.deepEqual(batch.statuses, BRANCHES.map(() => ""));
});

Deno.test("setupAgentWorktrees() leaves the same files as one-by-one setups with shared hooks, a user hook and a tracked AGENTS.md, also when run again", async () => {
  const userHook = "#!/bin/sh\necho user-post-commit\n";
  const { serial, batch } = await compare({
    brokerUrl: "http://127.0.0.1:9",
    files: { "README.md": "r\n", "AGENTS.md": "# Team rules\n" },
    prepare: async (t) => {
      const hook = join(t.repo, ".git", "hooks", "post-commit");
      await Deno.writeTextFile(hook, userHook);
      await Deno.chmod(hook, 0o755);
    },
  }, 2);
  assert.equal(batch.snap, serial.snap);
  assert.deepEqual(batch.warnings, serial.warnings);
  const snap = JSON.parse(batch.snap);
  assert.ok(
    snap.hooks.some((h: string) =>
      h.startsWith("post-commit 755\n") && h.includes(HOOK_BLOCK_START)
    ),
    "git-paw's post-commit installed in the shared hooks dir",
  );
  assert.ok(
    snap.hooks.includes(`post-commit${USER_HOOK_SUFFIX} 755\n${userHook}`),
    "the user's hook moved aside once, unchanged",
  );
  assert.match(snap.wt0.index, /^S AGENTS\.md$/m, "skip-worktree on the file");
  assert.equal(snap.wt0.marker.agents_md.mode, "skip-worktree");
  assert.deepEqual(batch.statuses, BRANCHES.map(() => ""));
});

Deno.test("setupAgentWorktrees() leaves the same files as one-by-one setups with a relative core.hooksPath holding a tracked hook", async () => {
  const userHook = "#!/bin/sh\ntrue\n";
  const { serial, batch } = await compare({
    brokerUrl: "http://127.0.0.1:9",
    files: { "README.md": "r\n", ".githooks/pre-commit": userHook },
    prepare: async (t) => {
      await git(t.repo, "config", "core.hooksPath", ".githooks");
    },
  });
  assert.equal(batch.snap, serial.snap);
  const snap = JSON.parse(batch.snap);
  assert.match(snap.wt3.index, /^S \.githooks\/pre-commit$/m);
  assert.deepEqual(snap.wt3.marker.hook_paths, [".githooks/pre-commit"]);
  assert.match(snap.exclude, /^\/\.githooks\/post-commit$/m);
  assert.match(snap.exclude, /^\/\.githooks\/pre-commit\.git-paw-user$/m);
  assert.deepEqual(batch.statuses, BRANCHES.map(() => ""));
});

Deno.test("setupAgentWorktrees() finishes the other agents and throws when one worktree is gone", async () => {
  await using t = await tempRepo();
  const wts: string[] = [];
  for (const b of BRANCHES) wts.push(await addWorktree(t, b));
  const list = agents(t, wts, "http://127.0.0.1:9", []);
  // The first one, whose worktree would have been asked for core.hooksPath.
  list[0] = {
    ...list[0],
    agent: { ...list[0].agent, worktree: join(t.root, "missing") },
  };
  await assert.rejects(setupAgentWorktrees(list), AppError);
  for (const i of [1, 2, 3]) {
    assert.ok(
      (await Deno.readTextFile(join(wts[i], "AGENTS.md"))).includes(
        `\`${BRANCHES[i]}\``,
      ),
    );
    assert.equal(await status(wts[i]), "");
  }
  assert.ok(
    (await Deno.readTextFile(join(t.repo, ".git", "hooks", "post-commit")))
      .includes(HOOK_BLOCK_START),
  );
});

Deno.test("addSharedExcludes() keeps every pattern when many calls run at once", async () => {
  await using t = await tempRepo();
  const common = join(t.repo, ".git");
  const patterns = Array.from({ length: 20 }, (_, i) => `/p${i}`);
  await Promise.all(patterns.map((p) => addSharedExcludes(common, [p])));
  assert.deepEqual(
    new Set(await sharedExcludes(common)),
    new Set(patterns),
  );
});
