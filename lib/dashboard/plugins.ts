/**
 * Add-ons for seeing the session: web dashboard routes (`/`, `/events`) and
 * attention alerts (issue "Seeing the session").
 * @module
 */
import type { BrokerPlugin } from "../broker/api.ts";
import type { Config } from "../core/config.ts";

/** Options the session passes in. */
export type DashboardPluginOptions = {
  repo: string;
  session: string;
  config: Config;
};

/** The dashboard plugins for one session broker. */
export function dashboardPlugins(
  _opts: DashboardPluginOptions,
): BrokerPlugin[] {
  return [];
}
