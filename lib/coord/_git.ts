/**
 * Minimal git runner for the coordination area: argv arrays only, never a
 * shell string. Needs `--allow-run=git`.
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { CommandFailedError } from "../core/errors.ts";
import { trackedFromIndex } from "./_index.ts";

/** Result of one git call. */
export type GitResult = { code: number; stdout: string; stderr: string };

const dec = new TextDecoder();

/** Run git in `cwd`; never throws on a non-zero exit. */
export async function gitRaw(cwd: string, args: string[]): Promise<GitResult> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { GIT_OPTIONAL_LOCKS: "0" },
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Run git in `cwd` and return stdout; throws CommandFailedError on failure. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const r = await gitRaw(cwd, args);
  if (r.code !== 0) {
    throw new CommandFailedError(["git", ...args], r.code, r.stderr);
  }
  return r.stdout;
}

/** A worktree's own git dir and the git dir shared by all its worktrees. */
export type GitDirs = { gitDir: string; commonDir: string };

/** Environment variables that make git look somewhere other than `./.git`. */
const LAYOUT_ENV = ["GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE"];

/** True when `name` is set, or when we may not look (no `--allow-env`). */
function envSet(name: string): boolean {
  try {
    return Deno.env.get(name) !== undefined;
  } catch {
    return true; // cannot tell: let git decide
  }
}

function envOverridesLayout(): boolean {
  return LAYOUT_ENV.some(envSet);
}

async function readTrimmed(path: string): Promise<string | null> {
  try {
    // git strips trailing CR/LF from `.git` files and `commondir`.
    return (await Deno.readTextFile(path)).replace(/[\r\n]+$/, "");
  } catch {
    return null;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
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
  const p = git(cwd, ["rev-parse", "--git-dir", "--git-common-dir"]).then(
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

/** The git dir shared by all worktrees of the repo. */
export async function gitCommonDir(cwd: string): Promise<string> {
  return (await gitDirs(cwd)).commonDir;
}

/** The worktree's top directory. */
export async function worktreeTop(cwd: string): Promise<string> {
  return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
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
  const r = await gitRaw(worktree, [
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

/** Absolute paths of every worktree of the repo (main checkout first). */
export async function listWorktrees(cwd: string): Promise<string[]> {
  const out = await git(cwd, ["worktree", "list", "--porcelain"]);
  return out.split("\n").filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice("worktree ".length));
}
