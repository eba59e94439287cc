/**
 * `__dashboard`: the pane-0 process. It loads the config, reads the session
 * receipt, serves the session's broker on the port given by `start` (or else
 * the one recorded in the receipt: the port every agent pane was given),
 * seeded with one watch target per agent worktree the receipt lists (`start`
 * launches pane 0 before the worktrees exist and registers them with
 * `POST /watch` once they do), and runs the dashboard TUI until `q`, SIGHUP or SIGTERM; then it
 * closes the broker cleanly. When the broker cannot listen it says so in the
 * pane and keeps the pane open.
 *
 * Needs `--allow-net`, `--allow-read`, `--allow-write`, `--allow-env`,
 * `--allow-run`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { brokerUrlOf } from "../core/session.ts";
import { eprintln, println } from "../cli/output.ts";
import { loadConfig } from "./config_store.ts";
import { brokerDataDir, readReceipt } from "./receipt.ts";
import type { Broker, WatchTarget } from "../broker/api.ts";
import { startBroker } from "../broker/server.ts";
import { probeBroker } from "../broker/probe.ts";
import { coordinationPlugins } from "../coord/plugins.ts";
import { dashboardPlugins } from "../dashboard/plugins.ts";
import { runDashboardTui } from "../dashboard/tui.ts";
import { slugify } from "../core/slug.ts";
import { trace } from "../trace.ts";

/** Options of `__dashboard`. */
export type DashboardCommandOptions = {
  session: string;
  repo: string;
  /** Broker port chosen by `start` (default: the receipt's `broker_port`). */
  port?: number;
  /** Broker address (default: the receipt's `broker_bind`, then the config's). */
  bind?: string;
  /** Give up binding after this long (ms, default 3000); a previous broker of this session holding the port is waited for. */
  bindTimeoutMs?: number;
};

