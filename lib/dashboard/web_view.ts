/**
 * The web page's server-side view: the same view model the TUI draws
 * ({@link DashboardState}) and the same attention rules ({@link AlertMonitor}),
 * fed from the broker in this process. The page receives the result as text
 * ({@link DashboardView}) and derives nothing itself.
 * @module
 */
import type { Broker, BrokerEvent, LogEntry } from "../broker/api.ts";
import {
  applyAttention,
  applyEntry,
  applyRoster,
  createDashboardState,
  type DashboardState,
  type DashboardView,
  dashboardView,
} from "../core/dashboard_model.ts";
import { AlertMonitor } from "./alerts.ts";

/** Options for {@link WebView}. */
export type WebViewOptions = {
  /** Session named in the view (default: the broker's, read at start). */
  session?: string;
  stallThresholdSeconds: number;
  maxMessages: number;
  /** Unix seconds (float). Defaults to the wall clock. */
  now?: () => number;
  /** Each agent's `PORT` by agent id, read at every snapshot. */
  agentPorts?: () => ReadonlyMap<string, number>;
};

/** Follows one broker and answers "what does the page show now?". */
export class WebView {
  readonly #broker: Broker;
  readonly #state: DashboardState;
  readonly #monitor: AlertMonitor;
  readonly #now: () => number;
  readonly #maxMessages: number;
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => void) | null = null;
  #unwatch: (() => void) | null = null;
  #emitScheduled = false;
  readonly #session: string | undefined;
  readonly #agentPorts: (() => ReadonlyMap<string, number>) | undefined;

  constructor(broker: Broker, opts: WebViewOptions) {
    this.#broker = broker;
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#maxMessages = opts.maxMessages;
    // The broker may not be listening yet: nothing is read from it here.
    this.#session = opts.session;
    this.#agentPorts = opts.agentPorts;
    this.#state = createDashboardState({
      session: opts.session ?? "",
      url: "",
      maxMessages: opts.maxMessages,
      logVisible: true,
    });
    // Highlights only: the alerts plugin rings the bell, not the page.
    this.#monitor = new AlertMonitor(broker, {
      settings: {
        stallThresholdSeconds: opts.stallThresholdSeconds,
        maxMessages: opts.maxMessages,
      },
      now: this.#now,
    });
  }

  /** Load recent history, then follow the broker live. */
  async start(): Promise<void> {
    this.#state.session = this.#session ?? this.#broker.session;
    this.#state.url = this.#broker.url;
    const buffered: LogEntry[] = [];
    let live = false;
    this.#unsubscribe = this.#broker.subscribe((ev: BrokerEvent) => {
      if (ev.kind !== "entry") {
        if (ev.kind === "roster") this.#changed();
        return;
      }
      if (!live) return void buffered.push(ev.entry);
      applyEntry(this.#state, ev.entry);
      this.#changed();
    });
    try {
      const since = Math.max(0, this.#broker.lastSeq() - this.#maxMessages);
      for (const e of await this.#broker.logSince(since, this.#maxMessages)) {
        applyEntry(this.#state, e);
      }
    } catch { /* no history: start live */ }
    live = true;
    for (const e of buffered) applyEntry(this.#state, e);
    await this.#monitor.start();
    this.#unwatch = this.#monitor.onChange(() => this.#changed());
  }

  /** Stop following the broker. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#unwatch?.();
    this.#unwatch = null;
    this.#listeners.clear();
    await this.#monitor.stop();
  }

  /** The view now: agent rows with their ages, counts, attention. */
  snapshot(): DashboardView {
    const now = this.#now();
    try {
      applyRoster(this.#state, this.#broker.agents(), now);
    } catch { /* keep the last roster */ }
    if (this.#agentPorts) this.#state.ports = this.#agentPorts();
    applyAttention(this.#state, this.#monitor.active());
    return dashboardView(this.#state, now);
  }

  /** Be told (once per burst) when {@link snapshot} may have changed. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    if (this.#emitScheduled) return;
    this.#emitScheduled = true;
    queueMicrotask(() => {
      this.#emitScheduled = false;
      for (const fn of [...this.#listeners]) {
        try {
          fn();
        } catch { /* a listener's problem */ }
      }
    });
  }
}
