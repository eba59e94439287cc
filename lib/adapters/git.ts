/**
 * git, as git-paw needs it (docs/REFERENCE.md, "Worktrees and git"): repo discovery, default branch,
 * branch listing and validation, worktree creation/reuse/removal, safe
 * rebase, dirty and unmerged checks. Every call is an argv array through
 * {@link gitTry}; branch names and paths never pass through a shell, and `--`
 * separates them from options wherever git allows it.
 *
 * Needs `--allow-run=git`, `--allow-read`, `--allow-write` (exclude file).
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { AppError } from "../core/errors.ts";
import { branchNameProblem as refnameProblem } from "../core/refname.ts";
import type { RunResult } from "./runner.ts";
import { REPO_ROOT_ARGS } from "./git_env.ts";
import { gitText, gitTry } from "./git_run.ts";
import { gitCommonDir, notARepo } from "./git_layout.ts";
import { canonical, readTextOrNull } from "./fs.ts";

function worktreeError(msg: string, cause?: unknown): AppError {
  return new AppError(`Worktree error: ${msg}`, "worktree", { cause });
}

/**
 * The repo root git-paw works on (canonical path): the top level of the
 * MAIN worktree, also when `cwd` is inside a linked worktree (e.g. an
 * agent's pane), so every command finds the same session from anywhere in
 * the project.
 * @throws {AppError} `Not a git repository. Run git-paw from inside a git project.`
 */
