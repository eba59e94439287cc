/**
 * The broker's durable store: the delivery core ({@link BrokerState}) plus a
 * per-session append-only JSONL log and the human-readable `broker.log`.
 *
 * - `<dataDir>/<session>.jsonl`: one line per entry,
 *   `{"seq":N,"timestamp_unix_secs":T,"message":{…}}` (exactly a `/log`
 *   entry), and `{"watch":{…}}` lines for `/watch` registrations.
 * - `<dataDir>/<session>.broker.log`: lines for `tail -f` (docs/REFERENCE.md, "Broker log").
 *
 * Group commit: publishes that arrive in the same event-loop turn join one
 * batch, written with one `write(2)` (under light load a batch goes out at
 * once); the batch's promise resolves once the bytes are with the OS. Only
 * then is the batch applied to the delivery core (roster, inboxes, watch
 * targets) and announced ({@link BrokerStore.onDurable}), and its lines go
 * to the human log (appends less than 10 ms apart are coalesced into one
 * write). A write that fails (a full disk) changes nothing: the
 * file is cut back to its last whole line, the batch's seqs are given back
 * (the next publish reuses them) and its publishers get the error.
 * `fdatasync` runs at least once a second while dirty, and at close.
 *
 * Replay on open rebuilds seq, roster, inboxes and watch targets; a torn
 * last line is cut off (saved to `<log>.torn`) with a warning, a corrupt
 * middle line is skipped with a warning. A checkpoint
 * (`<log>.checkpoint`, lib/broker/checkpoint.ts) saves that replay: it is
 * written in the background once enough of the log is not covered by the
 * last one, and at close; on open only the log after it is replayed. A
 * checkpoint that is torn or does not match the log is ignored with a
 * one-line warning (full replay).
 *
 * Memory is bounded: no per-entry JS objects are kept. The core holds the
 * roster and per-inbox seq lists (4 B per delivery); this store holds a
 * compact seq → offset index (~4 B per entry, {@link SeqIndex}) and a fixed
 * ring with the last few MiB of the log, so recent entries are served from
 * memory and older ones are read back from the file. One writer per log:
 * `<log>.lock` holds the owner's pid.
 *
 * Permissions: `--allow-read` and `--allow-write` on the data dir.
 * @module
 */
import { join } from "node:path";
import { setImmediate } from "node:timers";
import {
  type BrokerState,
  createBrokerState,
  forgetCommitsAfter,
  poll,
  publish,
  type PublishOutcome,
  recordCommit,
  registerWatch,
  seedAgent,
  StoredEntry,
  upperBound,
  type WatchRecord,
} from "../core/broker_state.ts";
import { SeqIndex } from "./seq_index.ts";
import {
  checkpointBody,
  type CheckpointHeader,
  checkpointHeaderLine,
  hashBytes,
  logProbes,
  readCheckpoint,
  WordHash,
} from "./checkpoint.ts";
import { removeIfUnchanged, tryPidLock } from "../adapters/pid_lock.ts";
import { writeBytesAtomic } from "../adapters/fs.ts";
import {
  type BrokerMessage,
  displayMessage,
  identityOf,
} from "../core/messages.ts";

/** Options for {@link openStore}. */
export type StoreOptions = {
  dataDir: string;
  /** Session name; sanitised into the file names. */
  session: string;
  /**
   * Bytes of the log's tail kept in memory (a ring); older entries are read
   * from the file. Default 4 MiB (~20,000 typical entries).
   */
  windowBytes?: number;
  republishWorkingTtlSeconds?: number;
  /** fsync period while dirty. Default 1000 ms. */
  fsyncIntervalMs?: number;
  /** Warnings (torn line, write errors). Default: stderr. */
  warn?: (line: string) => void;
  /**
   * Write a checkpoint once this many log bytes (or the last checkpoint's
   * size, if larger) are not covered by one, and at close when the log is
   * at least this big. 0 = never. Default 8 MiB.
   */
  checkpointBytes?: number;
  /**
   * Test seam: wraps the log file's batch writes (e.g. to fail like a full
   * disk). Default: the file itself.
   */
  wrapLog?: (file: LogSink) => LogSink;
};

/** The calls a batch write makes on the log file. */
export type LogSink = {
  writeSync(p: Uint8Array): number;
  truncateSync(len?: number): void;
  seekSync(offset: number, whence: Deno.SeekMode): number;
};

/** Called for each batch once written, with its entries applied. */
export type DurableListener = (
  maxSeq: number,
  outcomes: readonly PublishOutcome[],
) => void;

/** A line waiting for the next batch write. */
type PendingOp =
  | {
    kind: "entry";
    line: string;
    msg: BrokerMessage;
    nowMs: number;
    outcome: PublishOutcome;
  }
  | { kind: "watch"; line: string; target: WatchRecord };

/** Failed human-log text kept for the next try, at most. */
const HUMAN_RETRY_BYTES = 4 * 1024 * 1024;
/**
 * Human-log appends closer together than this wait and go out as one
 * write: under load that is one write(2) per interval instead of one per
 * batch. The JSONL log is the record; a human line lost to a crash is
 * written again from it on the next open.
 */
