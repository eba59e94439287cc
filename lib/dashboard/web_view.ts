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
  applyEntries,
  applyRoster,
  createDashboardState,
  type DashboardState,
  type DashboardView,
  dashboardView,
} from "../core/dashboard_model.ts";
import {
  answerTarget,
  answerText,
  applyNeedsYouEntry,
  claimAnswer,
  createNeedsYouState,
  type NeedsYouItem,
  needsYouItems,
  type NeedsYouState,
  WEB_FROM,
} from "../core/needs_you.ts";
import type { AlertReason } from "../core/dashboard_alerts.ts";
import { subjectOf } from "../core/dashboard_summary.ts";
import { AlertMonitor } from "./alerts.ts";
import { EntryRing } from "../core/entry_ring.ts";

/** What the page shows: the dashboard view plus the "Needs you" list. */
export type WebSnapshot = DashboardView & {
  /** Pending approvals, open questions, waiting agents (lib/core/needs_you.ts). */
  needs_you: NeedsYouItem[];
};

/**
 * Attention reasons the "Needs you" list covers (with actions): the page's
 * attention list keeps the others (blocked, stalled).
 */
const LISTED: ReadonlySet<AlertReason> = new Set([
  "approval",
  "question",
  "needs_input",
]);

/** Page size of the start-up replay of the log. */
const REPLAY_PAGE = 2000;

/** What sending an answer or a tell did. */
export type SendResult =
  | {
    ok: true;
    /** The feedback's seq (null when the text was typed into the pane). */
    seq: number | null;
    /** How a tell went: typed into the pane, or queued (and why). */
    route?: "keys" | "feedback";
    why?: string;
  }
  | { ok: false; status: 400 | 404 | 409 | 503; error: string };

/**
 * Types `text` into `agent`'s pane when its CLI is idle at its prompt (the
 * session's `git paw tell`), else says why not; passed in by the session.
 */
