/**
 * Pane logging (docs/REFERENCE.md, "tmux layout"): where a pane's output is recorded, and the command
 * given to `tmux pipe-pane -o` that records it.
 *
 * The command travels through two interpreters, and both are handled:
 * 1. tmux expands formats in a `pipe-pane` command (`#{…}`, `#(…)` runs a
 *    shell job, and strftime `%` sequences), so `#` and `%` are doubled;
 * 2. tmux then runs the result with `sh -c`, so every path is one POSIX
 *    single-quoted word (`'` becomes `'\''`). Inside single quotes the shell
 *    gives no character a meaning — not `$`, backticks, `\`, `;` or newline.
 * @module
 */
import { dirname, join } from "node:path";
import { escapeTmuxFormat } from "../adapters/tmux.ts";

/** Directory holding one session's pane logs: `<repo>/.git-paw/logs/<session>`. */
function paneLogDir(repo: string, session: string): string {
  return join(repo, ".git-paw", "logs", session);
}

/** File name of a branch's log: `/` becomes `--` (`feat/a` → `feat--a.log`). */
export function paneLogFileName(branch: string): string {
  return `${branch.replaceAll("/", "--")}.log`;
}

/** `<repo>/.git-paw/logs/<session>/<branch with / → -->.log` */
export function paneLogPath(
  repo: string,
  session: string,
  branch: string,
): string {
  return join(paneLogDir(repo, session), paneLogFileName(branch));
}

/**
 * Quote `value` as one POSIX shell word: wrapped in single quotes, each `'`
 * written as `'\''`. The result always starts and ends with `'`.
 * @throws {TypeError} when `value` contains a NUL byte (no shell word can).
 */
export function shellQuote(value: string): string {
  if (value.includes("\0")) {
    throw new TypeError("Cannot quote a value containing a NUL byte");
  }
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `sh` command that appends its stdin to `path`, creating the log
 * directory first: `mkdir -p -- '<dir>' && exec cat >> '<path>'`. Every path
 * is a single-quoted word, so any file name is safe.
 */
export function appendToFileShellCommand(path: string): string {
  return `mkdir -p -- ${shellQuote(dirname(path))} && exec cat >> ${
    shellQuote(path)
  }`;
}

/**
 * The command for `tmux pipe-pane -o -t <pane> <command>` that appends the
 * pane's output to `path`: {@link appendToFileShellCommand} escaped for tmux
 * format expansion. Pass it as one argv element (never through a shell).
 * The result ends in `'`, so tmux never takes a trailing `;` as a command
 * separator.
 * @throws {TypeError} when `path` contains a NUL byte.
 */
export function pipePaneCommand(path: string): string {
  return escapeTmuxFormat(appendToFileShellCommand(path), { strftime: true });
}
