/**
 * git, as git-paw needs it (SPEC §3): repo discovery, default branch,
 * branch listing and validation, worktree creation/reuse/removal, safe
 * rebase, dirty and unmerged checks. Every call is an argv array through
 * {@link run}; branch names and paths never pass through a shell, and `--`
 * separates them from options wherever git allows it.
 *
 * Needs `--allow-run=git`, `--allow-read`, `--allow-write` (exclude file).
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { AppError, CommandFailedError } from "../core/errors.ts";
import { branchNameProblem as refnameProblem } from "../core/refname.ts";
import { slugify, worktreeDirName } from "../core/slug.ts";
import { run, type RunResult } from "./runner.ts";

/** Where agent worktrees live. */
export type WorktreePlacement = "sibling" | "child";

// Never let git open an editor or ask for credentials from inside git-paw.
const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_EDITOR: "true",
  GIT_SEQUENCE_EDITOR: "true",
  GIT_MERGE_AUTOEDIT: "no",
};

/** Run git in `cwd`; never throws for a non-zero exit. */
export function git(cwd: string, args: readonly string[]): Promise<RunResult> {
  return run("git", args, { cwd, env: GIT_ENV });
}

/** Run git in `cwd`; a non-zero exit throws {@link CommandFailedError}. */
export async function gitOk(
  cwd: string,
  args: readonly string[],
): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) {
    throw new CommandFailedError(["git", ...args], r.code, r.stderr);
  }
  return r.stdout;
}

function worktreeError(msg: string, cause?: unknown): AppError {
  return new AppError(`Worktree error: ${msg}`, "worktree", { cause });
}