export type PaneTeller = (
  agent: string,
  text: string,
) => Promise<{ typed: true } | { typed: false; why: string }>;

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
  /** A tell first tries the agent's pane (else it is feedback). */
  tellPane?: PaneTeller;
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
  readonly #tellPane: PaneTeller | undefined;
  readonly #needsYou: NeedsYouState = createNeedsYouState();
  #needsYouLive = false;
  /**
   * Live entries not yet in the view model: applied together when the view
   * is read (a snapshot), so a publish costs the page nothing while no one
   * looks. Only the newest `maxMessages` can still be panel rows; of older
   * ones the newest per subject is kept, for its summary
   * ({@link applyEntries} reads older entries that way too: the same view).
   */
  readonly #pending: EntryRing;
  /** Live entries that came while the log was being replayed. */
  #held: LogEntry[] = [];
  /** Resolves once the log's replay is in (pending until {@link start}). */
  readonly #replayed: Promise<void>;
  #replayDone!: () => void;
  #started = false;

  constructor(broker: Broker, opts: WebViewOptions) {
    this.#broker = broker;
    this.#now = opts.now ?? (() => Date.now() / 1000);
    this.#maxMessages = opts.maxMessages;
    this.#pending = new EntryRing(opts.maxMessages);
    // The broker may not be listening yet: nothing is read from it here.
    this.#session = opts.session;
    this.#agentPorts = opts.agentPorts;
    this.#tellPane = opts.tellPane;
    this.#replayed = new Promise((resolve) => {
      this.#replayDone = resolve;
    });
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

  /**
   * Load the newest `maxMessages` entries, then follow the broker live. The
   * "Needs you" list is rebuilt from the whole log in the background (the
   * broker's start does not wait for it; {@link answer} does).
   */
  async start(): Promise<void> {
    this.#started = true;
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
      this.#apply(ev.entry, ev.json);
      this.#changed();
    });
    try {
      const since = Math.max(0, this.#broker.lastSeq() - this.#maxMessages);
      applyEntries(
        this.#state,
        await this.#broker.logSince(since, this.#maxMessages),
      );
    } catch { /* no history: start live */ }
    live = true;
    for (const e of buffered) this.#apply(e);
    await this.#monitor.start();
    this.#unwatch = this.#monitor.onChange(() => this.#changed());
    void this.#replayNeedsYou().finally(() => this.#replayDone());
  }

  /** The whole log into the "Needs you" state, then the entries held meanwhile. */
  async #replayNeedsYou(): Promise<void> {
    try {
      let since = 0;
      for (;;) {
        const page = await this.#broker.logSince(since, REPLAY_PAGE);
        for (const e of page) applyNeedsYouEntry(this.#needsYou, e);
        if (page.length < REPLAY_PAGE) break;
        since = page[page.length - 1]!.seq;
        // Let the broker answer requests between pages (a long log).
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch { /* no history: what came live */ }
    this.#needsYouLive = true;
    // Applied in seq order; entries the replay already read are skipped.
    for (const e of this.#held) applyNeedsYouEntry(this.#needsYou, e);
    this.#held = [];
    this.#changed();
  }

  /** One live entry (`json`: its message as the log has it, if known). */
  #apply(e: LogEntry, json?: string): void {
    this.#pending.push(
      e.seq,
      e.timestamp_unix_secs,
      json ?? JSON.stringify(e.message),
      subjectKey(e),
    );
    if (this.#needsYouLive) applyNeedsYouEntry(this.#needsYou, e);
    else this.#held.push(e);
  }

  /** The pending live entries into the view model. */
  #settle(): void {
    if (this.#pending.size) applyEntries(this.#state, this.#pending.drain());
  }

  /** Stop following the broker. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#unwatch?.();
    this.#unwatch = null;
    this.#listeners.clear();
    if (this.#started) await this.#replayed;
    await this.#monitor.stop();
  }

  /**
   * The view now: agent rows with their ages, counts, the "Needs you"
   * list, and the other attention items.
   */
  snapshot(): WebSnapshot {
    const now = this.#now();
    this.#settle();
    try {
      applyRoster(this.#state, this.#broker.agents(), now);
    } catch { /* keep the last roster */ }
    if (this.#agentPorts) this.#state.ports = this.#agentPorts();
    applyAttention(this.#state, this.#monitor.active());
    const view = dashboardView(this.#state, now);
    return {
      ...view,
      attention: view.attention.filter((a) => !LISTED.has(a.reason)),
      needs_you: needsYouItems(this.#needsYou, this.#state.roster, now),
    };
  }

  /** The "Needs you" list once the log's replay is in. */
  async needsYou(): Promise<NeedsYouItem[]> {
    await this.#replayed;
    return this.snapshot().needs_you;
  }

  /**
   * Answer `agent`'s open question or wait `ref` with `text`: one
   * `agent.feedback` from `web`. Applies once: a second answer to the same
   * item is a 409 naming who answered it.
   */
  async answer(agent: string, ref: number, text: string): Promise<SendResult> {
    await this.#replayed;
    const t = answerTarget(this.#needsYou, agent, ref);
    if (!t.ok) return t;
    if (!this.#known(agent)) return this.#unknown(agent);
    const undo = claimAnswer(t.ask, WEB_FROM, this.#now());
    const r = await this.#feedback(agent, answerText(t.kind, t.ask, text));
    if (!r.ok) undo();
    this.#changed();
    return r;
  }

  /**
   * Tell `agent` something: one `agent.feedback` from `web` with `text` (the
   * agent reads it from its inbox). The agent must be in the roster.
   */
  async tell(agent: string, text: string): Promise<SendResult> {
    if (!this.#known(agent)) return this.#unknown(agent);
    let why: string | undefined;
    if (this.#tellPane) {
      try {
        const t = await this.#tellPane(agent, text.trim());
        if (t.typed) return { ok: true, seq: null, route: "keys" };
        why = t.why;
      } catch (e) {
        why = `its pane could not be typed into (${(e as Error).message})`;
      }
    }
    const r = await this.#feedback(agent, text.trim());
    return r.ok ? { ...r, route: "feedback", ...(why ? { why } : {}) } : r;
  }

  /** The broker keeps an inbox for `agent` (feedback reaches it). */
  #known(agent: string): boolean {
    try {
      return this.#broker.agents().some((a) => a.agent_id === agent) ||
        this.#broker.watchTargets().some((w) => w.agent_id === agent);
    } catch {
      return false;
    }
  }

  #unknown(agent: string): SendResult {
    return {
      ok: false,
      status: 404,
      error: `no agent '${agent}' in this session`,
    };
  }

  async #feedback(agent: string, line: string): Promise<SendResult> {
    try {
      const r = await this.#broker.publish({
        type: "agent.feedback",
        agent_id: agent,
        payload: { from: WEB_FROM, errors: [line] },
      });
      if (r.ok) return { ok: true, seq: r.seq };
      return {
        ok: false,
        status: r.error.status === 400 ? 400 : 503,
        error: String(r.error.body.error),
      };
    } catch (e) {
      return { ok: false, status: 503, error: (e as Error).message };
    }
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

/**
 * A key per summary row, cheaper than `messageSubject` (which sanitises and
 * shortens this same text): entries with one key share a row. Two keys may
 * still share a row; {@link applyEntries} then keeps the newer.
 */
function subjectKey(e: LogEntry): string {
  try {
    return subjectOf(e.message);
  } catch {
    return "?";
  }
}
