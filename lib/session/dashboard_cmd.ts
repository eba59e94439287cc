/**
 * `__dashboard`: the pane-0 process. First it binds the broker's port given
 * by `start` (or else the one recorded in the receipt: the port every agent
 * pane was given) and says so in its `--ready-file`, before anything heavy
 * is loaded: `start` waits for that, not for the whole broker. Once the
 * launching command has released the session lock (at most 5 s), it loads
 * the config and the session receipt, serves the session's broker on the
 * bound port (requests that came early were held), seeded with one watch
 * target per agent worktree the receipt lists (`start` launches pane 0
 * before the worktrees exist; the agents are taken on from the receipt once
 * it lists them), and runs the dashboard TUI until `q`, SIGHUP or SIGTERM;
 * then it closes the broker cleanly. When the port cannot be had it says so
 * in the pane (and the ready file) and keeps the pane open.
 *
 * tmux restarts it after a crash (heal.ts): a restart serves the same port,
 * data dir and token at once (no ready file, no wait for a launcher), and
 * sets the pane's restart count back to 0 once its broker stayed up a
 * minute; the last start after a crash loop only says why in the pane.
 *
 * Needs `--allow-net`, `--allow-read`, `--allow-write`, `--allow-env`,
 * `--allow-run`.
 * @module
 */
import { AppError, errorText } from "../core/errors.ts";
import { eprintln, println } from "../output.ts";
import type { Broker, WatchTarget } from "../broker/api.ts";
import { type EarlyServer, listenEarly } from "../broker/early_listen.ts";
import {
  describeProbe,
  probeBroker,
  type ProbeResult,
} from "../broker/probe.ts";
import { trace } from "../trace.ts";
import { tokenFromEnv } from "../broker/client.ts";
import { brokerUrlOf } from "../core/broker_url.ts";
import type { Receipt } from "../core/session.ts";
import { slugify as slugOf } from "../core/slug.ts";
import { healState, startKind, stoppedReason } from "./heal.ts";
import { sleep } from "../sleep.ts";

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
  /** Where to report the port's fate to `start` ({@link DashboardReady}). */
  readyFile?: string;
};

/**
 * What pane 0 writes to its `--ready-file`: the port is bound by this very
 * process (the broker answers on it moments later), or someone else holds
 * it (`start` moves the session to another port), or binding failed.
 */
export type DashboardReady =
  | { status: "listening"; pid: number; port: number }
  | { status: "taken"; pid: number; holder: ProbeResult; detail: string }
  | { status: "failed"; pid: number; detail: string };

