/**
 * Pane 0 heals itself. Two layers:
 *
 * - A supervisor: the pane's process (`__dashboard`) runs the broker and
 *   the TUI as its child (`GIT_PAW_DASHBOARD_CHILD=1`), the process a user
 *   finds listening on the port. When that child crashes — killed (kill -9,
 *   the OOM killer) or ending with a non-zero status — it starts it again
 *   at once with the same argv and environment: the broker is back on the
 *   same URL with the same data dir and token. A clean end (`q`, or SIGHUP
 *   / SIGTERM / SIGINT: `stop`, `pause`, `purge`, a user's plain `kill`)
 *   ends the pane as before. More than {@link MAX_RESTARTS} crashes within
 *   {@link HEALTHY_MS} stop the restarts; the pane says why and so do the
 *   pane options `status` reads.
 * - tmux, for the supervisor itself: the pane has `remain-on-exit on` and
 *   a `pane-died` hook that runs the same command again in the same pane
 *   after a crash (a clean exit closes the pane), counting in
 *   `@paw_respawns`; after {@link MAX_RESTARTS} without a healthy minute it
 *   starts the command once more in "stopped" mode, which only says why.
 *
 * Why a supervisor process and not tmux alone: tmux now and then misses
 * the death of a multi-threaded process killed by a signal (the zombie
 * stays unreaped until some other child of the server exits), so the hook
 * alone would leave the broker down for an unbounded time; a Deno parent
 * waits on its child reliably. tmux stays as the outer layer because it
 * outlives every git-paw process. Restarts keep argv, which carries no
 * secret; the token comes from the environment or the owner-only receipt.
 *
 * Pane options: `@paw_restarts` (crashes of the child in the last minute),
 * `@paw_died` (cause of the last one), `@paw_heal_stopped` (why restarting
 * stopped), `@paw_respawns` (the hook's count). Only tmux 3.2 features.
 * @module
 */
import { listPanes, tmuxTry } from "../adapters/tmux.ts";
import { spawnChild } from "../adapters/runner.ts";
import { selfArgv } from "../adapters/self.ts";
import type { BrokerHeal } from "../core/session.ts";

/** Restarts allowed without the broker staying up {@link HEALTHY_MS}. */
const MAX_RESTARTS = 5;

/** How long the broker must stay up for its restart count to start over. */
const HEALTHY_MS = 60_000;

/** Set in the supervised child's environment. */
export const CHILD_ENV = "GIT_PAW_DASHBOARD_CHILD";

/**
 * `GIT_PAW_RESPAWN`: `1` for a restart (by the supervisor or the hook),
 * `stopped` when the hook gave up.
 */
const RESPAWN_ENV = "GIT_PAW_RESPAWN";

/** Why the pane's process died, as tmux knows it (a format). */
const DEATH = "#{?pane_dead_signal,signal #{pane_dead_signal}," +
  "exit status #{pane_dead_status}}";

/**
 * The `pane-died` hook of pane 0 (tmux command text; its target is the
 * dead pane). A crash is a signal or a non-zero status.
 */
const HEAL_HOOK =
  `if-shell -F "#{||:#{pane_dead_signal},#{!=:#{pane_dead_status},0}}" { ` +
  `set-option -pF @paw_died "${DEATH}" ; ` +
  `set-option -pF @paw_respawns "#{e|+:#{@paw_respawns},1}" ; ` +
  `if-shell -F "#{e|<=:#{@paw_respawns},${MAX_RESTARTS}}" ` +
  `{ respawn-pane -e ${RESPAWN_ENV}=1 } ` +
  `{ if-shell -F "#{e|==:#{@paw_respawns},${MAX_RESTARTS + 1}}" ` +
  `{ respawn-pane -e ${RESPAWN_ENV}=stopped } } ` +
  `} { kill-pane }`;

/**
 * tmux commands (for `tmuxBatch`) that make the dashboard pane `pane` heal
 * itself; its restart count starts at 0. Idempotent.
 */
