/**
 * Attention alerts at run time: {@link AlertMonitor} feeds broker events to
 * the pure decisions of `lib/core/dashboard_alerts.ts`, keeps ONE timer set to
 * the next stall deadline (no polling loop), and hands every fired alert to
 * its sinks: a tmux `display-message`, the terminal bell, and the optional
 * `[notify] command` argv (agent id, reason and detail appended; never a
 * shell). {@link alertsPlugin} starts one per session broker; the TUI finds
 * it with {@link alertMonitorFor} to highlight the same items.
 *
 * Needs `--allow-run` (tmux, the notify command) and `--allow-env` (TMUX).
 * @module
 */
import type {
  AgentStatusEntry,
  Broker,
  BrokerEvent,
  BrokerPlugin,
  LogEntry,
} from "../broker/api.ts";
import {
  activeAlerts,
  type Alert,
  alertsCheckStalls,
  alertsOnEntry,
  alertsOnRoster,
  type AlertsState,
  alertText,
  createAlertsState,
  nextStallDeadline,
} from "../core/dashboard_alerts.ts";
import {
  type DashboardSettings,
  readDashboardSettings,
} from "../core/dashboard_settings.ts";
import {
  createThrottle,
  nextSummaryAt,
  type Notice,
  throttleAlert,
  type ThrottleOptions,
  type ThrottleState,
  throttleSummary,
} from "../core/notify_throttle.ts";
import {
  alertCause,
  createSent,
  markSent,
  parseSent,
  type SentCauses,
  sentText,
  wasSent,
} from "../core/notify_sent.ts";
import { readTextOrNull, writeTextAtomic } from "../adapters/fs.ts";
import { escapeTmuxFormat, tmuxTry } from "../adapters/tmux.ts";
import { run } from "../adapters/runner.ts";
import type { Config } from "../core/config.ts";

/**
 * Something done with a fired alert, or with the summary of alerts held
 * back (`reason: "suppressed"`, lib/core/notify_throttle.ts). May be
 * async; errors are collected.
 */
export type AlertSink = (alert: Notice) => void | Promise<void>;

/** Options for {@link AlertMonitor}. */
export type AlertMonitorOptions = {
  settings: Pick<DashboardSettings, "stallThresholdSeconds" | "maxMessages">;
  sinks?: AlertSink[];
  /** Unix seconds (float). Defaults to the wall clock. */
  now?: () => number;
  /** Called when a sink fails (default: ignored; the TUI owns the screen). */
  onError?: (err: unknown, alert: Notice) => void;
  /** How often the sinks are run (default: lib/core/notify_throttle.ts). */
  throttle?: Partial<ThrottleOptions>;
  /**
   * Where the causes already sent are kept across restarts (default: in
   * memory only). `load` resolves to null when nothing was kept yet.
   */
  sent?: SentStore;
};

/** Keeps the causes sent (lib/core/notify_sent.ts) across restarts. */
export type SentStore = {
  load(): Promise<SentCauses | null>;
  save(s: SentCauses): Promise<void>;
};

