/**
 * The dashboard's and alerts' settings read out of a {@link Config}
 * (`[dashboard.broker_log]`, `[notify]`). The config schema holds the
 * defaults; this only renames. Pure.
 * @module
 */
import { type Config, defaultConfig } from "./config.ts";

/** Resolved settings for the TUI and the attention alerts. */
export type DashboardSettings = {
  /** Ring-buffer size of the broker message panel (`max_messages`). */
  maxMessages: number;
  /** Panel shown at start (`default_visible`). */
  logVisible: boolean;
  /** Ring the terminal bell on an alert (`[notify] bell`). */
  bell: boolean;
  /** argv run on an alert with agent id, reason and detail appended. */
  notifyCommand: string[] | null;
  /** Silence after which a non-terminal agent is "stalled". */
  stallThresholdSeconds: number;
};

/**
 * Read the settings from a config.
 *
 * @example
 * ```ts
 * import { readDashboardSettings } from "./dashboard_settings.ts";
 * import { mergeConfig } from "./config.ts";
 * readDashboardSettings(mergeConfig({}, { notify: { bell: false } })).bell; // false
 * ```
 */
export function readDashboardSettings(config: Config): DashboardSettings {
  const log = config.dashboard.broker_log;
  return {
    maxMessages: log.max_messages,
    logVisible: log.default_visible,
    bell: config.notify.bell,
    notifyCommand: config.notify.command ? [...config.notify.command] : null,
    stallThresholdSeconds: config.notify.stall_threshold_seconds,
  };
}

/** The settings of the default config. */
export const DEFAULT_DASHBOARD_SETTINGS: Readonly<DashboardSettings> =
  readDashboardSettings(defaultConfig());
