/**
 * Ending what a session started, for `stop`, `purge` and `remove`: killing
 * a tmux session only hangs up its panes, and some CLIs ignore that (Gemini's
 * launcher ignores SIGHUP and SIGTERM and lives on, orphaned) or leave
 * detached helpers behind (Codex's shared `app-server` daemon, when a pane
 * ran Codex without `--no-daemon`).
 *
 * The rule for what is ours: a process is ended when it descends from one
 * of the session's (or the removed agent's) panes, or when its environment
 * carries this session's `GIT_PAW_SESSION=<name>` (and, for one agent,
 * `GIT_PAW_AGENT_ID=<id>`) — every pane gets that variable and every child
 * a CLI starts inherits it, detached daemons included. A Codex daemon the
 * user started outside git-paw has neither and is never touched. This
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
  let tagged = await processesWithEnv(
    table,
    `GIT_PAW_SESSION=${scope.session}`,
  );
  if (scope.agent) {
    const own = await processesWithEnv(
      table,
      `GIT_PAW_AGENT_ID=${scope.agent.id}`,
    );
    tagged = new Set([...tagged].filter((p) => own.has(p)));
  }
  const spared = ancestors(table, Deno.pid);
  await close();
  const targets = [...new Set([...tree, ...tagged])].filter((p) =>
    !spared.has(p)
  );
  if (targets.length === 0) return [];
  return await endProcesses(table, targets, scope.graceMs);
}
