/**
 * Session learnings as a broker plugin (docs/REFERENCE.md, "Learnings"): observes live broker
 * entries, appends each flush to `<repo>/.git-paw/session-learnings.md`, and
 * (when broker publish is on) publishes new deterministic entries as
 * `agent.learning`. Flushes run `flush_interval_seconds` after the first
 * message since the last flush (an idle session has no timer) and once more
 * at shutdown. Needs `--allow-write` on the file's directory.
 * @module
 */
import { eprintlnQuiet } from "../output.ts";
import { dirname } from "node:path";
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { LearningsAggregator, type LearningsFlush } from "../core/learnings.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import { errorText } from "../core/errors.ts";

/** Options of the learnings plugin. */
export type LearningsPluginOptions = {
  /** File to append to (`<repo>/.git-paw/session-learnings.md`). */
  path: string;
  /** Seconds between flushes (at least 1). */
  flushIntervalSeconds: number;
  /** Publish deterministic entries as `agent.learning`. */
  brokerPublish: boolean;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Header time (ms); default: when the plugin starts. */
  startedAt?: number;
  /** Diagnostics sink (default: stderr). */
  log?: (line: string) => void;
};

const defaultLog = eprintlnQuiet;

/** Aggregator + file + publisher for one broker. */
export class LearningsRecorder {
  readonly #broker: Broker;
  readonly #opts: LearningsPluginOptions;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #agg: LearningsAggregator;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #closed = false;
  #reported = new Set<string>();

  constructor(broker: Broker, opts: LearningsPluginOptions) {
    this.#broker = broker;
    this.#opts = opts;
    this.#now = opts.now ?? (() => Date.now());
    this.#log = opts.log ?? defaultLog;
    this.#agg = new LearningsAggregator({
      brokerPublish: opts.brokerPublish,
      startedAt: opts.startedAt ?? this.#now(),
    });
  }

  /** Start observing live entries. */
  start(): void {
    for (const a of this.#broker.agents()) this.#agg.registerAgent(a.agent_id);
    for (const t of this.#broker.watchTargets()) {
      this.#agg.registerAgent(t.agent_id);
    }
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind === "watch") this.#agg.registerAgent(ev.target.agent_id);
      if (ev.kind !== "entry") return;
      const m = ev.entry.message;
      this.#agg.observe(m, this.#now());
      const own = m.type === "agent.learning" &&
        m.payload.agent_id === SUPERVISOR_ID;
      if (!own) this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flushNow();
    }, Math.max(1, this.#opts.flushIntervalSeconds) * 1000);
  }

  /** Flush now (the cadence calls this); resolves when written/published. */
  flushNow(): Promise<void> {
    return this.#enqueue(() => this.#agg.flush(this.#now()));
  }

  #enqueue(make: () => LearningsFlush): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write(make()));
    return this.#chain;
  }

  async #write(f: LearningsFlush): Promise<void> {
    if (f.text !== null) {
      try {
        await Deno.mkdir(dirname(this.#opts.path), { recursive: true });
        let prefix = "";
        try {
          const st = await Deno.stat(this.#opts.path);
          if (st.size > 0) prefix = "\n";
        } catch {
          // new file
        }
        await Deno.writeTextFile(this.#opts.path, prefix + f.text, {
          append: true,
        });
      } catch (err) {
        this.#report(
          "write",
          `cannot write ${this.#opts.path}: ${errorText(err)}`,
        );
      }
    }
    for (const m of f.publish) {
      try {
        const r = await this.#broker.publish(m);
        if (!r.ok) this.#report("publish", r.error.body.error);
      } catch (err) {
        this.#report("publish", errorText(err));
      }
    }
  }

  #report(kind: string, text: string): void {
    if (this.#reported.has(kind)) return;
    this.#reported.add(kind);
    this.#log(`git-paw learnings: ${text}`);
  }

  /** Final flush (closes open timers and counts) and stop. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#enqueue(() => this.#agg.flushAtShutdown(this.#now()));
  }
}

/** The learnings recorder as a broker plugin. */
export function learningsPlugin(opts: LearningsPluginOptions): BrokerPlugin {
  return {
    name: "learnings",
    start(broker) {
      const r = new LearningsRecorder(broker, opts);
      r.start();
      return () => r.close();
    },
  };
}