export async function repoRoot(cwd: string = Deno.cwd()): Promise<string> {
  // One git process: the worktree's top and whether it is a linked one.
  let r: RunResult;
  try {
    r = await gitTry(cwd, REPO_ROOT_ARGS);
  } catch (e) {
    if (e instanceof AppError) throw e; // git missing
    throw notARepo(e);
  }
  const [rawTop, gitDir, commonDir] = r.stdout.trim().split("\n");
  if (r.code !== 0 || !rawTop) throw notARepo();
  const top = await canonical(rawTop);
  if (!gitDir || !commonDir || gitDir === commonDir) return top;
  const main = (await worktreeList(top).catch(() => []))[0];
  return main && !main.bare ? main.path : top;
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

/** Name of the branch checked out in `cwd`, or `null` when detached. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const r = await gitTry(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

/** True when `refs/heads/<branch>` exists. */
export async function branchExists(
  repo: string,
  branch: string,
): Promise<boolean> {
  const r = await gitTry(repo, [
    "show-ref",
    "--verify",
    "--quiet",
    `refs/heads/${branch}`,
  ]);
  return r.code === 0;
}

/**
 * The default branch: `origin/HEAD`'s target; else `init.defaultBranch` if
 * that branch exists; else `main`; else `master`; else the current branch;
 * else `main`.
 */
export async function defaultBranch(repo: string): Promise<string> {
  const r = await gitTry(repo, [
    "symbolic-ref",
    "--quiet",
    "refs/remotes/origin/HEAD",
  ]);
  const target = r.stdout.trim();
  if (r.code === 0 && target.startsWith("refs/remotes/origin/")) {
    return target.slice("refs/remotes/origin/".length);
  }
  const init = (await gitTry(repo, ["config", "--get", "init.defaultBranch"]))
    .stdout.trim();
  if (init && await branchExists(repo, init)) return init;
  for (const b of ["main", "master"]) {
    if (await branchExists(repo, b)) return b;
  }
  return (await currentBranch(repo)) ?? "main";
}

/**
 * Branches for the picker (docs/REFERENCE.md, "Worktrees and git"): local and remote, `HEAD` lines
 * dropped, `refs/remotes/` and `origin/` stripped, deduplicated, sorted.
 */
export async function listBranches(repo: string): Promise<string[]> {
  const out = await gitText(repo, [
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
  const out = await gitText(repo, ["worktree", "list", "--porcelain", "-z"]);
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

/** The pattern added to `info/exclude` for child worktrees. */
const CHILD_WORKTREES_EXCLUDE = "/.git-paw/worktrees/";

/**
 * Add `line` (or each of several lines) to `<git-common-dir>/info/exclude`
 * unless already there, in one write. Returns true when the file changed.
 */
export async function ensureExcluded(
  repo: string,
  line: string | string[],
): Promise<boolean> {
  const file = join(await gitCommonDir(repo), "info", "exclude");
  const text = await readTextOrNull(file) ?? "";
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = [...new Set(typeof line === "string" ? [line] : line)]
    .filter((l) => !have.has(l));
  if (missing.length === 0) return false;
  await Deno.mkdir(dirname(file), { recursive: true });
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  await Deno.writeTextFile(file, `${text}${sep}${missing.join("\n")}\n`);
  return true;
}

/** `git worktree prune`. */
export async function pruneWorktrees(repo: string): Promise<void> {
  await gitText(repo, ["worktree", "prune"]);
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
 * Create (or reuse) the worktree for `branch` (docs/REFERENCE.md, "Worktrees and git"):
 * 1. prune stale worktree records (when git lists some as prunable);
 * 2. a worktree already holding the branch is reused (the main checkout is
 *    refused: agents never work in the user's checkout);
 * 3. a missing branch is created from HEAD (or from `origin/<branch>` when
 *    that exists, as git's DWIM does), then `git worktree add`;
 * 4. when `rebase` is set and the branch already existed, it is rebased onto
 *    the default branch INSIDE its own worktree, only with a clean tree; a
 *    conflict is aborted and reported in `rebase` (the branch stays as it was).
 *    The user's checkout is never switched.
 *
 * {@link createWorktrees} with a list of one.
 * @throws {AppError} `Worktree error: …` when git refuses.
 */
export async function createWorktree(
  repo: string,
  opts: CreateWorktreeOptions,
): Promise<CreatedWorktree> {
  const [res] = await createWorktrees(repo, [opts], { concurrency: 1 });
  return res!;
}

function noCommitsError(): AppError {
  return worktreeError(
    "the repository has no commits yet; make a first commit, then run git-paw again",
  );
}

/** One git process: every local branch and origin ref (symref targets too). */
async function refSnapshot(repo: string): Promise<Map<string, string>> {
  const out = await gitText(repo, [
    "for-each-ref",
    "--format=%(refname)%00%(symref)",
    "refs/heads",
    "refs/remotes/origin",
  ]);
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    if (line === "") continue;
    const nul = line.indexOf("\0");
    refs.set(
      nul < 0 ? line : line.slice(0, nul),
      nul < 0 ? "" : line.slice(nul + 1),
    );
  }
  return refs;
}

/** Like {@link defaultBranch}, reading `origin/HEAD` from a ref snapshot when it is there. */
function defaultBranchOf(
  repo: string,
  refs: ReadonlyMap<string, string>,
): Promise<string> {
  const target = refs.get("refs/remotes/origin/HEAD") ?? "";
  if (target.startsWith("refs/remotes/origin/")) {
    return Promise.resolve(target.slice("refs/remotes/origin/".length));
  }
  return defaultBranch(repo);
}

/** How a planned worktree's branch comes to exist. */
type Source = "existing" | "origin" | "head";

/** What {@link createWorktrees} decided for one item before changing anything. */
type Plan = {
  item: CreateWorktreeOptions;
  /** Canonical target path. */
  path: string;
  /** `refs/heads/<branch>` existed before this call. */
  existed: boolean;
  /** The worktree that already holds the branch (reused). */
  holder: WorktreeEntry | undefined;
  source: Source;
};

// A git command that lost a race for a ref/config lock, or (belt and braces)
// read another `worktree add`'s half-written `.git/worktrees/<id>`, is retried.
const RETRYABLE = /\.lock\b|cannot lock|\/worktrees\//i;

async function gitRetrying(
  repo: string,
  args: readonly string[],
  stdin?: string,
): Promise<RunResult> {
  const once = () =>
    stdin === undefined ? gitTry(repo, args) : gitTry(repo, args, { stdin });
  let r = await once();
  for (let i = 1; i <= 6 && r.code !== 0 && RETRYABLE.test(r.stderr); i++) {
    // The window lost is short (another process between creating and
    // writing a file), so the first retries come quickly; jitter spreads
    // the losers apart.
    await new Promise((ok) => setTimeout(ok, Math.random() * 8 * i * i));
    r = await once();
  }
  return r;
}

/**
 * Create several worktrees (see {@link createWorktree}). Results are in input
 * order. If any fails, the worktrees and branches THIS call created are
 * removed again (unless `rollbackOnError: false`) and the first error thrown.
 *
 * Cost for N new branches: one `worktree list` and one `for-each-ref`
 * (concurrently), one `update-ref --stdin` transaction creating every new
 * branch from HEAD, then N `worktree add -f` at `concurrency`. `-f` skips
 * git's own scan for other checkouts of the branch — that scan is what races
 * with a concurrent add — so the holders are checked here, from the listing.
 * Callers hold the repo's session lock. The default branch is looked up only
 * when an existing branch is to be rebased.
 */
export async function createWorktrees(
  repo: string,
  list: readonly CreateWorktreeOptions[],
  opts: CreateWorktreesOptions = {},
): Promise<CreatedWorktree[]> {
  for (const item of list) assertBranchName(item.branch);
  const seenPaths = new Map<string, string>();
  const seenBranches = new Set<string>();
  for (const item of list) {
    const p = resolve(item.path);
    const other = seenPaths.get(p);
    if (other !== undefined) {
      throw worktreeError(
        `branches '${other}' and '${item.branch}' would share the worktree ${p}; rename one`,
      );
    }
    if (seenBranches.has(item.branch)) {
      throw worktreeError(
        `branch '${item.branch}' is listed twice; give each agent its own branch`,
      );
    }
    seenPaths.set(p, item.branch);
    seenBranches.add(item.branch);
  }
  if (list.length === 0) return [];
  const emit = opts.onProgress ?? (() => {});
  const root = await canonical(repo);
  const [listing, refs] = await Promise.all([
    worktreeList(repo),
    refSnapshot(repo),
  ]);
  const self = listing.find((w) => w.path === root);
  const head = self?.head ??
    (await gitTry(repo, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]))
      .stdout.trim();
  if (!/^[0-9a-f]{40,64}$/.test(head) || /^0+$/.test(head)) {
    throw noCommitsError();
  }
  let entries = listing;
  if (listing.some((w) => w.prunable) && !list.every((i) => i.skipPrune)) {
    await pruneWorktrees(repo);
    entries = listing.filter((w) => !w.prunable);
  }

  const plans = await Promise.all(list.map(async (item): Promise<Plan> => {
    const existed = refs.has(`refs/heads/${item.branch}`);
    return {
      item,
      path: await canonical(item.path),
      existed,
      holder: existed
        ? entries.find((w) => w.branch === item.branch)
        : undefined,
      source: existed
        ? "existing"
        : refs.has(`refs/remotes/origin/${item.branch}`)
        ? "origin"
        : "head",
    };
  }));
  const occupied = await Promise.all(
    plans.map(async (p) =>
      !p.holder && (entries.some((w) => w.path === p.path) ||
        (await pathExists(p.path) && !await isEmptyDir(p.path)))
    ),
  );
  const refuse = (p: Plan, err: AppError): AppError => {
    emit({ kind: "start", branch: p.item.branch, path: p.item.path });
    emit({ kind: "failed", branch: p.item.branch, error: err });
    return err;
  };
  for (const [i, p] of plans.entries()) {
    const { branch } = p.item;
    if (p.holder?.main) {
      throw refuse(
        p,
        worktreeError(
          `branch '${branch}' is checked out in your main worktree (${p.holder.path}); switch that checkout to another branch or pick another branch for the agent`,
        ),
      );
    }
    if (occupied[i]) {
      throw refuse(
        p,
        worktreeError(
          `cannot create the worktree for '${branch}': ${p.path} already exists and is not its worktree; move it away or choose worktree_placement`,
        ),
      );
    }
  }
  const childRoot = join(root, ".git-paw", "worktrees") + "/";
  if (plans.some((p) => !p.holder && p.path.startsWith(childRoot))) {
    await ensureExcluded(repo, CHILD_WORKTREES_EXCLUDE);
  }

  const createdBranches: string[] = [];
  const addedPaths: string[] = [];
  const errors: Error[] = [];
  const results: CreatedWorktree[] = new Array(plans.length);
  try {
    await createBranches(repo, plans, head, createdBranches);
    for (const b of createdBranches) refs.set(`refs/heads/${b}`, "");
    const base = plans.some((p) =>
        p.item.rebase && p.existed && !p.item.defaultBranch
      )
      ? await defaultBranchOf(repo, refs)
      : undefined;
    let next = 0;
    const worker = async () => {
      while (next < plans.length && errors.length === 0) {
        const i = next++;
        const p = plans[i]!;
        const t0 = performance.now();
        emit({ kind: "start", branch: p.item.branch, path: p.item.path });
        try {
          const res = await realise(repo, p, addedPaths);
          if (p.item.rebase && p.existed) {
            res.rebase = await rebaseInside(res.path, p.item.branch, {
              base: p.item.defaultBranch ?? base!,
              refs,
            });
          }
          results[i] = res;
          emit({
            kind: "done",
            branch: p.item.branch,
            result: res,
            ms: performance.now() - t0,
          });
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          errors.push(err);
          emit({ kind: "failed", branch: p.item.branch, error: err });
        }
      }
    };
    const n = Math.max(1, Math.min(opts.concurrency ?? 4, plans.length));
    await Promise.all(Array.from({ length: n }, worker));
  } catch (e) {
    errors.unshift(e instanceof Error ? e : new Error(String(e)));
  }
  if (errors.length > 0) {
    if (opts.rollbackOnError ?? true) {
      for (const path of addedPaths) {
        await gitTry(repo, ["worktree", "remove", "--force", "--", path]);
      }
      if (createdBranches.length > 0) {
        await gitTry(repo, ["branch", "-D", "--", ...createdBranches]);
      }
    }
    throw errors[0];
  }
  return results;
}

/**
 * Create the branches the plans need, recording each in `created`: those on
 * origin only with `git branch --track` (one at a time: each edits
 * `.git/config`), the rest from HEAD in ONE atomic `update-ref` transaction.
 */
async function createBranches(
  repo: string,
  plans: readonly Plan[],
  head: string,
  created: string[],
): Promise<void> {
  for (const p of plans) {
    if (p.holder || p.source !== "origin") continue;
    const b = p.item.branch;
    const r = await gitRetrying(repo, [
      "branch",
      "-q",
      "--track",
      "--",
      b,
      `refs/remotes/origin/${b}`,
    ]);
    if (r.code !== 0) {
      throw worktreeError(
        `cannot create branch '${b}' from origin/${b}: ${r.stderr.trim()}`,
      );
    }
    created.push(b);
  }
  const fresh = plans.filter((p) => !p.holder && p.source === "head")
    .map((p) => p.item.branch);
  if (fresh.length === 0) return;
  const r = await gitRetrying(
    repo,
    ["update-ref", "-m", "branch: Created from HEAD", "--stdin"],
    fresh.map((b) => `create refs/heads/${b} ${head}\n`).join(""),
  );
  if (r.code !== 0) {
    throw worktreeError(
      `cannot create ${fresh.length > 1 ? "branches" : "branch"} ${
        fresh.map((b) => `'${b}'`).join(", ")
      } from HEAD: ${r.stderr.trim()}`,
    );
  }
  created.push(...fresh);
}

/** Reuse the holder, or `git worktree add` the (now existing) branch. */
async function realise(
  repo: string,
  p: Plan,
  added: string[],
): Promise<CreatedWorktree> {
  const { branch } = p.item;
  if (p.holder) {
    return {
      branch,
      path: p.holder.path,
      branch_created: false,
      reused: true,
      rebase: { status: "not-requested" },
    };
  }
  // `-f`: holders were checked from the listing (see createWorktrees).
  // No hooks, as before: git-paw never ran post-checkout for agents.
  const r = await gitRetrying(repo, [
    "-c",
    "core.hooksPath=/dev/null",
    "worktree",
    "add",
    "-f",
    "-q",
    "--",
    p.path,
    branch,
  ]);
  if (r.code !== 0) {
    throw worktreeError(
      `git worktree add failed for branch '${branch}': ${r.stderr.trim()}`,
    );
  }
  added.push(p.path);
  return {
    branch,
    path: p.path,
    branch_created: p.source === "head",
    reused: false,
    rebase: { status: "not-requested" },
  };
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

/**
 * Rebase `branch` (checked out in `worktree`, known to be on it) onto
 * `base`, only when the worktree has no uncommitted changes to tracked
 * files; `refs`: the refs known to exist. A conflict is aborted.
 */
async function rebaseInside(
  worktree: string,
  branch: string,
  opts: { base: string; refs: ReadonlyMap<string, string> },
): Promise<RebaseOutcome> {
  const { base, refs } = opts;
  if (branch === base) {
    return { status: "skipped", reason: `'${branch}' is the default branch` };
  }
  const onto = refs.has(`refs/heads/${base}`)
    ? `refs/heads/${base}`
    : refs.has(`refs/remotes/origin/${base}`)
    ? `refs/remotes/origin/${base}`
    : null;
  if (!onto) {
    return { status: "skipped", reason: `default branch '${base}' not found` };
  }
  const anc = await gitTry(worktree, [
    "merge-base",
    "--is-ancestor",
    onto,
    "HEAD",
  ]);
  if (anc.code === 0) return { status: "up-to-date", onto: base };
  const dirty = await gitTry(worktree, [
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
  const r = await gitTry(worktree, ["rebase", "--no-autostash", onto]);
  if (r.code === 0) return { status: "rebased", onto: base };
  await gitTry(worktree, ["rebase", "--abort"]);
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
  /** Parallel `git worktree add`s (default 4). */
  concurrency?: number;
  /** Called as each worktree starts/finishes (e.g. print on stderr). */
  onProgress?: (e: WorktreeProgress) => void;
  /** On a failure, remove what this call created (default true). */
  rollbackOnError?: boolean;
};

/**
 * Uncommitted paths in the worktree at `path` (modified, staged, untracked;
 * renames report the destination). Ignored files are not listed.
 */
export async function dirtyFiles(path: string): Promise<string[]> {
  return (await statusFiles(path, false)).changed;
}

/** What {@link worktreeFiles} found. */
export type WorktreeFiles = {
  /** Uncommitted paths, as {@link dirtyFiles} lists them. */
  changed: string[];
  /**
   * Ignored paths that removing the worktree would delete, as git matched
   * them: a file, or a directory (`node_modules/`) ignored as a whole.
   */
  ignored: string[];
};

/**
 * The uncommitted and the ignored paths of the worktree at `path`, from one
 * `git status --ignored=matching`.
 */
export async function worktreeFiles(path: string): Promise<WorktreeFiles> {
  return await statusFiles(path, true);
}

async function statusFiles(
  path: string,
  ignored: boolean,
): Promise<WorktreeFiles> {
  const out = await gitText(path, [
    "status",
    "--porcelain=v1",
    "-z",
    ...(ignored ? ["--ignored=matching"] : []),
  ]);
  const fields = out.split("\0");
  const files: WorktreeFiles = { changed: [], ignored: [] };
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    if (xy === "!!") {
      files.ignored.push(f.slice(3));
      continue;
    }
    files.changed.push(f.slice(3));
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
  const r = await gitTry(repo, [
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
  const r = await gitTry(repo, ["branch", "-D", "--", branch]);
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
  const r = await gitTry(repo, [
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
