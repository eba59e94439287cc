/**
 * Merging without a checkout, for the integration lane and the merge queue:
 * `git merge-tree --write-tree` (git ≥ 2.38), `git commit-tree`, branch
 * tips, and scratch worktrees git-paw owns under the repo's git dir
 * (`<common-dir>/paw-integration/<name>`), where merged trees are checked
 * out and tested. Nothing here touches the user's checkout.
 *
 * Needs `--allow-run=git`, `--allow-read`, `--allow-write`.
 * @module
 */
import { join } from "node:path";
import { AppError } from "../core/errors.ts";
import { GIT_ENV, GIT_LAYOUT_ENV } from "./git_env.ts";
import { gitCommonDir } from "./git_layout.ts";
import { gitText, gitTry } from "./git_run.ts";
import { type CappedResult, run, runCapped, type RunResult } from "./runner.ts";
import { statOrNull } from "./fs.ts";

/** Result of {@link mergeTrees}. */
export type TreeMerge =
  | { ok: true; tree: string }
  | { ok: false; files: string[] };

/**
 * Merge two commits the way `git merge` would, writing only objects:
 * the merged tree, or the conflicting files.
 * @throws {AppError} when git cannot merge at all (unknown commit, old git).
 */
export async function mergeTrees(
  repo: string,
  a: string,
  b: string,
): Promise<TreeMerge> {
  const r = await gitTry(repo, [
    "merge-tree",
    "--write-tree",
    "--name-only",
    "--no-messages",
    "-z",
    a,
    b,
  ]);
  const fields = r.stdout.split("\0").filter((f) => f !== "");
  if (r.code === 0 && fields[0]) return { ok: true, tree: fields[0] };
  if (r.code === 1 && fields[0]) {
    return { ok: false, files: [...new Set(fields.slice(1))] };
  }
  throw new AppError(
    `Merge error: git merge-tree ${a} ${b} failed: ${
      r.stderr.trim() || `exit ${r.code}`
    } (git 2.38 or newer is needed)`,
    "merge",
  );
}

/** Identity for commits git-paw writes when the repo configures none. */
const PAW_IDENT: Record<string, string> = {
  GIT_AUTHOR_NAME: "git-paw",
  GIT_AUTHOR_EMAIL: "git-paw@localhost",
  GIT_COMMITTER_NAME: "git-paw",
  GIT_COMMITTER_EMAIL: "git-paw@localhost",
};

/** Options of {@link commitTree}. */
export type CommitTreeOptions = {
  /** Use git-paw's own identity (scratch commits), not the user's. */
  pawIdentity?: boolean;
};

/** `git commit-tree <tree> -p …` : the new commit's id. */
export async function commitTree(
  repo: string,
  spec: { tree: string; parents: readonly string[]; message: string },
  opts: CommitTreeOptions = {},
): Promise<string> {
  const args = [
    "commit-tree",
    spec.tree,
    ...spec.parents.flatMap((p) => ["-p", p]),
    "-m",
    spec.message,
  ];
  let r = opts.pawIdentity
    ? await gitWithEnv(repo, args, PAW_IDENT)
    : await gitTry(repo, args);
  if (r.code !== 0 && !opts.pawIdentity && /identity|email/i.test(r.stderr)) {
    r = await gitWithEnv(repo, args, PAW_IDENT);
  }
  if (r.code !== 0) {
    throw new AppError(
      `Merge error: cannot write a commit: ${r.stderr.trim()}`,
      "merge",
    );
  }
  return r.stdout.trim();
}

function gitWithEnv(
  repo: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<RunResult> {
  return run("git", args, { cwd: repo, env: { ...GIT_ENV, ...env } });
}

const OID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * The commit each of `branches` points at (`refs/heads/<b>`): read from the
 * loose ref files where they are plain (gitrepository-layout(5); git
 * replaces them atomically), the rest (packed, symbolic, reftable) from one
 * `git for-each-ref`; missing branches are left out.
 */
export async function branchTips(
  repo: string,
  branches: readonly string[],
  opts: { commonDir?: string } = {},
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (branches.length === 0) return out;
  const common = opts.commonDir ??
    await gitCommonDir(repo).catch(() => null);
  const rest: string[] = [];
  for (const b of branches) {
    // A few 41-byte files: read synchronously (no thread-pool round trips).
    const text = common && !b.includes("..")
      ? readRefSync(join(common, "refs", "heads", b))
      : null;
    const oid = text?.trim() ?? "";
    if (OID.test(oid)) out.set(b, oid);
    else rest.push(b);
  }
  if (rest.length === 0) return out;
  const r = await gitTry(repo, [
    "for-each-ref",
    "--format=%(objectname) %(refname)",
    "--",
    ...rest.map((b) => `refs/heads/${b}`),
  ]);
  for (const line of r.stdout.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp < 0) continue;
    const ref = line.slice(sp + 1);
    if (!ref.startsWith("refs/heads/")) continue;
    out.set(ref.slice("refs/heads/".length), line.slice(0, sp));
  }
  return out;
}

function readRefSync(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null; // packed, missing, or a directory: ask git
  }
}

/** Parents of a commit read from its loose object, or `null` (packed, …). */
async function looseParents(
  commonDir: string,
  oid: string,
): Promise<string[] | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(
      join(commonDir, "objects", oid.slice(0, 2), oid.slice(2)),
    );
  } catch {
    return null;
  }
  try {
    const raw = new Uint8Array(
      await new Response(
        new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
          new DecompressionStream("deflate"),
        ),
      ).arrayBuffer(),
    );
    const text = new TextDecoder().decode(raw.subarray(0, 4096));
    if (!text.startsWith("commit ")) return null;
    const body = text.slice(text.indexOf("\0") + 1);
    const parents: string[] = [];
    for (const line of body.split("\n")) {
      if (line.startsWith("parent ")) parents.push(line.slice(7).trim());
      else if (line.startsWith("tree ")) continue;
      else break;
    }
    return parents;
  } catch {
    return null;
  }
}

