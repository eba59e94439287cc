/**
 * Minimal git runner for the coordination area: argv arrays only, never a
 * shell string. Needs `--allow-run=git`.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { CommandFailedError } from "../core/errors.ts";

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

/** `git rev-parse <flag>` as an absolute path (relative answers resolved from cwd). */
export async function gitPath(cwd: string, flag: string): Promise<string> {
  const p = (await git(cwd, ["rev-parse", flag])).trim();
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** This worktree's own git dir (`.git/worktrees/<n>` for a linked worktree). */
export function gitDir(cwd: string): Promise<string> {
  return gitPath(cwd, "--git-dir");
}

/** The git dir shared by all worktrees of the repo. */
export function gitCommonDir(cwd: string): Promise<string> {
  return gitPath(cwd, "--git-common-dir");
}

/** The worktree's top directory. */
export async function worktreeTop(cwd: string): Promise<string> {
  return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
}

/** True when `path` (relative to the worktree top) is in the worktree's index. */
export async function isTracked(
  worktree: string,
  path: string,
): Promise<boolean> {
  const r = await gitRaw(worktree, [
    "--literal-pathspecs",
    "ls-files",
    "-z",
    "--",
    path,
  ]);
  return r.code === 0 && r.stdout.split("\0").includes(path);
}

/** Absolute paths of every worktree of the repo (main checkout first). */
export async function listWorktrees(cwd: string): Promise<string[]> {
  const out = await git(cwd, ["worktree", "list", "--porcelain"]);
  return out.split("\n").filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice("worktree ".length));
}