/** A {@link SentStore} in the file at `path` (written atomically, 0600). */
export function fileSentStore(path: string): SentStore {
  let writing: Promise<void> = Promise.resolve();
  return {
    load: async () => {
      const text = await readTextOrNull(path);
      return text === null ? null : parseSent(text);
    },
    save: (s) => {
      const text = sentText(s);
      writing = writing.then(() => writeTextAtomic(path, text, { mode: 0o600 }))
        .catch(() => {});
      return writing;
    },
  };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Watches one broker and fires attention alerts once per cause. */
export class AlertMonitor {
  readonly #broker: Broker;
  readonly #state: AlertsState;
  readonly #sinks: AlertSink[];
  readonly #now: () => number;
  readonly #onError: (err: unknown, alert: Notice) => void;
  readonly #throttle: ThrottleState;
  #summaryTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #listeners = new Set<() => void>();
  readonly #pending = new Set<Promise<void>>();
  readonly #maxMessages: number;
  readonly #threshold: number;
  readonly #store: SentStore | null;
  #sent: SentCauses = createSent();
  /** The causes a previous run sent (a stall matched with some slack). */
  #restored: SentCauses | null = null;
  #saving: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt: number | null = null;
  #stopped = false;
  #settleQueued = false;
  /** Every alert fired so far, in order (bounded to the last 1000). */
  readonly fired: Alert[] = [];

  constructor(broker: Broker, opts: AlertMonitorOptions) {
    this.#broker = broker;
    this.#state = createAlertsState(opts.settings.stallThresholdSeconds);
    this.#sinks = opts.sinks ?? [];
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#onError = opts.onError ?? (() => {});
    this.#maxMessages = opts.settings.maxMessages;
    this.#throttle = createThrottle(opts.throttle);
    this.#threshold = opts.settings.stallThresholdSeconds;
    this.#store = opts.sent ?? null;
  }

  /**
   * Learn the current roster and recent history (marking attention without
   * firing), then follow the broker live.
   */
  async start(): Promise<void> {
    const buffered: BrokerEvent[] = [];
    let live = false;
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (live) this.#onEvent(ev);
      else buffered.push(ev);
    });
    try {
      this.#roster();
      const last = this.#broker.lastSeq();
      const since = Math.max(0, last - this.#maxMessages);
      const history: LogEntry[] = await this.#broker.logSince(
        since,
        this.#maxMessages,
      );
      for (const e of history) alertsOnEntry(this.#state, e, { fire: false });
    } catch { /* broker without history: start live */ }
    const kept = this.#store
      ? await this.#store.load().catch(() => null)
      : null;
    if (kept) {
      // Restarted: what is still waiting and was never sent goes out now.
      this.#sent = createSent(kept.order);
      this.#restored = kept;
      this.#fire(this.active());
    } else {
      // First start (or no store): what the history holds counts as told.
      for (const a of this.active()) markSent(this.#sent, this.#cause(a));
      this.#save();
    }
    live = true;
    for (const ev of buffered) this.#onEvent(ev);
    this.#check();
  }

  /** Active attention items (what the dashboards highlight). */
  active(): Alert[] {
    return activeAlerts(this.#state);
  }

  /** Be told when {@link active} may have changed. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Wait until every sink started so far has finished. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  /** Unix time the stall timer is set for, or null (for tests). */
  get nextDeadline(): number | null {
    return this.#timerAt;
  }

  /** Stop listening and clear the timer; waits for running sinks. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = null;
    if (this.#summaryTimer !== null) clearTimeout(this.#summaryTimer);
    this.#summaryTimer = null;
    await this.idle();
    await this.#saving;
  }

  #roster(): void {
    let agents: AgentStatusEntry[];
    try {
      agents = this.#broker.agents();
    } catch {
      return;
    }
    alertsOnRoster(this.#state, agents, this.#now());
  }

  #onEvent(ev: BrokerEvent): void {
    if (this.#stopped) return;
    if (ev.kind === "entry") {
      this.#fire(alertsOnEntry(this.#state, ev.entry));
    } else if (ev.kind !== "roster") return;
    // A written batch arrives as one synchronous run of events: the roster
    // is read and the stalls checked once after it, not once per entry.
    if (this.#settleQueued) return;
    this.#settleQueued = true;
    queueMicrotask(() => {
      this.#settleQueued = false;
      if (this.#stopped) return;
      this.#roster();
      this.#check();
    });
  }

  #check(): void {
    if (this.#stopped) return;
    this.#fire(alertsCheckStalls(this.#state, this.#now()));
    this.#emit();
    this.#arm();
  }

  #arm(): void {
    const next = nextStallDeadline(this.#state);
    if (next === this.#timerAt) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = next;
    if (next === null) return;
    const ms = Math.min(
      MAX_TIMER_MS,
      Math.max(0, Math.ceil((next - this.#now()) * 1000) + 5),
    );
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = null;
      this.#roster();
      this.#check();
    }, ms);
  }

  #emit(): void {
    for (const fn of this.#listeners) {
      try {
        fn();
      } catch { /* a listener's problem */ }
    }
  }

  #cause(a: Alert): string {
    return alertCause(a, this.#threshold);
  }

  #save(): void {
    if (!this.#store) return;
    // Writes are serialised by the store: the latest covers the earlier.
    this.#saving = this.#store.save(this.#sent).catch(() => {});
  }

  #fire(alerts: Alert[]): void {
    if (alerts.length === 0) return;
    const now = this.#now();
    let sent = false;
    for (const a of alerts) {
      // Once per cause, also across restarts of this dashboard.
      const cause = this.#cause(a);
      if (
        this.#sent.set.has(cause) ||
        (this.#restored !== null && wasSent(this.#restored, cause))
      ) continue;
      this.fired.push(a);
      if (this.fired.length > 1000) this.fired.shift();
      // Bounded: a flood of (forged) alerts runs the sinks a few times.
      if (throttleAlert(this.#throttle, a, now)) {
        markSent(this.#sent, cause);
        sent = true;
        this.#deliver(a);
      }
    }
    if (sent) this.#save();
    this.#armSummary();
  }

  /** One timer for the summary of what the throttle held back. */
  #armSummary(): void {
    if (this.#stopped || this.#summaryTimer !== null) return;
    const at = nextSummaryAt(this.#throttle);
    if (at === null) return;
    const ms = Math.min(
      MAX_TIMER_MS,
      Math.max(0, Math.ceil((at - this.#now()) * 1000) + 5),
    );
    this.#summaryTimer = setTimeout(() => {
      this.#summaryTimer = null;
      if (this.#stopped) return;
      const s = throttleSummary(this.#throttle, this.#now());
      if (s) this.#deliver(s);
      this.#armSummary();
    }, ms);
  }

  #deliver(a: Notice): void {
    for (const sink of this.#sinks) {
      const p = (async () => {
        try {
          await sink(a);
        } catch (err) {
          this.#onError(err, a);
        }
      })();
      this.#pending.add(p);
      p.finally(() => this.#pending.delete(p));
    }
  }
}

/**
 * Sink: `tmux display-message [-t <session>] <text>` with `#` and `%`
 * doubled so agent text cannot expand tmux formats (`#(cmd)`) or strftime
 * sequences (`%Y`). Does nothing when no
 * session is named and `$TMUX` is unset.
 */
function tmuxDisplaySink(
  session: string | null,
  opts: { env?: Record<string, string> } = {},
): AlertSink {
  return async (a) => {
    const inTmux = (opts.env?.TMUX ?? Deno.env.get("TMUX") ?? "") !== "";
    if (!session && !inTmux) return;
    const args = ["display-message"];
    if (session) args.push("-t", session);
    args.push(escapeTmuxFormat(alertText(a), { strftime: true }));
    const out = await tmuxTry(args, opts.env ? { env: opts.env } : {});
    if (out.code !== 0) {
      throw new Error(`tmux display-message failed: ${out.stderr.trim()}`);
    }
  };
}

/** Sink: ring the terminal bell (BEL on stdout, only if it is a terminal). */
export function bellSink(
  write: (s: string) => void = defaultBellWrite,
): AlertSink {
  return () => write("\x07");
}

function defaultBellWrite(s: string): void {
  try {
    if (Deno.stdout.isTerminal()) {
      Deno.stdout.writeSync(new TextEncoder().encode(s));
    }
  } catch { /* no terminal */ }
}

/**
 * Sink: run `argv` with the agent id, the reason (`blocked`, `question`,
 * `stalled`, `needs_input`) and the one-line detail appended as three
 * arguments. Runs the
 * program directly (no shell); its output is discarded.
 */
export function notifyCommandSink(
  argv: readonly string[],
  opts: { link?: (a: Notice) => string | null } = {},
): AlertSink {
  return (a) => runNotifyCommand(argv, a, opts.link?.(a) ?? null);
}

/**
 * Run the `[notify] command` once for one notice: `argv` + agent, reason
 * and the detail (with ` · web: <link>` when there is a link), the same in
 * `GIT_PAW_ALERT_AGENT`, `GIT_PAW_ALERT_REASON`, `GIT_PAW_ALERT_LINK`.
 * @throws {Error} when it exits non-zero
 */
export async function runNotifyCommand(
  argv: readonly string[],
  a: { agent_id: string; reason: string; detail: string },
  link: string | null,
): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd) return;
  const detail = link === null ? a.detail : `${a.detail} · web: ${link}`;
  // Output is collected and dropped.
  const out = await run(cmd, [...rest, a.agent_id, a.reason, detail], {
    env: {
      GIT_PAW_ALERT_AGENT: a.agent_id,
      GIT_PAW_ALERT_REASON: a.reason,
      ...(link === null ? {} : { GIT_PAW_ALERT_LINK: link }),
    },
  });
  if (out.code !== 0) {
    throw new Error(`[notify] command exited with code ${out.code}`);
  }
}

/**
 * The web dashboard's link to a pending approval (`<broker>/#approval-<id>`);
 * with a token-bound broker, the `/?token=` link that sets the cookie first
 * (the fragment survives the broker's redirect to `/`). Null for any other
 * alert.
 */
export function approvalWebLink(
  broker: { url: string; token?: string | undefined },
  a: Notice,
): string | null {
  if (a.reason !== "approval" || !("seq" in a) || a.seq === null) return null;
  const login = broker.token === undefined
    ? "/"
    : `/?token=${encodeURIComponent(broker.token)}`;
  return `${broker.url}${login}#approval-${a.seq}`;
}

/**
 * The web dashboard's link for an alert: a pending approval's
 * ({@link approvalWebLink}), else the agent's row
 * (`<broker>/#agent-<id>`, through `/?token=` on a token-bound broker);
 * null for the summary of held-back notices.
 */
function alertWebLink(
  broker: { url: string; token?: string | undefined },
  a: Notice,
): string | null {
  if (a.reason === "suppressed") return null;
  const approval = approvalWebLink(broker, a);
  if (approval !== null) return approval;
  const login = broker.token === undefined
    ? "/"
    : `/?token=${encodeURIComponent(broker.token)}`;
  return `${broker.url}${login}#agent-${encodeURIComponent(a.agent_id)}`;
}

const monitors = new Map<string, AlertMonitor>();
const monitorsByBroker = new WeakMap<Broker, AlertMonitor>();

/** The alert monitor the alerts plugin runs for `broker`, if any. */
export function alertMonitorFor(broker: Broker): AlertMonitor | undefined {
  return monitorsByBroker.get(broker) ?? monitors.get(broker.url);
}

/** Options for {@link alertsPlugin}. */
export type AlertsPluginOptions = {
  /** tmux session to show `display-message` in (null: current, if any). */
  session: string | null;
  config: Config;
  /** Override the sinks (tests); default tmux + bell + notify command. */
  sinks?: AlertSink[];
  /** Extra environment for the tmux sink (e.g. a test's `TMUX_TMPDIR`). */
  tmuxEnv?: Record<string, string>;
  now?: () => number;
  /**
   * The file that keeps the causes already notified (the session's state
   * dir), so a restarted dashboard sends none twice; unset: memory only.
   */
  sentFile?: string;
};

/** The broker plugin that runs the attention alerts for a session. */
export function alertsPlugin(opts: AlertsPluginOptions): BrokerPlugin {
  const settings = readDashboardSettings(opts.config);
  return {
    name: "alerts",
    start: async (broker: Broker) => {
      const sinks = opts.sinks ?? [
        tmuxDisplaySink(opts.session, { env: opts.tmuxEnv }),
        ...(settings.bell ? [bellSink()] : []),
        ...(settings.notifyCommand
          ? [notifyCommandSink(settings.notifyCommand, {
            link: (a) => alertWebLink(broker, a),
          })]
          : []),
      ];
      const monitor = new AlertMonitor(broker, {
        settings,
        sinks,
        now: opts.now,
        ...(opts.sentFile ? { sent: fileSentStore(opts.sentFile) } : {}),
      });
      await monitor.start();
      monitors.set(broker.url, monitor);
      monitorsByBroker.set(broker, monitor);
      return async () => {
        if (monitors.get(broker.url) === monitor) monitors.delete(broker.url);
        monitorsByBroker.delete(broker);
        await monitor.stop();
      };
    },
  };
}
