import assert from "node:assert/strict";
import { join } from "node:path";
import {
  gitDirs,
  gitDirsFromLayout,
  trackedPaths,
} from "../../lib/adapters/git_layout.ts";
import {
  indexHasPaths,
  trackedFromIndex,
} from "../../lib/adapters/git_index.ts";
import {
  addWorktree,
  git,
  type TempRepo,
  tempRepo,
} from "../coord/hooks_fixture.ts";

/** What git itself says, as real paths. */
async function revParse(cwd: string) {
  const [g, c] = (await git(
    cwd,
    "rev-parse",
    "--path-format=absolute",
    "--git-dir",
    "--git-common-dir",
  )).trim().split("\n");
  return { gitDir: await Deno.realPath(g), commonDir: await Deno.realPath(c) };
}

async function real(d: { gitDir: string; commonDir: string } | null) {
  assert.ok(d, "layout recognised");
  return {
    gitDir: await Deno.realPath(d.gitDir),
    commonDir: await Deno.realPath(d.commonDir),
  };
}

Deno.test("gitDirsFromLayout() finds the same dirs as git rev-parse in a main checkout, a linked worktree and a relative gitdir file", async () => {
  await using t = await tempRepo();
  assert.deepEqual(
    await real(await gitDirsFromLayout(t.repo)),
    await revParse(t.repo),
  );
  const wt = await addWorktree(t, "feat/x");
  const expected = await revParse(wt);
  assert.notEqual(expected.gitDir, expected.commonDir);
  assert.deepEqual(await real(await gitDirsFromLayout(wt)), expected);
  // `gitdir:` relative to the worktree (git's worktree.useRelativePaths).
  await Deno.writeTextFile(
    join(wt, ".git"),
    "gitdir: ../repo/.git/worktrees/feat-x\r\n",
  );
  assert.deepEqual(await revParse(wt), expected);
  assert.deepEqual(await real(await gitDirsFromLayout(wt)), expected);
});

Deno.test("gitDirsFromLayout() resolves a relative gitdir from the real worktree when it is reached through a symlink", async () => {
  await using t = await tempRepo();
  await Deno.mkdir(join(t.root, "nest"));
  const wt = join(t.root, "nest", "wt");
  await git(t.repo, "worktree", "add", "-q", wt, "-b", "nested");
  await Deno.writeTextFile(
    join(wt, ".git"),
    "gitdir: ../../repo/.git/worktrees/wt\n",
  );
  const alias = join(t.root, "alias");
  await Deno.symlink(wt, alias);
  assert.deepEqual(
    await real(await gitDirsFromLayout(alias)),
    await revParse(alias),
  );
});

Deno.test("gitDirsFromLayout() reads a submodule's gitdir file like git does", async () => {
  await using sub = await tempRepo();
  await using t = await tempRepo();
  await git(
    t.repo,
    "-c",
    "protocol.file.allow=always",
    "submodule",
    "add",
    "-q",
    sub.repo,
    "mod",
  );
  const mod = join(t.repo, "mod");
  assert.deepEqual(
    await real(await gitDirsFromLayout(mod)),
    await revParse(mod),
  );
});

Deno.test("gitDirsFromLayout() leaves it to git below the top, for a broken gitdir file and when GIT_DIR is set", async () => {
  await using t = await tempRepo({ files: { "sub/f.txt": "f\n" } });
  assert.equal(await gitDirsFromLayout(join(t.repo, "sub")), null);
  // gitDirs() still answers there, through git.
  assert.deepEqual(
    await real(await gitDirs(join(t.repo, "sub"))),
    await revParse(join(t.repo, "sub")),
  );
  const wt = await addWorktree(t, "w");
  await Deno.writeTextFile(join(wt, ".git"), "gitdir: /nonexistent/x\n");
  assert.equal(await gitDirsFromLayout(wt), null);
  Deno.env.set("GIT_DIR", join(t.repo, ".git"));
  try {
    assert.equal(await gitDirsFromLayout(t.repo), null);
  } finally {
    Deno.env.delete("GIT_DIR");
  }
});

const NAMES = [
  "AGENTS.md.bak",
  "README.md",
  "b/c.txt",
  "d/AGENTS.md",
  "é-ü.txt",
  `long/${"x".repeat(200)}/${"y".repeat(200)}.txt`,
];
const ASKED = [
  "AGENTS.md",
  "README.md",
  "b",
  "b/c.txt",
  "d/AGENTS.md",
  "é-ü.txt",
  NAMES[5],
  "zz",
];

