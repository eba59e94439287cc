/**
 * `Deno.watchFs` adapter: turns a set of watches (some directories on their
 * own, some with everything below them) into batches of changed paths (a
 * `Set`), delivered at most once per short window and never concurrently
 * (Lume's watcher style). What a batch means is decided by the caller; which
 * directories to watch too ({@link planWatch} leaves ignored trees out, so
 * they cost no inotify watches). Needs `--allow-read` for the watched paths.
 * @module
 */
import { join } from "node:path";

/** Timer functions, injectable so the debounce can be tested without waiting. */
export type Timers = {
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
};

/** Whatever the timer functions use as a handle. */
export type TimerId = ReturnType<typeof setTimeout> | number;

/** The runtime's own timers. */
const realTimers: Timers = {
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

/** What to watch: directories alone (`flat`) and whole trees (`recursive`). */
export type WatchPlan = { flat: string[]; recursive: string[] };

/** The part of `Deno.FsWatcher` the adapter uses. */
export type FsWatcherLike = AsyncIterable<{ paths: string[] }> & {
  close(): void;
};

/**
 * Opens one watch over `paths` (all of them, or throws): `Deno.watchFs` by
 * default; tests inject one that fails the way the OS does at its limit.
 */
export type WatchFactory = (
  paths: string[],
  opts: { recursive: boolean },
) => FsWatcherLike;

/** The runtime's watch. */
const denoWatchFactory: WatchFactory = (paths, opts) =>
  Deno.watchFs(paths, opts);

/** Options of {@link watchBatches}. */
export type WatchBatchesOptions = {
  /** Debounce window (ms); tens of ms. */
  delayMs: number;
  /** Receives each batch of absolute paths. */
  onBatch: (paths: Set<string>) => void | Promise<void>;
  /** Watch failure (the watch has stopped) or a callback error. */
  onError: (err: unknown) => void;
  /** How watches are opened (default {@link denoWatchFactory}). */
  factory?: WatchFactory;
};

/** A running watch. */
export type BatchWatch = {
  /** Queue paths as if the file system had reported them (e.g. a rescan). */
  poke(paths: Iterable<string>): void;
  /**
   * Replace the watched directories. The new watches open before the old
   * ones close; if they cannot open this throws and nothing is watched any
   * more (batches from {@link BatchWatch.poke} still run).
   */
  rewatch(plan: WatchPlan): Promise<void>;
  /** The directories watched now. */
  readonly plan: WatchPlan;
  /** Stop watching; waits for a running callback. Idempotent. */
  close(): Promise<void>;
};

type Running = {
  watcher: FsWatcherLike;
  stopped: boolean;
  loop: Promise<void>;
};

/**
 * Watch `plan` and deliver debounced batches of changed paths.
 * (On Linux, plain reads such as `git status` produce no events; `access`
 * events are close-after-write and are kept.) Throws if the watch cannot
 * start (e.g. `Deno.errors.NotFound`, or the inotify limit).
 */
export function watchBatches(
  plan: WatchPlan,
  opts: WatchBatchesOptions,
): BatchWatch {
  const factory = opts.factory ?? denoWatchFactory;
  const deb = new BatchDebouncer(opts.onBatch, {
    delayMs: opts.delayMs,
    onError: opts.onError,
  });
  let closed = false;

  function open(p: WatchPlan): Running[] {
    const opened: FsWatcherLike[] = [];
    try {
      if (p.flat.length) opened.push(factory(p.flat, { recursive: false }));
      if (p.recursive.length) {
        opened.push(factory(p.recursive, { recursive: true }));
      }
    } catch (err) {
      for (const w of opened) closeQuietly(w);
      throw err;
    }
    return opened.map((watcher) => {
      const r: Running = { watcher, stopped: false, loop: Promise.resolve() };
      r.loop = (async () => {
        try {
          for await (const ev of watcher) deb.add(ev.paths);
        } catch (err) {
          if (!closed && !r.stopped) opts.onError(err);
        }
      })();
      return r;
    });
  }

  async function stop(list: Running[]): Promise<void> {
    for (const r of list) {
      r.stopped = true;
      closeQuietly(r.watcher);
    }
    await Promise.all(list.map((r) => r.loop));
  }

  let running = open(plan);
  let current = copyPlan(plan);
  return {
    poke(paths) {
      deb.add(paths);
    },
    get plan() {
      return copyPlan(current);
    },
    async rewatch(next) {
      if (closed) return;
      let opened: Running[] = [];
      try {
        opened = open(next);
      } finally {
        const old = running;
        running = opened;
        current = opened.length || isEmpty(next)
          ? copyPlan(next)
          : { flat: [], recursive: [] };
        await stop(old);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop(running);
      await deb.close();
    },
  };
}

function isEmpty(p: WatchPlan): boolean {
  return p.flat.length === 0 && p.recursive.length === 0;
}

function copyPlan(p: WatchPlan): WatchPlan {
  return { flat: [...p.flat], recursive: [...p.recursive] };
}

function closeQuietly(w: FsWatcherLike): void {
  try {
    w.close();
  } catch {
    // already closed by the runtime
  }
}

/** True when two plans watch the same directories the same way. */
export function samePlan(a: WatchPlan, b: WatchPlan): boolean {
  const eq = (x: string[], y: string[]) => {
    const sx = [...x].sort();
    const sy = [...y].sort();
    return sx.length === sy.length && sx.every((v, i) => v === sy[i]);
  };
  return eq(a.flat, b.flat) && eq(a.recursive, b.recursive);
}

/** Options of {@link planWatch}. */
export type PlanOptions = {
  /**
   * Directories not to watch, relative to the root with `/` separators and
   * a trailing `/` (as `git ls-files --directory` prints them).
   */
  skipDirs: string[];
};

/**
 * Which directories of the tree at `root` to watch so that no directory in
 * `skipDirs` is watched: the root and every directory leading to a skipped
 * one are watched alone; every other subdirectory of those is watched with
 * everything below it. A directory that vanishes meanwhile is left out.
 */
export async function planWatch(
  root: string,
  opts: PlanOptions,
): Promise<WatchPlan> {
  const skip = new Set(opts.skipDirs.map((d) => d.replace(/\/+$/, "")));
  const spine = new Set<string>([""]);
  for (const d of skip) {
    const parts = d.split("/");
    for (let i = 1; i < parts.length; i++) {
      spine.add(parts.slice(0, i).join("/"));
    }
  }
  const flat: string[] = [];
  const recursive: string[] = [];
  for (const rel of [...spine].sort()) {
    const abs = rel === "" ? root : join(root, ...rel.split("/"));
    let entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(abs)) entries.push(e);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && rel !== "") continue;
      if (err instanceof Deno.errors.NotADirectory && rel !== "") continue;
      throw err;
    }
    flat.push(abs);
    entries = entries.filter((e) => e.isDirectory).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (skip.has(child) || spine.has(child)) continue;
      recursive.push(join(abs, e.name));
    }
  }
  return { flat, recursive };
}
