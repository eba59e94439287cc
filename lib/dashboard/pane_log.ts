/**
 * Pane logging (docs/REFERENCE.md, "tmux layout"): where a pane's output is recorded, and the command
 * given to `tmux pipe-pane -o` that records it.
 *
 * A pane log holds whatever the pane printed (secrets included), so logs
 * are owner-only (files 0600, dirs 0700) and ignored by git whether or not
 * `git paw init` ran: `.git-paw/logs/.gitignore` says `*`
 * ({@link preparePaneLogDir}).
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
  return join(paneLogRoot(repo), session);
}

/** `<repo>/.git-paw/logs` */
function paneLogRoot(repo: string): string {
  return join(repo, ".git-paw", "logs");
}

/** Tighten `path` to `mode` when it allows group or others anything. */
async function tighten(path: string, mode: number): Promise<void> {
  try {
    const st = await Deno.stat(path);
    if (st.mode !== null && (st.mode & 0o077) !== 0) {
      await Deno.chmod(path, mode);
    }
  } catch { /* gone, or not ours */ }
}

/**
 * Create `<repo>/.git-paw/logs` owner-only with a `.gitignore` of `*` (so
 * git never tracks a log, with or without `git paw init`), tightening a
 * dir an older version made 0755. Returns the dir.
 *
 * Needs `--allow-read` and `--allow-write` on the repo's `.git-paw`.
 */
export async function preparePaneLogRoot(repo: string): Promise<string> {
  const root = paneLogRoot(repo);
  await Deno.mkdir(join(repo, ".git-paw"), { recursive: true });
  await Deno.mkdir(root, { recursive: true, mode: 0o700 });
  await tighten(root, 0o700);
  try {
    await Deno.writeTextFile(join(root, ".gitignore"), "*\n", {
      createNew: true,
    });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  return root;
}

/**
 * {@link preparePaneLogRoot}, then the session's own log dir (0700); logs
 * an older version left readable by others are made 0600.
 */
export async function preparePaneLogDir(
  repo: string,
  session: string,
): Promise<string> {
  await preparePaneLogRoot(repo);
  const dir = paneLogDir(repo, session);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await tighten(dir, 0o700);
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) await tighten(join(dir, e.name), 0o600);
  }
  return dir;
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
 * directory first, both owner-only:
 * `umask 077 && mkdir -p -- '<dir>' && exec cat >> '<path>'`. Every path is
 * a single-quoted word, so any file name is safe.
 */
export function appendToFileShellCommand(path: string): string {
  return `umask 077 && mkdir -p -- ${
    shellQuote(dirname(path))
  } && exec cat >> ${shellQuote(path)}`;
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
