/**
 * The one way git-paw runs git: argv arrays through {@link run}, with the
 * environment of {@link GIT_ENV}. Two names so a reader can tell them
 * apart: {@link gitTry} returns the result whatever the exit code,
 * {@link gitText} returns stdout and throws on a non-zero exit.
 * Needs `--allow-run=git`.
 * @module
 */
import { CommandFailedError } from "../core/errors.ts";
import { run, type RunResult } from "./runner.ts";
import { GIT_ENV, GIT_LAYOUT_ENV } from "./git_env.ts";

/** Options of {@link gitTry} and {@link gitText}. */
export type GitOptions = {
  /** Text for git's stdin. */
  stdin?: string;
  /** The git binary (default `git`). */
  bin?: string;
  /**
   * Drop `GIT_DIR`, `GIT_WORK_TREE`, … from the inherited environment, so
   * git looks at the repository `cwd` is in whatever the caller's
   * environment says (see {@link GIT_LAYOUT_ENV}).
   */
  isolated?: boolean;
};

/**
 * Run git in `cwd`; never throws for a non-zero exit (only when git cannot
 * be started: `AppError` `missing_binary`).
 */
export function gitTry(
  cwd: string,
  args: readonly string[],
  opts: GitOptions = {},
): Promise<RunResult> {
  return run(opts.bin ?? "git", args, {
    cwd,
    env: GIT_ENV,
    ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
    ...(opts.isolated ? { unsetEnv: GIT_LAYOUT_ENV } : {}),
  });
}

/**
 * Run git in `cwd` and return its stdout.
 * @throws {CommandFailedError} on a non-zero exit (argv and stderr).
 */
export async function gitText(
  cwd: string,
  args: readonly string[],
  opts: GitOptions = {},
): Promise<string> {
  const r = await gitTry(cwd, args, opts);
  if (r.code !== 0) {
    throw new CommandFailedError(
      [opts.bin ?? "git", ...args],
      r.code,
      r.stderr,
    );
  }
  return r.stdout;
}