async function writeReady(file: string, doc: DashboardReady): Promise<void> {
  // Written whole, then renamed: `start` never reads half a file. Not with
  // fs.ts: pane 0 reports its port before node:path is loaded.
  const tmp = `${file}.${Deno.pid}.tmp`;
  try {
    const dir = file.slice(0, file.lastIndexOf("/"));
    if (dir) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(tmp, JSON.stringify(doc));
    await Deno.rename(tmp, file);
  } catch {
    // start then times out and says so
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Run the dashboard process — the supervised child, or pane 0's "stopped"
 * mode (pane 0's own process runs heal.ts `supervisePane0` instead); resolves when it should exit.
 */
export async function runDashboardCommand(
  opts: DashboardCommandOptions,
): Promise<void> {
  trace("dashboard: modules loaded");
  if (
    !Deno.env.get("TMUX") && !Deno.env.get("GIT_PAW_DASHBOARD_OUTSIDE_TMUX")
  ) {
    throw new AppError(
      "Dashboard error: this is an internal command that should only be run by git-paw inside tmux",
      "dashboard",
    );
  }
  const { session, repo } = opts;
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const s of SIGNALS) {
    try {
      Deno.addSignalListener(s, stop);
    } catch { /* platform */ }
  }
  const kind = startKind();
  if (kind === "stopped") {
    // tmux gave up restarting this pane after a crash loop (heal.ts).
    const pane = Deno.env.get("TMUX_PANE");
    const state = pane ? await healState(pane) : null;
    await showAndWait(
      `Broker error: ${
        stoppedReason(state ?? {})
      }. Run \`git paw start\` to start it again.`,
      controller.signal,
    );
    return removeSignals(stop);
  }
  // A restart after a crash: nobody waits for a ready file.
  const readyFile = kind === "respawn" ? undefined : opts.readyFile;
  const report = (doc: DashboardReady) =>
    readyFile ? writeReady(readyFile, doc) : Promise.resolve();
  let early: EarlyServer | null = null;
  try {
    let { port, bind } = opts;
    let token = tokenFromEnv();
    if (kind === "respawn" && token === undefined) {
      // A pane added after launch had its token in its own environment,
      // which a restart does not get back: the owner-only receipt has it.
      const { readReceipt } = await import("./receipt.ts");
      token = (await readReceipt(session).catch(() => null))?.broker_token;
    }
    if (port === undefined || bind === undefined) {
      // Not told by `start`: the receipt (then the config) says.
      const { loadConfig } = await import("./config_store.ts");
      const { readReceipt } = await import("./receipt.ts");
      const receipt = await readReceipt(session);
      port ??= receipt?.broker_port;
      bind ??= receipt?.broker_bind ?? (await loadConfig(repo)).broker.bind;
      if (!port) {
        throw new AppError(
          receipt
            ? `Dashboard error: session '${session}' runs without a broker`
            : `Dashboard error: no session receipt for '${session}' in ${repo}. Run \`git paw start\`.`,
          "dashboard",
        );
      }
    }
    const url = brokerUrlOf(bind, port);
    // The port first, before the broker's modules load: `start` waits for
    // this and nothing else.
    early = await bindPort({
      bind,
      port,
      url,
      session,
      repo,
      token,
      deadline: Date.now() + (opts.bindTimeoutMs ?? 3000),
      signal: controller.signal,
      report,
    });
    if (!early) return;
    trace("dashboard: port bound");
    await report({ status: "listening", pid: Deno.pid, port: early.port });
    // The command that launched this pane (start, recovery) still holds the
    // session lock while it makes the worktrees and opens the agent panes:
    // let it finish before the broker loads, so the two do not compete for
    // the CPU. Requests are held meanwhile.
    if (kind === "launch") {
      await whileLocked(repo, LAUNCHER_WAIT_MS, controller.signal);
    }
    trace("dashboard: launcher done");
    await serveBroker({ ...opts, port, bind, token, early }, controller);
  } catch (e) {
    // Keep the pane open so the reason stays visible.
    const msg = errorText(e);
    if (early) {
      early.fail(msg);
      await early.server.shutdown().catch(() => {});
    } else await report({ status: "failed", pid: Deno.pid, detail: msg });
    if (!(e instanceof AppError) && Deno.env.get("GIT_PAW_DEBUG")) {
      eprintln(e instanceof Error ? e.stack ?? msg : msg);
    }
    await showAndWait(`error: ${msg}`, controller.signal);
  } finally {
    removeSignals(stop);
  }
}

const SIGNALS = ["SIGHUP", "SIGTERM", "SIGINT"] as const;

function removeSignals(stop: () => void): void {
  for (const s of SIGNALS) {
    try {
      Deno.removeSignalListener(s, stop);
    } catch { /* ignore */ }
  }
}

/** Longest wait for a previous broker of this very session to let go of the port. */
const OURS_WAIT_MS = 15_000;

/**
 * Bind the broker's port, waiting while a previous broker of this session
 * (same name, same repo) still holds it — at most {@link OURS_WAIT_MS} —
 * or until `deadline` for anything else. Someone else's server on the port
 * (a broker of another repo too, whatever its session's name) is reported
 * at once, so `start` can move on; when the port stays taken the pane says
 * so and null comes back.
 */
async function bindPort(o: {
  bind: string;
  port: number;
  url: string;
  session: string;
  repo: string;
  token?: string;
  deadline: number;
  signal: AbortSignal;
  report: (doc: DashboardReady) => Promise<void>;
}): Promise<EarlyServer | null> {
  let told = false;
  let reported = false;
  const oursDeadline = Date.now() + OURS_WAIT_MS;
  while (!o.signal.aborted) {
    try {
      return listenEarly({ hostname: o.bind, port: o.port });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) {
        throw new AppError(
          `Broker error: cannot listen on ${o.url}: ${(e as Error).message}`,
          "broker_bind_failed",
          { cause: e },
        );
      }
      const probe = await probeBroker(o.url, o.session, {
        token: o.token,
        repo: o.repo,
      }).catch((): ProbeResult => "timeout");
      const detail = `port ${o.port} is held by ${describeProbe(probe)}`;
      if (!reported && (probe === "other-session" || probe === "foreign")) {
        await o.report({
          status: "taken",
          pid: Deno.pid,
          holder: probe,
          detail,
        });
        reported = true;
      }
      // Our own previous broker may still be releasing the port: wait.
      const waitOn = probe === "ours" ? oursDeadline : o.deadline;
      if (Date.now() < waitOn) {
        if (!told) {
          println(
            `Waiting for port ${o.port} (${
              probe === "ours"
                ? "a previous broker of this session is still shutting down"
                : detail
            })...`,
          );
          told = true;
        }
        await sleep(probe === "ours" ? 500 : 100, o.signal);
        continue;
      }
      if (!reported) {
        await o.report({
          status: "taken",
          pid: Deno.pid,
          holder: probe,
          detail,
        });
      }
      await showAndWait(
        `Broker error: cannot listen on ${o.url}: ${detail} (${
          (e as Error).message
        }). Free the port, then run \`git paw stop\` and \`git paw start\`; or set [broker] port in .git-paw/config.toml.`,
        o.signal,
      );
      return null;
    }
  }
  return null;
}

/**
 * Load the session's config and receipt and run the broker on the bound
 * port, with the dashboard TUI in front, until `q` or a signal.
 */
async function serveBroker(
  opts: DashboardCommandOptions & {
    port: number;
    bind: string;
    token?: string;
    early: EarlyServer;
  },
  controller: AbortController,
): Promise<void> {
  const { session, repo } = opts;
  const [
    { loadConfig },
    { brokerDataDir, readReceipt },
    { startBroker },
    { coordinationPlugins },
    { dashboardPlugins },
    { slugify },
    { sessionCredentials },
  ] = await Promise.all([
    import("./config_store.ts"),
    import("./receipt.ts"),
    import("../broker/server.ts"),
    import("../coord/plugins.ts"),
    import("../dashboard/plugins.ts"),
    import("../core/slug.ts"),
    import("./credentials.ts"),
  ]);
  const config = await loadConfig(repo);
  const { integrationLine } = await import("../core/integration.ts");
  let integration: string | null = null;
  const receipt = await readReceipt(session);
  if (!receipt || receipt.repo_path !== repo) {
    throw new AppError(
      `Dashboard error: no session receipt for '${session}' in ${repo}. Run \`git paw start\`.`,
      "dashboard",
    );
  }
  const supervised = receipt.mode === "supervisor";
  // Each agent's PORT for the agent rows, kept current from the receipt.
  const ports = followAgentPorts(session, receipt, controller.signal);
  const seed: WatchTarget[] = receipt.worktrees.map((w) => ({
    agent_id: slugify(w.branch),
    worktree_path: w.worktree_path,
    cli: w.cli,
  }));
  const broker = await startBroker({
    port: opts.port,
    bind: opts.bind,
    dataDir: brokerDataDir(session),
    session,
    repo,
    // Set by `start` when the broker binds beyond loopback.
    token: opts.token,
    plugins: [
      ...coordinationPlugins({
        repo,
        session,
        config,
        approvalsMode: receipt.approvals_mode,
        onIntegrationStatus: (s) => integration = integrationLine(s),
        ...(supervised
          ? { supervisor: { stateDir: brokerDataDir(session) } }
          : {}),
      }),
      ...dashboardPlugins({
        repo,
        session,
        config,
        agentPorts: ports.get,
        notifiedFile: `${brokerDataDir(session)}/notified.json`,
        // The page's Tell: typed into an idle CLI, as `git paw tell` does.
        tellPane: async (agent, text) => {
          const [{ tellAgent }, { readReceipt: read }] = await Promise.all([
            import("./tell.ts"),
            import("./receipt.ts"),
          ]);
          const now = await read(session);
          if (!now) return { typed: false, why: "the session has no receipt" };
          const r = await tellAgent(now, agent, text, {
            typeOnly: true,
            ...(opts.token ? { token: opts.token } : {}),
          });
          return r.route === "keys"
            ? { typed: true }
            : { typed: false, why: r.why ?? "its CLI is not at its prompt" };
        },
      }),
    ],
    seed,
    republishWorkingTtlSeconds:
      config.broker.watcher.republish_working_ttl_seconds,
    // Supervisor sessions: each commit nudges the supervisor (its inbox),
    // and the gates run on it.
    verifyOnCommitNudge: supervised &&
      config.supervisor.verify_on_commit_nudge,
    early: opts.early,
    // Agent-attributed writes need the speaker's key (session/credentials.ts).
    credentials: await sessionCredentials(session),
  });
  trace("dashboard: broker listening");
  if (
    supervised && receipt.supervisor &&
    !broker.agents().some((a) => a.agent_id === "supervisor")
  ) {
    // The supervisor's row shows from the start (its CLI publishes the
    // rest: its hooks, its own `git paw publish status`).
    await broker.publish({
      type: "agent.status",
      agent_id: "supervisor",
      payload: {
        status: "idle",
        modified_files: [],
        message: "supervisor pane started",
        cli: receipt.supervisor.cli,
      },
    }).catch(() => {});
  }
  // Launched by `start` before the worktrees existed: take the agents on
  // as soon as the receipt lists them.
  const adopting = seed.length === 0
    ? adoptAgents(broker, session, controller.signal)
    : Promise.resolve();
  try {
    const { runDashboardTui } = await import("../dashboard/tui.ts");
    await runDashboardTui(broker, {
      session,
      config,
      signal: controller.signal,
      agentPorts: ports.get,
      integrationLine: () => integration,
    });
  } finally {
    controller.abort();
    await adopting;
    await broker.close();
  }
}

/** Longest wait for the launching command to release the session lock. */
const LAUNCHER_WAIT_MS = 5_000;

/**
 * Wait (at most `maxMs`) while the holder of `<repo>/.git-paw/session.lock`
 * found at the first look still holds it: the command that launched this
 * pane. A command that takes the lock after it (`git paw add` right after
 * `start`) is not waited for: it may need the broker.
 */
async function whileLocked(
  repo: string,
  maxMs: number,
  signal: AbortSignal,
): Promise<void> {
  const lock = `${repo}/.git-paw/session.lock`; // lockPath() in lock.ts
  const holder = async (): Promise<unknown> => {
    try {
      return (JSON.parse(await Deno.readTextFile(lock)) as { pid?: unknown })
        .pid ?? null;
    } catch {
      return null; // gone, being written, or unreadable
    }
  };
  const first = await holder();
  if (first === null) return;
  const until = Date.now() + maxMs;
  while (!signal.aborted && Date.now() < until) {
    await sleep(10, signal);
    if (await holder() !== first) return;
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
  const { readReceipt } = await import("./receipt.ts");
  const { slugify } = await import("../core/slug.ts");
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

/** Print an error in the pane and keep it open until `q` or a signal. */
/** Pane 0's supervisor stopped restarting its child: say why, until `q`. */
export async function showSupervisorGaveUp(reason: string): Promise<void> {
  await showAndWait(
    `Broker error: ${reason}. Run \`git paw start\` to start it again.`,
    new AbortController().signal,
  );
}

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

/**
 * Each agent's `PORT` by agent id: from `receipt` now, then re-read from
 * the session's receipt every 2 s (an `add` brings a new one) until
 * `signal` aborts.
 */
function followAgentPorts(
  session: string,
  receipt: Receipt,
  signal: AbortSignal,
): { get: () => ReadonlyMap<string, number> } {
  const mapOf = (r: Receipt) =>
    new Map(
      r.worktrees.flatMap((w) =>
        w.ports ? [[slugOf(w.branch), w.ports.first] as const] : []
      ),
    );
  let current: ReadonlyMap<string, number> = mapOf(receipt);
  (async () => {
    const { readReceipt } = await import("./receipt.ts");
    while (!signal.aborted) {
      await sleep(2000, signal);
      const r = await readReceipt(session).catch(() => null);
      if (r) current = mapOf(r);
    }
  })();
  return { get: () => current };
}
