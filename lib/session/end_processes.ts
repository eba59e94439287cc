/**
 * Ending what a session started, for `stop`, `purge` and `remove`: killing
 * a tmux session only hangs up its panes, and some CLIs ignore that (Gemini's
 * launcher ignores SIGHUP and SIGTERM and lives on, orphaned) or leave
 * detached helpers behind (Codex's shared `app-server` daemon, when a pane
 * ran Codex without `--no-daemon`).
 *
 * The rule for what is ours: a process is ended when it descends from one
 * of the session's (or the removed agent's) panes, or when its environment
 * carries this session's `GIT_PAW_SESSION=<name>` and `GIT_PAW_REPO=<repo>`
 * (and, for one agent, `GIT_PAW_AGENT_ID=<id>`) — every pane gets those
 * variables and every child a CLI starts inherits them, detached daemons
 * included. The name alone is not enough: another tmux server may run a
 * session of the same name for another repo. A Codex daemon the user
 * started outside git-paw has none of them and is never touched. This
 * process and its ancestors (`git paw stop` typed in a pane) are spared.
 *
 * Needs `--allow-read=/proc`, `--allow-run` (tmux, `Deno.kill`).
 * @module
 */
import { panePids } from "../adapters/tmux.ts";
import {
  ancestors,
  descendants,
  endProcesses,
  processesWithEnv,
  processTable,
} from "../adapters/proc_tree.ts";

/** What to end besides the panes' own trees. */
export type EndScope = {
  session: string;
  /** The session's repo (its receipt's `repo_path`). */
  repo: string;
  /** Only one agent's pane (its tmux pane id) and processes. */
  agent?: { id: string; pane: string };
  /** Grace between SIGTERM and SIGKILL (ms, default 1500). */
  graceMs?: number;
};

/**
 * Collect the session's processes, run `close` (kill the tmux session or
 * pane: the panes get their hang-up), then end whatever is left of them.
 * @returns the pids that needed SIGKILL
 */
export async function endSessionProcesses(
  scope: EndScope,
  close: () => Promise<void>,
): Promise<number[]> {
  const roots = await panePids(scope.session, scope.agent?.pane);
  const table = await processTable();
  const tree = descendants(table, roots);
  const tagged = await processesWithEnv(table, [
    `GIT_PAW_SESSION=${scope.session}`,
    `GIT_PAW_REPO=${scope.repo}`,
    ...(scope.agent ? [`GIT_PAW_AGENT_ID=${scope.agent.id}`] : []),
  ]);
  const spared = ancestors(table, Deno.pid);
  await close();
  const targets = [...new Set([...tree, ...tagged])].filter((p) =>
    !spared.has(p)
  );
  if (targets.length === 0) return [];
  return await endProcesses(table, targets, scope.graceMs);
}
