/**
 * Test host for the TUI: starts a real broker on 127.0.0.1:0 with a temp data
 * dir, writes its URL to the file named by argv[0], runs the real
 * runDashboardTui() on this process's terminal (a tmux pane in the tests),
 * and after it returns writes "restored" to `<file>.done`, closes the broker
 * and exits. argv[1] (optional): config JSON.
 * @module
 */
import { startBroker } from "../../lib/broker/server.ts";
import { runDashboardTui } from "../../lib/dashboard/tui.ts";
import { dashboardPlugins } from "../../lib/dashboard/plugins.ts";
import type { Config } from "../../lib/core/config.ts";

const [urlFile, configJson] = Deno.args;
if (!urlFile) throw new Error("usage: _tui_host.ts <url-file> [config-json]");
const config = JSON.parse(configJson ?? "{}") as Config;
const session = Deno.env.get("TUI_HOST_SESSION") ?? "paw-tui-test";
const dataDir = await Deno.makeTempDir({ prefix: "tui-host-" });
const broker = await startBroker({
  port: 0,
  dataDir,
  session,
  quiet: true,
  plugins: dashboardPlugins({ repo: dataDir, session, config }),
});
await Deno.writeTextFile(urlFile + ".tmp", broker.url);
await Deno.rename(urlFile + ".tmp", urlFile);
try {
  await runDashboardTui(broker, { session, config });
} finally {
  await broker.close();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
await Deno.writeTextFile(urlFile + ".done", "restored");
Deno.exit(0);
