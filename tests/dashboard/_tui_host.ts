/**
 * Test host for the TUI: starts a real broker on 127.0.0.1:0 with a temp data
 * dir, writes its URL to the file named by argv[0], runs the real
 * runDashboardTui() on this process's terminal (a tmux pane in the tests),
 * and after it returns closes the broker, writes "restored" to `<file>.done`,
 * waits for one typed line (saved to `<file>.line`) and exits. argv[1] (optional): config JSON. With `TUI_HOST_CRASH=1` it
 * throws an uncaught error once the dashboard is up (crash-restore test).
 * @module
 */
import { startBroker } from "../../lib/broker/server.ts";
import { runDashboardTui } from "../../lib/dashboard/tui.ts";
import { dashboardPlugins } from "../../lib/dashboard/plugins.ts";
import { mergeConfig } from "../../lib/core/config.ts";

const [urlFile, configJson] = Deno.args;
if (!urlFile) throw new Error("usage: _tui_host.ts <url-file> [config-json]");
// The config file content as JSON, resolved as `loadConfig` would.
const config = mergeConfig({}, JSON.parse(configJson ?? "{}"));
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
if (Deno.env.get("TUI_HOST_CRASH") === "1") {
  setTimeout(() => {
    throw new Error("simulated crash");
  }, 1500);
}
try {
  await runDashboardTui(broker, { session, config });
} finally {
  await broker.close();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
await Deno.writeTextFile(urlFile + ".done", "restored");
// Stay alive until a line is typed: the test checks the restored screen and
// that the tty is cooked again (typed text echoes).
console.log("dashboard closed; type a line");
const buf = new Uint8Array(256);
const n = await Deno.stdin.read(buf);
await Deno.writeTextFile(
  urlFile + ".line",
  new TextDecoder().decode(buf.subarray(0, n ?? 0)),
);
Deno.exit(0);
