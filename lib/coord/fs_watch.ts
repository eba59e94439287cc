/**
 * `Deno.watchFs` adapter: turns a recursive watch into batches of changed
 * paths (a `Set`), delivered at most once per short window and never
 * concurrently (Lume's watcher style). What a batch means is decided by the
 * caller. Needs `--allow-read` for the watched path.
 * @module
 */

/** Timer functions, injectable so the debounce can be tested without waiting. */
export type Timers = {
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
};

/** Whatever the timer functions use as a handle. */
export type TimerId = ReturnType<typeof setTimeout> | number;

/** The runtime's own timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Options of {@link BatchDebouncer}. */
export type DebounceOptions = {
  /** Window between the first path of a batch and its delivery (ms). */
  delayMs: number;
  timers?: Timers;
  /** Called when `onBatch` throws or rejects. */
  onError?: (err: unknown) => void;
};

/**
 * Collects paths into a set and hands the set to `onBatch` `delayMs` after the
 * first path arrived (the window is not extended by later paths, so latency is
 * bounded under a steady stream of events). A batch is never delivered while
 * the previous callback still runs; paths arriving meanwhile form the next
 * batch.
 */
export class BatchDebouncer {
  readonly #onBatch: (paths: Set<string>) => void | Promise<void>;
  readonly #opts: DebounceOptions;
  readonly #timers: Timers;
  #pending = new Set<string>();
  #timer: TimerId | null = null;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(
    onBatch: (paths: Set<string>) => void | Promise<void>,
    opts: DebounceOptions,
  ) {
    this.#onBatch = onBatch;
    this.#opts = opts;
    this.#timers = opts.timers ?? realTimers;
  }

  /** Add paths to the next batch. */
  add(paths: Iterable<string>): void {
    if (this.#closed) return;
    for (const p of paths) this.#pending.add(p);
    this.#schedule();
  }

  /** True when a batch is waiting or running. */
  get busy(): boolean {
    return this.#timer !== null || this.#running !== null ||
      this.#pending.size > 0;
  }

  #schedule(): void {
    if (this.#timer !== null || this.#running || this.#pending.size === 0) {
      return;
    }
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#fire();
    }, this.#opts.delayMs);
  }

  #fire(): void {
    if (this.#closed || this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Set();
    this.#running = (async () => {
      try {
        await this.#onBatch(batch);
      } catch (err) {
        this.#opts.onError?.(err);
      }
    })().finally(() => {
      this.#running = null;
      this.#schedule();
    });
  }

  /** Drop pending paths, cancel the timer and wait for a running callback. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
    await this.#running;
  }
}

/** Options of {@link watchBatches}. */
export type WatchBatchesOptions = {
  /** Debounce window (ms); tens of ms. */
  delayMs: number;
  /** Receives each batch of absolute paths. */
  onBatch: (paths: Set<string>) => void | Promise<void>;
  /** Watch failure (the watch has stopped) or a callback error. */
  onError: (err: unknown) => void;
};

/** A running watch. */
export type BatchWatch = {
  /** Queue paths as if the file system had reported them (e.g. a rescan). */
  poke(paths: Iterable<string>): void;
  /** Stop watching; waits for a running callback. Idempotent. */
  close(): Promise<void>;
};

/**
 * Watch `root` recursively and deliver debounced batches of changed paths.
 * (On Linux, plain reads such as `git status` produce no events; `access`
 * events are close-after-write and are kept.) Throws if the watch cannot
 * start (e.g. `Deno.errors.NotFound`).
 */
export function watchBatches(
  root: string,
  opts: WatchBatchesOptions,
): BatchWatch {
  const watcher = Deno.watchFs(root, { recursive: true });
  const deb = new BatchDebouncer(opts.onBatch, {
    delayMs: opts.delayMs,
    onError: opts.onError,
  });
  let closed = false;
  const loop = (async () => {
    try {
      for await (const ev of watcher) {
        deb.add(ev.paths);
      }
    } catch (err) {
      if (!closed) opts.onError(err);
    }
  })();
  return {
    poke(paths) {
      deb.add(paths);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        watcher.close();
      } catch {
        // already closed by the runtime
      }
      await loop;
      await deb.close();
    },
  };
}