/** Canonical absolute path (symlinks resolved) when it exists, else resolved. */
export async function canonical(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    // Canonicalise the parent at least (e.g. /tmp → /private/tmp on macOS).
    try {
      return join(await Deno.realPath(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Top-level directory of the worktree containing `cwd` (canonical path), as
 * `git rev-parse --show-toplevel` says: inside a linked worktree this is
 * the linked worktree itself. See {@link repoRoot} for the repo's root.
 * @throws {AppError} `Not a git repository. Run git-paw from inside a git project.`
 */
export async function worktreeTop(cwd: string = Deno.cwd()): Promise<string> {
  let r: RunResult;
  try {
    r = await git(cwd, ["rev-parse", "--show-toplevel"]);
  } catch (e) {
    if (e instanceof AppError) throw e; // git missing
    throw notARepo(e);
  }
  const top = r.stdout.trim();
  if (r.code !== 0 || top === "") throw notARepo();
  return await canonical(top);
}

/**
 * The repo root git-paw works on (canonical path): the top level of the
 * MAIN worktree, also when `cwd` is inside a linked worktree (e.g. an
 * agent's pane), so every command finds the same session from anywhere in
 * the project.
 * @throws {AppError} `Not a git repository. Run git-paw from inside a git project.`
 */
export async function repoRoot(cwd: string = Deno.cwd()): Promise<string> {
  const top = await worktreeTop(cwd);
  const dirs = await git(top, [
    "rev-parse",
    "--path-format=absolute",
    "--git-dir",
    "--git-common-dir",
  ]);
  const [gitDir, commonDir] = dirs.stdout.trim().split("\n");
  if (dirs.code !== 0 || !gitDir || !commonDir || gitDir === commonDir) {
    return top;
  }
  const main = (await worktreeList(top).catch(() => []))[0];
  return main && !main.bare ? main.path : top;
}

function notARepo(cause?: unknown): AppError {
  return new AppError(
    "Not a git repository. Run git-paw from inside a git project.",
    "not_a_repo",
    { cause },
  );
}

/** `repoRoot(cwd)` or `null` when `cwd` is not inside a repo. */
export async function tryRepoRoot(
  cwd: string = Deno.cwd(),
): Promise<string | null> {
  try {
    return await repoRoot(cwd);
  } catch (e) {
    if (e instanceof AppError && e.code === "not_a_repo") return null;
    throw e;
  }
}

/** Absolute `<git-common-dir>` (shared by the repo and all its worktrees). */
export async function gitCommonDir(repo: string): Promise<string> {
  const out = (await gitOk(repo, ["rev-parse", "--git-common-dir"])).trim();
  return await canonical(isAbsolute(out) ? out : join(repo, out));
}

/** Name of the branch checked out in `cwd`, or `null` when detached. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const r = await git(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** True when `refs/heads/<branch>` exists. */
export async function branchExists(
  repo: string,
  branch: string,
): Promise<boolean> {
  const r = await git(repo, [
    "show-ref",
    "--verify",
    "--quiet",
    `refs/heads/${branch}`,
  ]);
  return r.code === 0;
}

async function refExists(repo: string, ref: string): Promise<boolean> {
  return (await git(repo, ["show-ref", "--verify", "--quiet", ref])).code ===
    0;
}

/** True when HEAD points at a commit (false in a fresh repo with no commits). */
export async function hasCommits(repo: string): Promise<boolean> {
  return (await git(repo, [
    "rev-parse",
    "--verify",
    "--quiet",
    "HEAD^{commit}",
  ]))
    .code === 0;
}

/**
 * The default branch: `origin/HEAD`'s target; else `init.defaultBranch` if
 * that branch exists; else `main`; else `master`; else the current branch;
 * else `main`.
 */
export async function defaultBranch(repo: string): Promise<string> {
  const r = await git(repo, [
    "symbolic-ref",
    "--quiet",
    "refs/remotes/origin/HEAD",
  ]);
  const target = r.stdout.trim();
  if (r.code === 0 && target.startsWith("refs/remotes/origin/")) {
    return target.slice("refs/remotes/origin/".length);
  }
  const init = (await git(repo, ["config", "--get", "init.defaultBranch"]))
    .stdout.trim();
  if (init && await branchExists(repo, init)) return init;
  for (const b of ["main", "master"]) {
    if (await branchExists(repo, b)) return b;
  }
  return (await currentBranch(repo)) ?? "main";
}

/**
 * Branches for the picker (SPEC §3.3): local and remote, `HEAD` lines
 * dropped, `refs/remotes/` and `origin/` stripped, deduplicated, sorted.
 */
export async function listBranches(repo: string): Promise<string[]> {
  const out = await gitOk(repo, [
    "branch",
    "-a",
    "--format=%(refname:short)",
  ]);
  const set = new Set<string>();
  for (const raw of out.split("\n")) {
    const line = raw.trim();
    if (!line || line.includes("HEAD")) continue;
    let b = line.startsWith("refs/remotes/")
      ? line.slice("refs/remotes/".length)
      : line;
    if (b.startsWith("origin/")) b = b.slice("origin/".length);
    if (b) set.add(b);
  }
  return [...set].sort();
}

/**
 * Why `branch` is not a usable branch name, or `null` when it is: the rules
 * of `git check-ref-format --branch`, plus no leading `-`, no `@{` shorthands,
 * nothing git would rewrite, no control characters. Pure (no git process);
 * see {@link refnameProblem}. `cwd` is unused and kept for compatibility.
 */
export function branchNameProblem(
  branch: string,
  _cwd?: string,
): Promise<string | null> {
  return Promise.resolve(refnameProblem(branch));
}

/**
 * Refuse a branch name git would not accept (or that looks like an option).
 * Pure (no git process); `cwd` is unused and kept for compatibility.
 * @throws {AppError} `Branch error: invalid branch name '<b>': <reason>`
 */
export function validateBranchName(
  branch: string,
  _cwd?: string,
): Promise<void> {
  try {
    assertBranchName(branch);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
}

function assertBranchName(branch: string): void {
  const problem = refnameProblem(branch);
  if (problem) {
    throw new AppError(
      `Branch error: invalid branch name ${JSON.stringify(branch)}: ${problem}`,
      "bad_branch",
      { exitCode: 2 },
    );
  }
}

/** One entry of `git worktree list --porcelain`. */
export type WorktreeEntry = {
  /** Canonical absolute path. */
  path: string;
  /** Commit checked out, if any. */
  head: string | null;
  /** Short branch name (`feat/a`), `null` when detached or bare. */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  prunable: boolean;
  /** True for the main worktree (the first entry). */
  main: boolean;
};

/** All worktrees of the repo (main first), paths canonicalised. */
export async function worktreeList(repo: string): Promise<WorktreeEntry[]> {
  const out = await gitOk(repo, ["worktree", "list", "--porcelain", "-z"]);
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  for (const field of out.split("\0")) {
    if (field === "") {
      if (cur) entries.push(cur);
      cur = null;
      continue;
    }
    const sp = field.indexOf(" ");
    const key = sp < 0 ? field : field.slice(0, sp);
    const val = sp < 0 ? "" : field.slice(sp + 1);
    if (key === "worktree") {
      if (cur) entries.push(cur);
      cur = {
        path: val,
        head: null,
        branch: null,
        bare: false,
        detached: false,
        locked: false,
        prunable: false,
        main: entries.length === 0 && cur === null,
      };
    } else if (cur) {
      if (key === "HEAD") cur.head = val;
      else if (key === "branch") {
        cur.branch = val.startsWith("refs/heads/")
          ? val.slice("refs/heads/".length)
          : val;
      } else if (key === "bare") cur.bare = true;
      else if (key === "detached") cur.detached = true;
      else if (key === "locked") cur.locked = true;
      else if (key === "prunable") cur.prunable = true;
    }
  }
  if (cur) entries.push(cur);
  entries.forEach((e, i) => (e.main = i === 0));
  for (const e of entries) e.path = await canonical(e.path);
  return entries;
}

/**
 * Where the worktree of `branch` goes. `sibling`: `<parent>/<project>-<branch>`
 * (SPEC §3.1); `child`: `<repo>/.git-paw/worktrees/<slug(branch)>`. Pure.
 */
export function worktreePath(
  repoRoot: string,
  project: string,
  branch: string,
  placement: WorktreePlacement = "sibling",
): string {
  if (placement === "child") {
    return join(repoRoot, ".git-paw", "worktrees", slugify(branch));
  }
  return join(dirname(repoRoot), worktreeDirName(project, branch));
}

/** The pattern added to `info/exclude` for child worktrees. */
export const CHILD_WORKTREES_EXCLUDE = "/.git-paw/worktrees/";

/**
 * Add `line` to `<git-common-dir>/info/exclude` unless already there.
 * Returns true when the file changed.
 */
export async function ensureExcluded(
  repo: string,
  line: string,
): Promise<boolean> {
  const file = join(await gitCommonDir(repo), "info", "exclude");
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text.split(/\r?\n/).some((l) => l.trim() === line)) return false;
  await Deno.mkdir(dirname(file), { recursive: true });
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  await Deno.writeTextFile(file, `${text}${sep}${line}\n`);
  return true;
}

/** `git worktree prune`. */
export async function pruneWorktrees(repo: string): Promise<void> {
  await gitOk(repo, ["worktree", "prune"]);
}

/** What became of the rebase step of {@link createWorktree}. */
export type RebaseOutcome =
  | { status: "not-requested" }
  | { status: "rebased"; onto: string }
  | { status: "up-to-date"; onto: string }
  | { status: "skipped"; reason: string }
  | { status: "failed"; onto: string; detail: string };

/** Input of {@link createWorktree}. */
export type CreateWorktreeOptions = {
  branch: string;
  /** Target path (see {@link worktreePath}). */
  path: string;
  /** Rebase an EXISTING branch onto the default branch when safe. */
  rebase?: boolean;
  /** Default branch (looked up when absent). */
  defaultBranch?: string;
  /** Skip `git worktree prune` (when the caller already ran it). */
  skipPrune?: boolean;
};

/** What {@link createWorktree} did. */
export type CreatedWorktree = {
  branch: string;
  /** Canonical path of the worktree (the existing one when reused). */
  path: string;
  /** True when git-paw created the branch (from HEAD); purge may delete it. */
  branch_created: boolean;
  /** True when an existing worktree of the branch was reused. */
  reused: boolean;
  rebase: RebaseOutcome;
};

/**
 * Create (or reuse) the worktree for `branch` (SPEC §3.5, made safe):
 * 1. prune stale worktree records;
 * 2. a worktree already holding the branch is reused (the main checkout is
 *    refused: agents never work in the user's checkout);
 * 3. a missing branch is created from HEAD (or from `origin/<branch>` when
 *    that exists, as git's DWIM does); `git worktree add` otherwise;
 * 4. when `rebase` is set and the branch already existed, it is rebased onto
 *    the default branch INSIDE its own worktree, only with a clean tree; a
 *    conflict is aborted and reported in `rebase` (the branch stays as it was).
 *    The user's checkout is never switched.
 * @throws {AppError} `Worktree error: …` when git refuses.
 */
export async function createWorktree(
  repo: string,
  opts: CreateWorktreeOptions,
): Promise<CreatedWorktree> {
  const added = await addWorktree(repo, opts, true);
  return await finishWorktree(repo, added, opts);
}

type Added = { result: CreatedWorktree; existed: boolean; checkout: boolean };

async function ensureHasCommits(repo: string): Promise<void> {
  if (!await hasCommits(repo)) {
    throw worktreeError(
      "the repository has no commits yet; make a first commit, then run git-paw again",
    );
  }
}

/** Steps 1-3 of {@link createWorktree}; with `checkout=false` files are not written yet. */
async function addWorktree(
  repo: string,
  opts: CreateWorktreeOptions,
  checkout: boolean,
  prechecked = false,
): Promise<Added> {
  const { branch } = opts;
  if (!prechecked) {
    await validateBranchName(branch, repo);
    await ensureHasCommits(repo);
  }
  if (!opts.skipPrune) await pruneWorktrees(repo);
  const wanted = await canonical(opts.path);
  const existed = await branchExists(repo, branch);
  const holder = existed
    ? (await worktreeList(repo)).find((w) => w.branch === branch)
    : undefined;

  if (holder?.main) {
    throw worktreeError(
      `branch '${branch}' is checked out in your main worktree (${holder.path}); switch that checkout to another branch or pick another branch for the agent`,
    );
  }
  if (holder) {
    return {
      existed,
      checkout: false,
      result: {
        branch,
        path: holder.path,
        branch_created: false,
        reused: true,
        rebase: { status: "not-requested" },
      },
    };
  }
  if (await pathExists(wanted) && !await isEmptyDir(wanted)) {
    throw worktreeError(
      `cannot create the worktree for '${branch}': ${wanted} already exists and is not its worktree; move it away or choose worktree_placement`,
    );
  }
  const childRoot = join(await canonical(repo), ".git-paw", "worktrees");
  if (wanted.startsWith(childRoot + "/")) {
    await ensureExcluded(repo, CHILD_WORKTREES_EXCLUDE);
  }
  let created = false;
  const args = ["worktree", "add"];
  if (!checkout) args.push("--no-checkout");
  if (existed) {
    args.push("--", wanted, branch);
  } else if (await refExists(repo, `refs/remotes/origin/${branch}`)) {
    args.push(
      "--track",
      "-b",
      branch,
      "--",
      wanted,
      `refs/remotes/origin/${branch}`,
    );
  } else {
    args.push("-b", branch, "--", wanted, "HEAD");
    created = true;
  }
  const r = await gitRetryingLocks(repo, args);
  if (r.code !== 0) {
    throw worktreeError(
      `git worktree add failed for branch '${branch}': ${r.stderr.trim()}`,
    );
  }
  return {
    existed,
    checkout: !checkout,
    result: {
      branch,
      path: await canonical(wanted),
      branch_created: created,
      reused: false,
      rebase: { status: "not-requested" },
    },
  };
}

/** Step 4 of {@link createWorktree} (plus the deferred checkout). */
async function finishWorktree(
  repo: string,
  added: Added,
  opts: CreateWorktreeOptions,
): Promise<CreatedWorktree> {
  const { result } = added;
  if (added.checkout) {
    const r = await git(result.path, ["reset", "--hard", "-q", "HEAD"]);
    if (r.code !== 0) {
      throw worktreeError(
        `cannot check out '${result.branch}' in ${result.path}: ${r.stderr.trim()}`,
      );
    }
  }
  if (opts.rebase && added.existed) {
    const base = opts.defaultBranch ?? await defaultBranch(repo);
    result.rebase = await safeRebase(repo, result.path, result.branch, base);
  }
  return result;
}

async function pathExists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function isEmptyDir(p: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(p)) return false;
    return true;
  } catch {
    return false;
  }
}

// Concurrent `git worktree add`s can collide on a ref or config lock; retry.
async function gitRetryingLocks(
  repo: string,
  args: string[],
): Promise<RunResult> {
  let r = await git(repo, args);
  for (
    let i = 0;
    i < 5 && r.code !== 0 && /\.lock\b|cannot lock/i.test(r.stderr);
    i++
  ) {
    await new Promise((ok) => setTimeout(ok, 50 * (i + 1)));
    r = await git(repo, args);
  }
  return r;
}

/**
 * Rebase `branch` (checked out in `worktree`) onto `base`, only when the
 * worktree has no uncommitted changes to tracked files. Never touches any
 * other checkout; a conflict is aborted.
 */
export async function safeRebase(
  repo: string,
  worktree: string,
  branch: string,
  base: string,
): Promise<RebaseOutcome> {
  if (branch === base) {
    return { status: "skipped", reason: `'${branch}' is the default branch` };
  }
  const onto = await branchExists(repo, base)
    ? `refs/heads/${base}`
    : await refExists(repo, `refs/remotes/origin/${base}`)
    ? `refs/remotes/origin/${base}`
    : null;
  if (!onto) {
    return { status: "skipped", reason: `default branch '${base}' not found` };
  }
  if ((await currentBranch(worktree)) !== branch) {
    return {
      status: "skipped",
      reason: `the worktree at ${worktree} is not on '${branch}'`,
    };
  }
  const anc = await git(worktree, [
    "merge-base",
    "--is-ancestor",
    onto,
    "HEAD",
  ]);
  if (anc.code === 0) return { status: "up-to-date", onto: base };
  const dirty = await git(worktree, [
    "status",
    "--porcelain",
    "--untracked-files=no",
  ]);
  if (dirty.code !== 0 || dirty.stdout.trim() !== "") {
    return {
      status: "skipped",
      reason: `uncommitted changes in ${worktree}`,
    };
  }
  const r = await git(worktree, ["rebase", "--no-autostash", onto]);
  if (r.code === 0) return { status: "rebased", onto: base };
  await git(worktree, ["rebase", "--abort"]);
  return {
    status: "failed",
    onto: base,
    detail: (r.stderr.trim() || r.stdout.trim()).split("\n")[0] ?? "",
  };
}

/** Progress event of {@link createWorktrees}. */
export type WorktreeProgress =
  | { kind: "start"; branch: string; path: string }
  | { kind: "done"; branch: string; result: CreatedWorktree; ms: number }
  | { kind: "failed"; branch: string; error: Error };

/** Options for {@link createWorktrees}. */
export type CreateWorktreesOptions = {
  /** Parallel git processes (default 4). */
  concurrency?: number;
  /** Called as each worktree starts/finishes (e.g. print on stderr). */
  onProgress?: (e: WorktreeProgress) => void;
  /** On a failure, remove what this call created (default true). */
  rollbackOnError?: boolean;
};

/**
 * Create several worktrees concurrently (prunes once first). Results are in
 * input order. If any fails, the worktrees and branches THIS call created are
 * removed again (unless `rollbackOnError: false`) and the first error thrown.
 */
export async function createWorktrees(
  repo: string,
  list: readonly CreateWorktreeOptions[],
  opts: CreateWorktreesOptions = {},
): Promise<CreatedWorktree[]> {
  await Promise.all(list.map((i) => validateBranchName(i.branch, repo)));
  const seen = new Map<string, string>();
  for (const item of list) {
    const p = resolve(item.path);
    const other = seen.get(p);
    if (other !== undefined) {
      throw worktreeError(
        `branches '${other}' and '${item.branch}' would share the worktree ${p}; rename one`,
      );
    }
    seen.set(p, item.branch);
  }
  await ensureHasCommits(repo);
  await pruneWorktrees(repo);
  const base = list.some((i) => i.rebase && !i.defaultBranch)
    ? await defaultBranch(repo)
    : undefined;
  const items = list.map((i) => ({
    ...i,
    defaultBranch: i.defaultBranch ?? base,
    skipPrune: true,
  }));
  const added: (Added | undefined)[] = new Array(list.length);
  const results: (CreatedWorktree | undefined)[] = new Array(list.length);
  const errors: Error[] = [];
  const started = items.map(() => 0);
  const fail = (i: number, e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    errors.push(err);
    opts.onProgress?.({ kind: "failed", branch: items[i]!.branch, error: err });
  };
  // Phase 1, one at a time: git's worktree metadata (.git/worktrees/*) is not
  // safe to create concurrently. No files are checked out yet, so it is fast.
  for (let i = 0; i < items.length && errors.length === 0; i++) {
    started[i] = performance.now();
    opts.onProgress?.({
      kind: "start",
      branch: items[i]!.branch,
      path: items[i]!.path,
    });
    try {
      added[i] = await addWorktree(repo, items[i]!, false, true);
    } catch (e) {
      fail(i, e);
    }
  }
  // Phase 2, concurrently: check the files out and rebase, each in its own worktree.
  let next = 0;
  const worker = async () => {
    while (next < items.length && errors.length === 0) {
      const i = next++;
      try {
        const res = await finishWorktree(repo, added[i]!, items[i]!);
        results[i] = res;
        opts.onProgress?.({
          kind: "done",
          branch: items[i]!.branch,
          result: res,
          ms: performance.now() - started[i]!,
        });
      } catch (e) {
        fail(i, e);
      }
    }
  };
  if (errors.length === 0) {
    const n = Math.max(1, Math.min(opts.concurrency ?? 4, list.length));
    await Promise.all(Array.from({ length: n }, worker));
  }
  if (errors.length > 0) {
    if (opts.rollbackOnError ?? true) {
      for (const a of added) {
        if (!a || a.result.reused) continue;
        await git(repo, ["worktree", "remove", "--force", "--", a.result.path]);
        if (a.result.branch_created) {
          await git(repo, ["branch", "-D", "--", a.result.branch]);
        }
      }
    }
    throw errors[0];
  }
  return results as CreatedWorktree[];
}

/**
 * Uncommitted paths in the worktree at `path` (modified, staged, untracked;
 * renames report the destination). Ignored files are not listed.
 */
export async function dirtyFiles(path: string): Promise<string[]> {
  const out = await gitOk(path, ["status", "--porcelain=v1", "-z"]);
  const fields = out.split("\0");
  const files: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    files.push(f.slice(3));
    // In -z mode a rename/copy is followed by the source path: skip it.
    if (xy[0] === "R" || xy[0] === "C" || xy[1] === "R" || xy[1] === "C") i++;
  }
  return files;
}

/** Options for {@link removeWorktree}. */
export type RemoveWorktreeOptions = {
  /** Remove even with uncommitted work. */
  force?: boolean;
};

/**
 * Remove the worktree at `path`. Without `force`, a worktree with
 * uncommitted work is refused with the list of dirty files.
 * A path that no longer exists is pruned instead.
 * @throws {AppError} `Worktree error: … has uncommitted changes …`
 */
export async function removeWorktree(
  repo: string,
  path: string,
  opts: RemoveWorktreeOptions = {},
): Promise<void> {
  if (!await pathExists(path)) {
    await pruneWorktrees(repo);
    return;
  }
  if (!opts.force) {
    const dirty = await dirtyFiles(path);
    if (dirty.length > 0) {
      throw new AppError(
        `Worktree error: ${path} has uncommitted changes (${
          dirty.slice(0, 10).join(", ")
        }${
          dirty.length > 10 ? `, … ${dirty.length - 10} more` : ""
        }); commit them or pass --force`,
        "dirty_worktree",
      );
    }
  }
  // Clean (or forced): --force also clears ignored files such as AGENTS.md;
  // twice to pass a lock.
  const r = await git(repo, [
    "worktree",
    "remove",
    "--force",
    "--force",
    "--",
    path,
  ]);
  if (r.code !== 0) {
    throw worktreeError(`cannot remove ${path}: ${r.stderr.trim()}`);
  }
}

/** `git branch -D <branch>` (force: unmerged commits are lost). */
export async function deleteBranch(
  repo: string,
  branch: string,
): Promise<void> {
  const r = await git(repo, ["branch", "-D", "--", branch]);
  if (r.code !== 0) {
    throw worktreeError(`cannot delete branch '${branch}': ${r.stderr.trim()}`);
  }
}

/** Number of commits on `branch` that are not on `base` (0 when either is missing). */
export async function unmergedCount(
  repo: string,
  branch: string,
  base: string,
): Promise<number> {
  const r = await git(repo, [
    "rev-list",
    "--count",
    `refs/heads/${branch}`,
    "--not",
    base,
    "--",
  ]);
  if (r.code !== 0) return 0;
  return Number(r.stdout.trim()) || 0;
}