const HUMAN_COALESCE_MS = 10;

const enc = new TextEncoder();

const dec = new TextDecoder();

/** File-name-safe form of a session name. */
export function sessionFileBase(session: string): string {
  const s = session.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^\.+/, "");
  return s === "" ? "default" : s;
}

/** `deliveredTo` until the entry is written (read-only, shared). */
const NOT_YET: string[] = [];

const LINE_HEAD = /^\{"seq":(\d+),"timestamp_unix_secs":(\d+),"message":/;

function entryPrefix(seq: number, ts: number): string {
  return `{"seq":${seq},"timestamp_unix_secs":${ts},"message":`;
}

/** What a human-log line is made of. */
type HumanEntry = {
  seq: number;
  timestamp_unix_secs: number;
  message: BrokerMessage;
};

/** The human-log line of one entry (docs/REFERENCE.md, "Broker log"); newlines become spaces. */
export function humanLine(entry: HumanEntry): string {
  return humanText(entry.seq, entry.timestamp_unix_secs, entry.message);
}

function humanText(seq: number, ts: number, message: BrokerMessage): string {
  let display = displayMessage(message);
  if (display.includes("\n") || display.includes("\r")) {
    display = display.replace(/[\r\n]+/g, " ");
  }
  return `[${seq}] ${ts} [${identityOf(message)}] ${display}\n`;
}

/** A store opened on a data dir (see module docs). */
export class BrokerStore {
  /** The delivery core; mutate only through this store. */
  readonly state: BrokerState;
  /** Path of the JSONL log. */
  readonly logPath: string;
  /** Path of the human-readable log. */
  readonly humanPath: string;
  /** Highest seq whose line is with the OS (what polls may see). */
  durableSeq = 0;
  /**
   * Log offset the last open replayed from: 0 for a full replay, else the
   * checkpoint's offset.
   */
  replayedFrom = 0;

  #file: Deno.FsFile;
  #sink: LogSink;
  #reader: Deno.FsFile;
  #human: Deno.FsFile | null;
  #warn: (line: string) => void;
  #fileEnd = 0;
  #idx = new SeqIndex();
  /** Lines of the log up to `#fileEnd`. */
  #lines = 0;
  #ops: PendingOp[] = [];
  /** Highest seq handed out (pending ones included). */
  #reservedSeq = 0;
  /** Watch paths waiting in the current batch. */
  #pendingWatch = new Set<string>();
  /** A failed write could not be cut back yet: retry before writing. */
  #mustCut = false;
  #batch: {
    promise: Promise<void>;
    resolve: () => void;
    reject: (e: unknown) => void;
  } | null = null;
  #scheduled = false;
  #lastWriteAt = -Infinity;
  #buf = new Uint8Array(64 * 1024);
  /** Human lines to append: text, or a written entry's outcome. */
  #humanPending: Array<string | PublishOutcome> = [];
  #humanTimer: ReturnType<typeof setTimeout> | null = null;
  #lastHumanAt = -Infinity;
  /** The log's tail: file offset `o` lives at `#ring[o % #ring.length]`. */
  #ring: Uint8Array;
  #dirty = false;
  #syncing: Promise<void> | null = null;
  #fsyncTimer: ReturnType<typeof setInterval>;
  #closed = false;
  #onDurable: DurableListener = () => {};
  #humanFailed = false;
  /** Bytes of the human log (a failed append is cut back to it). */
  #humanEnd = 0;
  /** False until the ring holds the log's tail (during open). */
  #ringWarm = false;
  readonly #ckptPath: string;
  readonly #ckptBytes: number;
  /** Log offset and file size of the newest checkpoint. */
  #ckptOffset = 0;
  #ckptSize = 0;
  #ckptRunning: Promise<void> | null = null;
  #ckptTimer: ReturnType<typeof setTimeout> | null = null;
  #ckptFailed = false;
  /**
   * Agents whose seeding changed the core in a way the log does not show
   * (an inbox or CLI no logged line explains): no checkpoint while any is
   * left, since a checkpoint must equal a replay of the log.
   */
  #seedOnly = new Map<string, { cli: string | null; lastSeq: number }>();

  private constructor(
    state: BrokerState,
    paths: { logPath: string; humanPath: string },
    files: {
      file: Deno.FsFile;
      reader: Deno.FsFile;
      human: Deno.FsFile | null;
    },
    opts: StoreOptions,
  ) {
    this.state = state;
    this.logPath = paths.logPath;
    this.humanPath = paths.humanPath;
    this.#file = files.file;
    this.#sink = opts.wrapLog?.(files.file) ?? files.file;
    this.#reader = files.reader;
    this.#human = files.human;
    this.#warn = opts.warn ?? ((l) => console.error(l));
    this.#fsyncTimer = setInterval(
      () => void this.sync(),
      opts.fsyncIntervalMs ?? 1000,
    );
    this.#ring = new Uint8Array(
      Math.max(4096, Math.floor(opts.windowBytes ?? 4 * 1024 * 1024)),
    );
    this.#ckptPath = `${paths.logPath}.checkpoint`;
    this.#ckptBytes = Math.max(
      0,
      Math.floor(opts.checkpointBytes ?? 8 * 1024 * 1024),
    );
  }

  /** Open (creating if needed) and replay the session's log. */
  static async open(opts: StoreOptions): Promise<BrokerStore> {
    // Owner-only: the log holds every message the agents sent.
    await Deno.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const base = sessionFileBase(opts.session);
    const logPath = join(opts.dataDir, `${base}.jsonl`);
    const humanPath = join(opts.dataDir, `${base}.broker.log`);
    const warn = opts.warn ?? ((l: string) => console.error(l));
    const lockPath = `${logPath}.lock`;
    await acquireLock(logPath, lockPath);
    await removeStaleTemps(opts.dataDir, `${base}.jsonl.checkpoint.`);
    const state = createBrokerState({
      windowSize: 0,
      republishWorkingTtlSeconds: opts.republishWorkingTtlSeconds,
    });
    let file: Deno.FsFile;
    try {
      file = await Deno.open(logPath, {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
      await ownerOnly(logPath);
    } catch (e) {
      await releaseLock(logPath, lockPath);
      throw e;
    }
    let human: Deno.FsFile | null = null;
    let humanEnd = 0;
    try {
      human = await Deno.open(humanPath, {
        append: true,
        create: true,
        mode: 0o600,
      });
      await ownerOnly(humanPath);
      await endWithNewline(humanPath, human);
      humanEnd = (await human.stat()).size;
    } catch (e) {
      warn(`warning: cannot open ${humanPath}: ${(e as Error).message}`);
    }
    const reader = await Deno.open(logPath, { read: true });
    const store = new BrokerStore(state, { logPath, humanPath }, {
      file,
      reader,
      human,
    }, opts);
    store.#humanEnd = humanEnd;
    try {
      await store.#replay(humanPath);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  /**
   * Called for each written batch that holds publishes, after they were
   * applied to the core: the batch's highest seq and its publishes'
   * outcomes in seq order. A failed batch is never announced.
   */
  set onDurable(fn: DurableListener) {
    this.#onDurable = fn;
  }

  #index(seq: number, offset: number, length: number): void {
    this.#idx.set(seq, offset, length);
  }

  async #replay(humanPath: string): Promise<void> {
    const lastHuman = await lastHumanSeq(humanPath);
    const size = (await this.#file.stat()).size;
    const ck = await this.#loadCheckpoint(size);
    const humanCatchUp: string[] = [];
    if (ck && lastHuman < this.state.lastSeq) {
      // Human lines a crash left out, inside the checkpoint's part.
      this.durableSeq = this.state.lastSeq;
      for (const e of this.entries(this.logSeqs(lastHuman))) {
        humanCatchUp.push(humanLine(e));
      }
    }
    const from = this.replayedFrom = ck?.offset ?? 0;
    await this.#file.seek(from, Deno.SeekMode.Start);
    const chunk = new Uint8Array(1 << 20);
    let carry = new Uint8Array(0);
    let carryStart = from; // file offset of carry[0]
    let pos = from;
    let lineNo = ck?.lines ?? 0;
    const handle = (line: Uint8Array, offset: number, last: boolean) => {
      lineNo++;
      if (line.length === 0) return;
      const text = dec.decode(line);
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch {
        this.#warn(
          `warning: ${this.logPath}: skipping unreadable line ${lineNo}${
            last ? " (torn last line)" : ""
          }`,
        );
        return;
      }
      const r = rec as {
        seq?: unknown;
        timestamp_unix_secs?: unknown;
        message?: unknown;
        watch?: WatchRecord;
      };
      if (r.watch && typeof r.watch === "object") {
        registerWatch(this.state, r.watch);
        return;
      }
      if (
        typeof r.seq !== "number" || !(r.seq > this.state.lastSeq) ||
        typeof r.timestamp_unix_secs !== "number" ||
        typeof r.message !== "object" || r.message === null
      ) {
        this.#warn(
          `warning: ${this.logPath}: skipping malformed entry on line ${lineNo}`,
        );
        return;
      }
      const prefix = entryPrefix(r.seq, r.timestamp_unix_secs);
      const json = text.startsWith(prefix) && text.endsWith("}")
        ? text.slice(prefix.length, -1)
        : JSON.stringify(r.message);
      const out = publish(
        this.state,
        r.message as BrokerMessage,
        r.timestamp_unix_secs * 1000,
        { seq: r.seq, timestampSecs: r.timestamp_unix_secs, json },
      );
      this.#index(r.seq, offset, line.length + 1);
      if (r.seq > lastHuman) {
        humanCatchUp.push(humanLine({ ...out.entry, message: out.message }));
      }
    };
    while (pos < size) {
      const n = this.#file.readSync(chunk);
      if (n === null || n === 0) break;
      pos += n;
      let data: Uint8Array;
      if (carry.length) {
        data = new Uint8Array(carry.length + n);
        data.set(carry);
        data.set(chunk.subarray(0, n), carry.length);
      } else data = chunk.subarray(0, n);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        handle(data.subarray(start, nl), carryStart + start, false);
        start = nl + 1;
      }
      carryStart += start;
      carry = data.slice(start);
    }
    if (carry.length) {
      // A crash mid-write left a partial line: set it aside, cut it off.
      this.#warn(
        `warning: ${this.logPath}: torn last line (${carry.length} bytes) skipped; saved to ${this.logPath}.torn`,
      );
      try {
        await Deno.writeFile(`${this.logPath}.torn`, carry, {
          append: true,
          mode: 0o600,
        });
      } catch { /* forensic copy only */ }
      await this.#file.truncate(carryStart);
    }
    this.#fileEnd = carryStart;
    this.#lines = lineNo;
    await this.#file.seek(this.#fileEnd, Deno.SeekMode.Start);
    this.durableSeq = this.#reservedSeq = this.state.lastSeq;
    this.#humanPending = humanCatchUp;
    this.#flushHuman();
    // Warm the in-memory window with the file's tail.
    const low = this.#ringLow();
    if (this.#fileEnd > low) {
      this.#ringPut(low, this.#readFile(low, this.#fileEnd));
    }
    this.#ringWarm = true;
    this.#maybeCheckpoint();
  }

  /**
   * Adopt the checkpoint when it is whole and matches the log; otherwise
   * warn once, remove it, and leave the state empty (full replay).
   */
  async #loadCheckpoint(
    size: number,
  ): Promise<{ offset: number; lines: number } | null> {
    if (this.#ckptBytes === 0) return null;
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(this.#ckptPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      raw = new Uint8Array(0);
    }
    let why: string;
    try {
      const img = readCheckpoint(raw);
      const h = img.header;
      const probes = logProbes(h.log_offset)
        .map(([a, b]) => () => hashBytes(this.#readFile(a, b)));
      if (size < h.log_offset) {
        why =
          `the log (${size} bytes) is shorter than its offset ${h.log_offset}`;
      } else if (
        probes[0]!() !== h.log_head || probes[1]!() !== h.log_mid ||
        probes[2]!() !== h.log_tail
      ) {
        why = "the log was rewritten";
      } else {
        const st = this.state;
        st.lastSeq = h.last_seq;
        st.agents = img.agents;
        st.clis = img.clis;
        st.inboxes = img.inboxes;
        st.watched = img.watched;
        st.commits = img.commits;
        this.#idx = img.idx;
        this.#fileEnd = this.#ckptOffset = h.log_offset;
        this.#ckptSize = raw.length;
        return { offset: h.log_offset, lines: h.lines };
      }
    } catch (e) {
      why = (e as Error).message;
    }
    this.#warn(
      `warning: ${this.#ckptPath}: checkpoint ignored (${why}); replaying the whole log`,
    );
    await Deno.remove(this.#ckptPath).catch(() => {});
    return null;
  }

  #ringLow(): number {
    return Math.max(0, this.#fileEnd - this.#ring.length);
  }

  /** Copy `bytes` (file offsets from `fileOff`) into the ring. */
  #ringPut(fileOff: number, bytes: Uint8Array): void {
    const size = this.#ring.length;
    let src = bytes;
    let off = fileOff;
    if (src.length > size) {
      off += src.length - size;
      src = src.subarray(src.length - size);
    }
    const pos = off % size;
    const first = Math.min(src.length, size - pos);
    this.#ring.set(src.subarray(0, first), pos);
    if (first < src.length) this.#ring.set(src.subarray(first), 0);
  }

  #readFile(start: number, end: number): Uint8Array {
    const bytes = new Uint8Array(end - start);
    this.#reader.seekSync(start, Deno.SeekMode.Start);
    let got = 0;
    while (got < bytes.length) {
      const n = this.#reader.readSync(bytes.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    return got === bytes.length ? bytes : bytes.subarray(0, got);
  }

  /** Bytes `[start, end)` of the log, from the ring when it still has them. */
  #readRange(start: number, end: number): Uint8Array {
    if (!this.#ringWarm || start < this.#ringLow()) {
      return this.#readFile(start, end);
    }
    const size = this.#ring.length;
    const out = new Uint8Array(end - start);
    const pos = start % size;
    const first = Math.min(out.length, size - pos);
    out.set(this.#ring.subarray(pos, pos + first));
    if (first < out.length) {
      out.set(this.#ring.subarray(0, out.length - first), first);
    }
    return out;
  }

  /**
   * Publish a validated message: give it the next seq and queue its line
   * for the current batch. The promise resolves once the line is with the
   * OS; only then is it applied to the core and `outcome`'s `deliveredTo`
   * and `rosterChanged` filled in. When the write fails the promise
   * rejects, nothing is applied and the seq is given back.
   */
  publish(
    msg: BrokerMessage,
    nowMs: number,
  ): { outcome: PublishOutcome; durable: Promise<void> } {
    if (this.#closed) throw new Error("Cannot publish: the broker is closed");
    const seq = ++this.#reservedSeq;
    // Known at once, so a second report of this commit is dropped even
    // before the batch is written (forgotten again if the write fails).
    recordCommit(this.state, msg, seq);
    const entry = new StoredEntry(
      seq,
      Math.floor(nowMs / 1000),
      JSON.stringify(msg),
    );
    const outcome: PublishOutcome = {
      entry,
      message: msg,
      deliveredTo: NOT_YET,
      rosterChanged: false,
    };
    this.#ops.push({
      kind: "entry",
      line: entryPrefix(seq, entry.timestamp_unix_secs) + entry.json + "}\n",
      msg,
      nowMs,
      outcome,
    });
    return { outcome, durable: this.#join() };
  }

  /**
   * Register a watch target (idempotent per path); new registrations are
   * logged so a restart brings the inbox and CLI back, and applied once
   * written.
   */
  watch(target: WatchRecord): { added: boolean; durable: Promise<void> } {
    const path = target.worktree_path;
    if (this.state.watched.has(path) || this.#pendingWatch.has(path)) {
      return { added: false, durable: Promise.resolve() };
    }
    this.#pendingWatch.add(path);
    this.#ops.push({
      kind: "watch",
      line: JSON.stringify({ watch: target }) + "\n",
      target: { ...target },
    });
    return { added: true, durable: this.#join() };
  }

  /** Seed an agent known at launch (not logged: the launcher seeds it again). */
  seed(agentId: string, cli: string | null): void {
    const st = this.state;
    const hadInbox = st.inboxes.has(agentId);
    const before = st.clis.get(agentId);
    seedAgent(st, agentId, cli);
    if (!hadInbox || st.clis.get(agentId) !== before) {
      this.#seedOnly.set(agentId, {
        cli: cli && cli.trim() !== "" ? cli : null,
        lastSeq: st.lastSeq,
      });
    }
  }

  #join(): Promise<void> {
    if (!this.#batch) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A failed batch is reported to its publishers; never unhandled.
      promise.catch(() => {});
      this.#batch = { promise, resolve, reject };
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Everything published until the microtask queue drains joins this
      // batch; while a write is in flight the next batch keeps growing.
      // Group commit: requests reach us one event-loop turn at a time, so
      // under load the write waits for the turn to end (setImmediate) and
      // takes every publish of that turn in one write(2). When the last
      // write is long past (light load) it goes out at once instead.
      if (performance.now() - this.#lastWriteAt > 2) {
        queueMicrotask(() => this.#kick());
      } else setImmediate(() => this.#kick());
    }
    return this.#batch.promise;
  }

  #kick(): void {
    this.#scheduled = false;
    if (this.#batch) this.#writeBatch();
  }

  /** Cut the log back to its last whole line (after a failed write). */
  #cutBack(): void {
    this.#sink.truncateSync(this.#fileEnd);
    this.#sink.seekSync(this.#fileEnd, Deno.SeekMode.Start);
    this.#mustCut = false;
  }

  /**
   * Write the pending batch (one write call); then apply it to the core,
   * index it, append its human lines and resolve its promise. A failed
   * write is cut off the file and changes nothing else.
   */
  #writeBatch(): void {
    const batch = this.#batch!;
    this.#batch = null;
    const ops = this.#ops;
    this.#ops = [];
    this.#pendingWatch.clear();
    const spans = new Array<number>(ops.length);
    let at = 0;
    let off = 0;
    try {
      if (this.#mustCut) this.#cutBack();
      // Encode every line into one buffer, noting each line's byte span.
      let need = 0;
      for (const op of ops) need += op.line.length * 3;
      if (this.#buf.length < need) {
        this.#buf = new Uint8Array(Math.max(need, this.#buf.length * 2));
      }
      const buf = this.#buf;
      // The whole batch in one encode; when it is all ASCII (bytes =
      // UTF-16 units) each line's span is its length, else each line is
      // encoded again on its own to learn its span.
      let text = "";
      for (let i = 0; i < ops.length; i++) text += ops[i]!.line;
      const { written } = enc.encodeInto(text, buf);
      if (written === text.length) {
        for (let i = 0; i < ops.length; i++) spans[i] = ops[i]!.line.length;
        at = written;
      } else {
        for (let i = 0; i < ops.length; i++) {
          const r = enc.encodeInto(ops[i]!.line, buf.subarray(at));
          spans[i] = r.written;
          at += r.written;
        }
      }
      // One synchronous write(2) per batch: to the page cache, no thread hop.
      while (off < at) off += this.#sink.writeSync(buf.subarray(off, at));
      this.#lastWriteAt = performance.now();
    } catch (e) {
      this.#reservedSeq = this.state.lastSeq;
      forgetCommitsAfter(this.state, this.state.lastSeq);
      try {
        this.#cutBack();
      } catch {
        this.#mustCut = true;
      }
      this.#warn(
        `error: cannot write ${this.logPath}: ${(e as Error).message}`,
      );
      batch.reject(e);
      return;
    }
    this.#ringPut(this.#fileEnd, this.#buf.subarray(0, at));
    const outcomes: PublishOutcome[] = [];
    let maxSeq = 0;
    let lineOff = this.#fileEnd;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind === "entry") {
        const o = op.outcome;
        const e = o.entry;
        const r = publish(this.state, op.msg, op.nowMs, { entry: e });
        o.deliveredTo = r.deliveredTo;
        o.rosterChanged = r.rosterChanged;
        this.#idx.set(e.seq, lineOff, spans[i]!);
        this.#humanPending.push(o);
        outcomes.push(o);
        maxSeq = e.seq;
      } else this.#applyWatch(op.target);
      lineOff += spans[i]!;
    }
    this.#fileEnd += at;
    this.#lines += ops.length;
    this.#dirty = true;
    if (maxSeq > this.durableSeq) this.durableSeq = maxSeq;
    if (this.#buf.length > 1 << 20) this.#buf = new Uint8Array(64 * 1024);
    this.#scheduleHuman();
    batch.resolve();
    if (outcomes.length) this.#onDurable(maxSeq, outcomes);
    this.#maybeCheckpoint();
  }

  #applyWatch(target: WatchRecord): void {
    const seeded = this.#seedOnly.get(target.agent_id);
    registerWatch(this.state, target);
    // The logged watch now explains a seed made just before it.
    if (
      seeded && seeded.lastSeq === this.state.lastSeq &&
      (seeded.cli === null || seeded.cli === target.cli)
    ) this.#seedOnly.delete(target.agent_id);
  }

  /** Write everything pending now; resolves once it is with the OS. */
  flush(): Promise<void> {
    if (this.#batch) this.#writeBatch();
    this.#flushHuman();
    return Promise.resolve();
  }

  /** Append the human lines now, or within {@link HUMAN_COALESCE_MS}. */
  #scheduleHuman(): void {
    if (this.#humanTimer !== null) return;
    const wait = this.#lastHumanAt + HUMAN_COALESCE_MS - performance.now();
    if (wait <= 0) return this.#flushHuman();
    this.#humanTimer = setTimeout(() => this.#flushHuman(), wait);
  }

  #flushHuman(): void {
    if (this.#humanTimer !== null) {
      clearTimeout(this.#humanTimer);
      this.#humanTimer = null;
    }
    this.#lastHumanAt = performance.now();
    if (!this.#humanPending.length || !this.#human) {
      this.#humanPending = [];
      return;
    }
    let text = "";
    for (const l of this.#humanPending) {
      text += typeof l === "string"
        ? l
        : humanText(l.entry.seq, l.entry.timestamp_unix_secs, l.message);
    }
    this.#humanPending = [];
    const bytes = enc.encode(text);
    let off = 0;
    try {
      while (off < bytes.length) {
        off += this.#human.writeSync(bytes.subarray(off));
      }
      this.#humanEnd += bytes.length;
      this.#humanFailed = false;
    } catch (e) {
      // Cut a partial line off and keep the text for the next batch (a
      // full disk that frees up loses no line).
      try {
        if (off > 0) this.#human.truncateSync(this.#humanEnd);
        if (bytes.length <= HUMAN_RETRY_BYTES) this.#humanPending = [text];
      } catch { /* the next open starts on a fresh line */ }
      if (!this.#humanFailed) {
        this.#humanFailed = true;
        this.#warn(
          `warning: cannot write ${this.humanPath}: ${(e as Error).message}`,
        );
      }
    }
  }

  /** fdatasync the log if anything was written since the last sync. */
  sync(): Promise<void> {
    if (this.#syncing) return this.#syncing;
    if (!this.#dirty || this.#closed) return Promise.resolve();
    this.#dirty = false;
    this.#syncing = this.#file.syncData().catch((e) => {
      this.#dirty = true;
      this.#warn(`warning: cannot fsync ${this.logPath}: ${e.message}`);
    }).finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  /** Seqs visible to polls: written to the OS. */
  pollSeqs(
    agentId: string,
    since: number,
    limit = Infinity,
  ): { seqs: Uint32Array; lastSeq: number } {
    const r = poll(this.state, agentId, since, limit);
    if (r.seqs.length && r.seqs[r.seqs.length - 1]! > this.durableSeq) {
      const end = upperBound(r.seqs, r.seqs.length, this.durableSeq);
      const seqs = r.seqs.subarray(0, end);
      return { seqs, lastSeq: end ? seqs[end - 1]! : since };
    }
    return r;
  }

  /** True when `agentId` has an inbox. */
  hasInbox(agentId: string): boolean {
    return this.state.inboxes.has(agentId);
  }

  /**
   * Entries for `seqs` (ascending), from the in-memory tail or the file.
   * Seqs with no entry (a skipped corrupt line) are left out.
   */
  entries(seqs: ArrayLike<number>): StoredEntry[] {
    return seqs.length ? this.#readEntries(Array.from(seqs)) : [];
  }

  /** Seqs of every entry after `since`, at most `limit`, visible to polls. */
  logSeqs(since: number, limit = Infinity): number[] {
    const out: number[] = [];
    const top = this.durableSeq;
    for (
      let s = Math.max(0, Math.floor(since)) + 1;
      s <= top && out.length < limit;
      s++
    ) {
      if (this.#idx.has(s)) out.push(s);
    }
    return out;
  }

  #readEntries(seqs: number[]): StoredEntry[] {
    // Only seqs <= durableSeq are asked for, and those are fully written.
    const out: StoredEntry[] = [];
    const idx = this.#idx;
    let i = 0;
    while (i < seqs.length) {
      const first = seqs[i]!;
      const start = idx.offset(first);
      if (start < 0) {
        i++;
        continue;
      }
      // Extend over a contiguous byte run (up to 1 MiB) to read it at once.
      const wanted = new Set<number>([first]);
      let j = i;
      let end = start + idx.span(first);
      while (
        j + 1 < seqs.length && end - start < 1 << 20 &&
        idx.offset(seqs[j + 1]!) === end
      ) {
        j++;
        wanted.add(seqs[j]!);
        end += idx.span(seqs[j]!);
      }
      const bytes = this.#readRange(start, end);
      const got = bytes.length;
      let at = 0;
      while (at < got) {
        let nl = bytes.indexOf(10, at);
        if (nl < 0) nl = got;
        const text = dec.decode(bytes.subarray(at, nl));
        at = nl + 1;
        if (text === "") continue;
        // Our own lines: seq, timestamp and body by position, no parse.
        const head = LINE_HEAD.exec(text);
        if (head && text.endsWith("}")) {
          const seq = Number(head[1]);
          if (wanted.has(seq)) {
            out.push(
              new StoredEntry(
                seq,
                Number(head[2]),
                text.slice(head[0].length, -1),
              ),
            );
          }
          continue;
        }
        let r: {
          seq?: number;
          timestamp_unix_secs?: number;
          message?: unknown;
        };
        try {
          r = JSON.parse(text);
        } catch {
          continue; // a skipped corrupt line inside the span
        }
        if (typeof r.seq !== "number" || !wanted.has(r.seq)) continue;
        const prefix = entryPrefix(r.seq, r.timestamp_unix_secs!);
        out.push(
          new StoredEntry(
            r.seq,
            r.timestamp_unix_secs!,
            text.startsWith(prefix)
              ? text.slice(prefix.length, -1)
              : JSON.stringify(r.message),
            r.message as BrokerMessage,
          ),
        );
      }
      i = j + 1;
    }
    return out;
  }

  /** The `/log` entry JSON of `e` (the stored line, without newline). */
  static entryJson(e: StoredEntry): string {
    return entryPrefix(e.seq, e.timestamp_unix_secs) + e.json + "}";
  }

  #maybeCheckpoint(): void {
    if (
      this.#ckptBytes === 0 || this.#ckptRunning || this.#ckptTimer ||
      this.#closed
    ) return;
    const uncovered = this.#fileEnd - this.#ckptOffset;
    if (uncovered < Math.max(this.#ckptBytes, this.#ckptSize)) return;
    this.#ckptTimer = setTimeout(() => {
      this.#ckptTimer = null;
      void this.checkpoint();
    }, 0);
  }

  /**
   * Write a checkpoint of the log as written so far, in the background:
   * the image is taken at once (full pages are shared, not copied), then
   * checksummed in slices between event-loop turns and written to a temp
   * file renamed over `<log>.checkpoint` (mode 0600). Resolves when done;
   * a failure is warned about, not thrown. Nothing to do while a seeded
   * agent is not explained by the log (see {@link BrokerStore.seed}).
   */
  checkpoint(): Promise<void> {
    if (this.#ckptRunning) return this.#ckptRunning;
    if (this.#seedOnly.size || this.#fileEnd === this.#ckptOffset) {
      return Promise.resolve();
    }
    this.#ckptRunning = this.#writeCheckpoint().finally(() => {
      this.#ckptRunning = null;
    });
    return this.#ckptRunning;
  }

  async #writeCheckpoint(): Promise<void> {
    const offset = this.#fileEnd;
    const body = checkpointBody(this.state, this.#idx.export());
    const [head, mid, tail] = logProbes(offset)
      .map(([a, b]) => hashBytes(this.#readRange(a, b)));
    const fields = {
      git_paw_checkpoint: 1 as const,
      log_offset: offset,
      last_seq: this.state.lastSeq,
      lines: this.#lines,
      log_head: head!,
      log_mid: mid!,
      log_tail: tail!,
    };
    // Checksum in slices of 256 KiB so publishes keep flowing meanwhile.
    const h = new WordHash();
    let length = 0;
    let slice = 0;
    for (const w of body) {
      h.update(w);
      length += w.byteLength;
      slice += w.byteLength;
      if (slice >= 1 << 18) {
        slice = 0;
        await new Promise((r) => setImmediate(r));
      }
    }
    const header: CheckpointHeader = {
      ...fields,
      body_length: length,
      body_hash: h.digest(),
    };
    const line = checkpointHeaderLine(header);
    try {
      await writeBytesAtomic(
        this.#ckptPath,
        [
          line,
          ...body.map((w) =>
            new Uint8Array(w.buffer, w.byteOffset, w.byteLength)
          ),
        ],
        { mode: 0o600, sync: true },
      );
      this.#ckptOffset = offset;
      this.#ckptSize = line.length + length;
      this.#ckptFailed = false;
    } catch (e) {
      if (!this.#ckptFailed) {
        this.#ckptFailed = true;
        this.#warn(
          `warning: cannot write ${this.#ckptPath}: ${(e as Error).message}`,
        );
      }
    }
  }

  /**
   * Flush everything, fsync, write a checkpoint when the log is big enough,
   * close files. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#fsyncTimer);
    if (this.#ckptTimer) clearTimeout(this.#ckptTimer);
    this.#ckptTimer = null;
    await this.flush();
    if (this.#syncing) await this.#syncing;
    if (this.#ckptRunning) await this.#ckptRunning;
    this.#closed = true;
    await this.flush();
    try {
      await this.#file.syncData();
    } catch (e) {
      this.#warn(
        `warning: cannot fsync ${this.logPath}: ${(e as Error).message}`,
      );
    }
    this.#flushHuman();
    if (this.#ckptBytes > 0 && this.#fileEnd >= this.#ckptBytes) {
      await this.checkpoint();
    }
    for (const f of [this.#file, this.#reader, this.#human]) {
      try {
        f?.close();
      } catch { /* already closed */ }
    }
    await releaseLock(this.logPath, `${this.logPath}.lock`);
  }
}

