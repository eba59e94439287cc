/**
 * Coordination add-ons started with a session's broker: worktree watcher,
 * conflict detector, learnings (issue "Coordination").
 * @module
 */
import type { BrokerPlugin } from "../broker/api.ts";
import type { Config } from "../core/config.ts";

/** Options the session passes in. */
export type CoordinationOptions = {
  /** Repo root (for `.git-paw/`). */
  repo: string;
  /** tmux session name. */
  session: string;
  /** Merged, validated config. */
  config: Config;
};

/** The coordination plugins for one session broker. */
export function coordinationPlugins(
  _opts: CoordinationOptions,
): BrokerPlugin[] {
  return [];
}