/**
 * {@link isAncestor} answered from loose commit objects when `b` is a few
 * commits past `a` (an agent's new commits are loose): no git process. Falls
 * back to `git merge-base --is-ancestor` when an object is packed or the
 * walk grows past `maxCommits`.
 */
export async function isAncestorQuick(
  repo: string,
  commonDir: string,
  a: string,
  b: string,
  maxCommits = 32,
): Promise<boolean> {
  if (a === b) return true;
  const seen = new Set<string>([b]);
  let frontier = [b];
  while (frontier.length > 0) {
    if (seen.size > maxCommits) return await isAncestor(repo, a, b);
    const next: string[] = [];
    for (const c of frontier) {
      const ps = await looseParents(commonDir, c);
      if (ps === null) return await isAncestor(repo, a, b);
      for (const p of ps) {
        if (p === a) return true;
        if (!seen.has(p)) {
          seen.add(p);
          next.push(p);
        }
      }
    }
    frontier = next;
  }
  return false; // every ancestor of b was read: a is not one
}

/** True when `a` is an ancestor of (or equal to) `b`. */
export async function isAncestor(
  repo: string,
  a: string,
  b: string,
): Promise<boolean> {
  return (await gitTry(repo, ["merge-base", "--is-ancestor", a, b])).code ===
    0;
}

/** Commit times (unix seconds) of commits, one git call. */
export async function commitTimes(
  repo: string,
  commits: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (commits.length === 0) return out;
  const text = await gitText(repo, [
    "show",
    "-s",
    "--format=%H %ct",
    ...commits,
  ]);
  for (const line of text.split("\n")) {
    const [h, t] = line.split(" ");
    if (h && t) out.set(h, Number(t));
  }
  return out;
}

/** Where git-paw's scratch worktrees live. */
export async function scratchRoot(repo: string): Promise<string> {
  return join(await gitCommonDir(repo), "paw-integration");
}

/**
 * The scratch worktree `name` (created detached at `commit` the first time,
 * reused after): `<common-dir>/paw-integration/<name>`.
 */
export async function ensureScratchWorktree(
  repo: string,
  name: string,
  commit: string,
): Promise<string> {
  const path = join(await scratchRoot(repo), name);
  if ((await statOrNull(join(path, ".git")))?.isFile) return path;
  await gitTry(repo, ["worktree", "prune"]);
  await Deno.remove(path, { recursive: true }).catch(() => {});
  const r = await gitTry(repo, [
    "worktree",
    "add",
    "--detach",
    "--no-checkout",
    "-f",
    "--",
    path,
    commit,
  ]);
  if (r.code !== 0) {
    throw new AppError(
      `Merge error: cannot create the scratch worktree ${path}: ${r.stderr.trim()}`,
      "merge",
    );
  }
  return path;
}

/**
 * Make the scratch worktree hold exactly `treeish`: untracked and ignored
 * files removed (`git clean -fdx`), index and files reset to it
 * (`git read-tree -u --reset`).
 */
export async function checkoutScratch(
  scratch: string,
  treeish: string,
): Promise<void> {
  await cleanScratch(scratch);
  await resetScratch(scratch, treeish);
}

/** Remove untracked and ignored files of a scratch worktree (`clean -fdx`). */
export async function cleanScratch(scratch: string): Promise<void> {
  await gitTry(scratch, ["clean", "-fdxq"], { isolated: true });
}

/**
 * Reset a clean scratch worktree's index and files to `treeish`
 * (`git read-tree -u --reset`).
 */
export async function resetScratch(
  scratch: string,
  treeish: string,
  opts: { from?: string } = {},
): Promise<void> {
  const git = (args: string[]) => gitTry(scratch, args, { isolated: true });
  // From the tree it holds: a two-tree merge touches only what differs;
  // it refuses when a test changed a tracked file, then reset everything.
  if (opts.from) {
    const m = await git(["read-tree", "-u", "-m", opts.from, treeish]);
    if (m.code === 0) return;
  }
  const r = await git(["read-tree", "-u", "--reset", treeish]);
  if (r.code !== 0) {
    throw new AppError(
      `Merge error: cannot check out ${treeish} in ${scratch}: ${r.stderr.trim()}`,
      "merge",
    );
  }
}

/** Options of {@link runTest}. */
export type RunTestOptions = {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBytes?: number;
};

/**
 * Run the test command in a scratch worktree, outside any git environment
 * of ours (the test sees the scratch worktree as its repository).
 */
export async function runTest(
  scratch: string,
  argv: readonly string[],
  opts: RunTestOptions = {},
): Promise<CappedResult> {
  return await runCapped(argv[0]!, argv.slice(1), {
    cwd: scratch,
    unsetEnv: GIT_LAYOUT_ENV,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
  });
}

/**
 * Remove git-paw's scratch worktrees and their directory (the lane's
 * status file with it); for `purge`.
 */
export async function removeScratchWorktrees(repo: string): Promise<void> {
  const root = await scratchRoot(repo);
  const list = await gitTry(repo, ["worktree", "list", "--porcelain", "-z"]);
  for (const f of list.stdout.split("\0")) {
    if (!f.startsWith("worktree ")) continue;
    const p = f.slice("worktree ".length);
    if (p.startsWith(root + "/")) {
      await gitTry(repo, ["worktree", "remove", "--force", "--force", "--", p]);
    }
  }
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await gitTry(repo, ["worktree", "prune"]);
}