/**
 * Make a file the store writes owner-only (0600), also when an older
 * version created it 0644. A file of another owner is left as it is.
 */
async function ownerOnly(path: string): Promise<void> {
  try {
    const st = await Deno.stat(path);
    if (st.mode !== null && (st.mode & 0o077) !== 0) {
      await Deno.chmod(path, st.mode & 0o700);
    }
  } catch { /* not ours, or gone: nothing to tighten */ }
}

/** Logs open in this process (a second open would interleave writes). */
const openLogs = new Set<string>();

/**
 * One writer per session log: `<log>.lock` holds the owner's pid. A lock
 * whose process is gone (crash) is taken over; a live one is an error.
 */
async function acquireLock(logPath: string, lockPath: string): Promise<void> {
  if (openLogs.has(logPath)) {
    throw new Error(
      `Cannot open ${logPath}: another broker in this process is writing it`,
    );
  }
  const body = `${Deno.pid}\n`;
  for (let garbled = 0;;) {
    const got = await tryPidLock(lockPath, body, { takeOwnPid: true });
    if (got.kind === "acquired") break;
    if (got.kind === "garbled") {
      // Not a pid: a holder between create and write, or a torn write.
      if (++garbled < 10) await new Promise((r) => setTimeout(r, 50));
      else await removeIfUnchanged(lockPath, got.text);
      continue;
    }
    throw new Error(
      `Cannot open ${logPath}: another broker (pid ${got.pid}) is writing it — stop that broker first (or remove ${lockPath} if pid ${got.pid} is not a git-paw broker)`,
    );
  }
  openLogs.add(logPath);
}

