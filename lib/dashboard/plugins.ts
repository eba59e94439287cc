/**
 * Add-ons for seeing the session: web dashboard routes (`/`, `/events`) and
 * attention alerts (issue "Seeing the session"), the agent panes' screen
 * detector.
 * @module
 */
import type { BrokerPlugin } from "../broker/api.ts";
import type { Config } from "../core/config.ts";
import { readDashboardSettings } from "../core/dashboard_settings.ts";
import { webPlugin } from "./web.ts";
import type { PaneTeller } from "./web_view.ts";
import { alertsPlugin } from "./alerts.ts";
import { paneMonitorPlugin } from "./pane_monitor.ts";

/** Options the session passes in. */
export type DashboardPluginOptions = {
  repo: string;
  session: string;
  config: Config;
  /** Each agent's `PORT` by agent id. */
  agentPorts?: () => ReadonlyMap<string, number>;
  /** The web page's Tell types into an idle pane first. */
  tellPane?: PaneTeller;
  /** The file keeping the notification causes already sent (state dir). */
  notifiedFile?: string;
};

/** The dashboard plugins for one session broker. */
export function dashboardPlugins(
  opts: DashboardPluginOptions,
): BrokerPlugin[] {
  const settings = readDashboardSettings(opts.config);
  return [
    webPlugin({
      session: opts.session,
      stallThresholdSeconds: settings.stallThresholdSeconds,
      maxMessages: settings.maxMessages,
      ...(opts.agentPorts ? { agentPorts: opts.agentPorts } : {}),
      ...(opts.tellPane ? { tellPane: opts.tellPane } : {}),
    }),
    alertsPlugin({
      session: opts.session,
      config: opts.config,
      ...(opts.notifiedFile ? { sentFile: opts.notifiedFile } : {}),
    }),
    // "Which agent needs me" from the screens, where hooks are late or missing.
    paneMonitorPlugin({ session: opts.session }),
  ];
}
