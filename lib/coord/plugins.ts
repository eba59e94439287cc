/**
 * Coordination add-ons started with a session's broker: agents' outboxes,
 * worktree watcher, conflict detector, learnings (issue "Coordination"), the
 * approval queue.
 * @module
 */
import { join } from "node:path";
import type { BrokerPlugin } from "../broker/api.ts";
import type { Config } from "../core/config.ts";
import {
  conflictPlugin,
  type ConflictPluginOptions,
} from "./conflict_plugin.ts";
import {
  learningsPlugin,
  type LearningsPluginOptions,
} from "./learnings_plugin.ts";
import { type WatcherOptions, watcherPlugin } from "./watcher.ts";
import {
  approvalsPlugin,
  type ApprovalsPluginOptions,
} from "./approvals_plugin.ts";
import { outboxPlugin } from "./outbox_plugin.ts";
import {
  integrationPlugin,
  type IntegrationPluginOptions,
} from "./integration_plugin.ts";
import {
  type IntegrationStatus,
  integrationTestArgv,
} from "../core/integration.ts";
import { eprintlnQuiet } from "../output.ts";
import { reviewPlugin } from "./review_plugin.ts";
import { gatePlugin, type GatePluginOptions } from "./gate_plugin.ts";
import { gatesOf } from "../core/gates.ts";

/** Options the session passes in. */
export type CoordinationOptions = {
  /** Repo root (for `.git-paw/`). */
  repo: string;
  /** tmux session name. */
  session: string;
  /** Merged, validated config. */
  config: Config;
  /**
   * The session's resolved approvals mode (its receipt); default: the
   * config's `[approvals] mode`, else `pane`.
   */
  approvalsMode?: "pane" | "queue";
  /** Told every integration lane status change (the TUI's line). */
  onIntegrationStatus?: (s: IntegrationStatus) => void;
  /**
   * A supervisor session: git-paw runs the `[supervisor]` gates on each
   * commit, in scratch worktrees under `stateDir` (the session's state
   * dir).
   */
  supervisor?: { stateDir: string };
};

/** Plugin options derived from the config; `null` = plugin off. */
export type CoordinationPluginOptions = {
  watcher: WatcherOptions;
  conflicts: ConflictPluginOptions | null;
  learnings: LearningsPluginOptions | null;
  approvals: ApprovalsPluginOptions;
  integration: IntegrationPluginOptions | null;
  gates: GatePluginOptions | null;
};

/** Path of the session learnings file of a repo. */
export function learningsPath(repo: string): string {
  return join(repo, ".git-paw", "session-learnings.md");
}

/** Map config to plugin options (the config has every default applied). */
export function coordinationPluginOptions(
  opts: CoordinationOptions,
): CoordinationPluginOptions {
  const { broker, supervisor, approvals } = opts.config;
  const learningsOn = broker.learnings.enabled || supervisor.learnings;
  return {
    watcher: {
      republishWorkingTtlSeconds: broker.watcher.republish_working_ttl_seconds,
      // Out of the way of `start` launching the agents (measured ~20 ms).
      initialScanDelayMs: 400,
    },
    conflicts: broker.conflicts.enabled
      ? {
        windowSeconds: supervisor.conflict.window_seconds,
        warnOnIntentOverlap: supervisor.conflict.warn_on_intent_overlap,
        escalateOnViolation: supervisor.conflict.escalate_on_violation,
      }
      : null,
    learnings: learningsOn
      ? {
        path: learningsPath(opts.repo),
        flushIntervalSeconds:
          supervisor.learnings_config.flush_interval_seconds,
        brokerPublish: supervisor.learnings_config.broker_publish !==
          "force_off",
      }
      : null,
    approvals: {
      mode: opts.approvalsMode ?? approvals.mode ?? "pane",
      policy: {
        allow: approvals.allow,
        deny: approvals.deny,
        worktree_writes: approvals.worktree_writes,
      },
      timeoutSeconds: approvals.timeout_seconds,
    },
    integration: opts.config.integration.enabled
      ? {
        repo: opts.repo,
        testArgv: testArgvOrNull(opts.config),
        timeoutMs: opts.config.integration.timeout_seconds * 1000,
        ...(opts.onIntegrationStatus
          ? { onStatus: opts.onIntegrationStatus }
          : {}),
      }
      : null,
    gates: gatesOptions(opts),
  };
}

/** The gates of a supervisor session, or null (none configured, bare session). */
function gatesOptions(opts: CoordinationOptions): GatePluginOptions | null {
  if (!opts.supervisor) return null;
  const { gates, errors } = gatesOf(opts.config);
  for (const e of errors) eprintlnQuiet(`git-paw gates: ${e}`);
  if (gates.length === 0) return null;
  return {
    repo: opts.repo,
    stateDir: opts.supervisor.stateDir,
    gates,
    // The lane's bound for one test run bounds each gate command too.
    timeoutMs: opts.config.integration.timeout_seconds * 1000,
  };
}

/** The lane's test command; a command that cannot be parsed is reported. */
function testArgvOrNull(config: Config): string[] | null {
  try {
    return integrationTestArgv(config);
  } catch (e) {
    eprintlnQuiet(`git-paw integration: ${(e as Error).message}`);
    return null;
  }
}

/** The coordination plugins for one session broker. */
export function coordinationPlugins(
  opts: CoordinationOptions,
): BrokerPlugin[] {
  const o = coordinationPluginOptions(opts);
  // The outbox first: what agents queued while the broker was down is
  // stored before anything new is reported.
  const plugins = [outboxPlugin(), watcherPlugin(o.watcher)];
  if (o.conflicts) plugins.push(conflictPlugin(o.conflicts));
  if (o.learnings) plugins.push(learningsPlugin(o.learnings));
  plugins.push(approvalsPlugin(o.approvals));
  if (o.integration) plugins.push(integrationPlugin(o.integration));
  if (o.gates) plugins.push(gatePlugin(o.gates));
  // The web page's review routes (`/diff/:agent`, comments as feedback).
  plugins.push(reviewPlugin({ repo: opts.repo }));
  return plugins;
}