/** What `git ls-files` says about each of ASKED. */
async function lsFiles(cwd: string): Promise<Set<string>> {
  const listed = new Set((await git(cwd, "ls-files", "-z")).split("\0"));
  return new Set(ASKED.filter((p) => listed.has(p)));
}

async function repoWithNames(): Promise<TempRepo> {
  const files: Record<string, string> = {};
  for (const n of NAMES) files[n] = `${n}\n`;
  return await tempRepo({ files });
}

const dirsOf = (repo: string) => ({
  gitDir: join(repo, ".git"),
  commonDir: join(repo, ".git"),
});

Deno.test("trackedFromIndex() agrees with git ls-files for index versions 2, 3 and 4", async () => {
  await using t = await repoWithNames();
  await git(t.repo, "update-index", "--index-version", "2");
  const v2 = await trackedFromIndex(dirsOf(t.repo), ASKED);
  assert.deepEqual(v2, await lsFiles(t.repo));
  assert.equal(v2?.size, 5);
  // Version 3: extended flags (skip-worktree, intent-to-add).
  await git(t.repo, "update-index", "--skip-worktree", "README.md");
  await Deno.writeTextFile(join(t.repo, "AGENTS.md"), "new\n");
  await git(t.repo, "add", "-N", "AGENTS.md");
  const v3 = await trackedFromIndex(dirsOf(t.repo), ASKED);
  assert.deepEqual(v3, await lsFiles(t.repo));
  assert.ok(v3?.has("AGENTS.md"), "intent-to-add is in the index");
  await git(t.repo, "update-index", "--index-version", "4");
  const v4 = await trackedFromIndex(dirsOf(t.repo), ASKED);
  assert.deepEqual(v4, await lsFiles(t.repo));
  assert.equal(v4?.size, 6);
});

Deno.test("trackedFromIndex() declines a split index, a SHA-256 repo and a damaged index, and trackedPaths() still answers through git", async () => {
  await using t = await repoWithNames();
  await git(t.repo, "update-index", "--split-index");
  assert.equal(await trackedFromIndex(dirsOf(t.repo), ASKED), null);
  assert.deepEqual(await trackedPaths(t.repo, ASKED), await lsFiles(t.repo));

  await using s = await tempRepo({ empty: true });
  await Deno.remove(join(s.repo, ".git"), { recursive: true });
  await git(s.repo, "init", "-q", "--object-format=sha256");
  await Deno.writeTextFile(join(s.repo, "README.md"), "r\n");
  await git(s.repo, "add", "README.md");
  assert.equal(await trackedFromIndex(dirsOf(s.repo), ["README.md"]), null);
  assert.deepEqual(
    await trackedPaths(s.repo, ["README.md", "x"]),
    new Set(["README.md"]),
  );

  await using d = await repoWithNames();
  await git(d.repo, "update-index", "--index-version", "2");
  const index = await Deno.readFile(join(d.repo, ".git", "index"));
  assert.ok(indexHasPaths(index, ASKED), "the intact index is readable");
  assert.equal(
    indexHasPaths(index.subarray(0, index.length - 30), ASKED),
    null,
  );
  // The first entry ("AGENTS.md.bak") ends in NUL padding; dirty it.
  const damaged = index.slice();
  damaged[12 + 62 + "AGENTS.md.bak".length + 1] = 1;
  assert.equal(indexHasPaths(damaged, ASKED), null);
});

Deno.test("trackedPaths() reports a tracked path when another asked path is outside the worktree", async () => {
  await using t = await tempRepo({ files: { "AGENTS.md": "a\n" } });
  assert.deepEqual(
    await trackedPaths(t.repo, ["AGENTS.md", "../hooks/pre-commit"]),
    new Set(["AGENTS.md"]),
  );
  // The same through git (the index reader is bypassed with GIT_INDEX_FILE).
  Deno.env.set("GIT_INDEX_FILE", join(t.repo, ".git", "index"));
  try {
    assert.deepEqual(
      await trackedPaths(t.repo, ["AGENTS.md", "../hooks/pre-commit"]),
      new Set(["AGENTS.md"]),
    );
  } finally {
    Deno.env.delete("GIT_INDEX_FILE");
  }
});
