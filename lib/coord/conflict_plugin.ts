/**
 * The conflict detector as a broker plugin: feeds the broker's entries to the
 * pure reducer in `lib/core/conflict.ts` and publishes what it asks for. It
 * catches up on the existing log at start (effects suppressed, so a restarted
 * broker does not repeat old warnings), then follows `subscribe` events one at
 * a time. The only timer is the next in-flight escalation deadline.
 * @module
 */
import { eprintlnQuiet } from "../output.ts";
import type { Broker, BrokerPlugin, LogEntry } from "../broker/api.ts";
import {
  type ConflictEffect,
  type ConflictOptions,
  type ConflictState,
  initialConflictState,
  nextConflictDeadline,
  reduceConflict,
  repeatsStatus,
} from "../core/conflict.ts";
import { errorText } from "../core/errors.ts";

/** Options of the detector plugin. */
export type ConflictPluginOptions = ConflictOptions & {
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Diagnostics sink (default: stderr). */
  log?: (line: string) => void;
};

const PAGE = 1000;

const defaultLog = eprintlnQuiet;

/** A detector attached to one broker. */
class ConflictDetector {
  readonly #broker: Broker;
  readonly #opts: ConflictPluginOptions;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #state: ConflictState = initialConflictState();
  #queue: LogEntry[] = [];
  #cursor = 0;
  #live = false;
  #draining: Promise<void> | null = null;
  #kickQueued = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt: number | null = null;
  #unsubscribe: (() => void) | null = null;
  #closed = false;
  #publishFailed = false;

  constructor(broker: Broker, opts: ConflictPluginOptions) {
    this.#broker = broker;
    this.#opts = opts;
    this.#now = opts.now ?? (() => Date.now());
    this.#log = opts.log ?? defaultLog;
  }

  /** The reducer state (read-only use: tests, diagnostics). */
  get state(): ConflictState {
    return this.#state;
  }

  /** Subscribe, replay the existing log silently, then go live. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind !== "entry") return;
      this.#queue.push(ev.entry);
      // A written batch arrives as one synchronous run of entries: drain
      // them together once it has (one drain per batch, not per entry).
      if (this.#live && !this.#kickQueued) {
        this.#kickQueued = true;
        queueMicrotask(() => {
          this.#kickQueued = false;
          this.#kick();
        });
      }
    });
    const until = this.#broker.lastSeq();
    while (this.#cursor < until) {
      const page = await this.#broker.logSince(this.#cursor, PAGE);
      if (page.length === 0) break;
      for (const entry of page) {
        if (entry.seq <= this.#cursor) continue;
        this.#cursor = entry.seq;
        // Replay at the entry's own time; effects were published back then.
        reduceConflict(
          this.#state,
          { kind: "entry", entry },
          entry.timestamp_unix_secs * 1000,
          this.#opts,
        );
      }
      // A long log: let the broker answer requests between pages.
      await new Promise((r) => setTimeout(r, 0));
    }
    this.#live = true;
    this.#kick();
    this.#arm();
  }

  #kick(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      if (this.#queue.length && !this.#closed) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#closed) {
      // Take the whole queue: what comes meanwhile waits for the next round.
      const batch = this.#queue;
      this.#queue = [];
      // The last entry reduced with no effect, and its clock: a repeat of
      // it at the same instant changes nothing (`repeatsStatus`).
      let prev: LogEntry | null = null;
      let prevNow = 0;
      for (const entry of batch) {
        if (this.#closed) break;
        if (entry.seq <= this.#cursor) continue;
        this.#cursor = entry.seq;
        const now = this.#now();
        if (
          prev !== null && now === prevNow &&
          repeatsStatus(this.#state, prev.message, entry.message)
        ) continue;
        const { effects } = reduceConflict(
          this.#state,
          { kind: "entry", entry },
          now,
          this.#opts,
        );
        prev = effects.length ? null : entry;
        prevNow = now;
        // Most entries have no effect: no await (a microtask each) for them.
        if (effects.length) await this.#run(effects);
      }
    }
    this.#arm();
  }

  async #run(effects: ConflictEffect[]): Promise<void> {
    for (const e of effects) {
      try {
        const r = await this.#broker.publish(e.message);
        if (!r.ok) this.#fail(r.error.body.error);
      } catch (err) {
        this.#fail(errorText(err));
      }
    }
  }

  #fail(why: string): void {
    if (this.#publishFailed) return;
    this.#publishFailed = true;
    this.#log(`git-paw conflict detector: cannot publish: ${why}`);
  }

  /** Keep exactly one timer, for the next escalation deadline. */
  #arm(): void {
    if (this.#closed) return;
    const due = nextConflictDeadline(this.#state, this.#opts);
    if (due === this.#timerAt) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = due;
    if (due === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = null;
      void this.tick();
    }, Math.max(0, due - this.#now()));
  }

  /** Process clock-driven work now (escalations); also re-arms the timer. */
  async tick(): Promise<void> {
    if (this.#closed) return;
    await this.#draining;
    const { effects } = reduceConflict(
      this.#state,
      { kind: "tick" },
      this.#now(),
      this.#opts,
    );
    await this.#run(effects);
    this.#arm();
  }

  /** True when the detector has no queued entries or running work. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#draining === null;
  }

  /** Stop: unsubscribe, cancel the timer, wait for running work. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#draining;
  }
}

/** The detector as a broker plugin. */
export function conflictPlugin(opts: ConflictPluginOptions): BrokerPlugin {
  return {
    name: "conflict-detector",
    async start(broker) {
      const d = new ConflictDetector(broker, opts);
      await d.start();
      return () => d.close();
    },
  };
}
