/**
 * The dashboard's and alerts' settings read out of a {@link Config}
 * (`[dashboard.broker_log]`, `[notify]`), defensively: a partial or older
 * config object falls back to the defaults field by field. Pure.
 * @module
 */

/** Resolved settings for the TUI and the attention alerts. */
export type DashboardSettings = {
  /** Ring-buffer size of the broker message panel (`max_messages`, 500). */
  maxMessages: number;
  /** Panel shown at start (`default_visible`, true). */
  logVisible: boolean;
  /** Ring the terminal bell on an alert (`[notify] bell`, true). */
  bell: boolean;
  /** argv run on an alert with agent id, reason and detail appended. */
  notifyCommand: string[] | null;
  /** Silence after which a non-terminal agent is "stalled" (300 s). */
  stallThresholdSeconds: number;
};

/** Defaults used for any field that is missing or malformed. */
export const DEFAULT_DASHBOARD_SETTINGS: Readonly<DashboardSettings> = {
  maxMessages: 500,
  logVisible: true,
  bell: true,
  notifyCommand: null,
  stallThresholdSeconds: 300,
};

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function posInt(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 1
    ? Math.floor(v)
    : fallback;
}

/**
 * Read the settings from a config value of any shape.
 *
 * @example
 * ```ts
 * import { readDashboardSettings } from "./dashboard_settings.ts";
 * readDashboardSettings({ notify: { bell: false } }).bell; // false
 * ```
 */
export function readDashboardSettings(config: unknown): DashboardSettings {
  const c = obj(config);
  const log = obj(obj(c.dashboard).broker_log);
  const notify = obj(c.notify);
  const cmd = notify.command;
  const notifyCommand = Array.isArray(cmd) && cmd.length > 0 &&
      cmd.every((a) => typeof a === "string") && cmd[0] !== ""
    ? [...cmd as string[]]
    : null;
  const d = DEFAULT_DASHBOARD_SETTINGS;
  return {
    maxMessages: posInt(log.max_messages, d.maxMessages),
    logVisible: typeof log.default_visible === "boolean"
      ? log.default_visible
      : d.logVisible,
    bell: typeof notify.bell === "boolean" ? notify.bell : d.bell,
    notifyCommand,
    stallThresholdSeconds: posInt(
      notify.stall_threshold_seconds,
      d.stallThresholdSeconds,
    ),
  };
}
