/**
 * The broker store's checkpoint: an image of what replaying the session log
 * up to a byte offset builds (the delivery core's roster, CLIs, inboxes,
 * watch targets and commit ids, plus the store's seq index), so a restart replays only the
 * log's tail after it.
 *
 * Layout: one JSON header line (padded with spaces so the body starts on an
 * 8-byte boundary) naming the log offset and last seq it covers, the body's
 * length and checksum, and checksums of 4 KiB at the log's start, middle
 * and end before that offset; then the body: a u32 length and a u32 zero, the
 * metadata as JSON (padded to 8 bytes), the seq index's block offsets
 * (float64), its span pages (u32), and every inbox's pages (u32, full
 * pages; the last one zero-padded). Pure: building and reading images, no
 * I/O (lib/broker/store.ts reads and writes the file).
 * @module
 */
import {
  type AgentRecord,
  type BrokerState,
  type Inbox,
  INBOX_PAGE_SIZE,
  type WatchRecord,
} from "../core/broker_state.ts";
import { SEQ_INDEX_PAGE, SeqIndex, type SeqIndexImage } from "./seq_index.ts";

/** The checkpoint's first line. */
export type CheckpointHeader = {
  git_paw_checkpoint: 1;
  /** Bytes of the log the image covers (ends on a line boundary). */
  log_offset: number;
  /** Highest seq inside those bytes. */
  last_seq: number;
  /** Lines inside those bytes (for line numbers in tail warnings). */
  lines: number;
  body_length: number;
  body_hash: string;
  /** {@link hashBytes} of the log's first `min(4096, log_offset)` bytes. */
  log_head: string;
  /** {@link hashBytes} of as many bytes from the middle ({@link logProbes}). */
  log_mid: string;
  /** {@link hashBytes} of the `min(4096, log_offset)` bytes before `log_offset`. */
  log_tail: string;
};

/**
 * The log ranges a checkpoint covering `offset` bytes checks, as
 * `[start, end)`: head, middle, tail (4 KiB each, less in a short log).
 */
export function logProbes(offset: number): Array<[number, number]> {
  const n = Math.min(LOG_PROBE_BYTES, offset);
  const mid = Math.floor((offset - n) / 2);
  return [[0, n], [mid, mid + n], [offset - n, offset]];
}

/** Bytes of the log head and tail a checkpoint checks. */
const LOG_PROBE_BYTES = 4096;

type Meta = {
  agents: AgentRecord[];
  clis: Array<[string, string]>;
  watched: WatchRecord[];
  /** `[agent id, length]` in the map's order (delivery order). */
  inboxes: Array<[string, number]>;
  /** `[agent id, [[commit, seq], …]]` (see `storedCommitSeq()`). */
  commits: Array<[string, Array<[string, number]>]>;
  idx: { lastSeq: number; lastOffset: number; pages: number; blocks: number };
};

/**
 * A 64-bit checksum over 32-bit words (two multiplicative lanes), fed in
 * pieces. Detects torn and corrupted files; not a cryptographic hash.
 */
export class WordHash {
  #a = 0x811c9dc5;
  #b = 0x9747b28c;
  #n = 0;

  /** Add `w`'s words. */
  update(w: Uint32Array): void {
    let a = this.#a;
    let b = this.#b;
    // The position counts across pieces: any split gives the same sum.
    const base = this.#n | 0;
    for (let i = 0; i < w.length; i++) {
      const x = w[i]!;
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul((b + x + base + i) | 0, 0x85ebca6b) ^ (b >>> 13);
    }
    this.#a = a;
    this.#b = b;
    this.#n += w.length;
  }

  /** The checksum so far, as hex (includes the word count). */
  digest(): string {
    const hex = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
    return `${hex(this.#a)}${hex(this.#b)}-${this.#n.toString(16)}`;
  }
}

/** {@link WordHash} of any bytes (zero-padded to whole words) and their length. */
export function hashBytes(bytes: Uint8Array): string {
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  const h = new WordHash();
  h.update(new Uint32Array(padded.buffer));
  return `${h.digest()}:${bytes.length}`;
}

function words(a: Uint8Array | Float64Array | Uint32Array): Uint32Array {
  return a instanceof Uint32Array
    ? a
    : new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
}

/**
 * The body of a checkpoint of `state` and `idx`, as word arrays to checksum
 * and write in order. Cheap to take: full pages are shared (they never
 * change again), only each inbox's last page and the index's last two
 * pages and block table are copied. Do not await between taking it and
 * handing it on without a reason: shared pages stay valid, nothing else
 * is referenced.
 */
