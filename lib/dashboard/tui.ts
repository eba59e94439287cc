/**
 * The pane-0 dashboard TUI (issue "Seeing the session").
 * @module
 */
import type { Broker } from "../broker/api.ts";
import type { Config } from "../core/config.ts";

/** Options for {@link runDashboardTui}. */
export type DashboardTuiOptions = {
  session: string;
  config: Config;
  /** Aborting it ends the TUI and restores the terminal. */
  signal?: AbortSignal;
};

/**
 * Draw the dashboard for `broker` until `q` is pressed or `signal` aborts.
 * Placeholder until the full TUI lands: prints the URL and waits.
 */
export async function runDashboardTui(
  broker: Broker,
  opts: DashboardTuiOptions,
): Promise<void> {
  console.log(`git-paw dashboard — ${opts.session} — broker ${broker.url}`);
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) return resolve();
    opts.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
}