export function healCmds(pane: string): string[][] {
  return [
    ["set-option", "-p", "-t", pane, "remain-on-exit", "on"],
    ["set-option", "-p", "-t", pane, "@paw_respawns", "0"],
    ["set-hook", "-p", "-t", pane, "pane-died", HEAL_HOOK],
  ];
}

/**
 * How pane 0's process was started: by git-paw (`launch`), by the hook
 * after a crash (`respawn`), or by the hook after it gave up (`stopped`).
 */
export function startKind(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): "launch" | "respawn" | "stopped" {
  const v = env(RESPAWN_ENV);
  if (v === "stopped") return "stopped";
  return v ? "respawn" : "launch";
}

/** Pane 0's healing state, as its pane options say. */
export type HealState = {
  /** Crashes (restarts) within the last minute. */
  restarts: number;
  /** Cause of the last crash (`SIGKILL`, `exit status 1`), if any. */
  lastDeath?: string;
  /** True when restarting stopped (a crash loop). */
  stopped: boolean;
  /** Why, when stopped. */
  reason?: string;
};

/** The healing state of the pane `pane` (null when tmux cannot say). */
export async function healState(pane: string): Promise<HealState | null> {
  const r = await tmuxTry([
    "display-message",
    "-p",
    "-t",
    pane,
    "#{@paw_respawns}\x1f#{@paw_died}\x1f#{@paw_restarts}\x1f#{@paw_heal_stopped}",
  ]).catch(() => null);
  if (!r || r.code !== 0) return null;
  const [hook = "", died = "", restarts = "", stopped = ""] = r.stdout
    .replace(/\n$/, "").split("\x1f");
  const hookStopped = (Number(hook) || 0) > MAX_RESTARTS;
  const reason = stopped ||
    (hookStopped ? stoppedReason(died ? { lastDeath: died } : {}) : "");
  return {
    restarts: Number(restarts) || 0,
    ...(died ? { lastDeath: died } : {}),
    stopped: reason !== "",
    ...(reason ? { reason } : {}),
  };
}

/** Why restarting stopped, in one sentence. */
export function stoppedReason(state: Pick<HealState, "lastDeath">): string {
  return `the broker died ${MAX_RESTARTS + 1} times within ${
    HEALTHY_MS / 1000
  } s${
    state.lastDeath ? ` (last: ${state.lastDeath})` : ""
  }; git-paw stopped restarting it`;
}

async function setPaneOption(
  pane: string | undefined,
  key: string,
  value: string,
): Promise<void> {
  if (!pane) return;
  await tmuxTry(["set-option", "-p", "-t", pane, key, value]).catch(() => {});
}

/** Signals that mean "stop", never "crashed". */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGHUP", "SIGTERM", "SIGINT"];

/**
 * True for pane 0's own process: not the supervised child, not the
 * "stopped" mode, and inside tmux (or allowed outside it). It only runs
 * {@link supervisePane0}.
 */
export function isPaneSupervisor(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): boolean {
  return !env(CHILD_ENV) && startKind(env) !== "stopped" &&
    Boolean(env("TMUX") || env("GIT_PAW_DASHBOARD_OUTSIDE_TMUX"));
}

/**
 * Pane 0's own process: run the broker and TUI as a child (`__dashboard`
 * with `opts`) and start it again when it crashes; resolves to why
 * restarting stopped, or null after a clean end.
 */
export function supervisePane0(
  opts: Parameters<typeof dashboardChildArgs>[0],
): Promise<string | null> {
  return superviseDashboard(dashboardChildArgs(opts), {
    pane: Deno.env.get("TMUX_PANE"),
    respawn: startKind() === "respawn",
  });
}

