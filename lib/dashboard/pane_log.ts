/**
 * Pane logging paths and the `pipe-pane` command (SPEC §4.6; issue "Seeing the
 * session" owns this file).
 * @module
 */
import { join } from "node:path";

/** `<repo>/.git-paw/logs/<session>/<branch with / → -->.log` */
export function paneLogPath(
  repo: string,
  session: string,
  branch: string,
): string {
  return join(
    repo,
    ".git-paw",
    "logs",
    session,
    `${branch.replaceAll("/", "--")}.log`,
  );
}

/** Shell command for `tmux pipe-pane -o` that appends to `path` (quoted). */
export function pipePaneCommand(path: string): string {
  return `cat >> '${path.replaceAll("'", `'\\''`)}'`;
}
