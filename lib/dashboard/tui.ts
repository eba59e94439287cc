/**
 * The pane-0 dashboard TUI (docs/REFERENCE.md, "Dashboard"; issue "Seeing the session").
 *
 * Event driven: it subscribes to the broker and redraws when something
 * changed, coalescing a burst of events into one frame (~40 ms), plus once a
 * second while agents are listed so the ages move. Only changed lines are
 * rewritten. Alternate screen and raw mode are undone on `q`, on abort, on
 * SIGTERM/SIGHUP, on an uncaught error and at process exit.
 * @module
 */
import type { Broker, BrokerEvent, LogEntry } from "../broker/api.ts";
import { approvalsFor } from "../core/approvals.ts";
import type { Config } from "../core/config.ts";
import {
  applyAttention,
  applyEntry,
  applyRoster,
  createDashboardState,
  type DashboardState,
  handleKey,
  keyDecision,
  type KeyResult,
  parseKeys,
} from "../core/dashboard_model.ts";
import { readDashboardSettings } from "../core/dashboard_settings.ts";
import { renderFrame } from "./render.ts";
import { sanitize, truncate } from "../core/dashboard_text.ts";
import { createRealTerminal, ScreenWriter, type Terminal } from "./terminal.ts";
import { AlertMonitor, alertMonitorFor } from "./alerts.ts";
import { errorText } from "../core/errors.ts";

/** Options for {@link runDashboardTui}. */
export type DashboardTuiOptions = {
  session: string;
  config: Config;
  /** Aborting it ends the TUI and restores the terminal. */
  signal?: AbortSignal;
  /** Each agent's `PORT` by agent id, read at every roster refresh. */
  agentPorts?: () => ReadonlyMap<string, number>;
  /** The integration lane's status line (read at every frame). */
  integrationLine?: () => string | null;
};

/** Seams for tests and the benchmark. */
export type DashboardDeps = {
  terminal: Terminal;
  /** Unix seconds (float). */
  now?: () => number;
  /** Coalescing delay between a change and its frame (ms, default 40). */
  frameDelayMs?: number;
  /** Handle SIGTERM/SIGHUP (default true for the real terminal). */
  signals?: boolean;
  /** Called after every frame drawn (tests, bench). */
  onFrame?: (state: DashboardState, linesWritten: number) => void;
};

/**
 * Draw the dashboard for `broker` until `q` is pressed or `signal` aborts.
 * Resolves after the terminal has been restored.
 */
export async function runDashboardTui(
  broker: Broker,
  opts: DashboardTuiOptions,
): Promise<void> {
  await runDashboard(broker, opts, {
    terminal: createRealTerminal(),
    signals: true,
  });
}

