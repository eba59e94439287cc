/**
 * Coordination add-ons started with a session's broker: worktree watcher,
 * conflict detector, learnings (issue "Coordination").
 * @module
 */
import { join } from "node:path";
import type { BrokerPlugin } from "../broker/api.ts";
import type { Config } from "../core/config.ts";
import { DEFAULT_CONFLICT_OPTIONS } from "../core/conflict.ts";
import {
  conflictPlugin,
  type ConflictPluginOptions,
} from "./conflict_plugin.ts";
import {
  learningsPlugin,
  type LearningsPluginOptions,
} from "./learnings_plugin.ts";
import { type WatcherOptions, watcherPlugin } from "./watcher.ts";

/** Options the session passes in. */
export type CoordinationOptions = {
  /** Repo root (for `.git-paw/`). */
  repo: string;
  /** tmux session name. */
  session: string;
  /** Merged, validated config. */
  config: Config;
};

/** Plugin options derived from the config; `null` = plugin off. */
export type CoordinationPluginOptions = {
  watcher: WatcherOptions;
  conflicts: ConflictPluginOptions | null;
  learnings: LearningsPluginOptions | null;
};

/** Path of the session learnings file of a repo. */
export function learningsPath(repo: string): string {
  return join(repo, ".git-paw", "session-learnings.md");
}

/**
 * Map config to plugin options. Reads defensively so a partial config (an
 * older receipt, a test) still gets the documented defaults.
 */
export function coordinationPluginOptions(
  opts: CoordinationOptions,
): CoordinationPluginOptions {
  // deno-lint-ignore no-explicit-any
  const c = opts.config as any;
  const num = (v: unknown, d: number) =>
    typeof v === "number" && Number.isFinite(v) ? v : d;
  const bool = (v: unknown, d: boolean) => typeof v === "boolean" ? v : d;
  const conflictsOn = bool(c?.broker?.conflicts?.enabled, true);
  const learningsOn = bool(c?.broker?.learnings?.enabled, false) ||
    bool(c?.supervisor?.learnings, false);
  return {
    watcher: {
      republishWorkingTtlSeconds: num(
        c?.broker?.watcher?.republish_working_ttl_seconds,
        60,
      ),
      // Out of the way of `start` launching the agents (measured ~20 ms).
      initialScanDelayMs: 400,
    },
    conflicts: conflictsOn
      ? {
        windowSeconds: num(
          c?.supervisor?.conflict?.window_seconds,
          DEFAULT_CONFLICT_OPTIONS.windowSeconds,
        ),
        warnOnIntentOverlap: bool(
          c?.supervisor?.conflict?.warn_on_intent_overlap,
          true,
        ),
        escalateOnViolation: bool(
          c?.supervisor?.conflict?.escalate_on_violation,
          true,
        ),
      }
      : null,
    learnings: learningsOn
      ? {
        path: learningsPath(opts.repo),
        flushIntervalSeconds: Math.max(
          1,
          num(c?.supervisor?.learnings_config?.flush_interval_seconds, 60),
        ),
        brokerPublish: c?.supervisor?.learnings_config?.broker_publish !==
          "force_off",
      }
      : null,
  };
}

/** The coordination plugins for one session broker. */
export function coordinationPlugins(
  opts: CoordinationOptions,
): BrokerPlugin[] {
  const o = coordinationPluginOptions(opts);
  const plugins = [watcherPlugin(o.watcher)];
  if (o.conflicts) plugins.push(conflictPlugin(o.conflicts));
  if (o.learnings) plugins.push(learningsPlugin(o.learnings));
  return plugins;
}