/** Run the dashboard process; resolves when it should exit. */
export async function runDashboardCommand(
  opts: DashboardCommandOptions,
): Promise<void> {
  if (
    !Deno.env.get("TMUX") && !Deno.env.get("GIT_PAW_DASHBOARD_OUTSIDE_TMUX")
  ) {
    throw new AppError(
      "Dashboard error: this is an internal command that should only be run by git-paw inside tmux",
      "dashboard",
    );
  }
  trace("dashboard: modules loaded");
  const { session, repo } = opts;
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals = ["SIGHUP", "SIGTERM", "SIGINT"] as const;
  for (const s of signals) {
    try {
      Deno.addSignalListener(s, stop);
    } catch { /* platform */ }
  }
  try {
    const config = await loadConfig(repo);
    const receipt = await readReceipt(session);
    if (!receipt || receipt.repo_path !== repo) {
      throw new AppError(
        `Dashboard error: no session receipt for '${session}' in ${repo}. Run \`git paw start\`.`,
        "dashboard",
      );
    }
    const port = opts.port ?? receipt.broker_port;
    if (!port) {
      throw new AppError(
        `Dashboard error: session '${session}' runs without a broker`,
        "dashboard",
      );
    }
    const bind = opts.bind ?? receipt.broker_bind ?? config.broker.bind;
    const token = Deno.env.get("GIT_PAW_BROKER_TOKEN") || undefined;
    const url = brokerUrlOf(bind, port);
    const seed: WatchTarget[] = receipt.worktrees.map((w) => ({
      agent_id: slugify(w.branch),
      worktree_path: w.worktree_path,
      cli: w.cli,
    }));
    const plugins = [
      ...coordinationPlugins({ repo, session, config }),
      ...dashboardPlugins({ repo, session, config }),
    ];
    let broker: Broker | null = null;
    const deadline = Date.now() + (opts.bindTimeoutMs ?? 3000);
    let told = false;
    while (!controller.signal.aborted) {
      try {
        broker = await startBroker({
          port,
          bind,
          dataDir: brokerDataDir(session),
          session,
          // Set by `start` when the broker binds beyond loopback.
          token,
          plugins,
          seed,
          republishWorkingTtlSeconds:
            config.broker.watcher.republish_working_ttl_seconds,
        });
        break;
      } catch (e) {
        const probe = await probeBroker(url, session, { token }).catch(() =>
          "timeout"
        );
        // Our own previous broker may still be releasing the port: wait.
        if ((probe === "ours" || Date.now() < deadline)) {
          if (!told) {
            println(
              `Waiting for port ${port} (${
                probe === "ours"
                  ? "a previous broker of this session is still shutting down"
                  : (e as Error).message
              })...`,
            );
            told = true;
          }
          await sleep(500, controller.signal);
          continue;
        }
        const who = probe === "other-session"
          ? "the broker of another git-paw session"
          : probe === "foreign"
          ? "another program"
          : "something that does not answer";
        await showAndWait(
          `Broker error: cannot listen on ${url}: port ${port} is held by ${who} (${
            (e as Error).message
          }). Free the port, then run \`git paw stop\` and \`git paw start\`; or set [broker] port in .git-paw/config.toml.`,
          controller.signal,
        );
        return;
      }
    }
    if (!broker) return;
    trace("dashboard: broker listening");
    // Launched by `start` before the worktrees existed: take the agents on
    // as soon as the receipt lists them.
    const adopting = seed.length === 0
      ? adoptAgents(broker, session, controller.signal)
      : Promise.resolve();
    try {
      await runDashboardTui(broker, {
        session,
        config,
        signal: controller.signal,
      });
    } finally {
      controller.abort();
      await adopting;
      await broker.close();
    }
  } catch (e) {
    // Keep the pane open so the reason stays visible.
    const msg = e instanceof Error ? e.message : String(e);
    if (!(e instanceof AppError) && Deno.env.get("GIT_PAW_DEBUG")) {
      eprintln(e instanceof Error ? e.stack ?? msg : msg);
    }
    await showAndWait(`error: ${msg}`, controller.signal);
  } finally {
    for (const s of signals) {
      try {
        Deno.removeSignalListener(s, stop);
      } catch { /* ignore */ }
    }
  }
}

/** How long pane 0 waits for `start` to list the agents in the receipt. */
const ADOPT_TIMEOUT_MS = 120_000;

/**
 * Poll the receipt (every 50 ms, then slower) until it lists agent
 * worktrees, then register each with the broker as `POST /watch` would.
 */
async function adoptAgents(
  broker: Broker,
  session: string,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + ADOPT_TIMEOUT_MS;
  let delay = 50;
  while (!signal.aborted && Date.now() < deadline) {
    const receipt = await readReceipt(session).catch(() => null);
    if (receipt && receipt.worktrees.length > 0) {
      for (const w of receipt.worktrees) {
        await broker.watch({
          agent_id: slugify(w.branch),
          worktree_path: w.worktree_path,
          cli: w.cli,
        }).catch(() => false);
      }
      return;
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 500);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Print an error in the pane and keep it open until `q` or a signal. */
async function showAndWait(message: string, signal: AbortSignal) {
  eprintln(message);
  eprintln("Press q to close this pane.");
  if (!Deno.stdin.isTerminal()) {
    await new Promise<void>((r) => {
      if (signal.aborted) return r();
      signal.addEventListener("abort", () => r(), { once: true });
    });
    return;
  }
  Deno.stdin.setRaw(true);
  try {
    const buf = new Uint8Array(64);
    const aborted = new Promise<null>((r) => {
      if (signal.aborted) r(null);
      signal.addEventListener("abort", () => r(null), { once: true });
    });
    for (;;) {
      const n = await Promise.race([Deno.stdin.read(buf), aborted]);
      if (n === null) return;
      if (buf.subarray(0, n).includes(0x71)) return;
    }
  } finally {
    try {
      Deno.stdin.setRaw(false);
    } catch { /* ignore */ }
  }
}