/** The `__dashboard` flags the supervised child gets: the supervisor's own. */
export function dashboardChildArgs(opts: {
  session: string;
  repo: string;
  port?: number;
  bind?: string;
  readyFile?: string;
}): string[] {
  const args = ["--session", opts.session, "--repo", opts.repo];
  if (opts.port !== undefined) args.push("--port", String(opts.port));
  if (opts.bind !== undefined) args.push("--bind", opts.bind);
  if (opts.readyFile !== undefined) args.push("--ready-file", opts.readyFile);
  return args;
}

/**
 * Run `__dashboard <args>` as a child and start it again whenever it
 * crashes, until it ends cleanly or this process is told to stop (null),
 * or until it crashed more than {@link MAX_RESTARTS} times within
 * {@link HEALTHY_MS} (the reason, to show in the pane). `pane` (the
 * pane's id) gets the healing state as options.
 */
export async function superviseDashboard(
  args: readonly string[],
  opts: { pane?: string; respawn: boolean; now?: () => number },
): Promise<string | null> {
  const now = opts.now ?? Date.now;
  const [cmd, ...pre] = selfArgv();
  let child: Deno.ChildProcess | null = null;
  let stopping = false;
  const stop = () => {
    stopping = true;
    try {
      child?.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  for (const s of STOP_SIGNALS) {
    try {
      Deno.addSignalListener(s, stop);
    } catch { /* platform */ }
  }
  // Up for a minute: the hook's count of this process's deaths starts over.
  const healthy = setTimeout(
    () => void setPaneOption(opts.pane, "@paw_respawns", "0"),
    HEALTHY_MS,
  );
  const crashes: number[] = [];
  let respawn = opts.respawn;
  try {
    for (;;) {
      child = spawnChild(cmd!, [...pre, "__dashboard", ...args], {
        env: { [CHILD_ENV]: "1", ...(respawn ? { [RESPAWN_ENV]: "1" } : {}) },
      });
      const status = await child.status;
      if (stopping || status.success) return null;
      if (status.signal && STOP_SIGNALS.includes(status.signal)) return null;
      const death = status.signal ?? `exit status ${status.code}`;
      const t = now();
      crashes.push(t);
      while (crashes.length && crashes[0]! <= t - HEALTHY_MS) crashes.shift();
      await setPaneOption(opts.pane, "@paw_died", death);
      await setPaneOption(opts.pane, "@paw_restarts", String(crashes.length));
      if (crashes.length > MAX_RESTARTS) {
        const reason = stoppedReason({ lastDeath: death });
        await setPaneOption(opts.pane, "@paw_heal_stopped", reason);
        return reason;
      }
      respawn = true;
    }
  } finally {
    clearTimeout(healthy);
    for (const s of STOP_SIGNALS) {
      try {
        Deno.removeSignalListener(s, stop);
      } catch { /* ignore */ }
    }
  }
}

/**
 * The healing state of `session`'s dashboard pane as `status --json`
 * shows it; undefined when the session has no dashboard pane.
 */
export async function sessionHeal(
  session: string,
): Promise<{ pane: string; heal: BrokerHeal } | undefined> {
  const panes = await listPanes(session).catch(() => []);
  const dash = panes.find((p) => p.role === "dashboard");
  if (!dash) return undefined;
  const st = await healState(dash.id);
  if (!st) return undefined;
  return {
    pane: dash.id,
    heal: {
      restarts: st.restarts,
      ...(st.lastDeath ? { last_death: st.lastDeath } : {}),
      stopped: st.stopped,
      ...(st.reason ? { reason: st.reason } : {}),
    },
  };
}

/**
 * Start a dashboard pane that stopped restarting over: its count back to
 * 0 and its command run again, as at launch.
 */
export async function restartStopped(pane: string): Promise<void> {
  await tmuxTry(["set-option", "-p", "-t", pane, "@paw_respawns", "0"]);
  await tmuxTry(["set-option", "-p", "-t", pane, "@paw_restarts", "0"]);
  await tmuxTry(["set-option", "-pu", "-t", pane, "@paw_heal_stopped"]);
  await tmuxTry(["respawn-pane", "-k", "-t", pane]);
}
