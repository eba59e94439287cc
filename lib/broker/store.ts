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
 * once); the batch's promise resolves once the bytes are with the OS, and
 * only then do polls and subscribers see those entries. `fdatasync` runs at
 * least once a second while dirty, and at close. The human log is appended
 * with each batch. Replay on open rebuilds seq, roster, inboxes and watch
 * targets; a torn last line is cut off (saved to `<log>.torn`) with a
 * warning, a corrupt middle line is skipped with a warning.
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
  ensureInbox,
  poll,
  publish,
  type PublishOutcome,
  registerWatch,
  StoredEntry,
  upperBound,
  type WatchRecord,
} from "../core/broker_state.ts";
import { SeqIndex } from "./seq_index.ts";
import { removeIfUnchanged, tryPidLock } from "../adapters/pid_lock.ts";
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
};

const enc = new TextEncoder();

const dec = new TextDecoder();

/** File-name-safe form of a session name. */
export function sessionFileBase(session: string): string {
  const s = session.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^\.+/, "");
  return s === "" ? "default" : s;
}

const LINE_HEAD = /^\{"seq":(\d+),"timestamp_unix_secs":(\d+),"message":/;

function entryPrefix(seq: number, ts: number): string {
  return `{"seq":${seq},"timestamp_unix_secs":${ts},"message":`;
}

/** The human-log line of one entry (docs/REFERENCE.md, "Broker log"); newlines become spaces. */
export function humanLine(entry: {
  seq: number;
  timestamp_unix_secs: number;
  message: BrokerMessage;
}): string {
  const display = displayMessage(entry.message).replace(/[\r\n]+/g, " ");
  return `[${entry.seq}] ${entry.timestamp_unix_secs} [${
    identityOf(entry.message)
  }] ${display}\n`;
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

  #file: Deno.FsFile;
  #reader: Deno.FsFile;
  #human: Deno.FsFile | null;
  #warn: (line: string) => void;
  #fileEnd = 0;
  #idx = new SeqIndex();
  #pending: string[] = [];
  #pendingSeqs: number[] = [];
  #pendingMaxSeq = 0;
  #batch: {
    promise: Promise<void>;
    resolve: () => void;
    reject: (e: unknown) => void;
  } | null = null;
  #scheduled = false;
  #lastWriteAt = -Infinity;
  #buf = new Uint8Array(64 * 1024);
  /** Human-log lines waiting for the current batch. */
  #humanPending: string[] = [];
  /** The log's tail: file offset `o` lives at `#ring[o % #ring.length]`. */
  #ring: Uint8Array;
  #dirty = false;
  #syncing: Promise<void> | null = null;
  #fsyncTimer: ReturnType<typeof setInterval>;
  #closed = false;
  #onDurable: (maxSeq: number) => void = () => {};
  #humanFailed = false;

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
  }

  /** Open (creating if needed) and replay the session's log. */
  static async open(opts: StoreOptions): Promise<BrokerStore> {
    await Deno.mkdir(opts.dataDir, { recursive: true });
    const base = sessionFileBase(opts.session);
    const logPath = join(opts.dataDir, `${base}.jsonl`);
    const humanPath = join(opts.dataDir, `${base}.broker.log`);
    const warn = opts.warn ?? ((l: string) => console.error(l));
    const lockPath = `${logPath}.lock`;
    await acquireLock(logPath, lockPath);
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
      });
    } catch (e) {
      await releaseLock(logPath, lockPath);
      throw e;
    }
    let human: Deno.FsFile | null = null;
    try {
      human = await Deno.open(humanPath, { append: true, create: true });
      await endWithNewline(humanPath, human);
    } catch (e) {
      warn(`warning: cannot open ${humanPath}: ${(e as Error).message}`);
    }
    const reader = await Deno.open(logPath, { read: true });
    const store = new BrokerStore(state, { logPath, humanPath }, {
      file,
      reader,
      human,
    }, opts);
    try {
      await store.#replay(humanPath);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  /** Called with the highest seq of each batch once it is with the OS. */
  set onDurable(fn: (maxSeq: number) => void) {
    this.#onDurable = fn;
  }

  #index(seq: number, offset: number, length: number): void {
    this.#idx.set(seq, offset, length);
  }

  async #replay(humanPath: string): Promise<void> {
    const lastHuman = await lastHumanSeq(humanPath);
    const humanCatchUp: string[] = [];
    const size = (await this.#file.stat()).size;
    const chunk = new Uint8Array(1 << 20);
    let carry = new Uint8Array(0);
    let carryStart = 0; // file offset of carry[0]
    let pos = 0;
    let lineNo = 0;
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
        await Deno.writeFile(`${this.logPath}.torn`, carry, { append: true });
      } catch { /* forensic copy only */ }
      await this.#file.truncate(carryStart);
    }
    this.#fileEnd = carryStart;
    await this.#file.seek(this.#fileEnd, Deno.SeekMode.Start);
    this.durableSeq = this.state.lastSeq;
    this.#humanPending = humanCatchUp;
    this.#flushHuman();
    // Warm the in-memory window with the file's tail.
    const low = this.#ringLow();
    if (this.#fileEnd > low) {
      this.#ringPut(low, this.#readFile(low, this.#fileEnd));
    }
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
    if (start < this.#ringLow()) return this.#readFile(start, end);
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
   * Publish a validated message: apply it to the core now, write it with the
   * current batch. The promise resolves once the line is with the OS.
   */
  publish(
    msg: BrokerMessage,
    nowMs: number,
  ): { outcome: PublishOutcome; durable: Promise<void> } {
    if (this.#closed) throw new Error("Cannot publish: the broker is closed");
    const outcome = publish(this.state, msg, nowMs);
    const e = outcome.entry;
    this.#pending.push(
      entryPrefix(e.seq, e.timestamp_unix_secs) + e.json + "}\n",
    );
    this.#pendingSeqs.push(e.seq);
    this.#pendingMaxSeq = e.seq;
    this.#humanPending.push(
      humanLine({
        seq: e.seq,
        timestamp_unix_secs: e.timestamp_unix_secs,
        message: outcome.message,
      }),
    );
    return { outcome, durable: this.#join() };
  }

  /**
   * Register a watch target (idempotent per path); new registrations are
   * logged so a restart brings the inbox and CLI back.
   */
  watch(target: WatchRecord): { added: boolean; durable: Promise<void> } {
    if (!registerWatch(this.state, target)) {
      return { added: false, durable: Promise.resolve() };
    }
    this.#pending.push(JSON.stringify({ watch: target }) + "\n");
    this.#pendingSeqs.push(0);
    return { added: true, durable: this.#join() };
  }

  /** Seed an agent known at launch (not logged: the launcher seeds it again). */
  seed(agentId: string, cli: string | null): void {
    if (cli && cli.trim() !== "") this.state.clis.set(agentId, cli);
    ensureInbox(this.state, agentId);
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

  /** Write the pending batch (one write call), then resolve its promise. */
  #writeBatch(): void {
    const batch = this.#batch!;
    this.#batch = null;
    const lines = this.#pending;
    const seqs = this.#pendingSeqs;
    const maxSeq = this.#pendingMaxSeq;
    this.#pending = [];
    this.#pendingSeqs = [];
    let at = 0;
    let off = 0;
    try {
      // Encode every line into one buffer, noting each entry's byte span.
      let need = 0;
      for (const l of lines) need += l.length * 3;
      if (this.#buf.length < need) {
        this.#buf = new Uint8Array(Math.max(need, this.#buf.length * 2));
      }
      const buf = this.#buf;
      for (let i = 0; i < lines.length; i++) {
        const { written } = enc.encodeInto(lines[i]!, buf.subarray(at));
        if (seqs[i]! > 0) this.#index(seqs[i]!, this.#fileEnd + at, written);
        at += written;
      }
      // One synchronous write(2) per batch: to the page cache, no thread hop.
      while (off < at) off += this.#file.writeSync(buf.subarray(off, at));
      this.#lastWriteAt = performance.now();
      this.#ringPut(this.#fileEnd, buf.subarray(0, at));
    } catch (e) {
      this.#fileEnd += off;
      this.#warn(
        `error: cannot write ${this.logPath}: ${(e as Error).message}`,
      );
      batch.reject(e);
      return;
    }
    this.#fileEnd += at;
    this.#dirty = true;
    if (maxSeq > this.durableSeq) this.durableSeq = maxSeq;
    if (this.#buf.length > 1 << 20) this.#buf = new Uint8Array(64 * 1024);
    this.#flushHuman();
    batch.resolve();
    if (maxSeq > 0) this.#onDurable(maxSeq);
  }

  /** Write everything pending now; resolves once it is with the OS. */
  flush(): Promise<void> {
    if (this.#batch) this.#writeBatch();
    return Promise.resolve();
  }

  #flushHuman(): void {
    if (!this.#humanPending.length || !this.#human) {
      this.#humanPending = [];
      return;
    }
    const text = this.#humanPending.join("");
    this.#humanPending = [];
    try {
      const bytes = enc.encode(text);
      let off = 0;
      while (off < bytes.length) {
        off += this.#human.writeSync(bytes.subarray(off));
      }
    } catch (e) {
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

  /** Flush everything, fsync, close files. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#fsyncTimer);
    await this.flush();
    if (this.#syncing) await this.#syncing;
    this.#closed = true;
    try {
      await this.#file.syncData();
    } catch (e) {
      this.#warn(
        `warning: cannot fsync ${this.logPath}: ${(e as Error).message}`,
      );
    }
    this.#flushHuman();
    for (const f of [this.#file, this.#reader, this.#human]) {
      try {
        f?.close();
      } catch { /* already closed */ }
    }
    await releaseLock(this.logPath, `${this.logPath}.lock`);
  }
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