export function checkpointBody(
  state: BrokerState,
  idx: SeqIndexImage,
): Uint32Array[] {
  const meta: Meta = {
    agents: [...state.agents.values()].map((r) => ({ ...r })),
    clis: [...state.clis],
    watched: [...state.watched.values()].map((w) => ({ ...w })),
    inboxes: [...state.inboxes].map(([id, box]) => [id, box.length]),
    // Commits of messages still waiting for their write are not in the log.
    commits: [...state.commits].map((
      [id, seen],
    ): [string, Array<[string, number]>] => [
      id,
      [...seen].filter(([, seq]) => seq <= state.lastSeq),
    ]).filter(([, seen]) => seen.length > 0),
    idx: {
      lastSeq: idx.lastSeq,
      lastOffset: idx.lastOffset,
      pages: idx.pages.length,
      blocks: idx.blocks.length,
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const head = new Uint8Array(8 + ((json.length + 7) & ~7));
  new DataView(head.buffer).setUint32(0, json.length, true);
  head.set(json, 8);
  const out: Uint32Array[] = [words(head), words(idx.blocks.slice())];
  const n = idx.pages.length;
  for (let i = 0; i < n; i++) {
    out.push(i >= n - 2 ? idx.pages[i]!.slice() : idx.pages[i]!);
  }
  for (const box of state.inboxes.values()) {
    const pages = Math.ceil(box.length / INBOX_PAGE_SIZE);
    for (let i = 0; i < pages; i++) {
      out.push(i === pages - 1 ? box.pages[i]!.slice() : box.pages[i]!);
    }
  }
  return out;
}

/** The header line for a body of `bodyLength` bytes, padded to 8 bytes. */
export function checkpointHeaderLine(header: CheckpointHeader): Uint8Array {
  const text = JSON.stringify(header);
  const len = (text.length + 1 + 7) & ~7;
  return new TextEncoder().encode(text.padEnd(len - 1, " ") + "\n");
}

/** What a checkpoint file holds, ready to adopt. */
export type CheckpointImage = {
  header: CheckpointHeader;
  agents: Map<string, AgentRecord>;
  clis: Map<string, string>;
  inboxes: Map<string, Inbox>;
  watched: Map<string, WatchRecord>;
  commits: Map<string, Map<string, number>>;
  idx: SeqIndex;
};

/**
 * Parse a checkpoint file's bytes. Throws (`RangeError`/`SyntaxError`) with
 * the reason when it is torn, corrupt or of another version; checking it
 * against the log is the caller's part.
 */
export function readCheckpoint(raw: Uint8Array): CheckpointImage {
  const nl = raw.indexOf(10);
  if (nl < 0) throw new RangeError("torn header");
  const header = JSON.parse(
    new TextDecoder().decode(raw.subarray(0, nl)),
  ) as CheckpointHeader;
  if (header.git_paw_checkpoint !== 1) {
    throw new RangeError("unknown checkpoint version");
  }
  for (const k of ["log_offset", "last_seq", "lines", "body_length"] as const) {
    if (!Number.isSafeInteger(header[k]) || header[k] < 0) {
      throw new RangeError(`bad ${k}`);
    }
  }
  let body = raw.subarray(nl + 1);
  if (body.length !== header.body_length) {
    throw new RangeError(
      `truncated (${body.length} of ${header.body_length} body bytes)`,
    );
  }
  if (body.byteOffset % 8 !== 0 || body.length % 8 !== 0) body = body.slice();
  const h = new WordHash();
  h.update(words(body));
  if (h.digest() !== header.body_hash) throw new RangeError("wrong checksum");
  const metaLen = new DataView(body.buffer, body.byteOffset).getUint32(0, true);
  const meta = JSON.parse(
    new TextDecoder().decode(body.subarray(8, 8 + metaLen)),
  ) as Meta;
  let pos = 8 + ((metaLen + 7) & ~7);
  const take = (bytes: number) => {
    if (pos + bytes > body.length) throw new RangeError("short body");
    const at = body.byteOffset + pos;
    pos += bytes;
    return at;
  };
  const blocks = new Float64Array(
    body.buffer,
    take(meta.idx.blocks * 8),
    meta.idx.blocks,
  );
  const pages: Uint32Array[] = [];
  for (let i = 0; i < meta.idx.pages; i++) {
    pages.push(
      new Uint32Array(body.buffer, take(SEQ_INDEX_PAGE * 4), SEQ_INDEX_PAGE),
    );
  }
  const inboxes = new Map<string, Inbox>();
  for (const [id, length] of meta.inboxes) {
    const box: Inbox = { pages: [], length };
    const n = Math.ceil(length / INBOX_PAGE_SIZE);
    for (let i = 0; i < n; i++) {
      box.pages.push(
        new Uint32Array(
          body.buffer,
          take(INBOX_PAGE_SIZE * 4),
          INBOX_PAGE_SIZE,
        ),
      );
    }
    inboxes.set(id, box);
  }
  if (pos !== body.length) throw new RangeError("body length mismatch");
  return {
    header,
    agents: new Map(meta.agents.map((r) => [r.agent_id, r])),
    clis: new Map(meta.clis),
    inboxes,
    watched: new Map(meta.watched.map((w) => [w.worktree_path, w])),
    commits: new Map(meta.commits.map(([id, seen]) => [id, new Map(seen)])),
    idx: SeqIndex.restore({
      lastSeq: meta.idx.lastSeq,
      lastOffset: meta.idx.lastOffset,
      pages,
      blocks,
    }),
  };
}