/** {@link runDashboardTui} with explicit seams. */
export async function runDashboard(
  broker: Broker,
  opts: DashboardTuiOptions,
  deps: DashboardDeps,
): Promise<void> {
  const term = deps.terminal;
  const now = deps.now ?? (() => Date.now() / 1000);
  const frameDelay = deps.frameDelayMs ?? 40;
  const settings = readDashboardSettings(opts.config);
  const state = createDashboardState({
    session: opts.session,
    url: broker.url,
    maxMessages: settings.maxMessages,
    logVisible: settings.logVisible,
  });
  const screen = new ScreenWriter(term);
  const cleanups: Array<() => void | Promise<void>> = [];
  let frameTimer: ReturnType<typeof setTimeout> | null = null;
  let tickTimer: ReturnType<typeof setTimeout> | null = null;
  let rosterDirty = true;
  let lastDrawAt = 0;
  let done = false;
  let finish!: () => void;
  const finished = new Promise<void>((r) => finish = r);
  const quit = () => {
    if (done) return;
    done = true;
    finish();
  };

  const draw = () => {
    if (frameTimer !== null) clearTimeout(frameTimer);
    frameTimer = null;
    if (done) return;
    const t = now();
    if (rosterDirty) {
      rosterDirty = false;
      try {
        applyRoster(state, broker.agents(), t);
        if (opts.agentPorts) state.ports = opts.agentPorts();
        state.notice = null;
      } catch (err) {
        state.notice = `broker unavailable: ${errorText(err)}`;
      }
    }
    applyAttention(state, monitor?.active() ?? []);
    state.integration = opts.integrationLine?.() ?? null;
    const size = term.size();
    let lines: string[];
    try {
      lines = renderFrame(state, {
        width: size.columns,
        height: size.rows,
        now: t,
        color: term.color,
      });
    } catch (err) {
      // A drawing bug must not take the broker (same process) down with it.
      lines = fallbackFrame(err, size.columns, size.rows);
    }
    let n: number;
    try {
      n = screen.draw(lines, size);
    } catch {
      // The terminal is gone (pane closed): nothing left to show.
      quit();
      return;
    }
    lastDrawAt = Date.now();
    deps.onFrame?.(state, n);
  };
  const schedule = () => {
    if (done || frameTimer !== null) return;
    frameTimer = setTimeout(draw, frameDelay);
  };

  term.enter();
  // Attention items: the session's alerts plugin when present, else a silent
  // monitor of our own (highlights only; no bell/tmux/command twice).
  let monitor = alertMonitorFor(broker);
  let ownMonitor: AlertMonitor | null = null;
  try {
    if (!monitor) {
      ownMonitor = new AlertMonitor(broker, { settings });
      monitor = ownMonitor;
      await ownMonitor.start();
    }
    cleanups.push(monitor.onChange(schedule));

    // Follow the broker; buffer live events until the history is loaded.
    const buffered: LogEntry[] = [];
    let live = false;
    const onEvent = (ev: BrokerEvent) => {
      if (ev.kind === "entry") {
        if (!live) return void buffered.push(ev.entry);
        applyEntry(state, ev.entry);
        rosterDirty = true;
      } else if (ev.kind === "roster") rosterDirty = true;
      else return;
      schedule();
    };
    cleanups.push(broker.subscribe(onEvent));
    try {
      const since = Math.max(0, broker.lastSeq() - settings.maxMessages);
      for (const e of await broker.logSince(since, settings.maxMessages)) {
        applyEntry(state, e);
      }
    } catch (err) {
      state.notice = `cannot read the broker log: ${errorText(err)}`;
    }
    live = true;
    for (const e of buffered) applyEntry(state, e);

    // Ages tick once a second; skipped when an event frame was drawn within
    // the last half second (ages are then at most 1.5 s stale).
    const tick = () => {
      tickTimer = null;
      if (done) return;
      if (Date.now() - lastDrawAt >= 500) {
        rosterDirty = true;
        draw();
      }
      const ms = 1000 - (Date.now() % 1000) + 5;
      tickTimer = setTimeout(tick, ms);
    };
    cleanups.push(() => {
      if (tickTimer !== null) clearTimeout(tickTimer);
      tickTimer = null;
    });
    cleanups.push(term.onResize(() => {
      screen.invalidate();
      draw();
    }));
    if (deps.signals) {
      for (const sig of ["SIGTERM", "SIGHUP"] as const) {
        try {
          Deno.addSignalListener(sig, quit);
          cleanups.push(() => Deno.removeSignalListener(sig, quit));
        } catch { /* unsupported platform */ }
      }
    }
    if (opts.signal) {
      if (opts.signal.aborted) quit();
      opts.signal.addEventListener("abort", quit, { once: true });
      cleanups.push(() => opts.signal?.removeEventListener("abort", quit));
    }
    tick();

    // Keys.
    const input = term.input();
    const keysDone = input
      ? (async () => {
        for await (const chunk of input) {
          let changed = false;
          for (const key of parseKeys(chunk)) {
            let r: KeyResult = "none";
            const approvals = approvalsFor(broker);
            const d = approvals
              ? keyDecision(state, key, approvals.pending())
              : null;
            if (d && approvals) {
              // The same decision the routes make, recorded as `tui`.
              approvals.decide(d.id, { ...d, by: "tui" }).then((err) => {
                state.notice = err ??
                  `approval ${d.id}: ${
                    d.decision === "allow" ? "approved" : "denied"
                  }`;
                draw();
              }, (e) => {
                state.notice = `approval ${d.id}: ${errorText(e)}`;
                draw();
              });
              continue;
            }
            try {
              r = handleKey(state, key);
            } catch { /* a key must never crash the pane-0 process */ }
            if (r === "quit") return quit();
            if (r === "changed") changed = true;
          }
          if (changed) draw();
        }
      })()
      : Promise.resolve();
    await finished;
    term.closeInput();
    await keysDone.catch(() => {});
  } finally {
    done = true;
    if (frameTimer !== null) clearTimeout(frameTimer);
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch { /* keep cleaning */ }
    }
    await ownMonitor?.stop();
    term.restore();
  }
}

/** A minimal frame naming a render error (sanitised, fitted). */
function fallbackFrame(err: unknown, width: number, height: number): string[] {
  const msg = errorText(err);
  const lines = [
    "git-paw dashboard",
    `cannot draw the dashboard: ${sanitize(msg)}`,
    "the broker keeps running; press q to quit",
  ].map((l) => truncate(l, Math.max(1, width)));
  while (lines.length < height) lines.push("");
  return lines.slice(0, Math.max(1, height));
}