async function releaseLock(logPath: string, lockPath: string): Promise<void> {
  openLogs.delete(logPath);
  await removeIfUnchanged(lockPath, `${Deno.pid}\n`);
}

/**
 * Remove temp files a crash left mid-checkpoint (`<prefix><pid>.<id>.tmp`);
 * we hold the log's lock, so no one else is writing one.
 */
async function removeStaleTemps(dir: string, prefix: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(".tmp")) {
        await Deno.remove(join(dir, e.name)).catch(() => {});
      }
    }
  } catch { /* best effort */ }
}

/** After a crash mid-line, start the next human line on a fresh line. */
async function endWithNewline(path: string, f: Deno.FsFile): Promise<void> {
  const size = (await f.stat()).size;
  if (size === 0) return;
  const r = await Deno.open(path, { read: true });
  try {
    await r.seek(size - 1, Deno.SeekMode.Start);
    const last = new Uint8Array(1);
    if ((await r.read(last)) === 1 && last[0] !== 10) {
      await f.write(new TextEncoder().encode("\n"));
    }
  } finally {
    r.close();
  }
}

/** Seq of the last line of a human log (0 when none/unreadable). */
async function lastHumanSeq(path: string): Promise<number> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    return 0;
  }
  try {
    const size = (await f.stat()).size;
    const n = Math.min(size, 16 * 1024);
    await f.seek(size - n, Deno.SeekMode.Start);
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await f.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    const lines = dec.decode(buf.subarray(0, got)).split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^\[(\d+)\] /.exec(lines[i]!);
      if (m && lines[i]!.length) return Number(m[1]);
    }
    return 0;
  } finally {
    f.close();
  }
}

/** Open a store; see {@link BrokerStore}. */
export function openStore(opts: StoreOptions): Promise<BrokerStore> {
  return BrokerStore.open(opts);
}
