/**
 * Where a worktree's git data lives, read from the files when the layout is
 * plain (gitrepository-layout(5)) and asked of git otherwise: git dir,
 * common dir, worktree top, which paths are tracked. Needs `--allow-read`
 * and `--allow-run=git`.
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { AppError, CommandFailedError } from "../core/errors.ts";
import { canonical, readTextOrNull, statOrNull } from "./fs.ts";
import { trackedFromIndex } from "./git_index.ts";
import { gitText, gitTry } from "./git_run.ts";
import { GIT_DIR_ENV } from "./git_env.ts";
import type { RunResult } from "./runner.ts";

/** A worktree's own git dir and the git dir shared by all its worktrees. */
export type GitDirs = { gitDir: string; commonDir: string };

/** True when `name` is set, or when we may not look (no `--allow-env`). */
function envSet(name: string): boolean {
  try {
    return Deno.env.get(name) !== undefined;
  } catch {
    return true; // cannot tell: let git decide
  }
}

function envOverridesLayout(): boolean {
  return GIT_DIR_ENV.some(envSet);
}

async function readTrimmed(path: string): Promise<string | null> {
  // git strips trailing CR/LF from `.git` files and `commondir`.
  const text = await readTextOrNull(path).catch(() => null);
  return text?.replace(/[\r\n]+$/, "") ?? null;
}

async function isDir(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isDirectory ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await statOrNull(path))?.isFile ?? false;
}

/**
 * `path` resolved against `base` the way the OS (and git) does: `..` after a
 * symlink leaves the symlink's target, so a relative path starts from the
 * real `base`.
 */
async function physical(base: string, path: string): Promise<string> {
  return isAbsolute(path) ? path : resolve(await Deno.realPath(base), path);
}

/**
 * The git dirs of the worktree whose top is `top`, read from the files the
 * way git finds them (gitrepository-layout(5)): `<top>/.git` is the git dir
 * itself (main checkout) or a file `gitdir: <path>` (linked worktree,
 * submodule; relative to `top`); the common dir is `<gitdir>/commondir`
 * (relative to the git dir) when present, else the git dir. Null when that
 * layout is not there (not a worktree top, env overrides, odd files): the
 * caller asks git.
 */
export async function gitDirsFromLayout(top: string): Promise<GitDirs | null> {
  if (envOverridesLayout()) return null;
  const dotGit = join(top, ".git");
  let gitDir: string;
  try {
    const st = await Deno.stat(dotGit);
    if (st.isDirectory) gitDir = dotGit;
    else if (st.isFile) {
      const text = await readTrimmed(dotGit);
      if (text === null || !text.startsWith("gitdir: ")) return null;
      gitDir = await physical(top, text.slice("gitdir: ".length));
    } else return null;
  } catch {
    return null;
  }
  const common = await readTrimmed(join(gitDir, "commondir"));
  let commonDir = gitDir;
  if (common !== null) {
    try {
      commonDir = await physical(gitDir, common);
    } catch {
      return null;
    }
  }
  // git's own validity test: HEAD in the git dir, objects/ and refs/ shared.
  const [head, objects, refs] = await Promise.all([
    isFile(join(gitDir, "HEAD")),
    isDir(join(commonDir, "objects")),
    isDir(join(commonDir, "refs")),
  ]);
  return head && objects && refs ? { gitDir, commonDir } : null;
}

/** Answers of `git rev-parse` for paths whose layout we could not read. */
const askedGit = new Map<string, Promise<GitDirs>>();

function gitDirsFromGit(cwd: string): Promise<GitDirs> {
  const cached = askedGit.get(cwd);
  if (cached) return cached;
  const p = gitText(cwd, ["rev-parse", "--git-dir", "--git-common-dir"]).then(
    (out) => {
      const [g, c] = out.split("\n");
      if (!g || !c) {
        throw new CommandFailedError(
          ["git", "rev-parse", "--git-dir", "--git-common-dir"],
          0,
          `unexpected output: ${out}`,
        );
      }
      return {
        gitDir: isAbsolute(g) ? g : resolve(cwd, g),
        commonDir: isAbsolute(c) ? c : resolve(cwd, c),
      };
    },
  );
  askedGit.set(cwd, p);
  p.catch(() => askedGit.delete(cwd));
  return p;
}

/**
 * Git dir and common dir of the worktree at `cwd`: from the files when `cwd`
 * is a worktree top with a recognisable layout (no git process), else from
 * one `git rev-parse`, cached per path for the life of the process.
 */
export async function gitDirs(cwd: string): Promise<GitDirs> {
  const abs = resolve(cwd);
  return (await gitDirsFromLayout(abs)) ?? await gitDirsFromGit(abs);
}

/** This worktree's own git dir (`.git/worktrees/<n>` for a linked worktree). */
export async function gitDir(cwd: string): Promise<string> {
  return (await gitDirs(cwd)).gitDir;
}

/**
 * The git dir shared by the repo and all its worktrees (canonical absolute
 * path).
 */
export async function gitCommonDir(cwd: string): Promise<string> {
  return await canonical((await gitDirs(cwd)).commonDir);
}

/**
 * Top-level directory of the worktree containing `cwd` (canonical path), as
 * `git rev-parse --show-toplevel` says: inside a linked worktree this is
 * the linked worktree itself (`repoRoot()` in `git.ts` gives the main one).
 * @throws {AppError} `not_a_repo`: `Not a git repository. Run git-paw from inside a git project.`
 */
export async function worktreeTop(cwd: string = Deno.cwd()): Promise<string> {
  let r: RunResult;
  try {
    r = await gitTry(cwd, ["rev-parse", "--show-toplevel"]);
  } catch (e) {
    if (e instanceof AppError) throw e; // git missing
    throw notARepo(e);
  }
  const top = r.stdout.trim();
  if (r.code !== 0 || top === "") throw notARepo();
  return await canonical(top);
}

/** The error for a directory outside any git repository. */
export function notARepo(cause?: unknown): AppError {
  return new AppError(
    "Not a git repository. Run git-paw from inside a git project.",
    "not_a_repo",
    { cause },
  );
}

/**
 * Which of `paths` (relative to the worktree top) are in the worktree's
 * index: read from the index file when `worktree` is a worktree top with a
 * plain layout and index ({@link trackedFromIndex}), else one
 * `git ls-files` for all of them. `layout`: what
 * {@link gitDirsFromLayout}`(worktree)` returned, when the caller has it.
 */
export async function trackedPaths(
  worktree: string,
  paths: string[],
  layout?: GitDirs,
): Promise<Set<string>> {
  // A path outside the worktree would fail the whole call: never tracked.
  const inside = paths.filter((p) =>
    !isAbsolute(p) && p !== ".." && !p.startsWith("../")
  );
  if (inside.length === 0) return new Set();
  if (!envSet("GIT_INDEX_FILE")) {
    const dirs = layout ?? await gitDirsFromLayout(worktree);
    const fromIndex = dirs && await trackedFromIndex(dirs, inside);
    if (fromIndex) return fromIndex;
  }
  const r = await gitTry(worktree, [
    "--literal-pathspecs",
    "ls-files",
    "-z",
    "--",
    ...inside,
  ]);
  if (r.code !== 0) return new Set();
  const listed = new Set(r.stdout.split("\0"));
  return new Set(inside.filter((p) => listed.has(p)));
}

/** True when `path` (relative to the worktree top) is in the worktree's index. */
export async function isTracked(
  worktree: string,
  path: string,
): Promise<boolean> {
  return (await trackedPaths(worktree, [path])).has(path);
}
